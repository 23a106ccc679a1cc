import { join } from 'node:path';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { putLocalObject, runCli, tempDir } from '../../helpers/local-cloud';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-submit.js');

describe('npx yike-submit against the local ICE endpoint', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  const dir = tempDir('cli-');

  beforeAll(async () => {
    // ICE's precheck (PRECHECK=on by default) reads the images from a local bucket.
    oss = await startOssServer({ dataDir: dir.path, buckets: ['yike-uploads'] });
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    for (const key of ['uploads/me.jpg', 'uploads/女 1.jpg']) await putLocalObject(oss.url, 'yike-uploads', key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  /** Every job names its app (there is no default): --app female unless the test gives its own. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(BIN, args.includes('--app') || args.length === 0 ? args : [...args, '--app', 'female'], { ICE_ENDPOINT: ice.url, ...env });

  it('prints the JobId as JSON for an image URL and the male app', async () => {
    // Act
    const result = await cli([
      '--image',
      'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/me.jpg',
      '--app',
      'male',
      '--production-id',
      'prod-1',
      '--folder-id',
      'fd-1',
    ]);

    // Assert
    const [job] = ice.jobs();
    expect(result).toEqual({ code: 0, stdout: `${JSON.stringify({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-2' })}\n`, stderr: '' });
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-2',
      productionId: 'prod-1',
      folderId: 'fd-1',
      appParamsRaw: '{"LoadImage.1.TargetImage":"https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/me.jpg"}',
    });
  });

  it('applies the image URL rules and sends ICE nothing for a URL with a backslash before an @', async () => {
    // Act
    const result = await cli(['--image', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com\\@evil.com/a.jpg']);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^yike-submit: IMAGE_NOT_ALLOWED: imageUrl: .*\n$/);
    expect(ice.calls()).toEqual([]);
  });

  it('sends ICE the normalized href (lower-case host), never the string it was given', async () => {
    // Act
    const result = await cli(['--image', 'https://YIKE-UPLOADS.oss-cn-shanghai.aliyuncs.com:443/uploads/me.jpg']);

    // Assert
    expect(result.code).toBe(0);
    expect(ice.jobs()[0]).toMatchObject({ appParams: { 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/me.jpg' } });
  });

  it('turns oss://bucket/key into the plain OSS URL of the ICE region (IMAGE_URL_MODE=public)', async () => {
    // Act
    const result = await cli(['--image', 'oss://yike-uploads/uploads/女 1.jpg'], {
      ICE_REGION: 'cn-hangzhou',
      IMAGE_URL_MODE: 'public',
      // The object is HEAD-read first; the bucket itself answers wherever it is.
      OSS_ENDPOINT: oss.localhostUrl,
    });

    // Assert
    expect(result.code).toBe(0);
    expect(ice.jobs()[0]).toMatchObject({
      appId: 'sys-ao-smith-1',
      appParams: { 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-hangzhou.aliyuncs.com/uploads/%E5%A5%B3%201.jpg' },
    });
  });

  it("exits 1 with one line naming each refused input when ICE's precheck fails, and submits nothing", async () => {
    // Act
    const result = await cli(['--image', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/missing.jpg']);

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: "yike-submit: PRECHECK_FAILED: ICE's precheck refused the job's inputs (LoadImage.1.TargetImage: ImageCheckFailed)\n",
    });
    expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob']);
    expect(ice.jobs()).toHaveLength(0);
  });

  it('exits 1 with one line naming the ICE error when the secret is wrong', async () => {
    // Act
    const result = await cli(['--image', 'https://a.example/x.jpg'], { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^yike-submit: SignatureDoesNotMatch: Specified signature is not matched[^\n]*\n$/);
  });

  it('exits 1 naming the missing credential variables', async () => {
    // Act
    const result = await cli(['--image', 'https://a.example/x.jpg'], { ALIBABA_CLOUD_ACCESS_KEY_ID: '', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'yike-submit: CREDENTIALS_MISSING: No credentials: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set (add ALIBABA_CLOUD_SECURITY_TOKEN for STS keys)\n',
    });
    expect(ice.calls()).toHaveLength(0);
  });

  it('exits 1 for a missing --app and for an unknown one, naming it, before anything is read or sent', async () => {
    // Arrange
    const ossRequests = oss.requests().length;

    // Act
    const missing = await runCli(BIN, ['--image', 'oss://yike-uploads/uploads/me.jpg'], { ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl });
    const unknown = await cli(['--image', 'oss://yike-uploads/uploads/me.jpg', '--app', 'males'], { OSS_ENDPOINT: oss.localhostUrl });

    // Assert
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'yike-submit: APP_REQUIRED: app: required: name the app (female, male or an AppId); there is no default app\n',
    });
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'yike-submit: UNKNOWN_APP: app: unknown app "males" (known: female, male, sys-ao-smith-1, sys-ao-smith-2; add others with YIKE_APPS)\n',
    });
    expect(ice.calls()).toHaveLength(0);
    expect(oss.requests()).toHaveLength(ossRequests);
  });

  it('exits 1 for a missing --image and for an unknown flag', async () => {
    // Act
    const missing = await cli([]);
    const unknown = await cli(['--image', 'https://a.example/x.jpg', '--colour', 'red']);

    // Assert
    expect(missing).toMatchObject({ code: 1, stderr: 'yike-submit: IMAGE_REQUIRED: --image is required (see --help)\n' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^yike-submit: [A-Z_]+: .*--colour/);
  });

  it('exits 1 naming the variable when the configuration is invalid', async () => {
    const result = await cli(['--image', 'https://a.example/x.jpg'], { SIGNED_URL_EXPIRES_SECONDS: 'many' });
    expect(result).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^yike-submit: CONFIG_INVALID: Invalid configuration: SIGNED_URL_EXPIRES_SECONDS: /),
    });
  });
});
