import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each line inside `resources:` with the resource it belongs to (resources are two-space keys under `resources:`). */
function resourceLines(root: string): { resource: string; line: string }[] {
  const lines: { resource: string; line: string }[] = [];
  let inResources = false;
  let resource: string | undefined;
  for (const line of readFileSync(join(root, 's.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inResources = line.startsWith('resources:');
    if (!inResources) continue;
    const name = /^ {2}([\w-]+):\s*$/.exec(line);
    if (name) resource = name[1];
    else if (resource) lines.push({ resource, line });
  }
  return lines;
}

/** memorySize (MB) of each resource in s.yaml. */
export function memorySizesMb(root: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const { resource, line } of resourceLines(root)) {
    const size = /^\s+memorySize:\s*(\d+)/.exec(line);
    if (size) sizes[resource] = Number(size[1]);
  }
  return sizes;
}

/** cpu (vCPU) of each resource in s.yaml. */
export function cpusOf(root: string): Record<string, number> {
  const cpus: Record<string, number> = {};
  for (const { resource, line } of resourceLines(root)) {
    const cpu = /^\s+cpu:\s*([\d.]+)/.exec(line);
    if (cpu) cpus[resource] = Number(cpu[1]);
  }
  return cpus;
}

/**
 * NODE_OPTIONS of each resource's environmentVariables in s.yaml (none set: absent), so the bench runs a function's
 * process with the same Node flags FC would start it with, read from the one place they are written.
 */
export function nodeOptionsOf(root: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const { resource, line } of resourceLines(root)) {
    const value = /^\s+NODE_OPTIONS:\s*(.*?)\s*(#.*)?$/.exec(line)?.[1];
    if (value === undefined) continue;
    if (value.includes('${')) throw new Error(`s.yaml: ${resource}'s NODE_OPTIONS (${value}) must be a literal for the bench to use it`);
    options[resource] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return options;
}
