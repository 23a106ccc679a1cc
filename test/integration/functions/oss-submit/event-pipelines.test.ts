import { createHandler } from '../../../../functions/oss-submit/index';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, putLocalObject, tempDir } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const MALE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/male/portrait-002.png';

describe('the submit function in event pipelines (EventBridge, batches, pipeline events)', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;

  const handler = (overrides: Record<string, string> = {}) =>
    createHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        IMAGE_URL_MODE: 'public',
        OSS_ENDPOINT: oss.localhostUrl,
        APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
        RECORDS_BUCKET: BUCKET,
        LOG_LEVEL: 'error',
        ...overrides,
      },
      sink: () => undefined,
    });

  beforeAll(async () => {
    dir = tempDir('pipelines-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // ICE's precheck reads the images from the local OSS; pipeline events' objects must exist (HeadObject).
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    for (const key of ['uploads/male/portrait-002.png', 'uploads/female/one.jpg', 'uploads/female/a.jpg', 'uploads/any/p.jpg']) {
      await putLocalObject(oss.url, BUCKET, key);
    }
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  /** A distinct upload (new eTag) built from the documented CloudEvent. */
  function cloudEvent(key: string, eTag: string) {
    const event = loadEvent('eventbridge-oss-put');
    event.data.oss.object.key = key;
    event.data.oss.object.eTag = eTag;
    event.subject = `acs:oss:cn-shanghai:1234567890123456:${BUCKET}/${key}`;
    return event;
  }

  it('submits the documented EventBridge CloudEvent and returns the structured result', async () => {
    // Act
    const result = await handler()(asFcPayload(loadEvent('eventbridge-oss-put')), fcContext());

    // Assert
    const [job] = ice.jobs();
    expect(job).toMatchObject({ appId: 'sys-ao-smith-2', appParams: { 'LoadImage.1.TargetImage': MALE_URL } });
    expect(result).toEqual({
      submitted: [{ source: `oss://${BUCKET}/uploads/male/portrait-002.png`, jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-2' }],
      skipped: [],
      failed: [],
    });
  });

  it('accepts a one-element array, as batch push may deliver it', async () => {
    // Act
    const result = await handler()(asFcPayload([cloudEvent('uploads/female/one.jpg', 'E1')]), fcContext());

    // Assert
    expect(result.submitted).toEqual([expect.objectContaining({ source: `oss://${BUCKET}/uploads/female/one.jpg`, appId: 'sys-ao-smith-1' })]);
  });

  it('processes a mixed batch, then fails the invocation naming the invalid items after submitting the valid ones once', async () => {
    // Arrange
    const broken = cloudEvent('uploads/female/broken.jpg', 'E3');
    delete broken.data.oss.bucket;
    const batch = [cloudEvent('uploads/female/a.jpg', 'E2'), broken, { unrelated: true }, cloudEvent('uploads/male/b.txt', 'E4')];

    // Act
    let caught: any;
    await handler()(asFcPayload(batch), fcContext()).catch((error) => (caught = error));
    const retried = await handler()(asFcPayload(batch), fcContext({ retryCount: 1 })).catch((error) => error);

    // Assert
    expect(ice.jobs()).toHaveLength(1);
    expect(caught.code).toBe('PARTIAL_FAILURE');
    expect(caught.result).toEqual({
      submitted: [
        { source: `oss://${BUCKET}/uploads/female/a.jpg`, jobId: ice.jobs()[0]!.jobId, requestId: ice.jobs()[0]!.requestId, appId: 'sys-ao-smith-1' },
      ],
      skipped: [{ source: `oss://${BUCKET}/uploads/male/b.txt`, reason: 'not-an-image' }],
      failed: [
        { source: 'event[1]', code: 'INVALID_EVENT', message: expect.stringContaining('[1].data.oss.bucket'), retryable: false },
        { source: 'event[2]', code: 'UNKNOWN_EVENT_SHAPE', message: expect.stringContaining('it has: unrelated'), retryable: false },
      ],
    });
    expect(caught.message).toMatch(/^2 of 4 items failed: event\[1\] \(INVALID_EVENT: .*\); event\[2\] \(UNKNOWN_EVENT_SHAPE: /);
    expect(retried.result.skipped).toContainEqual({ source: `oss://${BUCKET}/uploads/female/a.jpg`, reason: 'duplicate', jobId: ice.jobs()[0]!.jobId });
  });

  it('submits a pipeline event with an image in a bucket, using the app and ids it names', async () => {
    // Act
    const result = await handler()(
      asFcPayload({ image: { bucket: BUCKET, key: 'uploads/any/p.jpg' }, app: 'male', productionId: 'prod-7', folderId: 'fd-7' }),
      fcContext(),
    );

    // Assert
    const [job] = ice.jobs();
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-2',
      productionId: 'prod-7',
      folderId: 'fd-7',
      appParams: { 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/any/p.jpg' },
    });
    expect(result).toEqual({
      submitted: [{ source: `oss://${BUCKET}/uploads/any/p.jpg`, jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-2' }],
      skipped: [],
      failed: [],
    });
  });

  it('submits a redelivered pipeline event once, keyed by its idempotencyKey', async () => {
    // Arrange
    const event = asFcPayload({ imageUrl: MALE_URL, app: 'male', idempotencyKey: 'step-run-81' });

    // Act
    const first = await handler()(event, fcContext());
    const second = await handler()(event, fcContext({ retryCount: 1 }));

    // Assert
    expect(ice.jobs()).toHaveLength(1);
    expect(second).toEqual({ submitted: [], skipped: [{ source: MALE_URL, reason: 'duplicate', jobId: first.submitted[0]!.jobId }], failed: [] });
  });

  it('refuses a pipeline imageUrl off the allowlist when one is configured, without calling ICE', async () => {
    // Act
    const run = handler({ ALLOWED_BUCKETS: BUCKET })(asFcPayload({ imageUrl: 'https://elsewhere.example.com/x.jpg', app: 'male' }), fcContext());

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', result: { failed: [expect.objectContaining({ code: 'IMAGE_NOT_ALLOWED' })] } });
    expect(ice.calls()).toHaveLength(0);
  });

  it('rejects a single event of unknown shape as a clear error', async () => {
    await expect(handler()(asFcPayload({ Records: [{ s3: {} }] }), fcContext())).rejects.toMatchObject({
      code: 'MALFORMED_EVENT',
      reason: 'UNKNOWN_EVENT_SHAPE',
    });
    expect(ice.calls()).toHaveLength(0);
  });
});
