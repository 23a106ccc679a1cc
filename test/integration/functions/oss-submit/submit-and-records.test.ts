import { createHandler } from '../../../../functions/oss-submit/index';
import { createAsyncInvoker } from '../../../../local/fc/async';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, FEMALE_KEY, FIXTURE_ETAG, ossEvent, startUploadHarness, type UploadHarness } from './harness';

describe('the OSS upload function against the local ICE and OSS endpoints: submitting and recording jobs', () => {
  let cloud: UploadHarness;

  beforeAll(async () => {
    cloud = await startUploadHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('submits the documented OSS event as one job with the image URL, ProductionId and FolderId', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });

    // Act
    const result = await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    const [job] = cloud.ice.jobs();
    expect(cloud.ice.jobs()).toHaveLength(1);
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

  it('records the job as COMPLETED next to the upload, keyed by bucket, key and eTag', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    const record = await cloud.readRecord(FEMALE_KEY, FIXTURE_ETAG);
    const [job] = cloud.ice.jobs();
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
    const handler = createHandler({ env: cloud.env() });
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
    const jobs = cloud.ice.jobs();
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
      {
        source: 'oss://yike-uploads/elsewhere/c.webp',
        reason: 'UNKNOWN_APP_PREFIX',
        message: 'elsewhere/c.webp is under no APP_ROUTES prefix (APP_ROUTES names "uploads/female/", "uploads/male/"): not submitted to any app',
      },
    ]);
    expect(result.failed).toEqual([]);
  });

  it('skips an upload under no APP_ROUTES prefix: no ICE call, nothing deferred, one warn line, and a SKIPPED record saying UNKNOWN_APP_PREFIX', async () => {
    // Arrange: uploads/males/ is a typo of uploads/male/, and the budget is spent (a deferrable item would be DEFERRED)
    const logs = logCapture();
    const handler = createHandler({ env: cloud.env({ JOB_BUDGET_PER_DAY: '1', RECORDS_BUCKET: BUCKET, LOG_LEVEL: 'info' }), sink: logs.sink });
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());
    cloud.ice.reset();
    const before = logs.lines().length;

    // Act
    const result = await handler(asFcPayload(ossEvent([{ key: 'uploads/males/c.png' }])), fcContext());

    // Assert
    const message = 'uploads/males/c.png is under no APP_ROUTES prefix (APP_ROUTES names "uploads/female/", "uploads/male/"): not submitted to any app';
    expect(result).toEqual({
      submitted: [],
      skipped: [{ source: 'oss://yike-uploads/uploads/males/c.png', reason: 'UNKNOWN_APP_PREFIX', message }],
      failed: [],
    });
    expect(cloud.ice.calls()).toEqual([]);
    expect(await cloud.readRecord('uploads/males/c.png', FIXTURE_ETAG)).toMatchObject({
      status: 'SKIPPED',
      error: { code: 'UNKNOWN_APP_PREFIX', message },
    });
    expect(await cloud.client.list({ prefix: '.yike-jobs/deferred/', 'max-keys': 10 }, {})).toMatchObject({ objects: [] });
    const lines = logs.lines().slice(before);
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([
      expect.objectContaining({ level: 'warn', message: 'item skipped', reason: 'UNKNOWN_APP_PREFIX', source: 'oss://yike-uploads/uploads/males/c.png' }),
    ]);
  });

  it('encodes keys with spaces, "+", "%" and CJK into the image URL exactly once', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });

    // Act
    await handler(asFcPayload(ossEvent([{ key: "uploads/female/照片 1+2%!'().JPEG" }])), fcContext());

    // Assert
    expect(cloud.ice.jobs()[0]!.appParams).toEqual({
      'LoadImage.1.TargetImage': "https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/%E7%85%A7%E7%89%87%201%2B2%25!'().JPEG",
    });
  });

  it('rejects malformed JSON with a clear error and submits nothing', async () => {
    // Arrange
    const logs = logCapture();
    const handler = createHandler({ env: cloud.env(), sink: logs.sink });

    // Act
    const run = handler(Buffer.from('{"events": [ {"eventName": '), fcContext());

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    expect(cloud.ice.calls()).toHaveLength(0);
    expect(logs.lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'event rejected',
        requestId: expect.any(String),
        error: expect.objectContaining({ code: 'MALFORMED_EVENT' }),
      }),
    ]);
  });

  it('processes every record, then fails the invocation naming the one that failed', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });
    const event = ossEvent([{ key: 'uploads/female/a.jpg' }, { key: 'uploads/male/b.jpg' }]);
    event.events.splice(1, 0, { ...structuredClone(event.events[0]), oss: { bucket: { name: BUCKET } } });

    // Act
    let caught: any;
    await handler(asFcPayload(event), fcContext()).catch((error) => (caught = error));

    // Assert
    expect(cloud.ice.jobs()).toHaveLength(2);
    expect(caught).toMatchObject({ name: 'PartialFailureError', code: 'PARTIAL_FAILURE', retryable: false });
    expect(caught.message).toMatch(/^1 of 3 items failed: event\.events\[1\] \(INVALID_EVENT: event\.events\[1\] is invalid: events\[1\]\.oss\.object: /);
    expect(caught.result.submitted.map((item: { source: string }) => item.source).sort()).toEqual([
      'oss://yike-uploads/uploads/female/a.jpg',
      'oss://yike-uploads/uploads/male/b.jpg',
    ]);
    expect(caught.result.failed).toEqual([expect.objectContaining({ source: 'event.events[1]', code: 'INVALID_EVENT', retryable: false })]);
  });

  it('turns an upload through the local OSS endpoint into one job, as a new user would', async () => {
    // Arrange: OSS notifications reach the function through FC's async invocation (with retries)
    const invoker = createAsyncInvoker({ handler: createHandler({ env: cloud.env() }), functionName: 'yike-oss-submit', credentials: LOCAL_CREDENTIALS });
    const key = 'uploads/male/selfie 01.png';

    // Act
    const put = await cloud.client.put(key, TINY_PNG);
    for (const notification of cloud.notifications) invoker.invoke(notification.payload);
    await invoker.idle();

    // Assert
    const eTag = String(put.res.headers['etag' as keyof typeof put.res.headers]).replace(/"/g, '');
    const [job] = cloud.ice.jobs();
    expect(cloud.notifications.map((n) => n.key)).toEqual([key]);
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-2',
      appParams: { 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/male/selfie%2001.png' },
    });
    expect(invoker.records()).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 1 })]);
    expect(await cloud.readRecord(key, eTag)).toMatchObject({ status: 'COMPLETED', result: { jobId: job!.jobId } });
  });
});
