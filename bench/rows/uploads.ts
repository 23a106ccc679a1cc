import { join } from 'node:path';
import { CHILD_SCRIPT, runNode } from '../lib/processes';
import { BENCH_IMAGE_KEY } from '../lib/samples';
import { memorySizesMb } from '../lib/s-yaml';
import { mean, percentile } from '../lib/stats';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { atMost, info, type BenchContext, type BenchModule, type BenchRow } from '../lib/types';

/**
 * What one upload may cost: the issue's baseline (3 OSS + 1 ICE, issue 11) plus what later issues require, each
 * named. None of the four OSS writes measured can go: the claim and its COMPLETED record are the one-job rule
 * (shared/domain/idempotency/idempotent.ts); the job record and the in-flight marker are two objects at public names
 * (`<RECORDS_PREFIX>jobs/<jobId>.json`, `<RECORDS_PREFIX>inflight/<jobId>`, issue 8), written only once COMPLETED
 * is, so a stopped instance can never cause a second paid job (shared/domain/submissions/submit-yike-job.ts). The two
 * job index entries (issue 25: `GET /jobs` reads a page with one listing, lifecycle/job-index.ts) are written in
 * parallel with the job record, so they add requests but no round trip to the upload's time.
 */
const BASE = { oss: 3, ice: 1 };
const ADDED_BY_LATER_ISSUES = {
  oss: [
    ['job record', 'issue 8'],
    ['in-flight marker', 'issue 8'],
    ['job index entry', 'issue 25'],
    ['job index entry of its app', 'issue 25'],
  ],
  ice: [['PrecheckYikeAIAppJob', 'issue 9']],
} as const;
const MAX_OSS_PER_UPLOAD = BASE.oss + ADDED_BY_LATER_ISSUES.oss.length;
const MAX_ICE_PER_UPLOAD = BASE.ice + ADDED_BY_LATER_ISSUES.ice.length;
const WARM_UP = 20;
const RUNS = 200;

