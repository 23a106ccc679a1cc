import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler } from '../../functions/oss-submit/index';
import { createHandler as createWatcherHandler } from '../../functions/job-watcher/index';
import { createAsyncInvoker, type AsyncInvocationRecord } from '../../local/fc/async';
import { startIceServer, type IceFault, type LocalIceServer } from '../../local/ice/server';
import type { OssFault } from '../../local/oss/faults';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../local/oss/trigger';
import { parseConfig } from '../../shared/runtime/config';
import { tuningWith, type TuningOverrides } from '../../shared/runtime/tuning';
import type { IdempotencyRecord } from '../../shared/domain/idempotency/idempotent';
import { createOssRecordStore } from '../../shared/adapters/oss/record-store';
import { createOssClient } from '../../shared/adapters/oss/client';
import { listSubmitRecords } from '../../shared/domain/lifecycle/operator';
import { fcContext, LOCAL_CREDENTIALS, tempDir, TINY_PNG, localOssClient } from '../helpers/local-cloud';
import { asFcPayload, loadEvent } from '../helpers/fixtures';
import { limitConcurrency, reportFigures, seededRandom } from '../helpers/reliability';
import { webhookSecret } from '../helpers/webhooks';

const BUCKET = 'yike-uploads';
const RECORDS_PREFIX = '.yike-jobs/';
const UPLOADS = Number(process.env.RELIABILITY_UPLOADS ?? 300);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261130);
/** Share of ICE submits and prechecks, and of the function's OSS record requests, that get a fault. */
const FAULT_RATE = 0.35;
/** Share of uploads FC delivers a second time (at-least-once delivery). */
const REDELIVERY_RATE = 0.3;
const CLIENT_TIMEOUT_MS = 250;
/** The functions' tuning: short client timeouts, and 3 ICE attempts 5-20 ms apart, so a run of faults stays short. */
const FUNCTION_TUNING: TuningOverrides = {
  ice: { readTimeoutMs: CLIENT_TIMEOUT_MS, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } },
  oss: { timeoutMs: CLIENT_TIMEOUT_MS },
};
const SLOWER_THAN_TIMEOUT_MS = 400;

