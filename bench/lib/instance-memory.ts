import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An FC instance of `memorySize` MB shows its processes that much memory, and Node sizes V8's heap (old and young
 * generation) from the memory it is given (`process.constrainedMemory()`, else the host's total): measured on a
 * 24 GB host with no limit, V8 allows itself a 4 GB heap and a 16 MiB young generation, and a warm function's RSS
 * says more about the host than about the function. So the bench runs each function's process in a memory cgroup
 * of its s.yaml memorySize, as the instance would (exceeding it is an OOM kill there as here). It needs a writable
 * cgroup hierarchy (root, cgroup v1 `memory` or v2); without one the process runs unconstrained and the row says so.
 */
export interface MemoryLimit {
  /** The cgroup directory the child joins before exec. */
  dir: string;
  limitBytes: number;
  /** The most memory the cgroup held (memory.peak / memory.max_usage_in_bytes), when the kernel reports it. */
  peakBytes: () => number | undefined;
  remove: () => void;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

export function createMemoryLimit(name: string, memoryMb: number): MemoryLimit | undefined {
  const limitBytes = memoryMb * 1024 * 1024;
  const v2 = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
  const dir = v2 ? join(CGROUP_ROOT, name) : join(CGROUP_ROOT, 'memory', name);
  if (!v2 && !existsSync(join(CGROUP_ROOT, 'memory'))) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // Never created.
    }
    return undefined;
  }
  // No swap beyond the limit, as on an instance (hosts without swap accounting refuse this; harmless).
  try {
    writeFileSync(join(dir, v2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes'), v2 ? '0' : String(limitBytes));
  } catch {
    // Swap accounting unavailable: the memory limit alone still shapes V8's heap.
  }
  return {
    dir,
    limitBytes,
    peakBytes: () => {
      try {
        return Number(readFileSync(join(dir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'), 'utf8').trim());
      } catch {
        return undefined;
      }
    },
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still busy or already gone: harmless, the next run reuses it.
      }
    },
  };
}

/** `sh` arguments that move the shell into the cgroup, then exec `command args` (so the child is the limited one). */
export function inMemoryLimit(limit: MemoryLimit, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'sh', args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', limit.dir, command, ...args] };
}