function countBy<T>(items: readonly T[], runs: number, key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} ${count / runs}`).join(', ');
}

/** Which of the function's writes an OSS request is, by its key (see shared/domain/submissions/submit-yike-job.ts, lifecycle/job-record.ts). */
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
  if (/\/index\/jobs\//.test(key)) return `job index entry ${request.method}`;
  if (/\/index\/apps\//.test(key)) return `job index entry of its app ${request.method}`;
  return `${request.method} ${key}`;
}

const targetText = (kind: 'oss' | 'ice') => `${BASE[kind]} + ${ADDED_BY_LATER_ISSUES[kind].map(([name, issue]) => `${name} (${issue})`).join(' + ')}`;

interface UploadRun {
  ossRequests: { method: string; key?: string }[];
  iceCalls: { action?: string }[];
  handshakes: { ice: number; oss: number };
  durations: number[];
}

/**
 * `n` warm uploads through the oss-submit bundle in a child process of its own, over TLS (ICE and OSS at their https
 * URLs, the local CA trusted through NODE_EXTRA_CA_CERTS, as the cloud is https), with or without keep-alive on ICE's
 * reads (the function's tuning, handed to the child: no environment variable turns it): what the
 * stand-ins recorded (requests, TLS handshakes) and each invocation's duration.
 */
async function uploadRun(context: BenchContext, keepAlive: 'off' | 'reads'): Promise<UploadRun> {
  const tuning: TuningOverrides = { ice: { keepAliveReads: keepAlive === 'reads' } };
  const { dist, ice, oss, env, runId } = context;
  const [ossBefore, iceBefore, iceTls, ossTls] = [oss.requests().length, ice.calls().length, ice.connections().tls, oss.connections().tls];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, ICE_ENDPOINT: ice.httpsUrl, OSS_ENDPOINT: oss.httpsLocalhostUrl };
  delete childEnv.NODE_OPTIONS;
  const { stdout } = await runNode(
    [CHILD_SCRIPT, 'warm', join(dist, 'oss-submit', 'index.js'), 'oss-submit', `${runId}-upload-${keepAlive}`, String(WARM_UP + RUNS), JSON.stringify(tuning)],
    childEnv,
  );
  const { durationsMs } = JSON.parse(stdout) as { durationsMs: number[] };
  return {
    // The function never reads the image on an upload (the event carries its size); those GETs are the ICE
    // stand-in's precheck fetching it, as ICE would from its side.
    ossRequests: oss
      .requests()
      .slice(ossBefore)
      .filter((request) => !(request.method === 'GET' && request.key === BENCH_IMAGE_KEY)),
    iceCalls: ice.calls().slice(iceBefore),
    handshakes: { ice: ice.connections().tls - iceTls, oss: oss.connections().tls - ossTls },
    durations: durationsMs.slice(WARM_UP),
  };
}

/**
 * Round trips of one upload (what the stand-ins recorded) and what 1,000 uploads cost in GB-seconds: the mean warm
 * duration times the memory size s.yaml gives oss-submit, over TLS; and the TLS handshakes one upload costs with
 * keep-alive on ICE's reads (always, in a deployed function) and without (every ICE call a connection
 * of its own, as before). Loopback durations are a floor: on FC each round trip also waits for the network, and each
 * handshake for one more round trip.
 */
export const uploads: BenchModule = {
  name: 'uploads',
  async run(context) {
    const { root, progress } = context;
    progress(`uploads: ${WARM_UP + RUNS} warm oss-submit invocations over TLS in a child process, without and with keep-alive on ICE reads`);
    const before = await uploadRun(context, 'off');
    const after = await uploadRun(context, 'reads');
    const invocations = WARM_UP + RUNS;
    const memoryMb = memorySizesMb(root)['oss-submit'];
    if (!memoryMb) throw new Error('s.yaml gives oss-submit no memorySize');
    const meanMs = mean(after.durations);
    const gbSecondsPer1000 = (meanMs / 1000) * (memoryMb / 1024) * 1000;
    const claimed = new Set<string>();
    const ossRow: BenchRow = atMost(
      `oss-submit: OSS round trips per upload (${countBy(after.ossRequests, invocations, (request) => ossCallName(request, claimed))})`,
      after.ossRequests.length / invocations,
      MAX_OSS_PER_UPLOAD,
      '',
      2,
    );
    const iceRow: BenchRow = atMost(
      `oss-submit: ICE round trips per upload (${countBy(after.iceCalls, invocations, (call) => call.action ?? '?')})`,
      after.iceCalls.length / invocations,
      MAX_ICE_PER_UPLOAD,
      '',
      2,
    );
    ossRow.target = `${ossRow.target} (${targetText('oss')})`;
    iceRow.target = `${iceRow.target} (${targetText('ice')})`;
    const handshakes = (run: UploadRun) => (run.handshakes.ice + run.handshakes.oss) / invocations;
    const handshakeText = (run: UploadRun) =>
      `${handshakes(run).toFixed(2)} (ICE ${(run.handshakes.ice / invocations).toFixed(2)}, OSS ${(run.handshakes.oss / invocations).toFixed(2)})`;
    return [
      ossRow,
      iceRow,
      info('oss-submit: TLS handshakes per upload, before keep-alive on reads', handshakeText(before), handshakes(before)),
      atMost(`oss-submit: TLS handshakes per upload, keep-alive on reads`, handshakes(after), Number(handshakes(before).toFixed(2)), '', 2),
      info(
        'oss-submit: warm upload p95 over TLS, before keep-alive on reads',
        `${percentile(before.durations, 95).toFixed(1)} ms`,
        percentile(before.durations, 95),
        'ms',
      ),
      info(
        `oss-submit: warm upload p95 over TLS, keep-alive on reads (p50 ${percentile(after.durations, 50).toFixed(1)} ms; before ${percentile(before.durations, 50).toFixed(1)} ms)`,
        `${percentile(after.durations, 95).toFixed(1)} ms`,
        percentile(after.durations, 95),
        'ms',
      ),
      info(`oss-submit: warm upload duration over TLS, mean (loopback)`, `${meanMs.toFixed(1)} ms`, meanMs, 'ms'),
      info(`oss-submit: GB-seconds per 1,000 uploads at memorySize ${memoryMb} MB (TLS)`, `${gbSecondsPer1000.toFixed(3)} GB-s`, gbSecondsPer1000, 'GB-s'),
    ];
  },
};
