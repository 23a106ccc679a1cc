import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler as createWatcherHandler } from '../functions/job-watcher/index';
import { LOCAL_STS_CREDENTIALS } from '../local/dev-fixtures';
import { startFcInvokeServer } from '../local/fc/invoke-server';
import { startIceServer } from '../local/ice/server';
import { startOssServer } from '../local/oss/server';
import { createOssClient } from '../shared/adapters/oss/client';
import { createOssRecordStore } from '../shared/adapters/oss/record-store';
import { createJobRecordStore, newJobRecord } from '../shared/domain/lifecycle/job-record';
import type { WatcherSummary } from '../shared/domain/lifecycle/watcher';
import { parseConfig } from '../shared/runtime/config';
import type { TuningOverrides } from '../shared/runtime/tuning';
import { seededRandom } from '../test/helpers/reliability';
import { webhookSecret } from '../test/helpers/webhooks';

/**
 * Notification lag and what the watcher costs, simulated: jobs submitted at random times over `spanMinutes`, each
 * running `jobSeconds` at the local ICE, the job watcher fired by a timer every minute as in s.yaml (a 65 s function),
 * everything on one simulated clock. A run's sleeps move the clock instead of waiting (submits that fall due meanwhile
 * appear as they would: a job record and its marker written at their time); the rounds a run schedules itself go
 * through the local FC API, whose delay waits on the same clock (or is ignored: the fallback). Runs happen one after
 * the other in the clock's order. Measured per job: from ICE's finish to the webhook receiver's answer, on that clock;
 * a run is billed for its own sleeps plus the real time it computed.
 *
 * Designs: `tick`, one round per run (60 s rounds, what one BatchGetYikeAIAppJob per tick did); `sleeping`, 10 s rounds
 * slept within a run; `delayed`, 10 s rounds as delayed invocations of itself (the default); `delayed-ignored`, the
 * same on an FC that ignores x-fc-async-delay.
 */
export type LagDesign = 'tick' | 'sleeping' | 'delayed' | 'delayed-ignored';

export interface LagFigures {
  design: LagDesign;
  jobs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** BatchGetYikeAIAppJob calls over finished jobs. */
  iceCallsPerJob: number;
  /** The watcher's OSS requests (lists, reads, writes, deletes, copies) over finished jobs. */
  ossRequestsPerJob: number;
  /** Billed watcher seconds over the simulated time, scaled to a day, times memorySize in GB. */
  gbSecondsPerDay: number;
  /** Invocations (ticks and scheduled rounds) over the simulated time, scaled to a day. */
  invocationsPerDay: number;
  /** FC CU a day: vCPU-seconds (1 CU each), GB-seconds (0.15) and invocations (75 per 10,000): docs/performance.md. */
  cuPerDay: number;
  /** The same for a day with nothing in flight (every tick like the median one after every job ended). */
  idleGbSecondsPerDay: number;
  idleCuPerDay: number;
  idleOssRequestsPerDay: number;
  runs: number;
}

const BUCKET = 'yike-uploads';
const WATCHER = 'yike-job-watcher';
const TICK_MS = 60_000;
const FUNCTION_TIMEOUT_SECONDS = 65;
const IMAGE_KEY = 'LoadImage.1.TargetImage';
/** FC's CU conversion (help.aliyun.com/en/functioncompute/fc/product-overview/pay-as-you-go-billing-methods). */
const CU_PER_VCPU_SECOND = 1;
const CU_PER_GB_SECOND = 0.15;
const CU_PER_INVOCATION = 75 / 10_000;

const DESIGNS: Record<LagDesign, TuningOverrides['lifecycle']> = {
  tick: { roundSeconds: 60, delayedRounds: false },
  sleeping: { roundSeconds: 10, delayedRounds: false },
  delayed: { roundSeconds: 10, delayedRounds: true },
  'delayed-ignored': { roundSeconds: 10, delayedRounds: true },
};

