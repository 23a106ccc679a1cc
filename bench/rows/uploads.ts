import { loadHandler } from '../lib/handlers';
import { BENCH_IMAGE_KEY, SAMPLES } from '../lib/samples';
import { memorySizesMb } from '../lib/s-yaml';
import { mean, percentile } from '../lib/stats';
import { atMost, info, type BenchModule } from '../lib/types';

/**
 * What one upload cost before the lifecycle and input issues (issue 11: "no more after the other open issues").
 * Kept as the target: the job record + in-flight marker (issue 8) and the precheck (issue 9) exceed it, and the
 * table says so.
 */
const MAX_OSS_PER_UPLOAD = 3;
const MAX_ICE_PER_UPLOAD = 1;
const WARM_UP = 20;
const RUNS = 200;

function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} ${count / RUNS}`).join(', ');
}

/**
 * Round trips of one upload (what the stand-ins recorded) and what 1,000 uploads cost in GB-seconds: the mean
 * warm duration times the memory size s.yaml gives oss-submit. Loopback durations are a floor: on FC each round
 * trip adds the network latency to OSS and ICE.
 */
export const uploads: BenchModule = {
  name: 'uploads',
  async run({ root, dist, ice, oss, runId, progress }) {
    const handler = loadHandler(dist, 'oss-submit');
    const sample = SAMPLES['oss-submit']!;
    for (let i = 0; i < WARM_UP; i++) {
      const invocation = sample(`${runId}-upload-warmup`, i);
      invocation.check(await handler(invocation.event, invocation.context));
    }
    const ossBefore = oss.requests().length;
    const iceBefore = ice.calls().length;
    const durations: number[] = [];
    progress(`uploads: ${RUNS} warm oss-submit invocations`);
    for (let i = 0; i < RUNS; i++) {
      const invocation = sample(`${runId}-upload`, i);
      const started = performance.now();
      const result = await handler(invocation.event, invocation.context);
      durations.push(performance.now() - started);
      invocation.check(result);
    }
    // The function never reads the image on an upload (the event carries its size); those GETs are the ICE
    // stand-in's precheck fetching it, as ICE would from its side.
    const ossRequests = oss.requests().slice(ossBefore).filter((request) => !(request.method === 'GET' && request.key === BENCH_IMAGE_KEY));
    const iceCalls = ice.calls().slice(iceBefore);
    const memoryMb = memorySizesMb(root)['oss-submit'];
    if (!memoryMb) throw new Error('s.yaml gives oss-submit no memorySize');
    const meanMs = mean(durations);
    const gbSecondsPer1000 = (meanMs / 1000) * (memoryMb / 1024) * 1000;
    return [
      atMost(`oss-submit: OSS round trips per upload (${countBy(ossRequests, (request) => request.method)})`, ossRequests.length / RUNS, MAX_OSS_PER_UPLOAD, '', 2),
      atMost(`oss-submit: ICE round trips per upload (${countBy(iceCalls, (call) => call.action ?? '?')})`, iceCalls.length / RUNS, MAX_ICE_PER_UPLOAD, '', 2),
      info(`oss-submit: warm upload duration, mean (p95 ${percentile(durations, 95).toFixed(1)} ms; loopback)`, `${meanMs.toFixed(1)} ms`, meanMs, 'ms'),
      info(`oss-submit: GB-seconds per 1,000 uploads at memorySize ${memoryMb} MB`, `${gbSecondsPer1000.toFixed(3)} GB-s`, gbSecondsPer1000, 'GB-s'),
    ];
  },
};
