import type OSS from 'ali-oss';
import { createHandler } from '../../../../functions/oss-submit/index';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { createAsyncInvoker } from '../../../../local/fc/async';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, putLocalObject, tempDir, TINY_PNG, localOssClient } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const FEMALE_KEY = 'uploads/female/portrait-001.jpg';
const FIXTURE_ETAG = '688A7BF4F233DC9C88A80BF985AB7329';

describe('the OSS upload function against the local ICE and OSS endpoints: image URL modes and a first upload', () => {
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

  it('signs the image URL with the role credentials when IMAGE_URL_MODE is signed, and OSS accepts the signature', async () => {
    // Arrange
    await client.put(FEMALE_KEY, TINY_PNG);
    const handler = createHandler({ env: env({ IMAGE_URL_MODE: 'signed', SIGNED_URL_EXPIRES_SECONDS: '600' }) });
    const expiresBy = Math.floor(Date.now() / 1000) + 600;

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    const url = new URL(String(ice.jobs()[0]!.appParams['LoadImage.1.TargetImage']));
    expect(url.searchParams.get('OSSAccessKeyId')).toBe(LOCAL_CREDENTIALS.accessKeyId);
    expect(url.searchParams.get('security-token')).toBe(LOCAL_CREDENTIALS.securityToken);
    expect(Number(url.searchParams.get('Expires'))).toBeLessThanOrEqual(expiresBy + 1);
    const image = await fetch(url);
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer())).toEqual(TINY_PNG);
  });

  it('never signs an image URL that outlives the STS token', async () => {
    // Arrange
    const handler = createHandler({ env: env({ IMAGE_URL_MODE: 'signed', SIGNED_URL_EXPIRES_SECONDS: '86400' }) });
    const tokenExpiresAt = new Date(Date.now() + 30 * 60_000);

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext({ credentials: { ...LOCAL_CREDENTIALS, expiration: tokenExpiresAt.toISOString() } }));

    // Assert
    const url = new URL(String(ice.jobs()[0]!.appParams['LoadImage.1.TargetImage']));
    expect(Number(url.searchParams.get('Expires'))).toBeLessThanOrEqual(Math.floor(tokenExpiresAt.getTime() / 1000));
  });

  it('registers the image as an ICE media asset once and submits its MediaId when IMAGE_URL_MODE is media-id', async () => {
    // Arrange: the same object uploaded twice (two eTags, two jobs), so the second finds the asset registered
    const handler = createHandler({ env: env({ IMAGE_URL_MODE: 'media-id' }) });
    const inputUrl = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';

    // Act
    await handler(asFcPayload(ossEvent([{ key: FEMALE_KEY, eTag: 'E-FIRST' }])), fcContext());
    await handler(asFcPayload(ossEvent([{ key: FEMALE_KEY, eTag: 'E-SECOND' }])), fcContext());

    // Assert
    const [asset] = ice.media();
    expect(ice.media()).toEqual([{ mediaId: expect.any(String), inputUrl, mediaType: 'image', registeredAt: expect.any(String) }]);
    expect(ice.jobs().map((job) => job.appParamsRaw)).toEqual([
      JSON.stringify({ 'LoadImage.1.TargetImage': asset!.mediaId }),
      JSON.stringify({ 'LoadImage.1.TargetImage': asset!.mediaId }),
    ]);
    expect(ice.calls().map((call) => [call.action, call.status])).toEqual([
      ['GetMediaInfo', 404],
      ['RegisterMediaInfo', 200],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
      ['GetMediaInfo', 200],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
    ]);
  });

  it('turns an upload through the local OSS endpoint into one job, as a new user would', async () => {
    // Arrange: OSS notifications reach the function through FC's async invocation (with retries)
    const invoker = createAsyncInvoker({ handler: createHandler({ env: env() }), functionName: 'yike-oss-submit', credentials: LOCAL_CREDENTIALS });
    const key = 'uploads/male/selfie 01.png';

    // Act
    const put = await client.put(key, TINY_PNG);
    for (const notification of notifications) invoker.invoke(notification.payload);
    await invoker.idle();

    // Assert
    const eTag = String(put.res.headers['etag' as keyof typeof put.res.headers]).replace(/"/g, '');
    const [job] = ice.jobs();
    expect(notifications.map((n) => n.key)).toEqual([key]);
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-2',
      appParams: { 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/male/selfie%2001.png' },
    });
    expect(invoker.records()).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 1 })]);
    expect(await readRecord(key, eTag)).toMatchObject({ status: 'COMPLETED', result: { jobId: job!.jobId } });
  });
});
