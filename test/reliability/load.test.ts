import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHandler } from '../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { fcContext, LOCAL_CREDENTIALS, putLocalObject, tempDir, localOssClient } from '../helpers/local-cloud';
import { limitConcurrency, reportFigures } from '../helpers/reliability';

const CONCURRENT = Number(process.env.LOAD_CONCURRENT ?? 2000);
const SEQUENTIAL = Number(process.env.LOAD_SEQUENTIAL ?? 10_000);
const BUCKET = 'yike-uploads';
const TOKEN = 'load-token-3b8e51';
const RECORDS_PREFIX = '.yike-jobs/';
/** Images the requests name (HeadObject and ICE's precheck read them): the same few, as callers resubmit photos. */
const IMAGES = Array.from({ length: 50 }, (_, i) => `uploads/load/${i}.jpg`);

/** A forced full GC without starting jest with --expose-gc: the flag is set at run time and gc fetched from a fresh context. */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('http-submit under load', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let gateway: LocalFcGateway;
  const env = () => ({
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    ALLOWED_BUCKETS: BUCKET,
    AUTH_TOKENS: TOKEN,
  });
  // A loaded 2-core machine answers slowly; the point here is no errors and no lost or extra jobs.
  const PATIENT: TuningOverrides = { ice: { readTimeoutMs: 60_000, connectTimeoutMs: 30_000 }, oss: { timeoutMs: 60_000 } };

  beforeAll(async () => {
    dir = tempDir('load-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // PRECHECK=on (the default): the local ICE reads each image from the local OSS.
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    await Promise.all(IMAGES.map((key) => putLocalObject(oss.url, BUCKET, key)));
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), gateway?.close()]);
    dir.remove();
  });

  // The heap test runs first: whatever the burst leaves behind (pooled sockets, connections still closing) would
  // inflate its first measurement, hiding growth.
  it(`keeps the heap flat: after ${SEQUENTIAL} sequential invocations within 10% of after the first 1,000 (forced GC)`, async () => {
    // Arrange: a mix of what an instance serves: submits, refusals at each stage, health checks
    const gc = forcedGc();
    // The ICE client's generous timeouts (env()): a finished call's read timer no longer holds it until the timeout
    // (shared/adapters/openapi/read-timers.ts), so nothing has to be waited out before a measurement.
    const handler = createHandler({ env: env(), sink: () => undefined });
    const event = (i: number) => {
      // 1 in 10 a full submit (HEAD, precheck, submit, job record: the costly path), then refusals and health checks.
      const kind = i % 10;
      const health = kind >= 8;
      const path = health ? '/healthz' : '/jobs';
      const body =
        kind === 0
          ? { app: 'female', image: { bucket: BUCKET, key: IMAGES[i % IMAGES.length] } }
          : kind <= 2
            ? { app: 'robot', imageUrl: 'https://evil.com/a.jpg' }
            : { app: 'female' };
      return Buffer.from(
        JSON.stringify({
          version: 'v1',
          rawPath: path,
          body: JSON.stringify(body),
          isBase64Encoded: false,
          headers: { 'Content-Type': 'application/json', Authorization: kind === 6 || kind === 7 ? 'Bearer wrong' : `Bearer ${TOKEN}` },
          queryParameters: {},
          requestContext: { requestId: `mem-${i}`, http: { method: health ? 'GET' : 'POST', path } },
        }),
      );
    };
    const context = fcContext();
    const cleaner = localOssClient(oss.url, BUCKET);
    /**
     * Heap used after a full GC, with the stand-ins' own bookkeeping cleared first (they run in this process): the
     * calls ICE saw, the requests OSS saw, and the job records and in-flight markers OSS indexes in memory.
     */
    const settledHeap = async () => {
      ice.reset();
      oss.reset();
      const written = oss.listKeys(BUCKET).filter((key) => key.startsWith(RECORDS_PREFIX));
      const remove = limitConcurrency(16, (key: string) => cleaner.delete(key));
      await Promise.all(written.map((key) => remove(key)));
      // What OSS still does for the last requests (after their answers) is not the instance's heap.
      await oss.idle();
      oss.reset();
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const statuses: Record<number, number> = {};
    const run = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const response = (await handler(event(i), context)) as { statusCode: number };
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      }
    };

    // Act
    const startedAt = Date.now();
    await run(0, 1_000);
    const afterFirstThousand = await settledHeap();
    const checkpoints: number[] = [];
    for (let from = 1_000; from < SEQUENTIAL; from += 1_000) {
      await run(from, Math.min(SEQUENTIAL, from + 1_000));
      if (process.env.LOAD_CHECKPOINTS) checkpoints.push(Math.round((await settledHeap()) / 104857.6) / 10);
    }
    const afterAll = await settledHeap();
    if (process.env.LOAD_CHECKPOINTS) process.stdout.write(`heap checkpoints MiB: ${checkpoints.join(', ')}\n`);

    // Assert
    const growth = (afterAll - afterFirstThousand) / afterFirstThousand;
    reportFigures('load-memory', {
      invocations: SEQUENTIAL,
      statuses,
      heapAfter1000MiB: Math.round((afterFirstThousand / 1048576) * 10) / 10,
      heapAfterAllMiB: Math.round((afterAll / 1048576) * 10) / 10,
      growthPercent: Math.round(growth * 1000) / 10,
      elapsedMs: Date.now() - startedAt,
    });
    expect(statuses[202]).toBe(SEQUENTIAL / 10);
    expect(growth).toBeLessThan(0.1);
  }, 170_000);

  it(`answers ${CONCURRENT} concurrent POST /jobs through the FC gateway with 0 errors and exactly one ICE job per 202`, async () => {
    // Arrange
    gateway = await startFcGateway({
      handler: createHandler({ env: env(), tuning: PATIENT, sink: () => undefined }),
      credentials: LOCAL_CREDENTIALS,
      timeoutSeconds: 120,
    });
    ice.reset();
    const post = async (i: number) => {
      const response = await fetch(`${gateway.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ app: i % 2 ? 'male' : 'female', image: { bucket: BUCKET, key: IMAGES[i % IMAGES.length] } }),
      });
      return { status: response.status, body: (await response.json()) as { jobId?: string }, error: undefined as string | undefined };
    };
    const postOrError = async (i: number) => {
      try {
        return await post(i);
      } catch (error) {
        return { status: 0, body: {} as { jobId?: string }, error: String((error as { cause?: unknown }).cause ?? error) };
      }
    };

    // Act
    const startedAt = Date.now();
    const responses = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => postOrError(i)));
    const elapsedMs = Date.now() - startedAt;

    // Assert
    const statuses: Record<number, number> = {};
    for (const response of responses) statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    const answeredJobIds = responses
      .filter((response) => response.status === 202)
      .map((response) => response.body.jobId)
      .sort();
    const errors = [...new Set(responses.flatMap((response) => (response.error ? [response.error] : [])))];
    const calls = ice.calls().map((call) => call.action);
    const jobRecords = oss.listKeys(BUCKET).filter((key) => key.startsWith(`${RECORDS_PREFIX}jobs/`));
    reportFigures('load-concurrent', {
      requests: CONCURRENT,
      statuses,
      errors,
      iceJobs: ice.jobs().length,
      icePrechecks: calls.filter((action) => action === 'PrecheckYikeAIAppJob').length,
      jobRecords: jobRecords.length,
      elapsedMs,
      perSecond: Math.round((CONCURRENT / elapsedMs) * 1000),
    });
    expect(statuses).toEqual({ 202: CONCURRENT });
    expect(
      ice
        .jobs()
        .map((job) => job.jobId)
        .sort(),
    ).toEqual(answeredJobIds);
    // Each job: one precheck, then one submit; and one job record naming it.
    expect(calls.filter((action) => action === 'PrecheckYikeAIAppJob')).toHaveLength(CONCURRENT);
    expect(calls.filter((action) => action === 'SubmitYikeAIAppJob')).toHaveLength(CONCURRENT);
    expect(jobRecords.map((key) => key.slice(`${RECORDS_PREFIX}jobs/`.length, -'.json'.length)).sort()).toEqual(answeredJobIds);
  }, 170_000);
});
