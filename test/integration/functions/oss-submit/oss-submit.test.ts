import type OSS from 'ali-oss';
import { createHandler, type PartialFailureError } from '../../../../functions/oss-submit/index';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir, localOssClient } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const FEMALE_KEY = 'uploads/female/portrait-001.jpg';
const FIXTURE_ETAG = '688A7BF4F233DC9C88A80BF985AB7329';

describe('the OSS upload function against the local ICE and OSS endpoints', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let notifications: OssNotification[];
  let client: OSS;

  function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      PRODUCTION_ID: 'prod-123',
      FOLDER_ID: 'fd-cReaEcVqQK',
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      ICE_RETRY_BASE_MS: '1',
      ICE_RETRY_MAX_MS: '2',
      ICE_MAX_ATTEMPTS: '3',
      LOG_LEVEL: 'error',
      ...overrides,
    };
  }

  beforeAll(async () => {
    dir = tempDir('oss-submit-');
    notifications = [];
    oss = await startOssServer({
      dataDir: dir.path,
      buckets: [BUCKET],
      // Like the trigger rule in s.yaml: only keys under uploads/ notify the function.
      onObjectCreated: (event) => matchesOssTrigger(event, UPLOAD_TRIGGER) && notifications.push(event),
    });
    client = localOssClient(oss.url, BUCKET);
    // ICE's precheck reads the images the events name from the local OSS.
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    const images = [FEMALE_KEY, 'uploads/female/a.jpg', 'uploads/male/B.PNG', "uploads/female/照片 1+2%!'().JPEG", 'elsewhere/c.webp', 'uploads/male/b.jpg'];
    for (const key of images) await putLocalObject(oss.url, BUCKET, key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(async () => {
    ice.reset();
    notifications = [];
    // Each test starts without job records.
    const records = oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/'));
    if (records.length > 0) await client.deleteMulti(records, { quiet: true }).catch(async () => Promise.all(records.map((key) => client.delete(key))));
  });

  async function readRecord(key: string, eTag: string) {
    const result = await client.get(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key, eTag }));
    return JSON.parse(result.content.toString('utf8'));
  }

  function ossEvent(records: { key: string; size?: number; eventName?: string; eTag?: string }[]) {
    const template = loadEvent('oss-trigger-put').events[0];
    return {
      events: records.map(({ key, size = 1024, eventName = 'ObjectCreated:PutObject', eTag = FIXTURE_ETAG }) => {
        const record = structuredClone(template);
        Object.assign(record.oss.object, { key, size, deltaSize: size, eTag });
        record.eventName = eventName;
        return record;
      }),
    };
  }

  it('submits the documented OSS event as one job with the image URL, ProductionId and FolderId', async () => {
    // Arrange
    const handler = createHandler({ env: env() });

    // Act
    const result = await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    const [job] = ice.jobs();
    expect(ice.jobs()).toHaveLength(1);
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-1',
      appParamsRaw: '{"LoadImage.1.TargetImage":"https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg"}',
      productionId: 'prod-123',
      folderId: 'fd-cReaEcVqQK',
      accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
    });
    expect(result).toEqual({
      submitted: [{ source: `oss://${BUCKET}/${FEMALE_KEY}`, jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' }],
      skipped: [],
      failed: [],
    });
  });

  it('writes the claim, then COMPLETED, and only then the job record and its marker, so a stop in between never resubmits', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    oss.reset();

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert: the function's writes, in the order OSS received them (the two after COMPLETED go out together)
    const jobId = ice.jobs()[0]!.jobId;
    const uploadRecord = objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: FEMALE_KEY, eTag: FIXTURE_ETAG });
    const writes = oss
      .requests()
      .filter((request) => request.method === 'PUT')
      .map((request) => request.key);
    expect(writes.slice(0, 2)).toEqual([uploadRecord, uploadRecord]);
    expect(writes.slice(2).sort()).toEqual([`.yike-jobs/inflight/${jobId}`, `.yike-jobs/jobs/${jobId}.json`]);
  });

  it('records the job as COMPLETED next to the upload, keyed by bucket, key and eTag', async () => {
    // Arrange
    const handler = createHandler({ env: env() });

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    const record = await readRecord(FEMALE_KEY, FIXTURE_ETAG);
    const [job] = ice.jobs();
    expect(record).toMatchObject({
      schemaVersion: 1,
      status: 'COMPLETED',
      idempotencyKey: `oss://${BUCKET}/${FEMALE_KEY}#${FIXTURE_ETAG}`,
      result: { jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' },
      context: { bucket: BUCKET, key: FEMALE_KEY, eTag: FIXTURE_ETAG, size: 122539, eventName: 'PutObject' },
    });
    expect(Date.parse(record.completedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
    expect(record.inProgressExpiresAt).toBeUndefined();
  });

  it('sorts a multi-record event into submitted and skipped, each with its reason', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const event = ossEvent([
      { key: 'uploads/female/a.jpg' },
      { key: 'uploads/male/B.PNG' },
      { key: 'uploads/female/notes.txt' },
      { key: 'uploads/female/empty.jpg', size: 0 },
      { key: '.yike-jobs/objects/yike-uploads/x.jpg' },
      { key: 'uploads/female/appended.jpg', eventName: 'ObjectCreated:AppendObject' },
      { key: 'elsewhere/c.webp' },
    ]);

    // Act
    const result = await handler(asFcPayload(event), fcContext());

    // Assert
    const jobs = ice.jobs();
    expect(jobs.map((job) => [job.appId, job.appParams['LoadImage.1.TargetImage']]).sort()).toEqual([
      ['sys-ao-smith-1', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/a.jpg'],
      ['sys-ao-smith-2', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/male/B.PNG'],
    ]);
    expect(result.submitted.map((item) => item.source).sort()).toEqual(['oss://yike-uploads/uploads/female/a.jpg', 'oss://yike-uploads/uploads/male/B.PNG']);
    expect(result.skipped).toEqual([
      { source: 'oss://yike-uploads/uploads/female/notes.txt', reason: 'not-an-image' },
      { source: 'oss://yike-uploads/uploads/female/empty.jpg', reason: 'empty-object' },
      { source: 'oss://yike-uploads/.yike-jobs/objects/yike-uploads/x.jpg', reason: 'records-prefix' },
      { source: 'oss://yike-uploads/uploads/female/appended.jpg', reason: 'event-not-handled' },
      { source: 'oss://yike-uploads/elsewhere/c.webp', reason: 'no-app-route' },
    ]);
    expect(result.failed).toEqual([]);
  });

  it('uses DEFAULT_APP for keys no route matches', async () => {
    // Arrange
    const handler = createHandler({ env: env({ DEFAULT_APP: 'male' }) });

    // Act
    const result = await handler(asFcPayload(ossEvent([{ key: 'elsewhere/c.webp' }])), fcContext());

    // Assert
    expect(result.submitted).toEqual([expect.objectContaining({ appId: 'sys-ao-smith-2' })]);
  });

  it('encodes keys with spaces, "+", "%" and CJK into the image URL exactly once', async () => {
    // Arrange
    const handler = createHandler({ env: env() });

    // Act
    await handler(asFcPayload(ossEvent([{ key: "uploads/female/照片 1+2%!'().JPEG" }])), fcContext());

    // Assert
    expect(ice.jobs()[0]!.appParams).toEqual({
      'LoadImage.1.TargetImage': "https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/%E7%85%A7%E7%89%87%201%2B2%25!'().JPEG",
    });
  });

  it('rejects malformed JSON with a clear error and submits nothing', async () => {
    // Arrange
    const logs = logCapture();
    const handler = createHandler({ env: env(), sink: logs.sink });

    // Act
    const run = handler(Buffer.from('{"events": [ {"eventName": '), fcContext());

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    expect(ice.calls()).toHaveLength(0);
    expect(logs.lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'event rejected',
        requestId: expect.any(String),
        error: expect.objectContaining({ code: 'MALFORMED_EVENT' }),
      }),
    ]);
  });

  it('submits one job when the same event is delivered twice', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));

    // Act
    const first = await handler(payload, fcContext());
    const second = await handler(payload, fcContext({ retryCount: 1 }));

    // Assert
    expect(ice.jobs()).toHaveLength(1);
    expect(second).toEqual({
      submitted: [],
      skipped: [{ source: `oss://${BUCKET}/${FEMALE_KEY}`, reason: 'duplicate', jobId: first.submitted[0]!.jobId }],
      failed: [],
    });
  });

  it('submits one job when the same event is delivered five times at once', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));

    // Act
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => handler(payload, fcContext())));

    // Assert: one submits; the others skip it as a duplicate or fail retryably while it is in progress (FC retries them)
    const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as PartialFailureError] : []));
    expect(ice.jobs()).toHaveLength(1);
    expect(results.flatMap((result) => result.submitted)).toHaveLength(1);
    expect(results.flatMap((result) => result.skipped.map((item) => item.reason)).every((reason) => reason === 'duplicate')).toBe(true);
    expect(failures.flatMap((failure) => failure.result.failed.map((item) => [item.code, item.retryable]))).toEqual(
      failures.map(() => ['SUBMISSION_IN_PROGRESS', true]),
    );
  });

  it('fails the invocation when ICE keeps throttling, then one job and a COMPLETED record on FC’s retry', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));
    ice.faults.throttleNext(3);

    // Act
    const firstAttempt = handler(payload, fcContext());
    await expect(firstAttempt).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', retryable: true });
    const retried = await handler(payload, fcContext({ retryCount: 1 }));

    // Assert
    expect(ice.calls().map((call) => [call.action, call.status])).toEqual([
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
    ]);
    expect(ice.jobs()).toHaveLength(1);
    expect(retried.submitted).toHaveLength(1);
    expect(await readRecord(FEMALE_KEY, FIXTURE_ETAG)).toMatchObject({ status: 'COMPLETED', result: { jobId: ice.jobs()[0]!.jobId } });
  });

  it('keeps an OUTCOME_UNKNOWN record after a timed-out submit and never resubmits on retry', async () => {
    // Arrange
    const handler = createHandler({ env: env({ ICE_READ_TIMEOUT_MS: '200' }) });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));
    ice.faults.delayNext(1, 0); // the precheck answers at once
    ice.faults.delayNext(1, 600); // the submit's answer comes too late

    // Act
    const first = handler(payload, fcContext());
    await expect(first).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', retryable: false, message: expect.stringContaining('ICE_TIMEOUT') });
    const retry = handler(payload, fcContext({ retryCount: 1 }));

    // Assert
    await expect(retry).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', message: expect.stringContaining('OUTCOME_UNKNOWN') });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ice.jobs()).toHaveLength(1);
    expect(await readRecord(FEMALE_KEY, FIXTURE_ETAG)).toMatchObject({ status: 'OUTCOME_UNKNOWN', error: { code: 'ICE_TIMEOUT' } });
  });

  it('takes over an IN_PROGRESS record whose invocation expired', async () => {
    // Arrange: a record left by an invocation that timed out a minute ago
    const handler = createHandler({ env: env() });
    const stale = {
      schemaVersion: 1,
      status: 'IN_PROGRESS',
      idempotencyKey: `oss://${BUCKET}/${FEMALE_KEY}#${FIXTURE_ETAG}`,
      owner: 'stale-owner',
      startedAt: new Date(Date.now() - 120_000).toISOString(),
      inProgressExpiresAt: new Date(Date.now() - 60_000).toISOString(),
    };
    await client.put(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: FEMALE_KEY, eTag: FIXTURE_ETAG }), Buffer.from(JSON.stringify(stale)));

    // Act
    const result = await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    expect(result.submitted).toHaveLength(1);
    expect(ice.jobs()).toHaveLength(1);
    expect(await readRecord(FEMALE_KEY, FIXTURE_ETAG)).toMatchObject({ status: 'COMPLETED' });
    expect(oss.listKeys(BUCKET).filter((key) => key.includes('.takeover-'))).toEqual([]);
  });

  it('leaves an unexpired IN_PROGRESS record to its owner and fails retryably, so FC comes back rather than dropping the upload', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const live = {
      schemaVersion: 1,
      status: 'IN_PROGRESS',
      idempotencyKey: 'x',
      owner: 'live-owner',
      startedAt: new Date().toISOString(),
      inProgressExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await client.put(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: FEMALE_KEY, eTag: FIXTURE_ETAG }), Buffer.from(JSON.stringify(live)));

    // Act
    const run = handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    await expect(run).rejects.toMatchObject({
      code: 'PARTIAL_FAILURE',
      retryable: true,
      result: { failed: [expect.objectContaining({ source: `oss://${BUCKET}/${FEMALE_KEY}`, code: 'SUBMISSION_IN_PROGRESS' })] },
    });
    expect(ice.calls()).toHaveLength(0);
  });

  it('processes every record, then fails the invocation naming the one that failed', async () => {
    // Arrange
    const handler = createHandler({ env: env() });
    const event = ossEvent([{ key: 'uploads/female/a.jpg' }, { key: 'uploads/male/b.jpg' }]);
    event.events.splice(1, 0, { ...structuredClone(event.events[0]), oss: { bucket: { name: BUCKET } } });

    // Act
    let caught: any;
    await handler(asFcPayload(event), fcContext()).catch((error) => (caught = error));

    // Assert
    expect(ice.jobs()).toHaveLength(2);
    expect(caught).toMatchObject({ name: 'PartialFailureError', code: 'PARTIAL_FAILURE', retryable: false });
    expect(caught.message).toMatch(/^1 of 3 items failed: event\.events\[1\] \(INVALID_EVENT: event\.events\[1\] is invalid: events\[1\]\.oss\.object: /);
    expect(caught.result.submitted.map((item: { source: string }) => item.source).sort()).toEqual([
      'oss://yike-uploads/uploads/female/a.jpg',
      'oss://yike-uploads/uploads/male/b.jpg',
    ]);
    expect(caught.result.failed).toEqual([expect.objectContaining({ source: 'event.events[1]', code: 'INVALID_EVENT', retryable: false })]);
  });
});
