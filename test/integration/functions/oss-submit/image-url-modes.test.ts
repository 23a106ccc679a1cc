import { createHandler } from '../../../../functions/oss-submit/index';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, TINY_PNG } from '../../../helpers/local-cloud';
import { FEMALE_KEY, ossEvent, startUploadHarness, type UploadHarness } from './harness';

describe('the OSS upload function against the local ICE and OSS endpoints: IMAGE_URL_MODE', () => {
  let cloud: UploadHarness;

  beforeAll(async () => {
    cloud = await startUploadHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('signs the image URL with the role credentials when IMAGE_URL_MODE is signed, and OSS accepts the signature', async () => {
    // Arrange
    await cloud.client.put(FEMALE_KEY, TINY_PNG);
    const handler = createHandler({ env: cloud.env({ IMAGE_URL_MODE: 'signed', SIGNED_URL_EXPIRES_SECONDS: '600' }) });
    const before = Date.now();

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());
    const after = Date.now();

    // Assert
    const url = new URL(String(cloud.ice.jobs()[0]!.appParams['LoadImage.1.TargetImage']));
    expect(url.searchParams.get('OSSAccessKeyId')).toBe(LOCAL_CREDENTIALS.accessKeyId);
    expect(url.searchParams.get('security-token')).toBe(LOCAL_CREDENTIALS.securityToken);
    // 600 s from when the function signed it, in whole seconds: between `before` and `after`
    expect(Number(url.searchParams.get('Expires'))).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 600);
    expect(Number(url.searchParams.get('Expires'))).toBeLessThanOrEqual(Math.ceil(after / 1000) + 600);
    const image = await fetch(url);
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer())).toEqual(TINY_PNG);
  });

  it('never signs an image URL that outlives the STS token', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env({ IMAGE_URL_MODE: 'signed', SIGNED_URL_EXPIRES_SECONDS: '86400' }) });
    const tokenExpiresAt = new Date(Date.now() + 30 * 60_000);

    // Act
    await handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext({ credentials: { ...LOCAL_CREDENTIALS, expiration: tokenExpiresAt.toISOString() } }));

    // Assert
    const url = new URL(String(cloud.ice.jobs()[0]!.appParams['LoadImage.1.TargetImage']));
    expect(Number(url.searchParams.get('Expires'))).toBeLessThanOrEqual(Math.floor(tokenExpiresAt.getTime() / 1000));
  });

  it('registers the image as an ICE media asset once and submits its MediaId when IMAGE_URL_MODE is media-id', async () => {
    // Arrange: the same object uploaded twice (two eTags, two jobs), so the second finds the asset registered
    const handler = createHandler({ env: cloud.env({ IMAGE_URL_MODE: 'media-id' }) });
    const inputUrl = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';

    // Act
    await handler(asFcPayload(ossEvent([{ key: FEMALE_KEY, eTag: 'E-FIRST' }])), fcContext());
    await handler(asFcPayload(ossEvent([{ key: FEMALE_KEY, eTag: 'E-SECOND' }])), fcContext());

    // Assert
    const [asset] = cloud.ice.media();
    expect(cloud.ice.media()).toEqual([{ mediaId: expect.any(String), inputUrl, mediaType: 'image', registeredAt: expect.any(String) }]);
    expect(cloud.ice.jobs().map((job) => job.appParamsRaw)).toEqual([
      JSON.stringify({ 'LoadImage.1.TargetImage': asset!.mediaId }),
      JSON.stringify({ 'LoadImage.1.TargetImage': asset!.mediaId }),
    ]);
    expect(cloud.ice.calls().map((call) => [call.action, call.status])).toEqual([
      ['GetMediaInfo', 404],
      ['RegisterMediaInfo', 200],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
      ['GetMediaInfo', 200],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
    ]);
  });
});
