import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type OSS from 'ali-oss';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { createHandler as createSubmitHandler } from '../../../../functions/oss-submit/index';
import { startFcInvokeServer, type LocalFcInvokeServer } from '../../../../local/fc/invoke-server';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import { claimKey } from '../../../../shared/domain/lifecycle/watcher';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, tempDir, TINY_PNG, localOssClient } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const SECRET = 'whsec-test-0123456789abcdef';
const NEXT_FUNCTION = 'yike-next-step';
const JOB_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The receiver's side of the contract, written from the README, not from our signing code. */
function verifySignature(secret: string, rawBody: string, header: string): boolean {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return timingSafeEqual(Buffer.from(expected), Buffer.from(v1));
}

interface Delivery {
  body: NotificationPayload;
  signatureValid: boolean;
  deliveryHeader?: string;
}

describe('the job lifecycle: upload → job record → watcher → result object, webhook and next function', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let fc: LocalFcInvokeServer;
  let receiver: Server;
  let receiverUrl: string;
  let receiverMode: 'up' | 'down';
  let deliveries: Delivery[];
  let dir: ReturnType<typeof tempDir>;
  let client: OSS;
  let triggered: OssNotification[];
  let iceClock: number;
  let watcherClock: number;
  let nextEvents: Buffer[];

  function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      FC_ENDPOINT: fc.url,
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      ALLOWED_BUCKETS: BUCKET,
      JOB_WEBHOOK_URL: receiverUrl,
      JOB_WEBHOOK_SECRET: SECRET,
      JOB_WEBHOOK_TIMEOUT_MS: '2000',
      JOB_NEXT_FUNCTION: NEXT_FUNCTION,
      ICE_RETRY_BASE_MS: '1',
      ICE_RETRY_MAX_MS: '2',
      // One round per run (a round at or above the function's timeout): these tests drive the ticks themselves.
      WATCH_ROUND_SECONDS: '3600',
      LOG_LEVEL: 'error',
      ...overrides,
    };
  }

  const timerEvent = () => asFcPayload(loadEvent('fc3-timer'));
  const watcherContext = () => fcContext({ function: { name: 'yike-job-watcher', handler: 'index.handler', memory: 512, timeout: 60 } });
  const watcher = (overrides: Record<string, string> = {}, sink?: (line: string) => void) =>
    createWatcherHandler({ env: env(overrides), now: () => new Date(watcherClock), sink });

  async function readJson<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse((await client.get(key)).content.toString('utf8')) as T;
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  /** A user's upload, and the OSS trigger invoking oss-submit with the event OSS produced. */
  async function upload(key: string): Promise<{ jobId: string; eTag: string }> {
    await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const notification = triggered.find((event) => event.key === key)!;
    const result = await createSubmitHandler({ env: env() })(notification.payload, fcContext());
    const eTag = JSON.parse(notification.payload.toString('utf8')).events[0].oss.object.eTag as string;
    return { jobId: result.submitted[0]!.jobId, eTag };
  }

  beforeAll(async () => {
    dir = tempDir('lifecycle-');
    oss = await startOssServer({
      dataDir: dir.path,
      buckets: [BUCKET],
      onObjectCreated: (event) => matchesOssTrigger(event, UPLOAD_TRIGGER) && triggered.push(event),
    });
    // ICE's precheck (PRECHECK=on by default) reads the uploads from the local OSS.
    ice = await startIceServer({ finishAfterMs: JOB_MS, now: () => iceClock, images: { ossUrl: oss.url } });
    fc = await startFcInvokeServer({
      functions: {
        [NEXT_FUNCTION]: async (event) => {
          nextEvents.push(event);
          return { ok: true };
        },
      },
      contextCredentials: LOCAL_CREDENTIALS,
    });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (receiverMode === 'down') {
          res.writeHead(503).end('maintenance');
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        deliveries.push({
          body: JSON.parse(raw),
          signatureValid: verifySignature(SECRET, raw, String(req.headers['x-yike-signature'])),
          deliveryHeader: req.headers['x-yike-delivery'] as string,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/yike`;
    client = localOssClient(oss.url, BUCKET);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), fc.close(), new Promise((resolve) => receiver.close(resolve))]);
    dir.remove();
  });
  beforeEach(async () => {
    ice.reset();
    triggered = [];
    deliveries = [];
    nextEvents = [];
    receiverMode = 'up';
    iceClock = Date.now();
    watcherClock = Date.now();
    // Each test starts with no records, markers or results.
    const leftovers = oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-'));
    await Promise.all(leftovers.map((key) => client.delete(key)));
  });

  it('follows one upload to a Finished job record with the video URL, writes the result object, and sends a signed webhook and the next function the same payload', async () => {
    // Arrange
    const key = 'uploads/female/portrait-lifecycle.png';
    const { jobId, eTag } = await upload(key);
    const submitted = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    iceClock += JOB_MS * 0.5;
    const midway = await watcher()(timerEvent(), watcherContext());
    const executing = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));

    // Act
    iceClock += JOB_MS;
    const summary = await watcher()(timerEvent(), watcherContext());
    await fc.idle();

    // Assert
    expect(submitted).toMatchObject({
      jobId,
      status: 'Submitted',
      entryPoint: 'upload',
      source: `oss://${BUCKET}/${key}`,
      upload: { bucket: BUCKET, key, eTag },
      results: [],
    });
    expect(midway).toMatchObject({ inflight: 1, changed: 1, settled: 0, iceCalls: 1 });
    expect(executing).toMatchObject({ status: 'Executing', executionStartTime: expect.stringMatching(/\+08:00$/) });
    const record = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    const outputUrl = `${ice.httpsUrl}/__local/outputs/${jobId}.mp4`;
    // RESULT_COPY=on (the default): the video was copied beside the upload, under the results prefix, before notifying.
    const ownKey = `.yike-results/${key}/0.mp4`;
    expect(record).toMatchObject({
      status: 'Finished',
      results: [{ kind: 'video', outputUrl, ownBucket: BUCKET, ownKey }],
      settledAt: new Date(watcherClock).toISOString(),
      notifications: {
        'result-object': { status: 'delivered', attempts: 1 },
        webhook: { status: 'delivered', attempts: 1, deliveryId: `${jobId}.finished` },
        'next-function': { status: 'delivered', attempts: 1 },
      },
    });
    expect(record).not.toHaveProperty('copy');
    expect(summary).toMatchObject({ inflight: 1, settled: 1, delivered: 3, deliveryFailures: 0, copied: 1, stoppedEarly: false });
    const resultObject = await readJson<NotificationPayload>(`.yike-results/${key}.json`);
    expect(resultObject).toEqual({
      id: `${jobId}.finished`,
      type: 'yike.job.finished',
      time: record!.settledAt,
      job: expect.objectContaining({
        jobId,
        status: 'Finished',
        results: [{ kind: 'video', mediaId: expect.any(String), outputUrl, ownBucket: BUCKET, ownKey }],
        playUrl: expect.stringMatching(
          new RegExp(`^${oss.localhostUrl}/${BUCKET}/\\.yike-results/uploads/female/portrait-lifecycle\\.png/0\\.mp4\\?OSSAccessKeyId=`),
        ),
        playUrlExpiresAt: expect.any(String),
      }),
    });
    expect(resultObject!.job).not.toHaveProperty('notifications');
    expect(deliveries).toEqual([{ body: resultObject, signatureValid: true, deliveryHeader: `${jobId}.finished` }]);
    expect(nextEvents.map((event) => JSON.parse(event.toString('utf8')))).toEqual([resultObject]);
    expect(await readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
    // The upload's idempotency record still names the job, and the result object triggered nothing.
    expect(await readJson(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key, eTag }))).toMatchObject({ status: 'COMPLETED', result: { jobId } });
    expect(triggered.map((event) => event.key)).toEqual([key]);
  });

  it('reports a job whose image ICE fails as Failed, with yike.job.failed everywhere', async () => {
    // Arrange
    const { jobId } = await upload('uploads/female/will-fail.png');
    iceClock += JOB_MS;

    // Act
    await watcher()(timerEvent(), watcherContext());
    await fc.idle();

    // Assert
    const record = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    expect(record).toMatchObject({ status: 'Failed', results: [], error: { code: 'JOB_FAILED' } });
    expect(deliveries.map((delivery) => [delivery.body.type, delivery.body.id, delivery.signatureValid])).toEqual([
      ['yike.job.failed', `${jobId}.failed`, true],
    ]);
    expect(await readJson(`.yike-results/uploads/female/will-fail.png.json`)).toMatchObject({ type: 'yike.job.failed', job: { jobId, status: 'Failed' } });
    expect(nextEvents).toHaveLength(1);
  });

  it('times out a job still Executing after JOB_TIMEOUT_SECONDS and notifies yike.job.timed-out', async () => {
    // Arrange
    const { jobId } = await upload('uploads/male/slow.png');
    iceClock += JOB_MS * 0.5;
    watcherClock += 6 * HOUR_MS + 1_000;

    // Act
    const summary = await watcher()(timerEvent(), watcherContext());

    // Assert
    const record = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    expect(summary).toMatchObject({ timedOut: 1, settled: 1 });
    expect(record).toMatchObject({
      status: 'TimedOut',
      error: { code: 'JOB_TIMED_OUT', message: 'The job was still Executing 21600 s after it was submitted' },
    });
    expect(deliveries.map((delivery) => delivery.body.type)).toEqual(['yike.job.timed-out']);
    expect(await readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
  });

  it('does not time a job out on a tick when ICE could not be asked about it (it may have finished)', async () => {
    // Arrange: past JOB_TIMEOUT_SECONDS, and ICE answers BatchGetYikeAIAppJob with 503 on every attempt
    const { jobId } = await upload('uploads/male/unasked.png');
    iceClock += JOB_MS * 0.5;
    watcherClock += 6 * HOUR_MS + 1_000;
    ice.faults.failNext(2, 503, 'ServiceUnavailable');

    // Act
    const summary = await watcher({ ICE_MAX_ATTEMPTS: '2' })(timerEvent(), watcherContext());

    // Assert
    expect(summary).toMatchObject({ iceErrors: 1, timedOut: 0, settled: 0 });
    expect(await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ status: 'Submitted' });
    expect(deliveries).toEqual([]);
    expect(await readJson(inflightKey('.yike-jobs/', jobId))).toMatchObject({ jobId });
  });

  it('notifies once when two watcher runs handle the same finished job at the same time', async () => {
    // Arrange
    const { jobId } = await upload('uploads/female/twice.png');
    iceClock += JOB_MS;

    // Act
    const summaries = await Promise.all([watcher()(timerEvent(), watcherContext()), watcher()(timerEvent(), watcherContext())]);
    await fc.idle();

    // Assert
    expect(deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(nextEvents).toHaveLength(1);
    expect(
      oss.requests().filter((request) => request.method === 'PUT' && request.key === '.yike-results/uploads/female/twice.png.json' && request.status === 200),
    ).toHaveLength(1);
    expect(summaries.map((summary) => summary.delivered).sort()).toEqual([0, 3]);
    expect(await readJson(claimKey('.yike-jobs/', jobId, 0))).toMatchObject({ claimedAt: expect.any(String) });
  });

  it('leaves a job to a run holding a fresh claim, and takes over a claim whose run died more than 5 minutes ago', async () => {
    // Arrange: a claim for round 0 as a run that crashed mid-delivery would leave it
    const { jobId } = await upload('uploads/female/crashed-run.png');
    iceClock += JOB_MS;
    await client.put(claimKey('.yike-jobs/', jobId, 0), Buffer.from(JSON.stringify({ owner: 'crashed', claimedAt: new Date(watcherClock).toISOString() })));

    // Act
    const whileFresh = await watcher()(timerEvent(), watcherContext());
    watcherClock += 6 * 60_000;
    const afterLease = await watcher()(timerEvent(), watcherContext());

    // Assert
    expect(whileFresh).toMatchObject({ claimedElsewhere: 1, delivered: 0, settled: 0 });
    expect(afterLease).toMatchObject({ delivered: 3, settled: 1 });
    expect(deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ notifyRound: 2 });
  });

  it('keeps a webhook that failed and delivers it on a later tick with the same id, never losing it', async () => {
    // Arrange
    const { jobId } = await upload('uploads/female/receiver-down.png');
    iceClock += JOB_MS;
    receiverMode = 'down';
    const logs = logCapture();
    await watcher({ LOG_LEVEL: 'warn' }, logs.sink)(timerEvent(), watcherContext());
    const pending = await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    const tooSoon = await watcher()(timerEvent(), watcherContext());
    receiverMode = 'up';

    // Act
    watcherClock += 3 * 60_000;
    const later = await watcher()(timerEvent(), watcherContext());

    // Assert
    expect(pending!.notifications!.webhook).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringMatching(/^HTTP 503 from http:\/\/127\.0\.0\.1:\d+$/),
      nextAttemptAt: expect.any(String),
    });
    expect(pending!.notifications!['result-object']).toMatchObject({ status: 'delivered' });
    expect(tooSoon).toMatchObject({ delivered: 0, deliveryFailures: 0, settled: 0 });
    expect(later).toMatchObject({ delivered: 1, settled: 1 });
    expect(deliveries.map((delivery) => [delivery.body.id, delivery.signatureValid])).toEqual([[`${jobId}.finished`, true]]);
    expect(await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ notifications: { webhook: { status: 'delivered', attempts: 2 } } });
    expect(await readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
    expect(logs.raw()).not.toContain(SECRET);
  });

  it('records a webhook as undelivered and logs an error after JOB_WEBHOOK_MAX_ATTEMPTS', async () => {
    // Arrange
    const { jobId } = await upload('uploads/female/receiver-gone.png');
    iceClock += JOB_MS;
    receiverMode = 'down';
    const logs = logCapture();

    // Act
    await watcher({ JOB_WEBHOOK_MAX_ATTEMPTS: '2' }, logs.sink)(timerEvent(), watcherContext());
    watcherClock += 3 * 60_000;
    await watcher({ JOB_WEBHOOK_MAX_ATTEMPTS: '2' }, logs.sink)(timerEvent(), watcherContext());

    // Assert
    expect(await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ notifications: { webhook: { status: 'undelivered', attempts: 2 } } });
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'notification undelivered after its last attempt', jobId, channel: 'webhook' }),
    );
    expect(await readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
  });

  it('notifies a job whose record another reader already marked Finished (GET /jobs/{jobId}?refresh=1) before the watcher saw it', async () => {
    // Arrange (its made-up output URL cannot be copied: RESULT_COPY off)
    const { jobId } = await upload('uploads/female/refreshed.png');
    const record = (await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId)))!;
    await client.put(
      jobRecordKey('.yike-jobs/', jobId),
      Buffer.from(JSON.stringify({ ...record, status: 'Finished', results: [{ kind: 'video', outputUrl: 'https://x/y.mp4' }] })),
    );

    // Act
    const summary = await watcher({ RESULT_COPY: 'off' })(timerEvent(), watcherContext());

    // Assert
    expect(summary).toMatchObject({ iceCalls: 0, settled: 1, delivered: 3 });
    expect(deliveries.map((delivery) => [delivery.body.type, delivery.body.job.results])).toEqual([
      ['yike.job.finished', [{ kind: 'video', outputUrl: 'https://x/y.mp4' }]],
    ]);
    expect(await readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      settledAt: expect.any(String),
      notifications: { webhook: { status: 'delivered' } },
    });
  });
});
