import { join } from 'node:path';
import { buildNaiveDeploy } from '../lib/naive';
import { BARE_NODE, CHILD_SCRIPT, loadOnly, runNode } from '../lib/processes';
import { SAMPLES } from '../lib/samples';
import { median } from '../lib/stats';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

const MAX_LOAD_OVER_BARE_NODE_MS = 40;
const MAX_LOAD_VS_NAIVE = 0.3;
const LOAD_ROUNDS = 15;
const COLD_ROUNDS = 7;

/**
 * Module load: wall time of a fresh `node` that only requires the bundle, minus `node -e 0` (the floor),
 * medians of interleaved rounds so machine load hits every variant alike; the same for the process's CPU time,
 * with the same targets (on a shared machine wall time swings, CPU time much less). Cold start: the same plus the first
 * invocation (with an Idempotency-Key, so it includes loading dist/<fn>/oss.js) against the stand-ins.
 * Both compared with the naive deploy built from the same sources (bench/lib/naive.ts).
 */
export const moduleLoad: BenchModule = {
  name: 'module-load',
  async run({ root, dist, functions, env, runId, progress }) {
    const naive = buildNaiveDeploy(root, join(__dirname, 'naive'), functions);
    const variants = functions.flatMap((name) => [
      { key: `${name}/bundle`, args: loadOnly(join(dist, name, 'index.js')) },
      { key: `${name}/naive`, args: loadOnly(naive[name]!) },
    ]);
    const samples = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const record = (key: string, run: { wallMs: number; stdout: string }) => {
      samples.set(key, [...(samples.get(key) ?? []), run.wallMs]);
      cpu.set(key, [...(cpu.get(key) ?? []), Number(run.stdout)]);
    };
    progress(`module load: ${LOAD_ROUNDS} rounds of ${variants.length + 1} processes`);
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      record('floor', await runNode(BARE_NODE));
      for (const variant of variants) record(variant.key, await runNode(variant.args));
    }

    const childEnv = { ...process.env, ...env };
    const cold = new Map<string, number[]>([['floor', []]]);
    const coldFunctions = functions.filter((name) => SAMPLES[name]);
    progress(`cold start: ${COLD_ROUNDS} rounds for ${coldFunctions.join(', ')}`);
    for (let round = 0; round < COLD_ROUNDS; round++) {
      cold.get('floor')!.push((await runNode(BARE_NODE)).wallMs);
      for (const name of coldFunctions) {
        for (const [kind, entry] of [
          ['bundle', join(dist, name, 'index.js')],
          ['naive', naive[name]!],
        ] as const) {
          const key = `${name}/${kind}`;
          if (!cold.has(key)) cold.set(key, []);
          cold.get(key)!.push((await runNode([CHILD_SCRIPT, 'cold', entry, name, `${runId}-cold-${kind}-${round}`], childEnv)).wallMs);
        }
      }
    }

    const floor = median(samples.get('floor')!);
    const coldFloor = median(cold.get('floor')!);
    const cpuFloor = median(cpu.get('floor')!);
    const cpuOver = (key: string) => median(cpu.get(key)!) - cpuFloor;
    const rows: BenchRow[] = [info('bare node (`node -e 0`), the floor: wall (CPU)', `${floor.toFixed(1)} ms (${cpuFloor.toFixed(1)} ms)`, floor, 'ms')];
    for (const name of functions) {
      const bundle = median(samples.get(`${name}/bundle`)!) - floor;
      const naiveLoad = median(samples.get(`${name}/naive`)!) - floor;
      rows.push(atMost(`${name}: module load over bare node, wall`, bundle, MAX_LOAD_OVER_BARE_NODE_MS, 'ms'));
      rows.push(atMost(`${name}: module load / naive deploy's (${naiveLoad.toFixed(1)} ms), wall`, bundle / naiveLoad, MAX_LOAD_VS_NAIVE, 'x', 2));
      // CPU time (all threads) barely moves when other processes compete for the cores; wall time does.
      const bundleCpu = cpuOver(`${name}/bundle`);
      const naiveCpu = cpuOver(`${name}/naive`);
      rows.push(atMost(`${name}: module load over bare node, CPU`, bundleCpu, MAX_LOAD_OVER_BARE_NODE_MS, 'ms'));
      rows.push(atMost(`${name}: module load / naive deploy's (${naiveCpu.toFixed(1)} ms), CPU`, bundleCpu / naiveCpu, MAX_LOAD_VS_NAIVE, 'x', 2));
      if (!cold.has(`${name}/bundle`)) continue;
      const coldBundle = median(cold.get(`${name}/bundle`)!) - coldFloor;
      const coldNaive = median(cold.get(`${name}/naive`)!) - coldFloor;
      rows.push(
        info(
          `${name}: cold start = load + first invocation, over bare node`,
          `${coldBundle.toFixed(1)} ms (naive ${coldNaive.toFixed(1)} ms, ${(coldBundle / coldNaive).toFixed(2)}x)`,
          coldBundle,
          'ms',
        ),
      );
    }
    return rows;
  },
};
