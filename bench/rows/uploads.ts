import { loadHandler } from '../lib/handlers';
import { BENCH_IMAGE_KEY, SAMPLES } from '../lib/samples';
import { memorySizesMb } from '../lib/s-yaml';
import { mean, percentile } from '../lib/stats';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

/**
 * What one upload may cost: the issue's baseline (3 OSS + 1 ICE, issue 11) plus what later issues require, each
 * named. None of the four OSS writes measured can go: the claim and its COMPLETED record are the one-job rule
 * (shared/domain/idempotency/idempotent.ts); the job record and the in-flight marker are two objects at public names
 * (`<RECORDS_PREFIX>jobs/<jobId>.json`, `<RECORDS_PREFIX>inflight/<jobId>`, issue 8), written only once COMPLETED
 * is, so a stopped instance can never cause a second paid job (shared/domain/jobs/submit-job.ts, submitJobThenRecord).
 */
const BASE = { oss: 3, ice: 1 };
const ADDED_BY_LATER_ISSUES = {
  oss: [
    ['job record', 'issue 8'],
    ['in-flight marker', 'issue 8'],
  ],
  ice: [['PrecheckYikeAIAppJob', 'issue 9']],
} as const;
const MAX_OSS_PER_UPLOAD = BASE.oss + ADDED_BY_LATER_ISSUES.oss.length;
const MAX_ICE_PER_UPLOAD = BASE.ice + ADDED_BY_LATER_ISSUES.ice.length;
const WARM_UP = 20;
const RUNS = 200;

function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} ${count / RUNS}`).join(', ');
}

/** Which of the function's writes an OSS request is, by its key (see shared/domain/submissions/submissions.ts, lifecycle/job-record.ts). */
function ossCallName(request: { method: string; key?: string }, claimed: Set<string>): string {
  const key = request.key ?? '';
  if (/\/objects\//.test(key) && request.method === 'PUT') {
    // The upload's record: a conditional create (the claim), then the same key again (COMPLETED).
    const name = claimed.has(key) ? 'COMPLETED record PUT' : 'claim PUT (forbid-overwrite)';
    claimed.add(key);
    return name;
  }
  if (/\/jobs\/[^/]+\.json$/.test(key)) return `job record ${request.method}`;
  if (/\/inflight\/[^/]+$/.test(key)) return `in-flight marker ${request.method}`;
  return `${request.method} ${key}`;
}

const targetText = (kind: 'oss' | 'ice') => `${BASE[kind]} + ${ADDED_BY_LATER_ISSUES[kind].map(([name, issue]) => `${name} (${issue})`).join(' + ')}`;

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
    const ossRequests = oss
      .requests()
      .slice(ossBefore)
      .filter((request) => !(request.method === 'GET' && request.key === BENCH_IMAGE_KEY));
    const iceCalls = ice.calls().slice(iceBefore);
    const memoryMb = memorySizesMb(root)['oss-submit'];
    if (!memoryMb) throw new Error('s.yaml gives oss-submit no memorySize');
    const meanMs = mean(durations);
    const gbSecondsPer1000 = (meanMs / 1000) * (memoryMb / 1024) * 1000;
    const claimed = new Set<string>();
    const ossRow: BenchRow = atMost(
      `oss-submit: OSS round trips per upload (${countBy(ossRequests, (request) => ossCallName(request, claimed))})`,
      ossRequests.length / RUNS,
      MAX_OSS_PER_UPLOAD,
      '',
      2,
    );
    const iceRow: BenchRow = atMost(
      `oss-submit: ICE round trips per upload (${countBy(iceCalls, (call) => call.action ?? '?')})`,
      iceCalls.length / RUNS,
      MAX_ICE_PER_UPLOAD,
      '',
      2,
    );
    ossRow.target = `${ossRow.target} (${targetText('oss')})`;
    iceRow.target = `${iceRow.target} (${targetText('ice')})`;
    return [
      ossRow,
      iceRow,
      info(`oss-submit: warm upload duration, mean (p95 ${percentile(durations, 95).toFixed(1)} ms; loopback)`, `${meanMs.toFixed(1)} ms`, meanMs, 'ms'),
      info(`oss-submit: GB-seconds per 1,000 uploads at memorySize ${memoryMb} MB`, `${gbSecondsPer1000.toFixed(3)} GB-s`, gbSecondsPer1000, 'GB-s'),
    ];
  },
};
