import { createHandler as createHttpHandler } from '../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../local/fc/gateway';
import { startIceServer, type LocalIceServer, type ReceivedCall } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import { yikeAssetRecordKey } from '../../../shared/domain/images/yike-asset-reference';
import { createOssClient } from '../../../shared/adapters/oss/client';
import { objectRecordKey } from '../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { tuningWith, type TuningOverrides } from '../../../shared/runtime/tuning';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, putLocalObject, tempDir, testConfig } from '../../helpers/local-cloud';

/**
 * Inputs ICE will accept (issue 9): every IMAGE_URL_MODE end to end with the exact ICE requests in order
 * (register -> precheck -> submit), and every refusal before ICE (the local ICE's calls() stays empty).
 */
const BUCKET = 'yike-uploads';
const KEY = 'uploads/female/portrait-001.png';
const OSS_URL = `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${KEY}`;
const CDN = 'https://cdn.yike.example';
const IMAGE_KEY = 'LoadImage.1.TargetImage';
const appParams = (image: string) => JSON.stringify({ [IMAGE_KEY]: image });
// http-submit is closed without a token (HTTP_AUTH=token, the default): these tests call it as a configured caller.
const TOKEN = 'image-inputs-token-3b1d';
/** One retry at most: a dropped connection is then the answer the test sees. */
const TWO_ATTEMPTS: TuningOverrides = { ice: { retry: { maxAttempts: 2 } } };

