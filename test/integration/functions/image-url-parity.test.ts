import { join } from 'node:path';
import { createHandler as createHttpHandler } from '../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { asFcPayload } from '../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, putLocalObject, runCli, tempDir } from '../../helpers/local-cloud';

/**
 * An imageUrl gets the checks the same image gets as {bucket, key}: on an allowed bucket's own OSS domain it is that
 * object (suffix, reserved prefixes, control characters after percent-decoding, and the HEAD); on another allowed host
 * its decoded path gets the suffix, reserved-prefix and control-character checks. PRECHECK=off throughout: nothing
 * but these checks stands between the caller and a paid job.
 */
const BUCKET = 'yike-uploads';
const HOST = `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com`;
const CDN = 'https://images.yike.example';
const TOKEN = 'parity-token-5e2a';
const YIKE_SUBMIT = join(__dirname, '..', '..', '..', 'bin', 'yike-submit.js');

describe('imageUrl parity: a URL gets every check its {bucket, key} gets, before any ICE call', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let gateway: LocalFcGateway;

  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    ALLOWED_BUCKETS: BUCKET,
    ALLOWED_IMAGE_HOSTS: `${BUCKET}.oss-cn-shanghai.aliyuncs.com,images.yike.example`,
    IMAGE_URL_MODE: 'public',
    PRECHECK: 'off',
    AUTH_TOKENS: TOKEN,
    LOG_LEVEL: 'error',
    ...overrides,
  });

  async function post(imageUrl: string) {
    const response = await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ app: 'female', imageUrl }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    dir = tempDir('image-url-parity-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    await putLocalObject(oss.url, BUCKET, 'uploads/female/real.png');
    await putLocalObject(oss.url, BUCKET, 'uploads/female/notes.jpg', { body: Buffer.from('notes'), contentType: 'text/plain' });
    gateway = await startFcGateway({ handler: createHttpHandler({ env: env(), sink: () => undefined }), credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), gateway.close()]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    oss.reset();
  });

  it.each([
    ['a path that climbs out to /etc/passwd (no image suffix once normalized)', `${HOST}/../../etc/passwd`, 415, 'NOT_AN_IMAGE'],
    ['a NUL in the key after percent-decoding', `${HOST}/a%00.jpg`, 400, 'IMAGE_KEY_INVALID'],
    ['an object that does not exist', `${HOST}/uploads/female/missing.png`, 404, 'IMAGE_NOT_FOUND'],
    ['an object that is not image/*', `${HOST}/uploads/female/notes.jpg`, 415, 'NOT_AN_IMAGE'],
  ])('refuses a bucket-domain URL with %s, and ICE is never called', async (_case, imageUrl, status, code) => {
    // Act
    const response = await post(imageUrl);

    // Assert
    expect(response).toMatchObject({ status, body: { error: { code, message: expect.any(String) } } });
    expect(ice.calls()).toEqual([]);
  });

  it('HEAD-reads a bucket-domain URL and submits it as that {bucket, key}', async () => {
    // Act
    const response = await post(`${HOST}/uploads/female/real.png`);

    // Assert
    expect(response.status).toBe(202);
    expect(oss.requests().filter((request) => request.method === 'HEAD')).toEqual([
      { method: 'HEAD', bucket: BUCKET, key: 'uploads/female/real.png', status: 200, auth: 'header' },
    ]);
    expect(ice.jobs().map((job) => job.appParams)).toEqual([{ 'LoadImage.1.TargetImage': `${HOST}/uploads/female/real.png` }]);
  });

  it.each([
    ['no image suffix', `${CDN}/uploads/female/page.html`, 415, 'NOT_AN_IMAGE', 'imageUrl (its object key) must end in one of .jpg, .jpeg, .png, .webp'],
    [
      'a control character after percent-decoding',
      `${CDN}/uploads/a%07b.png`,
      400,
      'IMAGE_KEY_INVALID',
      'imageUrl (its object key) contains control characters',
    ],
    [
      'a key under RESULTS_PREFIX',
      `${CDN}/.yike-results/x.png`,
      400,
      'IMAGE_NOT_ALLOWED',
      'imageUrl: points under ".yike-results/", where this service keeps its own records',
    ],
  ])('refuses a URL on another allowed host with %s, before any call', async (_case, imageUrl, status, code, message) => {
    // Act
    const response = await post(imageUrl);

    // Assert
    expect(response).toMatchObject({ status, body: { error: { code, message } } });
    expect(ice.calls()).toEqual([]);
    expect(oss.requests()).toEqual([]);
  });

  it('fails a pipeline event whose imageUrl climbs out of the bucket, with no ICE call', async () => {
    // Act
    const run = createOssHandler({ env: env({ RECORDS_BUCKET: BUCKET }), sink: () => undefined })(
      asFcPayload({ app: 'female', imageUrl: `${HOST}/../../etc/passwd` }),
      fcContext(),
    );

    // Assert
    await expect(run).rejects.toMatchObject({ result: { failed: [expect.objectContaining({ code: 'NOT_AN_IMAGE', retryable: false })] } });
    expect(ice.calls()).toEqual([]);
  });

  it('HEAD-reads the CLI’s oss:// image: a missing object exits 1 with IMAGE_NOT_FOUND and ICE is never called', async () => {
    // Act
    const result = await runCli(YIKE_SUBMIT, ['--image', `oss://${BUCKET}/uploads/female/gone.png`, '--app', 'female'], {
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      IMAGE_URL_MODE: 'public',
      PRECHECK: 'off',
    });

    // Assert
    expect(result).toEqual({ code: 1, stdout: '', stderr: `yike-submit: IMAGE_NOT_FOUND: oss://${BUCKET}/uploads/female/gone.png does not exist\n` });
    expect(oss.requests()).toEqual([{ method: 'HEAD', bucket: BUCKET, key: 'uploads/female/gone.png', status: 404, code: 'NoSuchKey', auth: 'header' }]);
    expect(ice.calls()).toEqual([]);
  });
});
