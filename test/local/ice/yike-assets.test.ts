import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { looksLikeImage } from '../../../local/ice/yike-assets';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { createIceClient, type IceClient } from '../../../shared/adapters/ice/client';
import { LOCAL_CREDENTIALS, putLocalObject, tempDir, testConfig, TINY_PNG } from '../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const IMAGE_KEY = 'LoadImage.1.TargetImage';
const url = (key: string) => `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${key}`;
const params = (image: string) => JSON.stringify({ [IMAGE_KEY]: image });

describe('the local ICE endpoint: Yike assets and PrecheckYikeAIAppJob', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let client: IceClient;
  const dir = tempDir('ice-yike-');

  function iceClient(secret = LOCAL_CREDENTIALS.accessKeySecret): IceClient {
    const config = testConfig({ ICE_ENDPOINT: ice.url }, { ice: { retry: { maxAttempts: 1 } } });
    return createIceClient({ config: config.ice, credentials: () => ({ ...LOCAL_CREDENTIALS, accessKeySecret: secret }) });
  }

  beforeAll(async () => {
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    client = iceClient();
    await putLocalObject(oss.url, BUCKET, 'uploads/real.png');
    await putLocalObject(oss.url, BUCKET, 'uploads/fake.jpg', { body: Buffer.from('not an image at all'), contentType: 'image/jpeg' });
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  it('registers a Yike asset from the query fields and reports its audit in BizData', async () => {
    // Act
    const registered = (await client.invoke(
      'RegisterYikeAssetMediaInfo',
      { query: { InputURL: url('uploads/real.png'), MediaType: 'image', ProductionId: 'prod-1', FolderId: 'fd-1' } },
      true,
    )) as Record<string, string>;
    const fetched = (await client.invoke('GetYikeAssetMediaInfo', { query: { MediaId: registered.MediaId! } }, true)) as any;

    // Assert
    expect(registered).toEqual({ RequestId: expect.any(String), MediaId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(fetched.MediaInfo).toMatchObject({
      MediaId: registered.MediaId,
      MediaBasicInfo: { InputURL: url('uploads/real.png'), MediaType: 'image' },
      BizData: { AuditStatus: 'Normal', AuditBlockedLabel: '', ProductionId: 'prod-1', FolderId: 'fd-1' },
    });
    expect(ice.yikeAssets()).toEqual([expect.objectContaining({ mediaId: registered.MediaId, inputUrl: url('uploads/real.png'), auditStatus: 'Normal' })]);
  });

  it('gives an asset whose key contains "blocked" a blocked audit label', async () => {
    // Act
    const { MediaId } = (await client.invoke(
      'RegisterYikeAssetMediaInfo',
      { query: { InputURL: url('uploads/blocked-1.png'), MediaType: 'image' } },
      true,
    )) as Record<string, string>;
    const fetched = (await client.invoke('GetYikeAssetMediaInfo', { query: { MediaId: MediaId! } }, true)) as any;

    // Assert
    expect(fetched.MediaInfo.BizData).toMatchObject({ AuditStatus: 'Blocked', AuditBlockedLabel: 'local-audit-blocked' });
  });

  it('refuses a registration without MediaType or with a URL that is not an OSS object', async () => {
    // Act
    const missing = client.invoke('RegisterYikeAssetMediaInfo', { query: { InputURL: url('uploads/real.png') } }, true);
    const external = client.invoke('RegisterYikeAssetMediaInfo', { query: { InputURL: 'https://example.com/a.png', MediaType: 'image' } }, true);

    // Assert
    await expect(missing).rejects.toMatchObject({ code: 'MissingParameter', statusCode: 400 });
    await expect(external).rejects.toMatchObject({ code: 'InvalidParameter', statusCode: 400 });
    expect(ice.yikeAssets()).toEqual([]);
  });

  it('answers ResourceNotFound for an asset it never registered', async () => {
    await expect(client.invoke('GetYikeAssetMediaInfo', { query: { MediaId: 'f'.repeat(32) } }, true)).rejects.toMatchObject({
      code: 'ResourceNotFound',
      statusCode: 404,
    });
  });

  it.each([
    ['a readable PNG by URL', () => url('uploads/real.png'), 'Success'],
    ['a missing object', () => url('uploads/missing.png'), 'Failed'],
    ['bytes that are not an image', () => url('uploads/fake.jpg'), 'Failed'],
    ['a media id nobody registered', () => 'f'.repeat(32), 'Failed'],
    ['a URL outside OSS', () => 'https://example.com/real.png', 'Failed'],
  ])('prechecks %s by fetching it from the local OSS', async (_name, image, status) => {
    // Act
    const answer = await client.invoke('PrecheckYikeAIAppJob', { query: { AppId: 'sys-ao-smith-1', AppParams: params(image()) } }, true);

    // Assert
    expect(answer).toEqual({
      RequestId: expect.any(String),
      Status: status,
      Result: status === 'Success' ? [] : [{ Key: IMAGE_KEY, ErrorCode: 'ImageCheckFailed' }],
    });
    expect(ice.jobs()).toEqual([]);
  });

  it('prechecks a registered Yike asset by reading its InputURL', async () => {
    // Arrange
    const { MediaId } = (await client.invoke(
      'RegisterYikeAssetMediaInfo',
      { query: { InputURL: url('uploads/real.png'), MediaType: 'image' } },
      true,
    )) as Record<string, string>;

    // Act
    const answer = await client.invoke('PrecheckYikeAIAppJob', { query: { AppId: 'sys-ao-smith-2', AppParams: params(MediaId!) } }, true);

    // Assert
    expect(answer).toMatchObject({ Status: 'Success', Result: [] });
  });

  it('refuses a precheck for an unknown app or without AppParams, like a submit', async () => {
    await expect(client.invoke('PrecheckYikeAIAppJob', { query: { AppId: 'sys-nope', AppParams: params('x') } }, true)).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    await expect(client.invoke('PrecheckYikeAIAppJob', { query: { AppId: 'sys-ao-smith-1' } }, true)).rejects.toMatchObject({ code: 'MissingParameter' });
  });

  it('refuses a submit naming a media id registered in neither media library, and accepts a registered Yike asset', async () => {
    // Arrange
    const { MediaId } = (await client.invoke(
      'RegisterYikeAssetMediaInfo',
      { query: { InputURL: url('uploads/real.png'), MediaType: 'image' } },
      true,
    )) as Record<string, string>;

    // Act
    const unknown = await client.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: params('0'.repeat(32)) }).catch((error: unknown) => error);
    const known = await client.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: params(MediaId!) });

    // Assert
    expect(unknown).toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('not registered') });
    expect(ice.jobs()).toEqual([expect.objectContaining({ jobId: known.jobId, appParams: { [IMAGE_KEY]: MediaId } })]);
  });

  it('verifies the signature of the new actions as of every other', async () => {
    // Act
    const forged = iceClient('wrong-secret').invoke(
      'PrecheckYikeAIAppJob',
      { query: { AppId: 'sys-ao-smith-1', AppParams: params(url('uploads/real.png')) } },
      true,
    );

    // Assert
    await expect(forged).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(ice.calls()).toEqual([expect.objectContaining({ action: 'PrecheckYikeAIAppJob', status: 400, code: 'SignatureDoesNotMatch' })]);
  });

  it('knows images by their magic numbers', () => {
    expect(looksLikeImage(TINY_PNG)).toBe(true);
    expect(looksLikeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe(true);
    expect(looksLikeImage(Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '))).toBe(true);
    expect(looksLikeImage(Buffer.from('<html>'))).toBe(false);
  });
});
