import { join } from 'node:path';
import { CHILD_SCRIPT, runNode } from '../lib/processes';
import { SAMPLES } from '../lib/samples';
import { createMemoryLimit } from '../lib/instance-memory';
import { memorySizesMb, nodeOptionsOf } from '../lib/s-yaml';
import { mean } from '../lib/stats';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

const MAX_RSS_MIB = 64;
/**
 * "Not growing": the highest RSS, and the highest heap after a full GC, of the second half against those of the
 * first. Single checkpoints jitter by a few MiB (the young generation; Node keeps up to 1,000 idle HTTP parsers),
 * so peaks are compared; a leak of 400 bytes per invocation would still show over 5,000 invocations.
 */
const MAX_RSS_GROWTH_MIB = 5;
const MAX_HEAP_GROWTH_MIB = 2;
const DEFAULT_INVOCATIONS = 10_000;
const FC_MIN_MEMORY_MB = 128;

interface WarmRun {
  checkpoints: { invocations: number; rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }[];
  durationsMs: number[];
}

/**
 * The function's own memory: each bundle runs alone in a child process (the stand-ins stay here), every
 * invocation of the heaviest kind (http-submit with an Idempotency-Key, oss-submit with its job records).
 * Each runs in a memory cgroup of its s.yaml memorySize when the machine allows (bench/lib/instance-memory.ts).
 * BENCH_INVOCATIONS shortens the run while developing; BENCH_CHILD_FLAGS adds Node flags to those processes;
 * BENCH_HEAP_SNAPSHOTS=<dir> writes heap snapshots at the second checkpoint and the last (outside the cgroup).
 */
