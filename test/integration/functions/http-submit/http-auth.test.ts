import { createHash } from 'node:crypto';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const TOKEN = 'auth-test-token-5f0c2a';
const HOST = 'yike-uploads.oss-cn-shanghai.aliyuncs.com';
const BODY = { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/a.jpg' } };

describe('http-submit is secure by default (HTTP_AUTH) and sends ICE only normalized image URLs', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  const gateways: LocalFcGateway[] = [];
  let logs: ReturnType<typeof logCapture>;

  async function gateway(env: Record<string, string>): Promise<LocalFcGateway> {
    const handler = createHttpHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        IMAGE_URL_MODE: 'public',
        OSS_ENDPOINT: oss.localhostUrl,
        ALLOWED_BUCKETS: BUCKET,
        ...env,
      },
      tuning: FAST_RETRIES,
      sink: logs.sink,
    });
    const started = await startFcGateway({ handler, credentials: LOCAL_CREDENTIALS });
    gateways.push(started);
    return started;
  }

  async function request(target: LocalFcGateway, path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const response = await fetch(`${target.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    dir = tempDir('http-auth-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // PRECHECK=on (the default): the local ICE reads each image from the local OSS, so the images must exist.
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    for (const key of [BODY.image.key, 'uploads/female/A.jpg', 'a.jpg', 'p/Q.png']) await putLocalObject(oss.url, BUCKET, key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), ...gateways.map((g) => g.close())]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    logs = logCapture();
  });

  describe('HTTP_AUTH', () => {
    it('answers 503 AUTH_NOT_CONFIGURED on every route but /healthz when no AUTH_TOKENS are set, logs why, and never calls ICE', async () => {
      // Arrange: the default mode (token) with no tokens, as a careless deploy would have it
      const target = await gateway({});

      // Act
      const post = await request(target, '/jobs', { method: 'POST', body: BODY, token: 'anything' });
      const get = await request(target, '/jobs/0123456789abcdef0123456789abcdef');
      const byObject = await request(target, `/jobs/by-object?bucket=${BUCKET}&key=uploads/female/a.jpg`);
      const health = await request(target, '/healthz');

      // Assert
      for (const refused of [post, get, byObject]) {
        expect(refused).toEqual({
          status: 503,
          body: { error: { code: 'AUTH_NOT_CONFIGURED', message: 'This endpoint has no authentication configured; it refuses every request until it has' } },
        });
      }
      expect(health).toEqual({ status: 200, body: { status: 'ok' } });
      expect(ice.calls()).toEqual([]);
      const why = logs.lines().filter((line) => line.status === 503);
      expect(why).toHaveLength(3);
      expect(why[0]).toMatchObject({ level: 'error', error: { code: 'AUTH_NOT_CONFIGURED', message: expect.stringContaining('AUTH_TOKENS is empty') } });
    });

    it('accepts a token configured only as its sha256: digest, and refuses others with 401', async () => {
      // Arrange
      const digest = createHash('sha256').update(TOKEN).digest('hex');
      const target = await gateway({ AUTH_TOKENS: `sha256:${digest}` });

      // Act
      const right = await request(target, '/jobs', { method: 'POST', body: BODY, token: TOKEN });
      const digestAsToken = await request(target, '/jobs', { method: 'POST', body: BODY, token: `sha256:${digest}` });
      const none = await request(target, '/jobs', { method: 'POST', body: BODY });

      // Assert
      expect(right.status).toBe(202);
      expect(digestAsToken).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
      expect(none).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } } });
      expect(ice.jobs()).toHaveLength(1);
    });

    it('refuses a malformed sha256: entry as a configuration error (500, details only in the log)', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: 'sha256:abc' });

      // Act
      const response = await request(target, '/jobs', { method: 'POST', body: BODY, token: 'abc' });

      // Assert
      expect(response).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } });
      expect(logs.raw()).toContain('AUTH_TOKENS: a sha256: entry must be 64 hex digits');
      expect(ice.calls()).toEqual([]);
    });

    it('with HTTP_AUTH=none serves without a token and warns once per instance, not per request', async () => {
      // Arrange
      const target = await gateway({ HTTP_AUTH: 'none' });

      // Act
      const first = await request(target, '/jobs', { method: 'POST', body: BODY });
      const second = await request(target, '/jobs', { method: 'POST', body: BODY });

      // Assert
      expect([first.status, second.status]).toEqual([202, 202]);
      const warnings = logs.lines().filter((line) => line.level === 'warn');
      expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('HTTP_AUTH=none'), httpAuth: 'none' })]);
    });

    it('never writes a configured or presented token into the logs', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: TOKEN });

      // Act
      await request(target, '/jobs', { method: 'POST', body: BODY, token: TOKEN });
      await request(target, '/jobs', { method: 'POST', body: BODY, token: `${TOKEN}-wrong` });

      // Assert
      expect(logs.raw()).not.toContain(TOKEN);
    });
  });

  describe('imageUrl normalization', () => {
    const refused: [string, string, RegExp][] = [
      ['a backslash read as userinfo by other parsers', `https://${HOST}\\@evil.com/a.jpg`, /backslash/],
      ['a fragment hiding another host', `https://${HOST}/a.jpg#@evil.com`, /fragment/],
      ['a trailing newline', `https://${HOST}/uploads/a.jpg\n`, /control or whitespace/],
      ['an embedded space', `https://${HOST}/uploads/a b.jpg`, /control or whitespace/],
      ['userinfo', `https://user:pw@${HOST}/a.jpg`, /userinfo/],
      ['an empty path (no object)', `https://${HOST}/`, /names no object/],
      ['a path under RECORDS_PREFIX', `https://${HOST}/.yike-jobs/objects/yike-uploads/a.jpg@E.json`, /\.yike-jobs\//],
      ['a dot-segment path that resolves under RECORDS_PREFIX', `https://${HOST}/uploads/%2e%2e/.yike-jobs/x.jpg`, /\.yike-jobs\//],
      ['a path under RESULTS_PREFIX', `https://${HOST}/.yike-results/job/out.jpg`, /\.yike-results\//],
      ['a port other than 443', `https://${HOST}:8443/a.jpg`, /port 8443/],
      ['a query string without ALLOW_IMAGE_URL_QUERY', `https://${HOST}/a.jpg?x-oss-process=image/resize`, /query string/],
      ['a host off the allowlist', 'https://evil.com/a.jpg', /not in ALLOWED_IMAGE_HOSTS/],
    ];

    it.each(refused)('answers 400 IMAGE_NOT_ALLOWED for %s, and ICE never receives it', async (_case, imageUrl, reason) => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: TOKEN });

      // Act
      const response = await request(target, '/jobs', { method: 'POST', body: { app: 'female', imageUrl }, token: TOKEN });

      // Assert
      expect(response.status).toBe(400);
      expect(['IMAGE_NOT_ALLOWED', 'INVALID_REQUEST']).toContain(response.body.error.code);
      if (response.body.error.code === 'IMAGE_NOT_ALLOWED') expect(response.body.error.message).toMatch(reason);
      expect(ice.calls()).toEqual([]);
    });

    it('sends ICE the WHATWG href (lower-case host, default port dropped), never the caller’s string', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: TOKEN });

      // Act
      const upper = await request(target, '/jobs', {
        method: 'POST',
        body: { app: 'female', imageUrl: `https://${HOST.toUpperCase()}:443/uploads/female/A.jpg` },
        token: TOKEN,
      });

      // Assert
      expect(upper.status).toBe(202);
      expect(ice.jobs().map((job) => job.appParams['LoadImage.1.TargetImage'])).toEqual([`https://${HOST}/uploads/female/A.jpg`]);
    });

    it('allows a query string only with ALLOW_IMAGE_URL_QUERY=true', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: TOKEN, ALLOW_IMAGE_URL_QUERY: 'true' });

      // Act
      const response = await request(target, '/jobs', { method: 'POST', body: { app: 'female', imageUrl: `https://${HOST}/a.jpg?v=1` }, token: TOKEN });

      // Assert
      expect(response.status).toBe(202);
      expect(ice.jobs()[0]!.appParams['LoadImage.1.TargetImage']).toBe(`https://${HOST}/a.jpg?v=1`);
    });

    it('refuses an {bucket, key} image under RECORDS_PREFIX', async () => {
      // Arrange
      const target = await gateway({ AUTH_TOKENS: TOKEN });

      // Act
      const response = await request(target, '/jobs', {
        method: 'POST',
        body: { app: 'female', image: { bucket: BUCKET, key: '.yike-jobs/http/x.jpg' } },
        token: TOKEN,
      });

      // Assert
      expect(response).toMatchObject({
        status: 400,
        body: { error: { code: 'IMAGE_KEY_INVALID', details: [{ path: 'image.key', message: 'reserved prefix' }] } },
      });
      expect(ice.calls()).toEqual([]);
    });
  });

  it('applies the same URL rules to pipeline events’ imageUrl (oss-submit), submitting only the normalized href', async () => {
    // Arrange
    const { createHandler } = await import('../../../../functions/oss-submit/index');
    const handler = createHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        IMAGE_URL_MODE: 'public',
        OSS_ENDPOINT: oss.localhostUrl,
        RECORDS_BUCKET: BUCKET,
      },
      tuning: FAST_RETRIES,
      sink: logs.sink,
    });
    const events = [
      `https://${HOST}\\@evil.com/a.jpg`,
      `https://${HOST}/a.jpg#@evil.com`,
      `https://${HOST}/a.jpg\n`,
      `https://${HOST}/`,
      `https://${HOST}/.yike-jobs/x.jpg`,
    ].map((imageUrl) => ({ app: 'female', imageUrl }));

    // Act
    const refusedRun = handler(Buffer.from(JSON.stringify(events)), fcContext()).catch((error: unknown) => error);
    const accepted = await handler(Buffer.from(JSON.stringify({ app: 'female', imageUrl: `https://${HOST.toUpperCase()}/p/Q.png` })), fcContext());

    // Assert
    expect(await refusedRun).toMatchObject({
      code: 'PARTIAL_FAILURE',
      result: {
        submitted: [],
        failed: events.map(() => expect.objectContaining({ code: expect.stringMatching(/^(IMAGE_NOT_ALLOWED|INVALID_EVENT)$/), retryable: false })),
      },
    });
    expect(accepted.submitted).toHaveLength(1);
    expect(ice.jobs().map((job) => job.appParams['LoadImage.1.TargetImage'])).toEqual([`https://${HOST}/p/Q.png`]);
  });
});