describe('300 uploads under ≥ 30% injected ICE and OSS faults with FC retries and redelivery', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  /** What the first test leaves for the second: the functions' environment and the JobIds ICE returned to them. */
  let handlerEnv: NodeJS.ProcessEnv;
  let answeredJobIds: string[] = [];
  /** JobIds that a COMPLETED upload record names. */
  let completedJobIds = new Set<string>();
  let reinjectFaults: () => void = () => undefined;

  beforeAll(() => {
    dir = tempDir('fault-injection-');
  });
  afterAll(async () => {
    await Promise.all([ice?.close(), oss?.close()]);
    dir.remove();
  });

  it('gives every image exactly one job or a surfaced failure: 0 duplicates, 0 lost, unknown outcomes listed', async () => {
    // Arrange: the function behind FC's async invocation (3 retries), wired to the OSS trigger
    const random = seededRandom(SEED);
    const env = {
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      LOG_LEVEL: 'error',
    };
    handlerEnv = { ...env };
    // FC runs at most reservedConcurrency (s.yaml: 10; 16 here) instances of the function at once; queued events wait.
    const handler = limitConcurrency(16, createHandler({ env: handlerEnv, tuning: FUNCTION_TUNING, sink: () => undefined }));
    const invoker = createAsyncInvoker({
      handler,
      functionName: 'yike-oss-submit',
      credentials: LOCAL_CREDENTIALS,
      maxAsyncRetryAttempts: 3,
      retryDelayMs: 30,
    });
    const keyOfInvocation = new Map<string, string>();
    const redeliveries: Promise<void>[] = [];
    oss = await startOssServer({
      dataDir: dir.path,
      buckets: [BUCKET],
      onObjectCreated: (notification) => {
        if (!matchesOssTrigger(notification, UPLOAD_TRIGGER)) return;
        keyOfInvocation.set(invoker.invoke(notification.payload).requestId, notification.key);
        if (random() < REDELIVERY_RATE) {
          const later = 20 + Math.floor(random() * 200);
          redeliveries.push(
            new Promise((resolve) =>
              setTimeout(() => resolve(keyOfInvocation.set(invoker.invoke(notification.payload).requestId, notification.key) && undefined), later),
            ),
          );
        }
      },
    });
    handlerEnv.OSS_ENDPOINT = oss.localhostUrl;
    // PRECHECK=on (the default): ICE reads each uploaded image from the local OSS before the submit.
    // Outputs of 64 KiB: the watcher copies them all in the second test.
    ice = await startIceServer({ images: { ossUrl: oss.url }, outputBytes: 64 * 1024 });
    handlerEnv.ICE_ENDPOINT = ice.url;
    handlerEnv.IMAGE_URL_MODE = 'public';

    const iceFaults: Record<string, number> = { throttle: 0, fail: 0, drop: 0, delay: 0 };
    const iceFaultsByAction: Record<string, number> = { PrecheckYikeAIAppJob: 0, SubmitYikeAIAppJob: 0 };
    ice.faults.pickWith((action) => {
      // The paid submit and the free precheck before it (a read: retried even when its answer is lost).
      if (!(action in iceFaultsByAction) || random() >= FAULT_RATE) return undefined;
      const faults: IceFault[] = [
        { kind: 'throttle', code: 'Throttling.User' },
        { kind: 'fail', status: 503, code: 'ServiceUnavailable', nonJsonBody: false },
        { kind: 'fail', status: 500, code: 'InternalError', nonJsonBody: false },
        { kind: 'drop' },
        { kind: 'delay', ms: SLOWER_THAN_TIMEOUT_MS },
      ];
      const fault = faults[Math.floor(random() * faults.length)]!;
      iceFaults[fault.kind]! += 1;
      iceFaultsByAction[action]! += 1;
      return fault;
    });
    const ossFaultPlan = (request: { key: string }) => {
      // The function's own record requests fail; the users' uploads (the test's arrangement) do not.
      if (!request.key.startsWith(RECORDS_PREFIX) || random() >= FAULT_RATE) return undefined;
      const faults: OssFault[] = [
        { kind: 'fail', status: 503, code: 'SlowDown' },
        { kind: 'fail', status: 500, code: 'InternalError' },
        { kind: 'reset' },
        { kind: 'delay', ms: SLOWER_THAN_TIMEOUT_MS },
      ];
      return faults[Math.floor(random() * faults.length)];
    };
    oss.faults.pickWith(ossFaultPlan);
    reinjectFaults = () => oss.faults.pickWith(ossFaultPlan);
    const uploader = localOssClient(oss.url, BUCKET);
    const keys = Array.from({ length: UPLOADS }, (_, i) => `uploads/${i % 2 ? 'male' : 'female'}/img-${String(i).padStart(4, '0')}.jpg`);

    // Act: the uploads, then everything FC does about them (retries, redeliveries)
    const startedAt = Date.now();
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((key) => uploader.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/jpeg' } })));
    }
    await Promise.all(redeliveries);
    await invoker.idle();
    const elapsedMs = Date.now() - startedAt;
    // Requests held by "slower than the timeout" faults still land after their clients gave up: once OSS has served
    // every request it received.
    await oss.idle();
    ice.faults.pickWith(undefined);
    oss.faults.pickWith(undefined);
    const ossRecordRequests = oss.requests().filter((request) => request.key?.startsWith(RECORDS_PREFIX)).length;
    const ossFaults = oss.faults.applied();
    const submits = ice.calls().filter((call) => call.action === 'SubmitYikeAIAppJob').length;
    const prechecks = ice.calls().filter((call) => call.action === 'PrecheckYikeAIAppJob').length;

    // Assert
    const jobsByKey = new Map<string, number>();
    for (const job of ice.jobs()) {
      const key = decodeURIComponent(new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1));
      jobsByKey.set(key, (jobsByKey.get(key) ?? 0) + 1);
    }
    const finalByKey = new Map<string, AsyncInvocationRecord[]>();
    for (const record of invoker.records()) {
      const key = keyOfInvocation.get(record.requestId)!;
      finalByKey.set(key, [...(finalByKey.get(key) ?? []), record]);
    }
    const surfaced = new Set(keys.filter((key) => (finalByKey.get(key) ?? []).some((record) => record.status === 'failed')));
    const duplicates = keys.filter((key) => (jobsByKey.get(key) ?? 0) > 1);
    const lost = keys.filter((key) => (jobsByKey.get(key) ?? 0) === 0 && !surfaced.has(key));

    const config = parseConfig({ ...handlerEnv });
    const store = createOssRecordStore(createOssClient(config.oss, LOCAL_CREDENTIALS, BUCKET));
    const records = new Map<string, IdempotencyRecord<{ jobId: string }>>();
    for (const recordKey of oss.listKeys(BUCKET).filter((key) => key.startsWith(`${RECORDS_PREFIX}objects/`) && key.endsWith('.json'))) {
      const record = (await store.get<IdempotencyRecord<{ jobId: string }>>(recordKey))!;
      records.set(String(record.context?.key), record);
    }
    const jobIdsByKey = new Map(
      ice.jobs().map((job) => [decodeURIComponent(new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1)), job.jobId]),
    );
    const inconsistent = [...records].filter(([key, record]) => record.status === 'COMPLETED' && record.result?.jobId !== jobIdsByKey.get(key));
    // Job records are written after ICE accepted a submit: each must name one of ICE's jobs, for the same image.
    const jobKeyById = new Map(
      ice.jobs().map((job) => [job.jobId, decodeURIComponent(new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1))]),
    );
    const jobRecordKeys = oss.listKeys(BUCKET).filter((key) => key.startsWith(`${RECORDS_PREFIX}jobs/`));
    const jobRecords = await Promise.all(jobRecordKeys.map((key) => store.get<{ jobId: string; upload?: { key: string } }>(key)));
    const strayJobRecords = jobRecords.filter((record) => !record || jobKeyById.get(record.jobId) !== record.upload?.key);
    const inflightMarkers = new Set(
      oss
        .listKeys(BUCKET)
        .filter((key) => key.startsWith(`${RECORDS_PREFIX}inflight/`))
        .map((key) => key.slice(`${RECORDS_PREFIX}inflight/`.length)),
    );
    // What `yike-jobs list --status OUTCOME_UNKNOWN` / `--status IN_PROGRESS` shows an operator.
    const unknown = await listSubmitRecords(store, RECORDS_PREFIX, { status: 'OUTCOME_UNKNOWN' });
    const stuck = await listSubmitRecords(store, RECORDS_PREFIX, { status: 'IN_PROGRESS' });
    const keyOf = (record: { source?: string }) => String(record.source).replace(`oss://${BUCKET}/`, '');
    const recordedJobIds = new Set(jobRecords.flatMap((record) => (record && jobKeyById.has(record.jobId) ? [record.jobId] : [])));
    const unknownKeys = new Set(unknown.map((record) => keyOf(record)));
    const unrecorded = [...jobKeyById].filter(([jobId]) => !recordedJobIds.has(jobId)).map(([jobId, key]) => ({ jobId, key }));
    const injected = Object.values(iceFaults).reduce((a, b) => a + b, 0) + Object.values(ossFaults).reduce((a, b) => a + b, 0);
    const figures = {
      seed: SEED,
      uploads: UPLOADS,
      deliveries: keyOfInvocation.size,
      invocationAttempts: invoker.records().reduce((sum, record) => sum + record.attempts, 0),
      icePrecheckRequests: prechecks,
      iceSubmitRequests: submits,
      ossRecordRequests,
      iceFaults,
      iceFaultsByAction,
      ossFaults,
      faultRate: Math.round((injected / (prechecks + submits + ossRecordRequests)) * 1000) / 1000,
      imagesWithOneJob: keys.filter((key) => jobsByKey.get(key) === 1).length,
      imagesWithSurfacedFailure: surfaced.size,
      imagesWithNeither: lost.length,
      duplicates: duplicates.length,
      unknownOutcomesListed: unknown.length,
      unknownOutcomesWithJob: unknown.filter((record) => jobsByKey.has(keyOf(record))).length,
      stuckInProgressListed: stuck.length,
      iceJobs: ice.jobs().length,
      jobsWithJobRecord: recordedJobIds.size,
      jobsWithInflightMarker: ice.jobs().filter((job) => inflightMarkers.has(job.jobId)).length,
      // A job whose submit answer was lost has no JobId to record (an unknown outcome); the others lost their
      // job record only if OSS refused every attempt at writing it.
      jobsWithoutRecordUnknownOutcome: unrecorded.filter((job) => unknownKeys.has(job.key)).length,
      jobsWithoutRecordAfterAnswer: unrecorded.filter((job) => !unknownKeys.has(job.key)).length,
      elapsedMs,
    };
    reportFigures('fault-injection', figures);
    completedJobIds = new Set([...records.values()].filter((record) => record.status === 'COMPLETED').map((record) => record.result!.jobId));
    answeredJobIds = [
      ...new Set(
        invoker
          .records()
          .filter((record) => record.status === 'succeeded')
          .flatMap((record) => (record.result as { submitted?: { jobId: string }[] }).submitted ?? [])
          .map((submitted) => submitted.jobId),
      ),
    ];
    expect(duplicates).toEqual([]);
    expect(lost).toEqual([]);
    expect(inconsistent).toEqual([]);
    expect(strayJobRecords).toEqual([]);
    expect(figures.faultRate).toBeGreaterThanOrEqual(0.3);
    for (const count of [...Object.values(iceFaults), ...Object.values(iceFaultsByAction), ...Object.values(ossFaults)]) expect(count).toBeGreaterThan(0);
    // Every unknown outcome is listed for the operator, and reached onFailure (never silently retried into a second job).
    expect(unknown.map((record) => keyOf(record)).sort()).toEqual(
      [...records]
        .filter(([, record]) => record.status === 'OUTCOME_UNKNOWN')
        .map(([key]) => key)
        .sort(),
    );
    for (const record of unknown) expect(surfaced.has(keyOf(record))).toBe(true);
  }, 180_000);

  it('then follows every job whose JobId ICE returned to a job record and a notification, at the same OSS fault rate (reconcile)', async () => {
    // Arrange: the job watcher (rounds, copies, reconcile every minute) under the same OSS faults, a webhook receiver,
    // and a simulated clock moved one tick (a minute) per run; ICE's jobs finished meanwhile (3 s after their submit)
    expect(answeredJobIds.length).toBeGreaterThan(100);
    const store = createOssRecordStore(createOssClient(parseConfig({ ...handlerEnv }).oss, LOCAL_CREDENTIALS, BUCKET));
    const recordedAtSubmit = (await Promise.all(answeredJobIds.map((jobId) => store.get(`${RECORDS_PREFIX}jobs/${jobId}.json`)))).filter(Boolean).length;
    // And five instances stopped right after their COMPLETED write: those jobs have neither a record nor a marker.
    const stopped = answeredJobIds.filter((jobId) => completedJobIds.has(jobId)).slice(0, 5);
    for (const jobId of stopped) {
      await store.delete(`${RECORDS_PREFIX}jobs/${jobId}.json`);
      await store.delete(`${RECORDS_PREFIX}inflight/${jobId}`);
    }
    reinjectFaults();
    const notified = new Map<string, number>();
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { job, type } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; job: { jobId: string } };
        if (type === 'yike.job.finished') notified.set(job.jobId, (notified.get(job.jobId) ?? 0) + 1);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    let nowMs = Date.now();
    const watcher = createWatcherHandler({
      env: {
        ...handlerEnv,
        ALLOWED_BUCKETS: BUCKET,
        JOB_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
        JOB_WEBHOOK_SECRET: webhookSecret('fault-injection'),
      },
      // Sleeping rounds: each tick polls its rounds on the simulated clock (delayed rounds: delayed-rounds.test.ts).
      tuning: tuningWith(FUNCTION_TUNING, { lifecycle: { reconcileMinutes: 1, delayedRounds: false } }),
      now: () => new Date(nowMs),
      sleep: async (ms) => {
        nowMs += ms;
      },
      sink: () => undefined,
    });

    // Act: ticks until every answered job is notified (at most 60: an hour of ticks; about 25 are needed, more on a
    // busy machine, where more calls outlast the short client timeouts and count as faults)
    let ticks = 0;
    const summaries: Record<string, number>[] = [];
    try {
      while (ticks < 60 && answeredJobIds.some((jobId) => !notified.has(jobId))) {
        ticks++;
        const tickAt = nowMs;
        const summary = await watcher(asFcPayload(loadEvent('fc3-timer')), fcContext({ function: { name: 'yike-job-watcher', timeout: 65 } }));
        summaries.push(summary as unknown as Record<string, number>);
        nowMs = Math.max(nowMs, tickAt + 60_000);
      }
    } finally {
      oss.faults.pickWith(undefined);
      await new Promise((resolve) => receiver.close(resolve));
    }

    // Assert
    const withRecord = await Promise.all(answeredJobIds.map(async (jobId) => (await store.get(`${RECORDS_PREFIX}jobs/${jobId}.json`)) !== undefined));
    const sum = (field: string) => summaries.reduce((total, summary) => total + (summary[field] ?? 0), 0);
    const figures = {
      jobsIceReturned: answeredJobIds.length,
      jobsWithRecordAfterSubmit: recordedAtSubmit,
      jobsWithNeitherRecordNorMarker: stopped.length,
      ticks,
      rebuiltFromMarker: sum('rebuilt'),
      reconciledFromSubmitRecord: sum('reconciled'),
      jobsWithRecordAtEnd: withRecord.filter(Boolean).length,
      jobsNotified: answeredJobIds.filter((jobId) => notified.has(jobId)).length,
      jobsNotifiedTwice: answeredJobIds.filter((jobId) => (notified.get(jobId) ?? 0) > 1).length,
      outputsCopied: sum('copied'),
      ossFaults: oss.faults.applied(),
    };
    reportFigures('fault-injection-watcher', figures);
    // The stopped ones were found again (from their COMPLETED submit records by reconcile, from a marker reconcile wrote
    // before its record write failed, or by the upload's own redelivery: which of them depends on how the faults fall,
    // so the figures report it and reconcile.test.ts pins each path) and notified.
    expect(stopped).toHaveLength(5);
    expect(stopped.filter((jobId) => !notified.has(jobId))).toEqual([]);
    expect(answeredJobIds.filter((_, index) => !withRecord[index])).toEqual([]);
    expect(answeredJobIds.filter((jobId) => !notified.has(jobId))).toEqual([]);
  }, 240_000);
});