export const memory: BenchModule = {
  name: 'memory',
  async run({ root, dist, functions, ice, env, runId, progress }) {
    const invocations = Number(process.env.BENCH_INVOCATIONS ?? DEFAULT_INVOCATIONS);
    const measured = functions.filter((name) => SAMPLES[name]);
    progress(`memory: ${invocations} warm invocations of ${measured.join(', ')}, one child process each, in parallel`);
    // The floor: a process that only signs and sends the same ICE submit (fields read back from the endpoint).
    const submit = ice.calls().find((call) => call.action === 'SubmitYikeAIAppJob');
    const raw = submit ? [{ name: 'raw signed ICE fetch (no function)', args: ['raw', JSON.stringify(submit.fields), '-'] }] : [];
    const bareNode = await runNode(['-e', 'process.stdout.write(JSON.stringify(process.memoryUsage().rss / 1048576))']);
    // A function's own process gets the NODE_OPTIONS its s.yaml environment sets, as FC would start it.
    const nodeOptions = nodeOptionsOf(root);
    const sizes = memorySizesMb(root);
    // Each function in a memory cgroup of its memorySize, as on its FC instance (the raw fetch: unconstrained, for scale).
    const limits = new Map<string, string>();
    const runs = await Promise.all(
      [...measured.map((name) => ({ name, args: ['warm', join(dist, name, 'index.js'), name] })), ...raw].map(async ({ name, args }) => {
        const flags = process.env.BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? [];
        const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
        delete childEnv.NODE_OPTIONS;
        if (nodeOptions[name]) childEnv.NODE_OPTIONS = nodeOptions[name];
        // Heap snapshots need room of their own: taken outside the instance's limit.
        // The raw fetch (no function) gets FC's smallest instance, so the floor is measured like the functions.
        const memoryMb = sizes[name] ?? (measured.includes(name) ? undefined : FC_MIN_MEMORY_MB);
        const limit =
          memoryMb && !process.env.BENCH_HEAP_SNAPSHOTS ? createMemoryLimit(`yike-bench-${runId}-${name.replace(/\W+/g, '-')}`, memoryMb) : undefined;
        if (memoryMb) {
          const why = process.env.BENCH_HEAP_SNAPSHOTS ? 'heap snapshots taken' : 'no writable cgroup';
          limits.set(name, limit ? `in a ${memoryMb} MB memory cgroup, as on an instance` : `unconstrained (${why}) instead of ${memoryMb} MB`);
        }
        let stdout: string;
        try {
          ({ stdout } = await runNode([...flags, '--expose-gc', CHILD_SCRIPT, ...args, `${runId}-mem`, String(invocations)], childEnv, limit));
        } finally {
          limit?.remove();
        }
        const run = JSON.parse(stdout) as WarmRun;
        if (process.env.BENCH_DEBUG) progress(`${name} checkpoints: ${JSON.stringify(run.checkpoints)}`);
        return [name, run] as const;
      }),
    );
    const rows: BenchRow[] = [info('bare node (`node -e 0`) RSS, the floor', `${Number(bareNode.stdout).toFixed(1)} MiB`, Number(bareNode.stdout), 'MiB')];
    for (const [name, run] of runs) {
      if (!measured.includes(name)) {
        const last = run.checkpoints.at(-1)!;
        rows.push(
          info(
            `${name}: RSS after ${last.invocations} calls (${limits.get(name) ?? 'unconstrained'}; heap used ${last.heapUsedMiB.toFixed(1)} of ${last.heapTotalMiB.toFixed(1)} MiB)`,
            `${last.rssMiB.toFixed(1)} MiB`,
            last.rssMiB,
            'MiB',
          ),
        );
        continue;
      }
      const last = run.checkpoints.at(-1)!;
      const peak = Math.max(...run.checkpoints.map((checkpoint) => checkpoint.rssMiB));
      const flags = [
        limits.get(name),
        nodeOptions[name] ? `NODE_OPTIONS ${nodeOptions[name]} from s.yaml` : 'no Node flags in s.yaml',
        process.env.BENCH_CHILD_FLAGS && `BENCH_CHILD_FLAGS ${process.env.BENCH_CHILD_FLAGS}`,
      ]
        .filter(Boolean)
        .join('; ');
      rows.push(
        atMost(
          `${name}: RSS after ${last.invocations} warm invocations (${flags}; peak ${peak.toFixed(1)}; heap used ${last.heapUsedMiB.toFixed(1)} of ${last.heapTotalMiB.toFixed(1)} MiB)`,
          last.rssMiB,
          MAX_RSS_MIB,
          'MiB',
        ),
      );
      const half = Math.floor(run.checkpoints.length / 2);
      const firstHalfPeak = Math.max(...run.checkpoints.slice(0, half).map((checkpoint) => checkpoint.rssMiB));
      const secondHalfPeak = Math.max(...run.checkpoints.slice(half).map((checkpoint) => checkpoint.rssMiB));
      rows.push(atMost(`${name}: RSS peak, second half over first half`, secondHalfPeak - firstHalfPeak, MAX_RSS_GROWTH_MIB, 'MiB'));
      const firstHalfHeap = Math.max(...run.checkpoints.slice(0, half).map((checkpoint) => checkpoint.heapUsedMiB));
      const secondHalfHeap = Math.max(...run.checkpoints.slice(half).map((checkpoint) => checkpoint.heapUsedMiB));
      rows.push(atMost(`${name}: heap after GC peak, second half over first half`, secondHalfHeap - firstHalfHeap, MAX_HEAP_GROWTH_MIB, 'MiB', 2));
      const durationMs = mean(run.durationsMs);
      const memoryMb = sizes[name];
      rows.push(
        info(
          `${name}: mean warm duration (child; memorySize ${memoryMb ?? '?'} MB)`,
          `${durationMs.toFixed(1)} ms = ${memoryMb ? `${((durationMs / 1000) * (memoryMb / 1024) * 1000).toFixed(3)} GB-s / 1,000` : '?'}`,
          durationMs,
          'ms',
        ),
      );
    }
    return rows;
  },
};
