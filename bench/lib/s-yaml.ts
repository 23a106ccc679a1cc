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
