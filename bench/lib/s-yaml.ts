import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** memorySize (MB) of each resource in s.yaml, read line by line (resources are two-space keys under `resources:`). */
export function memorySizesMb(root: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  let inResources = false;
  let resource: string | undefined;
  for (const line of readFileSync(join(root, 's.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inResources = line.startsWith('resources:');
    if (!inResources) continue;
    const name = /^ {2}([\w-]+):\s*$/.exec(line);
    if (name) resource = name[1];
    const size = /^\s+memorySize:\s*(\d+)/.exec(line);
    if (size && resource) sizes[resource] = Number(size[1]);
  }
  return sizes;
}

/**
 * NODE_OPTIONS of each resource's environmentVariables in s.yaml (none set: absent), so the bench runs a function's
 * process with the same Node flags FC would start it with, read from the one place they are written.
 */
export function nodeOptionsOf(root: string): Record<string, string> {
  const options: Record<string, string> = {};
  let inResources = false;
  let resource: string | undefined;
  for (const line of readFileSync(join(root, 's.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inResources = line.startsWith('resources:');
    if (!inResources) continue;
    const name = /^ {2}([\w-]+):\s*$/.exec(line);
    if (name) resource = name[1];
    const value = /^\s+NODE_OPTIONS:\s*(.*?)\s*(#.*)?$/.exec(line)?.[1];
    if (value === undefined || !resource) continue;
    if (value.includes('${')) throw new Error(`s.yaml: ${resource}'s NODE_OPTIONS (${value}) must be a literal for the bench to use it`);
    options[resource] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return options;
}