export async function simulateLag(options: {
  design: LagDesign;
  jobs: number;
  spanMinutes: number;
  jobSeconds: number;
  memoryMb: number;
  cpu: number;
  seed?: number;
}): Promise<LagFigures> {
  const random = seededRandom(options.seed ?? 20261202);
  const start = Math.ceil(Date.now() / TICK_MS) * TICK_MS;
  let now = start;
  const submits = Array.from({ length: options.jobs }, (_, index) => ({
    jobId: `lag${String(index).padStart(29, '0')}`,
    at: start + Math.floor(random() * options.spanMinutes * TICK_MS),
  })).sort((a, b) => a.at - b.at);
  const finishOf = new Map(submits.map((submit) => [submit.jobId, submit.at + options.jobSeconds * 1000]));
  const dir = mkdtempSync(join(tmpdir(), 'lag-bench-'));
  const oss = await startOssServer({ dataDir: dir, buckets: [BUCKET] });
  const ice = await startIceServer({ finishAfterMs: options.jobSeconds * 1000, now: () => now, outputBytes: 64 * 1024 });
  const notifiedAt = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { type, job } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; job: { jobId: string } };
      if (type === 'yike.job.finished' && !notifiedAt.has(job.jobId)) notifiedAt.set(job.jobId, now);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // Delayed invocations waiting on the simulated clock, by FC request id.
  const timers: { at: number; requestId: string; resolve: () => void }[] = [];
  let fcRun: ((event: Buffer, context: Record<string, unknown>) => Promise<unknown>) | undefined;
  const fc = await startFcInvokeServer({
    functions: { [WATCHER]: (event, context) => fcRun!(event, context) },
    definitions: { [WATCHER]: { timeout: FUNCTION_TIMEOUT_SECONDS, memorySize: options.memoryMb } },
    contextCredentials: { ...LOCAL_STS_CREDENTIALS },
    maxAsyncRetryAttempts: 0,
    ignoreAsyncDelay: options.design === 'delayed-ignored',
    asyncDelay: (ms, requestId) => new Promise<void>((resolve) => timers.push({ at: now + ms, requestId, resolve })),
  });
  const env: NodeJS.ProcessEnv = {
    ICE_ENDPOINT: ice.httpsUrl,
    OSS_ENDPOINT: oss.httpsLocalhostUrl,
    FC_ENDPOINT: fc.url,
    ALLOWED_BUCKETS: BUCKET,
    JOB_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    JOB_WEBHOOK_SECRET: webhookSecret('bench'),
    LOG_LEVEL: 'error',
  };
  const tuning: TuningOverrides = { lifecycle: DESIGNS[options.design] };
  const config = parseConfig(env, tuning);
  const jobs = createJobRecordStore(createOssRecordStore(createOssClient(config.oss, { ...LOCAL_STS_CREDENTIALS }, BUCKET)), config.records.prefix);
  let nextSubmit = 0;
  // What a submit leaves: ICE's job, its job record and in-flight marker, at the submit's time.
  const materialize = async () => {
    const due: typeof submits = [];
    while (nextSubmit < submits.length && submits[nextSubmit]!.at <= now) due.push(submits[nextSubmit++]!);
    ice.seedJobs(
      due.map(({ jobId, at }) => ({
        jobId,
        appId: 'sys-ao-smith-1',
        appParamsRaw: JSON.stringify({ [IMAGE_KEY]: `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/uploads/female/${jobId}.png` }),
        submittedAtMs: at,
      })),
    );
    await Promise.all(
      due.map(async ({ jobId, at }) => {
        const key = `uploads/female/${jobId}.png`;
        const record = newJobRecord({
          jobId,
          appId: 'sys-ao-smith-1',
          source: `oss://${BUCKET}/${key}`,
          entryPoint: 'upload',
          upload: { bucket: BUCKET, key },
          now: new Date(at),
        });
        await Promise.all([jobs.markInflight(record), jobs.createRecord(record)]);
      }),
    );
  };
  let billedMs = 0;
  // Ticks that found nothing in flight (the end of the hour): what an idle day is made of.
  const idleTicks: { ms: number; ossRequests: number }[] = [];
  let runs = 0;
  /** A watcher instance whose runs are billed for their own sleeps and the real time they compute. */
  const billedHandler = (onBilled: (ms: number, ossRequests: number, summary: WatcherSummary) => void) => {
    let sleptMs = 0;
    const handler = createWatcherHandler({
      env,
      tuning,
      now: () => new Date(now),
      sleep: async (ms) => {
        sleptMs += ms;
        now += ms;
        await materialize();
      },
    });
    return async (event: Buffer, context: Record<string, unknown>) => {
      const slept = sleptMs;
      const ossBefore = oss.requests().length;
      const realStart = performance.now();
      const result = await handler(event, context);
      const ms = sleptMs - slept + (performance.now() - realStart);
      billedMs += ms;
      runs++;
      onBilled(ms, oss.requests().length - ossBefore, result as WatcherSummary);
      return result;
    };
  };
  const tick = billedHandler((ms, ossRequests, summary) => {
    if (summary.inflight === 0 && summary.nextRound === undefined) idleTicks.push({ ms, ossRequests });
  });
  fcRun = billedHandler(() => undefined);
  const end = start + (options.spanMinutes * 60 + options.jobSeconds + 180) * 1000;
  let nextTick = start;
  let awaited = 0;
  // Every run FC started without a delay (the delay ignored), to its end.
  const settleUndelayed = async () => {
    const accepted = fc.invocations();
    for (; awaited < accepted.length; awaited++) {
      const { requestId } = accepted[awaited]!;
      if (!timers.some((timer) => timer.requestId === requestId)) await fc.settled(requestId);
    }
  };
  try {
    for (;;) {
      const timer = timers.reduce<(typeof timers)[number] | undefined>(
        (first, candidate) => (first && first.at <= candidate.at ? first : candidate),
        undefined,
      );
      const at = Math.min(nextTick, timer?.at ?? Number.POSITIVE_INFINITY);
      if (at >= end) break;
      now = Math.max(now, at);
      await materialize();
      if (timer && timer.at <= nextTick) {
        timers.splice(timers.indexOf(timer), 1);
        timer.resolve();
        await fc.settled(timer.requestId);
      } else {
        await tick(Buffer.from(JSON.stringify({ triggerTime: new Date(nextTick).toISOString(), triggerName: 'every-minute', payload: 'job-watcher-tick' })), {
          requestId: `lag-${nextTick}`,
          credentials: { ...LOCAL_STS_CREDENTIALS },
          function: { name: WATCHER, timeout: FUNCTION_TIMEOUT_SECONDS },
          region: 'cn-shanghai',
          accountId: '1234567890123456',
        });
        nextTick += TICK_MS;
      }
      await settleUndelayed();
    }
  } finally {
    await Promise.all([ice.close(), oss.close(), fc.close(), new Promise((resolve) => receiver.close(resolve))]);
    rmSync(dir, { recursive: true, force: true });
  }
  const lags = submits.map(({ jobId }) => {
    const notified = notifiedAt.get(jobId);
    if (notified === undefined) throw new Error(`lag bench (${options.design}): job ${jobId} was never notified`);
    return notified - finishOf.get(jobId)!;
  });
  const sorted = [...lags].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const iceCalls = ice.calls().filter((call) => call.action === 'BatchGetYikeAIAppJob').length;
  // Every request but the two each submit wrote (the job record and its marker).
  const watcherOssRequests = oss.requests().length - 2 * options.jobs;
  const perDay = 86_400_000 / (end - start);
  const cu = (billedSeconds: number, invocations: number) =>
    billedSeconds * (options.cpu * CU_PER_VCPU_SECOND + (options.memoryMb / 1024) * CU_PER_GB_SECOND) + invocations * CU_PER_INVOCATION;
  const idleRunsPerDay = 86_400_000 / TICK_MS;
  // The median idle tick: one tick's real compute time swings on a busy machine.
  const idle = [...idleTicks].sort((a, b) => a.ms - b.ms)[Math.floor(idleTicks.length / 2)] ?? { ms: 0, ossRequests: 0 };
  return {
    design: options.design,
    jobs: options.jobs,
    p50Ms: rank(50),
    p95Ms: rank(95),
    maxMs: sorted.at(-1)!,
    iceCallsPerJob: iceCalls / options.jobs,
    ossRequestsPerJob: watcherOssRequests / options.jobs,
    gbSecondsPerDay: (billedMs / 1000) * perDay * (options.memoryMb / 1024),
    invocationsPerDay: runs * perDay,
    cuPerDay: cu((billedMs / 1000) * perDay, runs * perDay),
    idleGbSecondsPerDay: (idle.ms / 1000) * idleRunsPerDay * (options.memoryMb / 1024),
    idleCuPerDay: cu((idle.ms / 1000) * idleRunsPerDay, idleRunsPerDay),
    idleOssRequestsPerDay: idle.ossRequests * idleRunsPerDay,
    runs,
  };
}
