import { createHash, createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { parseConfig } from '../../../../shared/runtime/config';
import type { TuningOverrides } from '../../../../shared/runtime/tuning';
import { pageContentSecurityPolicy } from '../../../../shared/triggers/http/page/page';
import { LOCAL_CREDENTIALS, logCapture } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const TOKEN = 'page-test-token-7d1e';
const OSS_ENDPOINT = 'http://localhost:9999';
const UPLOAD = { app: 'male', fileName: 'Portrait.PNG', contentType: 'image/png', size: 2048 };

describe('the page (GET /) and browser uploads (GET /apps, POST /uploads) on http-submit', () => {
  let ice: LocalIceServer;
  const gateways: LocalFcGateway[] = [];
  let logs: ReturnType<typeof logCapture>;

  async function gateway(
    env: Record<string, string> = {},
    credentials: typeof LOCAL_CREDENTIALS & { expiration?: string } = LOCAL_CREDENTIALS,
    tuning: TuningOverrides = {},
  ): Promise<LocalFcGateway> {
    const handler = createHttpHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        OSS_ENDPOINT,
        ALLOWED_BUCKETS: BUCKET,
        AUTH_TOKENS: TOKEN,
        APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
        ...env,
      },
      tuning,
      sink: logs.sink,
    });
    const started = await startFcGateway({ handler, credentials });
    gateways.push(started);
    return started;
  }

  async function call(target: LocalFcGateway, path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
    const response = await fetch(`${target.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    ice = await startIceServer();
  });
  afterAll(async () => {
    await Promise.all([ice.close(), ...gateways.map((g) => g.close())]);
  });
  beforeEach(() => {
    ice.reset();
    logs = logCapture();
  });

  describe('GET /', () => {
    it('serves one self-contained HTML page without a token, whose CSP allows exactly its inline script and style by hash', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const response = await fetch(`${target.url}/`);
      const html = await response.text();

      // Assert
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
      const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
      const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
      expect(response.headers.get('content-security-policy')).toBe(
        [
          "default-src 'none'",
          `script-src ${hash(script)}`,
          `style-src ${hash(style)}`,
          `connect-src 'self' ${OSS_ENDPOINT}`,
          'media-src https: http://127.0.0.1:* http://localhost:*',
          "img-src 'self' data:",
          "form-action 'none'",
          "base-uri 'none'",
          "frame-ancestors 'none'",
        ].join('; '),
      );
      expect(html).not.toMatch(/<script src|<link|https?:\/\/(?!\/)[a-z]/i);
      // Both modes and the customer page's two languages (docs/page.md, "The page's code"): small over a phone's network.
      expect(Buffer.byteLength(html)).toBeLessThan(28 * 1024);
      expect(gzipSync(html).length).toBeLessThan(11 * 1024);
      expect(ice.calls()).toEqual([]);
    });

    it('allows only the bucket public domain and https videos in a deployment (no loopback origins)', () => {
      // Arrange: a deployment has no local endpoints
      const config = parseConfig({ ALLOWED_BUCKETS: BUCKET, ICE_REGION: 'cn-beijing' });

      // Act
      const csp = pageContentSecurityPolicy(config);

      // Assert
      expect(csp).toContain(`connect-src 'self' https://${BUCKET}.oss-cn-beijing.aliyuncs.com;`);
      expect(csp).toContain('media-src https:;');
    });

    it('lets UPLOAD_FORM_URL (a custom bucket domain) replace the bucket domain in the form and the CSP', () => {
      // Arrange
      const config = parseConfig({ ALLOWED_BUCKETS: BUCKET, UPLOAD_FORM_URL: 'https://uploads.example.com/' });

      // Act
      const csp = pageContentSecurityPolicy(config);

      // Assert
      expect(csp).toContain("connect-src 'self' https://uploads.example.com;");
    });
  });

  describe('GET /apps', () => {
    it('lists the apps whose uploads/<name>/ keys route to them, with the upload limits', async () => {
      // Arrange: a custom app routed by APP_ROUTES, and one that is configured but not routed
      const target = await gateway({
        YIKE_APPS: '{"my-app":"LoadImage.1.TargetImage","unrouted-app":"LoadImage.1.TargetImage"}',
        APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male","uploads/my-app/":"my-app"}',
      });

      // Act
      const response = await call(target, '/apps');

      // Assert
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        apps: [
          { name: 'female', appId: 'sys-ao-smith-1', description: 'AOSmith character replacement (female)' },
          { name: 'male', appId: 'sys-ao-smith-2', description: 'AOSmith character replacement (male)' },
          { name: 'my-app', appId: 'my-app', description: 'configured in YIKE_APPS' },
        ],
        maxImageBytes: 20 * 1024 * 1024,
        imageSuffixes: ['.jpg', '.jpeg', '.png', '.webp'],
      });
    });

    it('is refused with 401 without a token', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const response = await call(target, '/apps', { token: null });

      // Assert
      expect(response).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } } });
    });
  });

  describe('POST /uploads', () => {
    it('answers a PostObject form for a fresh key, signed with the role STS credentials and limited by its policy to that key, the image type, the size limit and 10 minutes', async () => {
      // Arrange
      const target = await gateway({}, LOCAL_CREDENTIALS, { uploads: { maxImageBytes: 5_000_000 } });
      const before = Date.now();

      // Act
      const response = await call(target, '/uploads', { method: 'POST', body: UPLOAD });
      const after = Date.now();

      // Assert
      expect(response.status).toBe(201);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const { body } = response;
      expect(body.key).toMatch(/^uploads\/male\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.png$/);
      expect(body.key.slice('uploads/male/'.length, 'uploads/male/'.length + 10)).toBe(new Date().toISOString().slice(0, 10));
      expect(body).toMatchObject({ bucket: BUCKET, app: { name: 'male', appId: 'sys-ao-smith-2' }, url: `${OSS_ENDPOINT}/${BUCKET}`, maxBytes: 5000000 });
      expect(Object.keys(body.fields)).toEqual([
        'key',
        'Content-Type',
        'x-oss-content-type',
        'x-oss-forbid-overwrite',
        'success_action_status',
        'OSSAccessKeyId',
        'policy',
        'Signature',
        'x-oss-security-token',
      ]);
      expect(body.fields).toMatchObject({
        key: body.key,
        'Content-Type': 'image/png',
        'x-oss-content-type': 'image/png',
        'x-oss-forbid-overwrite': 'true',
        success_action_status: '204',
        OSSAccessKeyId: LOCAL_CREDENTIALS.accessKeyId,
        'x-oss-security-token': LOCAL_CREDENTIALS.securityToken,
      });
      expect(body.fields.Signature).toBe(createHmac('sha1', LOCAL_CREDENTIALS.accessKeySecret).update(body.fields.policy).digest('base64'));
      const policy = JSON.parse(Buffer.from(body.fields.policy, 'base64').toString('utf8'));
      expect(policy).toEqual({
        expiration: body.expiresAt,
        conditions: [
          { bucket: BUCKET },
          ['eq', '$key', body.key],
          ['eq', '$Content-Type', 'image/png'],
          ['eq', '$x-oss-content-type', 'image/png'],
          ['eq', '$x-oss-forbid-overwrite', 'true'],
          ['content-length-range', 1, 5000000],
        ],
      });
      // 10 minutes from when the function signed it, which was between `before` and `after`
      expect(Date.parse(body.expiresAt)).toBeGreaterThanOrEqual(before + 10 * 60 * 1000);
      expect(Date.parse(body.expiresAt)).toBeLessThanOrEqual(after + 10 * 60 * 1000);
      expect(ice.calls()).toEqual([]);
      expect(logs.raw()).not.toContain(LOCAL_CREDENTIALS.securityToken);
      expect(logs.raw()).not.toContain(body.fields.Signature);
    });

    it('never outlives the STS token: the form expires with the credentials when they expire sooner', async () => {
      // Arrange: FC's credentials expire in 4 minutes
      const expiration = new Date(Date.now() + 4 * 60 * 1000).toISOString();
      const expiring = await gateway({}, { ...LOCAL_CREDENTIALS, expiration });

      // Act
      const response = await call(expiring, '/uploads', { method: 'POST', body: UPLOAD });

      // Assert
      expect(response.status).toBe(201);
      expect(response.body.expiresAt).toBe(expiration);
    });

    it.each([
      [
        'a text file',
        415,
        'NOT_AN_IMAGE',
        { ...UPLOAD, fileName: 'notes.txt', contentType: 'text/plain' },
        'fileName: must end in one of .jpg, .jpeg, .png, .webp',
      ],
      [
        'an image name with a non-image type',
        415,
        'NOT_AN_IMAGE',
        { ...UPLOAD, contentType: 'application/pdf' },
        'contentType: is "application/pdf", not image/*',
      ],
      [
        'a .png name with an SVG type (a script-capable document on the bucket domain)',
        415,
        'NOT_AN_IMAGE',
        { ...UPLOAD, contentType: 'image/svg+xml' },
        'contentType: is "image/svg+xml", which a .png file is not (expected image/png)',
      ],
      ['an empty file', 415, 'NOT_AN_IMAGE', { ...UPLOAD, size: 0 }, 'size: the file is empty'],
      ['a file over the size limit (20 MiB)', 413, 'IMAGE_TOO_LARGE', { ...UPLOAD, size: 20 * 1024 * 1024 + 1 }, 'size: 20971521 bytes; the limit is 20971520'],
      ['an unknown app', 400, 'UNKNOWN_APP', { ...UPLOAD, app: 'sys-unknown' }, expect.stringContaining('app: unknown app "sys-unknown"')],
      ['a body without size', 400, 'INVALID_REQUEST', { app: 'male', fileName: 'a.png', contentType: 'image/png' }, expect.stringContaining('size:')],
      ['a body with an extra field', 400, 'INVALID_REQUEST', { ...UPLOAD, bucket: 'other-bucket' }, expect.stringContaining('bucket')],
    ])('refuses %s with %i %s and signs nothing', async (_name, status, code, body, message) => {
      // Arrange
      const target = await gateway();

      // Act
      const response = await call(target, '/uploads', { method: 'POST', body });

      // Assert
      expect(response.status).toBe(status);
      expect(response.body.error).toMatchObject({ code, message });
      expect(response.body.fields).toBeUndefined();
      expect(ice.calls()).toEqual([]);
    });

    it('refuses an app whose uploads/<name>/ keys would be submitted to another app (APP_ROUTES), naming the fix', async () => {
      // Arrange: only female uploads are routed; a key under uploads/male/ would be SKIPPED (UNKNOWN_APP_PREFIX)
      const target = await gateway({ APP_ROUTES: '{"uploads/female/":"female"}' });

      // Act
      const response = await call(target, '/uploads', { method: 'POST', body: UPLOAD });

      // Assert
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual({
        code: 'APP_NOT_UPLOADABLE',
        message: 'app: uploads for "male" would not be submitted to sys-ao-smith-2: add an APP_ROUTES entry "uploads/male/"',
        details: [{ path: 'app', message: 'uploads for "male" would not be submitted to sys-ao-smith-2: add an APP_ROUTES entry "uploads/male/"' }],
      });
    });

    it('is refused with 401 without a valid token, before anything is signed', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const response = await call(target, '/uploads', { method: 'POST', body: UPLOAD, token: 'wrong' });

      // Assert
      expect(response).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Invalid bearer token' } } });
    });

    it('answers 503 UPLOADS_NOT_CONFIGURED when there is no upload bucket', async () => {
      // Arrange
      const target = await gateway({ ALLOWED_BUCKETS: '' });

      // Act
      const response = await call(target, '/uploads', { method: 'POST', body: UPLOAD });

      // Assert
      expect(response).toMatchObject({ status: 503, body: { error: { code: 'UPLOADS_NOT_CONFIGURED' } } });
    });
  });
});