describe('inputs ICE will accept: Yike assets, precheck, and no money spent on bad images', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  const gateways: LocalFcGateway[] = [];
  let eTag: string;

  function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: ice.url,
      // Each fixed form on its own (auto, which picks among them, has its own tests: image-modes/).
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: BUCKET,
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      CDN_BASE_URL: CDN,
      LOG_LEVEL: 'error',
      AUTH_TOKENS: TOKEN,
      ...overrides,
    };
  }

  /** `tuning` over fast ICE retries. */
  async function post(overrides: Record<string, string>, body: unknown, headers: Record<string, string> = {}, tuning: TuningOverrides = {}) {
    const handler = createHttpHandler({ env: env(overrides), tuning: tuningWith(FAST_RETRIES, tuning), sink: () => undefined });
    const gateway = await startFcGateway({ handler, credentials: LOCAL_CREDENTIALS });
    gateways.push(gateway);
    const response = await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as any };
  }

  const calls = () => ice.calls().map((call: ReceivedCall) => [call.action, call.fields]);
  const recordStore = () => createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));

  beforeAll(async () => {
    dir = tempDir('image-inputs-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url, aliases: { [CDN]: BUCKET } } });
    ({ eTag } = await putLocalObject(oss.url, BUCKET, KEY));
    await putLocalObject(oss.url, BUCKET, 'uploads/female/blocked-1.png');
    await putLocalObject(oss.url, BUCKET, 'uploads/female/fake.jpg', { body: Buffer.from('plain text, not pixels'), contentType: 'image/jpeg' });
    await putLocalObject(oss.url, BUCKET, 'uploads/female/notes.jpg', { body: Buffer.from('notes'), contentType: 'text/plain' });
    await putLocalObject(oss.url, BUCKET, 'uploads/a.txt', { body: Buffer.from('text'), contentType: 'text/plain' });
    await putLocalObject(oss.url, BUCKET, '.yike-jobs/x.png');
    await putLocalObject(oss.url, BUCKET, '.yike-results/x.png');
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), ...gateways.map((gateway) => gateway.close())]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  describe('every IMAGE_URL_MODE submits {bucket, key} after a precheck of the exact AppParams', () => {
    it('public: precheck then submit of the plain OSS URL', async () => {
      // Act
      const response = await post({ PRODUCTION_ID: 'prod-1', FOLDER_ID: 'fd-1' }, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      expect(response).toMatchObject({ status: 202, body: { jobId: ice.jobs()[0]!.jobId } });
      expect(calls()).toEqual([
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(OSS_URL) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(OSS_URL), ProductionId: 'prod-1', FolderId: 'fd-1' }],
      ]);
    });

    it('signed: ICE fetches the signed URL from OSS for the precheck', async () => {
      // Act
      const response = await post({ IMAGE_URL_MODE: 'signed' }, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      const [precheck, submit] = ice.calls();
      expect(response.status).toBe(202);
      expect(ice.calls().map((call) => [call.action, call.status])).toEqual([
        ['PrecheckYikeAIAppJob', 200],
        ['SubmitYikeAIAppJob', 200],
      ]);
      expect(JSON.parse(precheck!.fields.AppParams!)[IMAGE_KEY]).toMatch(
        new RegExp(`^${oss.localhostUrl}/${BUCKET}/uploads/female/portrait-001\\.png\\?OSSAccessKeyId=`),
      );
      expect(submit!.fields.AppParams).toBe(precheck!.fields.AppParams);
    });

    it('cdn: the CDN URL is prechecked and submitted', async () => {
      // Act
      const response = await post({ IMAGE_URL_MODE: 'cdn' }, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      expect(response.status).toBe(202);
      expect(calls()).toEqual([
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(`${CDN}/${KEY}`) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(`${CDN}/${KEY}`) }],
      ]);
    });

    it('media-id: RegisterMediaInfo, precheck and submit of its MediaId', async () => {
      // Act
      const response = await post({ IMAGE_URL_MODE: 'media-id' }, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      const [asset] = ice.media();
      expect(response.status).toBe(202);
      expect(calls()).toEqual([
        ['GetMediaInfo', { InputURL: OSS_URL }],
        ['RegisterMediaInfo', { InputURL: OSS_URL, MediaType: 'image' }],
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(asset!.mediaId) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(asset!.mediaId) }],
      ]);
    });

    it('yike-asset: registers the object version once, reads its audit, prechecks and submits its MediaId; a second job reuses the record', async () => {
      // Arrange
      const mode = { IMAGE_URL_MODE: 'yike-asset', PRODUCTION_ID: 'prod-1', FOLDER_ID: 'fd-1', RECORDS_BUCKET: BUCKET };

      // Act
      const first = await post(mode, { app: 'female', image: { bucket: BUCKET, key: KEY } });
      const second = await post(mode, { app: 'male', image: { bucket: BUCKET, key: KEY } });

      // Assert
      const [asset] = ice.yikeAssets();
      const mediaId = asset!.mediaId;
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(ice.yikeAssets()).toHaveLength(1);
      expect(calls()).toEqual([
        ['RegisterYikeAssetMediaInfo', { InputURL: OSS_URL, MediaType: 'image', ProductionId: 'prod-1', FolderId: 'fd-1' }],
        ['GetYikeAssetMediaInfo', { MediaId: mediaId }],
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(mediaId) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(mediaId), ProductionId: 'prod-1', FolderId: 'fd-1' }],
        ['GetYikeAssetMediaInfo', { MediaId: mediaId }],
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-2', AppParams: appParams(mediaId) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-2', AppParams: appParams(mediaId), ProductionId: 'prod-1', FolderId: 'fd-1' }],
      ]);
      expect(await recordStore().get(yikeAssetRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }))).toMatchObject({
        mediaId,
        inputUrl: OSS_URL,
        eTag,
      });
      await recordStore().delete(yikeAssetRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }));
    });

    it('yike-asset: registers again when ICE no longer knows the recorded asset', async () => {
      // Arrange: a recorded asset that ICE has since forgotten (deleted)
      const mode = { IMAGE_URL_MODE: 'yike-asset' };
      await post(mode, { app: 'female', image: { bucket: BUCKET, key: KEY } });
      const forgotten = ice.yikeAssets()[0]!.mediaId;
      ice.reset();

      // Act
      const response = await post(mode, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      const mediaId = ice.yikeAssets()[0]!.mediaId;
      expect(response.status).toBe(202);
      expect(ice.calls().map((call) => [call.action, call.status])).toEqual([
        ['GetYikeAssetMediaInfo', 404],
        ['RegisterYikeAssetMediaInfo', 200],
        ['GetYikeAssetMediaInfo', 200],
        ['PrecheckYikeAIAppJob', 200],
        ['SubmitYikeAIAppJob', 200],
      ]);
      expect(ice.calls()[0]!.fields).toEqual({ MediaId: forgotten });
      expect(await recordStore().get(yikeAssetRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }))).toMatchObject({ mediaId });
      await recordStore().delete(yikeAssetRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }));
    });

    it('replays an Idempotency-Key\u2019s first 202 even after the object is gone: the checks run only before a new submit', async () => {
      // Arrange
      const key = 'uploads/female/gone.png';
      await putLocalObject(oss.url, BUCKET, key);
      const first = await post({}, { app: 'female', image: { bucket: BUCKET, key } }, { 'idempotency-key': 'gone-1' });
      await createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET).delete(key);

      // Act
      const replay = await post({}, { app: 'female', image: { bucket: BUCKET, key } }, { 'idempotency-key': 'gone-1' });
      const fresh = await post({}, { app: 'female', image: { bucket: BUCKET, key } }, { 'idempotency-key': 'gone-2' });

      // Assert
      expect(replay).toEqual({ status: 202, replayed: 'true', body: first.body });
      expect(fresh).toMatchObject({ status: 404, body: { error: { code: 'IMAGE_NOT_FOUND' } } });
      expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    });

    it('PRECHECK=off submits without asking first', async () => {
      // Act
      const response = await post({ PRECHECK: 'off' }, { app: 'female', image: { bucket: BUCKET, key: KEY } });

      // Assert
      expect(response.status).toBe(202);
      expect(calls()).toEqual([['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(OSS_URL) }]]);
    });
  });

  describe('refusals', () => {
    it.each([
      ['a key that does not exist', 'uploads/female/missing.png', {}, 404, 'IMAGE_NOT_FOUND'],
      ['a key without an image suffix', 'uploads/a.txt', {}, 415, 'NOT_AN_IMAGE'],
      ['an image key whose object is not image/*', 'uploads/female/notes.jpg', {}, 415, 'NOT_AN_IMAGE'],
      ['a key under RECORDS_PREFIX', '.yike-jobs/x.png', {}, 400, 'IMAGE_KEY_INVALID'],
      ['a key under RESULTS_PREFIX', '.yike-results/x.png', {}, 400, 'IMAGE_KEY_INVALID'],
      ['a key with a control character', 'uploads/female/a\u0007b.png', {}, 400, 'IMAGE_KEY_INVALID'],
      ['an object over the size limit (10 bytes here)', KEY, { uploads: { maxImageBytes: 10 } }, 413, 'IMAGE_TOO_LARGE'],
    ])('answers POST /jobs for %s before any ICE call', async (_name, key, tuning: TuningOverrides, status, code) => {
      // Act
      const response = await post({}, { app: 'female', image: { bucket: BUCKET, key } }, {}, tuning);

      // Assert
      expect(response).toMatchObject({ status, body: { error: { code, message: expect.any(String) } } });
      expect(ice.calls()).toEqual([]);
    });

    it('answers 422 PRECHECK_FAILED listing each {key, errorCode} when ICE cannot use the image, and submits nothing; a retry with the same Idempotency-Key replays it without asking ICE', async () => {
      // Act
      const first = await post({}, { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/fake.jpg' } }, { 'idempotency-key': 'fake-1' });
      const replay = await post({}, { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/fake.jpg' } }, { 'idempotency-key': 'fake-1' });

      // Assert
      expect(first).toEqual({
        status: 422,
        replayed: null,
        body: {
          error: {
            code: 'PRECHECK_FAILED',
            message: "ICE's precheck refused the job's inputs (LoadImage.1.TargetImage: ImageCheckFailed)",
            details: [{ key: IMAGE_KEY, errorCode: 'ImageCheckFailed' }],
          },
        },
      });
      expect(replay).toMatchObject({ status: 422, body: { error: { code: 'PRECHECK_FAILED', details: [{ key: IMAGE_KEY, errorCode: 'ImageCheckFailed' }] } } });
      expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob']);
      expect(ice.jobs()).toEqual([]);
    });

    it('answers 503 ICE_UNAVAILABLE (not "the job may exist") when the precheck gets no answer, and a retry with the same Idempotency-Key submits', async () => {
      // Arrange
      ice.faults.pickWith((action) => (action === 'PrecheckYikeAIAppJob' ? { kind: 'drop' } : undefined));
      const body = { app: 'female', image: { bucket: BUCKET, key: KEY } };

      // Act
      const first = await post({}, body, { 'idempotency-key': 'precheck-dropped-1' }, TWO_ATTEMPTS);
      ice.faults.pickWith(undefined);
      const retry = await post({}, body, { 'idempotency-key': 'precheck-dropped-1' }, TWO_ATTEMPTS);

      // Assert
      expect(first).toMatchObject({ status: 503, body: { error: { code: 'ICE_UNAVAILABLE' } } });
      expect(retry).toEqual({ status: 202, replayed: null, body: { jobId: ice.jobs()[0]!.jobId, requestId: expect.any(String), appId: 'sys-ao-smith-1' } });
      expect(ice.jobs()).toHaveLength(1);
    });

    it('answers 422 IMAGE_BLOCKED naming the audit label of a blocked Yike asset, and neither prechecks nor submits', async () => {
      // Act
      const response = await post({ IMAGE_URL_MODE: 'yike-asset' }, { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/blocked-1.png' } });

      // Assert
      expect(response.status).toBe(422);
      expect(response.body.error).toMatchObject({ code: 'IMAGE_BLOCKED', message: expect.stringContaining('"local-audit-blocked"') });
      expect(ice.calls().map((call) => call.action)).toEqual(['RegisterYikeAssetMediaInfo', 'GetYikeAssetMediaInfo']);
      expect(ice.jobs()).toEqual([]);
    });

    it('fails a pipeline event naming a missing object with IMAGE_NOT_FOUND, before any ICE call', async () => {
      // Act
      const run = createOssHandler({ env: env({ RECORDS_BUCKET: BUCKET }), sink: () => undefined })(
        asFcPayload({ image: { bucket: BUCKET, key: 'uploads/female/missing.png' }, app: 'female' }),
        fcContext(),
      );

      // Assert
      await expect(run).rejects.toMatchObject({
        code: 'PARTIAL_FAILURE',
        result: { failed: [{ source: `oss://${BUCKET}/uploads/female/missing.png`, code: 'IMAGE_NOT_FOUND', message: expect.any(String), retryable: false }] },
      });
      expect(ice.calls()).toEqual([]);
    });
  });

  describe('uploads (OSS trigger): the event carries the size, so no HEAD', () => {
    function uploadEvent(key: string, size: number, uploadETag: string) {
      const event = loadEvent('oss-trigger-put');
      Object.assign(event.events[0].oss.object, { key, size, deltaSize: size, eTag: uploadETag });
      return asFcPayload(event);
    }
    const handler = (overrides: Record<string, string> = {}, tuning: TuningOverrides = {}) =>
      createOssHandler({ env: env(overrides), tuning: tuningWith(FAST_RETRIES, tuning), sink: () => undefined });

    it('yike-asset: register, audit, precheck, submit; the same version again submits nothing', async () => {
      // Act
      const first = await handler({ IMAGE_URL_MODE: 'yike-asset' })(uploadEvent(KEY, 68, eTag), fcContext());
      const again = await handler({ IMAGE_URL_MODE: 'yike-asset' })(uploadEvent(KEY, 68, eTag), fcContext({ retryCount: 1 }));

      // Assert
      const mediaId = ice.yikeAssets()[0]!.mediaId;
      expect(first.submitted).toHaveLength(1);
      expect(again.skipped).toEqual([expect.objectContaining({ reason: 'duplicate' })]);
      expect(calls()).toEqual([
        ['RegisterYikeAssetMediaInfo', { InputURL: OSS_URL, MediaType: 'image' }],
        ['GetYikeAssetMediaInfo', { MediaId: mediaId }],
        ['PrecheckYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(mediaId) }],
        ['SubmitYikeAIAppJob', { AppId: 'sys-ao-smith-1', AppParams: appParams(mediaId) }],
      ]);
      await recordStore().delete(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }));
      await recordStore().delete(yikeAssetRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag }));
    });

    it('a precheck failure is a failed item with its code, no job, and a REJECTED record saying why; FC\u2019s retry does not ask ICE again', async () => {
      // Arrange
      const payload = uploadEvent('uploads/female/fake.jpg', 22, 'FAKE-ETAG');

      // Act
      const first = await handler()(payload, fcContext()).catch((error: any) => error);
      const retry = await handler()(payload, fcContext({ retryCount: 1 })).catch((error: any) => error);

      // Assert
      const source = `oss://${BUCKET}/uploads/female/fake.jpg`;
      expect(first.result.failed).toEqual([{ source, code: 'PRECHECK_FAILED', message: expect.stringContaining('ImageCheckFailed'), retryable: false }]);
      expect(retry.result.failed).toEqual([{ source, code: 'PRECHECK_FAILED', message: expect.stringContaining('delete it to try again'), retryable: false }]);
      expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob']);
      expect(ice.jobs()).toEqual([]);
      expect(await recordStore().get(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: 'uploads/female/fake.jpg', eTag: 'FAKE-ETAG' }))).toMatchObject({
        status: 'REJECTED',
        error: { code: 'PRECHECK_FAILED', details: [{ key: IMAGE_KEY, errorCode: 'ImageCheckFailed' }] },
      });
    });

    it('a precheck ICE never answers fails the upload retryably without an OUTCOME_UNKNOWN record (no job can exist yet), and FC\u2019s retry submits the one job', async () => {
      // Arrange: every precheck's connection is reset after ICE read it (a read: retried, then given up)
      const payload = uploadEvent(KEY, 68, 'PRECHECK-DROPPED');
      const recordKey = objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: KEY, eTag: 'PRECHECK-DROPPED' });
      ice.faults.pickWith((action) => (action === 'PrecheckYikeAIAppJob' ? { kind: 'drop' } : undefined));

      // Act
      const first = await handler({}, TWO_ATTEMPTS)(payload, fcContext()).catch((error: any) => error);
      const recordAfterFirst = await recordStore().get(recordKey);
      ice.faults.pickWith(undefined);
      const retry = await handler({}, TWO_ATTEMPTS)(payload, fcContext({ retryCount: 1 }));

      // Assert
      expect(first.result.failed).toEqual([
        { source: `oss://${BUCKET}/${KEY}`, code: 'ICE_CONNECTION_RESET', message: expect.stringContaining('no job was created'), retryable: true },
      ]);
      expect(recordAfterFirst).toBeUndefined();
      expect(retry.submitted).toEqual([
        { source: `oss://${BUCKET}/${KEY}`, jobId: ice.jobs()[0]!.jobId, requestId: expect.any(String), appId: 'sys-ao-smith-1' },
      ]);
      expect(ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob', 'PrecheckYikeAIAppJob', 'PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
      await recordStore().delete(recordKey);
    });

    it('an upload over the size limit fails with IMAGE_TOO_LARGE, and one under RESULTS_PREFIX or with a control character is skipped, without any ICE call', async () => {
      // Act
      const large = await handler({}, { uploads: { maxImageBytes: 1_000 } })(uploadEvent(KEY, 1001, 'BIG'), fcContext()).catch((error: any) => error);
      const results = await handler()(uploadEvent('.yike-results/x.png', 68, 'R1'), fcContext());
      const control = await handler()(uploadEvent('uploads/female/a\u0001.png', 68, 'C1'), fcContext());

      // Assert
      expect(large.result.failed).toEqual([
        { source: `oss://${BUCKET}/${KEY}`, code: 'IMAGE_TOO_LARGE', message: expect.stringContaining('1001 bytes'), retryable: false },
      ]);
      expect(results.skipped).toEqual([{ source: `oss://${BUCKET}/.yike-results/x.png`, reason: 'results-prefix' }]);
      expect(control.skipped).toEqual([{ source: `oss://${BUCKET}/uploads/female/a\u0001.png`, reason: 'invalid-key' }]);
      expect(ice.calls()).toEqual([]);
    });
  });
});
