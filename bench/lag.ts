import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler as createWatcherHandler } from '../functions/job-watcher/index';
import { LOCAL_STS_CREDENTIALS } from '../local/dev-fixtures';
import { startIceServer } from '../local/ice/server';
import { startOssServer } from '../local/oss/server';
import { createOssClient } from '../shared/adapters/oss/client';
import { createOssRecordStore } from '../shared/adapters/oss/record-store';
import { createJobRecordStore, newJobRecord } from '../shared/domain/lifecycle/job-record';
import { parseConfig } from '../shared/runtime/config';
import type { TuningOverrides } from '../shared/runtime/tuning';
import { seededRandom } from '../test/helpers/reliability';
import { webhookSecret } from '../test/helpers/webhooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Notification lag, simulated: jobs submitted at random times over `spanMinutes`, each running `jobSeconds` at the local
 * ICE (on a simulated clock), the job watcher fired by a timer every minute as in s.yaml (a 65 s function), its rounds'
 * sleeps moving the clock instead of waiting (submits that fall due meanwhile appear as they would: a job record and its
 * marker written at their time). Measured per job: from ICE's finish to the webhook receiver's answer, on that clock;
 * the real time the watcher spent computing is added to each run's billed duration.
 */
export interface LagFigures {
  roundSeconds: number;
  jobs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** BatchGetYikeAIAppJob calls over finished jobs. */
  iceCallsPerJob: number;
  /** Billed watcher seconds over the simulated time, scaled to a day, times memorySize in GB. */
  gbSecondsPerDay: number;
  /** The same for a day with nothing in flight (every tick like the last one, after every job ended). */
  idleGbSecondsPerDay: number;
  runs: number;
}

const BUCKET = 'yike-uploads';
const TICK_MS = 60_000;
const FUNCTION_TIMEOUT_SECONDS = 65;
const IMAGE_KEY = 'LoadImage.1.TargetImage';

export async function simulateLag(options: {
  roundSeconds: number;
  jobs: number;
  spanMinutes: number;
  jobSeconds: number;
  memoryMb: number;
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
  const env: NodeJS.ProcessEnv = {
    ICE_ENDPOINT: ice.httpsUrl,
    OSS_ENDPOINT: oss.httpsLocalhostUrl,
    ALLOWED_BUCKETS: BUCKET,
    JOB_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    JOB_WEBHOOK_SECRET: webhookSecret('bench'),
    LOG_LEVEL: 'error',
  };
  const tuning: TuningOverrides = { lifecycle: { roundSeconds: options.roundSeconds } };
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
  const handler = createWatcherHandler({
    env,
    tuning,
    now: () => new Date(now),
    sleep: async (ms) => {
      now += ms;
      await materialize();
    },
  });
  const end = start + (options.spanMinutes * 60 + options.jobSeconds + 180) * 1000;
  let billedMs = 0;
  let lastRunMs = 0;
  let runs = 0;
  try {
    for (let tick = start; tick < end; tick += TICK_MS) {
      now = Math.max(now, tick);
      await materialize();
      const virtualStart = now;
      const realStart = performance.now();
      await handler(Buffer.from(JSON.stringify({ triggerTime: new Date(tick).toISOString(), triggerName: 'every-minute', payload: 'job-watcher-tick' })), {
        requestId: `lag-${tick}`,
        credentials: { ...LOCAL_STS_CREDENTIALS },
        function: { name: 'yike-job-watcher', timeout: FUNCTION_TIMEOUT_SECONDS },
      });
      lastRunMs = now - virtualStart + (performance.now() - realStart);
      billedMs += lastRunMs;
      runs++;
    }
  } finally {
    await Promise.all([ice.close(), oss.close(), new Promise((resolve) => receiver.close(resolve))]);
    rmSync(dir, { recursive: true, force: true });
  }
  const lags = submits.map(({ jobId }) => {
    const at = notifiedAt.get(jobId);
    if (at === undefined) throw new Error(`lag bench: job ${jobId} was never notified`);
    return at - finishOf.get(jobId)!;
  });
  const sorted = [...lags].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const iceCalls = ice.calls().filter((call) => call.action === 'BatchGetYikeAIAppJob').length;
  return {
    roundSeconds: options.roundSeconds,
    jobs: options.jobs,
    p50Ms: rank(50),
    p95Ms: rank(95),
    maxMs: sorted.at(-1)!,
    iceCallsPerJob: iceCalls / options.jobs,
    gbSecondsPerDay: (billedMs / 1000 / ((end - start) / 1000)) * 86_400 * (options.memoryMb / 1024),
    idleGbSecondsPerDay: (lastRunMs / 1000) * (86_400_000 / TICK_MS) * (options.memoryMb / 1024),
    runs,
  };
}
