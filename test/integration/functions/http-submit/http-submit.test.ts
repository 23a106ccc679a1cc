import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const TOKEN = 'test-token-0123456789';
const FIXTURE_BODY = loadEvent('fc3-http-post-jobs').body as string;
const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';

describe('the HTTP function through the local FC gateway', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  const gateways: LocalFcGateway[] = [];
  let logs: ReturnType<typeof logCapture>;

  function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: BUCKET,
      ICE_RETRY_BASE_MS: '1',
      ICE_RETRY_MAX_MS: '2',
      ICE_MAX_ATTEMPTS: '3',
      // These tests exercise the API itself; auth modes have their own tests (http-auth.test.ts).
      ...(overrides.AUTH_TOKENS ? {} : { HTTP_AUTH: 'none' }),
      ...overrides,
    };
  }

  /** A gateway in front of an http-submit handler configured with `overrides`. */
  async function gateway(overrides: Record<string, string> = {}): Promise<LocalFcGateway> {
    const started = await startFcGateway({ handler: createHttpHandler({ env: env(overrides), sink: logs.sink }), credentials: LOCAL_CREDENTIALS });
    gateways.push(started);
    return started;
  }

  async function post(target: LocalFcGateway, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${target.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    dir = tempDir('http-submit-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // ICE's precheck reads the images from the local OSS (media.example.com stands for a CDN in front of the bucket).
    ice = await startIceServer({ images: { ossUrl: oss.url, aliases: { 'https://media.example.com': BUCKET } } });
    for (const key of ['uploads/female/portrait-001.jpg', 'a.jpg']) await putLocalObject(oss.url, BUCKET, key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), ...gateways.map((g) => g.close())]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    logs = logCapture();
  });

  describe('POST /jobs', () => {
    it('answers 202 with the JobId for the documented request body, and ICE receives the exact job', async () => {
      // Arrange
      const target = await gateway({ PRODUCTION_ID: 'prod-9', FOLDER_ID: 'fd-1' });

      // Act
      const response = await post(target, FIXTURE_BODY);

      // Assert
      const [job] = ice.jobs();
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' });
      expect(job).toMatchObject({
        appId: 'sys-ao-smith-1',
        appParamsRaw: JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL }),
        productionId: 'prod-9',
        folderId: 'fd-1',
      });
    });

    it('lets the request choose the app, ProductionId and FolderId', async () => {
      // Arrange
      const target = await gateway({ PRODUCTION_ID: 'prod-default' });

      // Act
      const response = await post(target, { app: 'male', imageUrl: IMAGE_URL, productionId: 'prod-x', folderId: 'fd-x' });

      // Assert
      expect(response.status).toBe(202);
      expect(ice.jobs()[0]).toMatchObject({
        appId: 'sys-ao-smith-2',
        productionId: 'prod-x',
        folderId: 'fd-x',
        appParams: { 'LoadImage.1.TargetImage': IMAGE_URL },
      });
    });

    it('answers 400 with every invalid field path and never calls ICE', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const response = await post(target, { app: '', image: { bucket: 'Bad_Bucket', key: '/abs' }, extra: 1 });

      // Assert
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('INVALID_REQUEST');
      expect(response.body.error.details.map((issue: { path: string }) => issue.path).sort()).toEqual(['(root)', 'app', 'image.bucket', 'image.key']);
      expect(ice.calls()).toHaveLength(0);
    });

    it('answers 400 when both or neither image forms are given', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const neither = await post(target, { app: 'female' });
      const both = await post(target, { app: 'female', imageUrl: IMAGE_URL, image: { bucket: BUCKET, key: 'a.jpg' } });

      // Assert
      for (const response of [neither, both]) {
        expect(response.status).toBe(400);
        expect(response.body.error.details).toEqual([{ path: 'image', message: 'exactly one of "image" ({bucket, key}) or "imageUrl" is required' }]);
      }
    });

    it('answers 400 for an unknown app, naming it', async () => {
      const response = await post(await gateway(), { app: 'robot', imageUrl: IMAGE_URL });
      expect(response).toMatchObject({ status: 400, body: { error: { code: 'UNKNOWN_APP', details: [{ path: 'app', message: 'unknown app "robot"' }] } } });
    });

    it('answers 400 for a body that is not JSON', async () => {
      const response = await post(await gateway(), '{"app":');
      expect(response).toEqual(expect.objectContaining({ status: 400, body: { error: { code: 'INVALID_JSON', message: 'The body is not valid JSON' } } }));
    });

    it('answers 415 for a non-JSON content type', async () => {
      const response = await post(await gateway(), 'app=female', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(response).toEqual(
        expect.objectContaining({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' } } }),
      );
    });

    it('answers 413 for a body over MAX_BODY_BYTES', async () => {
      // Act
      const response = await post(await gateway({ MAX_BODY_BYTES: '100' }), { app: 'female', imageUrl: `${IMAGE_URL}?${'x'.repeat(200)}` });

      // Assert
      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('refuses a bucket off the allowlist and never reaches ICE', async () => {
      // Act
      const response = await post(await gateway(), { app: 'female', image: { bucket: 'someone-elses-bucket', key: 'a.jpg' } });

      // Assert
      expect(response).toEqual(
        expect.objectContaining({
          status: 400,
          body: {
            error: {
              code: 'IMAGE_NOT_ALLOWED',
              message: 'image.bucket: bucket "someone-elses-bucket" is not in ALLOWED_BUCKETS',
              details: [{ path: 'image.bucket', message: 'bucket not allowed' }],
            },
          },
        }),
      );
      expect(ice.calls()).toHaveLength(0);
    });

    it.each([
      ['an arbitrary host', 'https://evil.example.com/a.jpg'],
      ['an allowed host with credentials', 'https://user:pw@yike-uploads.oss-cn-shanghai.aliyuncs.com/a.jpg'],
      ['an allowed host on another port', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com:8443/a.jpg'],
      ['a bucket domain in another region', 'https://yike-uploads.oss-cn-beijing.aliyuncs.com/a.jpg'],
    ])('refuses an imageUrl on %s and never reaches ICE', async (_name, url) => {
      // Act
      const response = await post(await gateway(), { app: 'female', imageUrl: url });

      // Assert
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('IMAGE_NOT_ALLOWED');
      expect(ice.calls()).toHaveLength(0);
    });

    it('refuses a plain-http imageUrl', async () => {
      const response = await post(await gateway(), { app: 'female', imageUrl: 'http://yike-uploads.oss-cn-shanghai.aliyuncs.com/a.jpg' });
      expect(response).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_REQUEST', details: [{ path: 'imageUrl', message: 'must be an https URL' }] } },
      });
    });

    it('accepts an imageUrl host from ALLOWED_IMAGE_HOSTS', async () => {
      const response = await post(await gateway({ ALLOWED_IMAGE_HOSTS: 'media.example.com' }), { app: 'female', imageUrl: 'https://media.example.com/a.jpg' });
      expect(response.status).toBe(202);
    });

    it('passes ICE parameter errors through as 422 with the ICE code', async () => {
      // Arrange: an app this deployment knows but ICE does not
      const target = await gateway({ YIKE_APPS: '{"sys-unknown-app":"LoadImage.1.TargetImage"}' });

      // Act
      const response = await post(target, { app: 'sys-unknown-app', imageUrl: IMAGE_URL });

      // Assert
      expect(response.status).toBe(422);
      expect(response.body.error).toEqual({
        code: 'InvalidParameter',
        message: expect.stringContaining('AppId'),
        details: { iceRequestId: ice.calls()[0]!.requestId },
      });
    });

    it('answers 429 with Retry-After when ICE still throttles after the retries', async () => {
      // Arrange
      const target = await gateway();
      ice.faults.throttleNext(3);

      // Act
      const response = await post(target, FIXTURE_BODY);

      // Assert
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.body.error.code).toBe('Throttling.User');
      expect(ice.calls()).toHaveLength(3);
    });

    it('answers 503 when ICE keeps failing with 5xx', async () => {
      // Arrange
      const target = await gateway();
      ice.faults.failNext(3, 503, 'ServiceUnavailable');

      // Act
      const response = await post(target, FIXTURE_BODY);

      // Assert
      expect(response).toMatchObject({ status: 503, body: { error: { code: 'ICE_UNAVAILABLE', message: 'ICE is unavailable; try again later' } } });
    });

    it('answers 502 without internals when ICE does not answer in time', async () => {
      // Arrange
      const target = await gateway({ ICE_READ_TIMEOUT_MS: '150' });
      ice.faults.delayNext(1, 0); // the precheck answers at once
      ice.faults.delayNext(1, 400); // the submit's answer comes too late

      // Act
      const response = await post(target, FIXTURE_BODY);

      // Assert
      expect(response.status).toBe(502);
      expect(response.body.error.code).toBe('ICE_TIMEOUT');
      expect(JSON.stringify(response.body)).not.toMatch(/127\.0\.0\.1|stack|at /);
      expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    });

    it('answers 502 UPSTREAM_AUTH_FAILED when the cloud rejects the role credentials (OSS, asked first about the image), without leaking them', async () => {
      // Arrange
      const target = await startFcGateway({
        handler: createHttpHandler({ env: env(), sink: logs.sink }),
        credentials: { ...LOCAL_CREDENTIALS, accessKeySecret: 'rotated-away' },
      });
      gateways.push(target);

      // Act
      const response = await post(target, FIXTURE_BODY);

      // Assert
      expect(response).toMatchObject({ status: 502, body: { error: { code: 'UPSTREAM_AUTH_FAILED', message: "OSS rejected the function's credentials" } } });
      expect(ice.calls()).toHaveLength(0);
      expect(logs.raw()).not.toContain('rotated-away');
    });

    it('answers 502 UPSTREAM_AUTH_FAILED when ICE rejects the role credentials for an imageUrl (no OSS call first)', async () => {
      // Arrange
      const target = await startFcGateway({
        handler: createHttpHandler({ env: env(), sink: logs.sink }),
        credentials: { ...LOCAL_CREDENTIALS, accessKeySecret: 'rotated-away' },
      });
      gateways.push(target);

      // Act
      const response = await post(target, { app: 'female', imageUrl: IMAGE_URL });

      // Assert
      expect(response).toMatchObject({ status: 502, body: { error: { code: 'UPSTREAM_AUTH_FAILED', message: "ICE rejected the function's credentials" } } });
      expect(ice.calls().map((call) => [call.action, call.code])).toEqual([['PrecheckYikeAIAppJob', 'SignatureDoesNotMatch']]);
    });

    it('answers 500 with a generic body when the function is misconfigured', async () => {
      // Act
      const response = await post(await gateway({ ICE_REGION: 'nowhere' }), FIXTURE_BODY);

      // Assert
      expect(response).toEqual(expect.objectContaining({ status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } }));
      expect(logs.lines()[0]).toMatchObject({
        level: 'error',
        message: 'configuration invalid',
        error: { code: 'CONFIG_INVALID', message: expect.stringContaining('ICE_REGION') },
      });
    });
  });

  describe('bearer-token auth', () => {
    it('answers 401 with a challenge when the token is missing or wrong, and 202 with the right one', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: `other-token,${TOKEN}` });

      // Act
      const missing = await post(target, FIXTURE_BODY);
      const wrong = await post(target, FIXTURE_BODY, { authorization: 'Bearer nope' });
      const right = await post(target, FIXTURE_BODY, { authorization: `Bearer ${TOKEN}` });

      // Assert
      expect(missing).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } } });
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Invalid bearer token' } } });
      expect(right.status).toBe(202);
      expect(ice.jobs()).toHaveLength(1);
    });

    it('leaves /healthz open and never calls ICE for it', async () => {
      // Act
      const response = await fetch(`${(await gateway({ AUTH_TOKENS: TOKEN })).url}/healthz`);

      // Assert
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
      expect(ice.calls()).toHaveLength(0);
    });
  });

  it('decodes a base64 body (isBase64Encoded) as FC delivers binary-typed requests', async () => {
    // Arrange
    const event = loadEvent('fc3-http-post-jobs');
    event.body = Buffer.from(FIXTURE_BODY).toString('base64');
    event.isBase64Encoded = true;
    delete event.headers.Authorization;

    // Act
    const response = await createHttpHandler({ env: env(), sink: logs.sink })(asFcPayload(event), fcContext({ credentials: LOCAL_CREDENTIALS }));

    // Assert
    expect(response).toMatchObject({ statusCode: 202, isBase64Encoded: false, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(JSON.parse(response.body)).toEqual({ jobId: ice.jobs()[0]!.jobId, requestId: ice.jobs()[0]!.requestId, appId: 'sys-ao-smith-1' });
  });

  it('writes one JSON log line per request with the FC request id, route, status, jobId and latency, and no secrets', async () => {
    // Arrange
    const target = await gateway({ AUTH_TOKENS: TOKEN });

    // Act
    const response = await post(target, FIXTURE_BODY, { authorization: `Bearer ${TOKEN}` });

    // Assert
    const requestLines = logs.lines().filter((line) => line.message === 'http request');
    expect(requestLines).toEqual([
      expect.objectContaining({
        level: 'info',
        requestId: target.invocations()[0]!.requestId,
        method: 'POST',
        route: 'POST /jobs',
        status: 202,
        jobId: response.body.jobId,
        latencyMs: expect.any(Number),
      }),
    ]);
    expect(logs.raw()).not.toContain(TOKEN);
    expect(logs.raw()).not.toContain(LOCAL_CREDENTIALS.accessKeySecret);
    expect(logs.raw()).not.toContain(LOCAL_CREDENTIALS.securityToken);
  });
});
