import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { createOssRecordStore } from '../../../../shared/adapters/oss/record-store';
import { inflightKey, jobRecordKey } from '../../../../shared/domain/lifecycle/job-record';
import { createOssClient } from '../../../../shared/adapters/oss/client';
import { fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir, testConfig } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const FIXTURE_BODY = loadEvent('fc3-http-post-jobs').body as string;
const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';

describe('the HTTP function through the local FC gateway: routes and Idempotency-Key', () => {
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
    dir = tempDir('http-submit-routes-');
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

  describe('routes', () => {
    it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const unknown = await fetch(`${target.url}/nope`);
      const wrongMethod = await fetch(`${target.url}/jobs`, { method: 'DELETE' });

      // Assert
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for /nope' } });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST');
      expect(await wrongMethod.json()).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /jobs' } });
    });

    it('reports a job ICE knows but no record holds from GetYikeAIAppJob when asked with refresh=1', async () => {
      // Arrange: a submit writes a job record; remove it, as if OSS had refused that write three times
      const target = await gateway();
      const created = await post(target, FIXTURE_BODY);
      const records = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
      const recordKey = jobRecordKey('.yike-jobs/', created.body.jobId);
      expect(await records.get(recordKey)).toMatchObject({ jobId: created.body.jobId });
      await records.delete(recordKey);
      await records.delete(inflightKey('.yike-jobs/', created.body.jobId));

      // Act
      const response = await fetch(`${target.url}/jobs/${created.body.jobId}?refresh=1`);

      // Assert
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        jobId: created.body.jobId,
        appId: 'sys-ao-smith-1',
        source: IMAGE_URL,
        status: expect.stringMatching(/^(Created|Queuing|Executing|Finished)$/),
        results: expect.any(Array),
        recorded: false,
      });
      expect(await records.get(recordKey)).toBeUndefined();
    });

    it('answers 404 for a job neither the records nor ICE know and 400 for a malformed job id', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const unknown = await fetch(`${target.url}/jobs/0123456789abcdef0123456789abcdef?refresh=1`);
      const malformed = await fetch(`${target.url}/jobs/${encodeURIComponent('a b')}`);

      // Assert
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as any).error.code).toBe('JOB_NOT_FOUND');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as any).error.code).toBe('INVALID_JOB_ID');
    });

    it('finds the job the upload function recorded for an object', async () => {
      // Arrange: the OSS function processes an upload first
      await createOssHandler({ env: env({ APP_ROUTES: '{"uploads/female/":"female"}' }), sink: logs.sink })(
        asFcPayload(loadEvent('oss-trigger-put')),
        fcContext(),
      );
      const target = await gateway();

      // Act
      const response = await fetch(`${target.url}/jobs/by-object?bucket=${BUCKET}&key=${encodeURIComponent('uploads/female/portrait-001.jpg')}`);
      const missing = await fetch(`${target.url}/jobs/by-object?bucket=${BUCKET}&key=uploads/none.jpg`);

      // Assert
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        bucket: BUCKET,
        key: 'uploads/female/portrait-001.jpg',
        eTag: '688A7BF4F233DC9C88A80BF985AB7329',
        status: 'COMPLETED',
        jobId: ice.jobs()[0]!.jobId,
        appId: 'sys-ao-smith-1',
      });
      expect(missing.status).toBe(404);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body, and ICE sees one submission', async () => {
      // Arrange
      const target = await gateway();
      const headers = { 'idempotency-key': 'order-42' };

      // Act
      const first = await post(target, FIXTURE_BODY, headers);
      const second = await post(target, FIXTURE_BODY, headers);

      // Assert
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(ice.jobs()).toHaveLength(1);
    });

    it('refuses the same key with a different body with 422', async () => {
      // Arrange
      const target = await gateway();
      await post(target, FIXTURE_BODY, { 'idempotency-key': 'order-43' });

      // Act
      const response = await post(target, { app: 'male', imageUrl: IMAGE_URL }, { 'idempotency-key': 'order-43' });

      // Assert
      expect(response).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
      expect(ice.jobs()).toHaveLength(1);
    });

    it('submits once when the same key arrives concurrently', async () => {
      // Arrange
      const target = await gateway();

      // Act
      const responses = await Promise.all(Array.from({ length: 4 }, () => post(target, FIXTURE_BODY, { 'idempotency-key': 'order-44' })));

      // Assert
      expect(ice.jobs()).toHaveLength(1);
      expect(responses.map((r) => r.status).sort()).toEqual(expect.arrayContaining([202]));
      expect(responses.every((r) => r.status === 202 || (r.status === 409 && r.body.error.code === 'IDEMPOTENCY_IN_PROGRESS'))).toBe(true);
    });

    it('lets a failed submit be retried with the same key', async () => {
      // Arrange
      const target = await gateway();
      ice.faults.throttleNext(3);

      // Act
      const failed = await post(target, FIXTURE_BODY, { 'idempotency-key': 'order-45' });
      const retried = await post(target, FIXTURE_BODY, { 'idempotency-key': 'order-45' });

      // Assert
      expect(failed.status).toBe(429);
      expect(retried.status).toBe(202);
      expect(ice.jobs()).toHaveLength(1);
    });
  });
});
