import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import type { AcceptedForm } from '../../../local/ice/acceptance';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { createOssClient } from '../../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import { imageModeFindingKey } from '../../../shared/domain/images/image-modes/findings';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir, testConfig } from '../../helpers/local-cloud';

/**
 * IMAGE_URL_MODE=auto (the default) through the upload function, against a local ICE that takes one form only
 * (LOCAL_ICE_ACCEPTS): the discovery, the finding it keeps, and what each later job costs.
 */
const BUCKET = 'yike-uploads';
const APP_ID = 'sys-ao-smith-1';

describe('IMAGE_URL_MODE=auto: the form ICE takes is found once per app, kept, and reused', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let run = 0;
  let prefix: string;

  const store = () => createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
  const finding = () => store().get<Record<string, unknown>>(imageModeFindingKey(prefix, APP_ID));
  const actions = () => ice.calls().map((call) => `${call.action} ${call.status}`);

  /** The upload function as a fresh FC instance would run it; each upload is a new object of the tiny PNG. */
  function uploader(overrides: Record<string, string> = {}, sink?: (line: string) => void) {
    const handler = createOssHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        OSS_ENDPOINT: oss.localhostUrl,
        APP_ROUTES: '{"uploads/female/":"female"}',
        LOG_LEVEL: 'info',
        ...overrides,
      },
      tuning: { ...FAST_RETRIES, records: { prefix } },
      sink: sink ?? (() => undefined),
    });
    return async (key: string, body?: Buffer) => {
      const { eTag } = await putLocalObject(oss.url, BUCKET, key, body ? { body, contentType: 'image/jpeg' } : {});
      const event = loadEvent('oss-trigger-put');
      Object.assign(event.events[0].oss.object, { key, eTag, size: body?.length ?? 68, deltaSize: body?.length ?? 68 });
      return handler(asFcPayload(event), fcContext());
    };
  }

  beforeAll(async () => {
    dir = tempDir('image-modes-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url }, accepts: 'yike-asset' });
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    run += 1;
    // A records prefix per test: its own findings, as a fresh deployment has none.
    prefix = `records-${run}/`;
  });

  const DISCOVERY: Record<AcceptedForm, { mode: string; first: string[]; next: string[] }> = {
    'yike-asset': {
      mode: 'yike-asset',
      first: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
      next: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
    },
    'media-id': {
      mode: 'media-id',
      first: [
        'RegisterYikeAssetMediaInfo 200',
        'GetYikeAssetMediaInfo 200',
        'PrecheckYikeAIAppJob 200',
        'GetMediaInfo 404',
        'RegisterMediaInfo 200',
        'PrecheckYikeAIAppJob 200',
        'SubmitYikeAIAppJob 200',
      ],
      next: ['GetMediaInfo 404', 'RegisterMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
    },
    url: {
      mode: 'public',
      first: [
        'RegisterYikeAssetMediaInfo 200',
        'GetYikeAssetMediaInfo 200',
        'PrecheckYikeAIAppJob 200',
        'GetMediaInfo 404',
        'RegisterMediaInfo 200',
        'PrecheckYikeAIAppJob 200',
        'PrecheckYikeAIAppJob 200',
        'SubmitYikeAIAppJob 200',
      ],
      next: ['PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
    },
    any: {
      mode: 'yike-asset',
      first: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
      next: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
    },
  };

  it.each(Object.keys(DISCOVERY) as AcceptedForm[])(
    'with an ICE that takes %s, the first upload finds the form and is submitted in it, the finding is kept, and a fresh instance reuses it',
    async (accepts) => {
      // Arrange
      ice.setAccepts(accepts);
      const expected = DISCOVERY[accepts];

      // Act
      const first = await uploader()(`uploads/female/first-${accepts}.png`);
      const afterFirst = actions();
      ice.reset();
      ice.setAccepts(accepts);
      // A new instance: nothing cached, the finding read from the bucket.
      let secondInstance!: typeof createOssHandler;
      jest.isolateModules(() => {
        secondInstance = (require('../../../functions/oss-submit/index') as typeof import('../../../functions/oss-submit/index')).createHandler;
      });
      const second = await (async () => {
        const key = `uploads/female/second-${accepts}.png`;
        const { eTag } = await putLocalObject(oss.url, BUCKET, key);
        const event = loadEvent('oss-trigger-put');
        Object.assign(event.events[0].oss.object, { key, eTag, size: 68, deltaSize: 68 });
        const env = {
          ICE_ENDPOINT: ice.url,
          OSS_ENDPOINT: oss.localhostUrl,
          APP_ROUTES: '{"uploads/female/":"female"}',
          LOG_LEVEL: 'error',
        };
        return secondInstance({ env, tuning: { records: { prefix } }, sink: () => undefined })(asFcPayload(event), fcContext());
      })();

      // Assert
      expect(first.submitted).toHaveLength(1);
      expect(afterFirst).toEqual(expected.first);
      expect(await finding()).toEqual({
        schemaVersion: 1,
        appId: APP_ID,
        mode: expected.mode,
        region: 'cn-shanghai',
        decidedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        image: `oss://${BUCKET}/uploads/female/first-${accepts}.png`,
        tried: expect.arrayContaining([{ mode: expected.mode, status: 'Success', errorCodes: [] }]),
      });
      expect(second.submitted).toHaveLength(1);
      expect(actions()).toEqual(expected.next);
      expect(actions().filter((call) => call.startsWith('PrecheckYikeAIAppJob'))).toHaveLength(1);
      expect(ice.jobs()).toHaveLength(1);
    },
  );

  it('records each refused form in the finding, in the order tried', async () => {
    // Arrange
    ice.setAccepts('url');

    // Act
    await uploader()('uploads/female/order.png');

    // Assert
    expect((await finding())?.tried).toEqual([
      { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      { mode: 'media-id', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      { mode: 'public', status: 'Success', errorCodes: [] },
    ]);
  });

  it('20 concurrent first uploads converge on one finding: 20 jobs, one per upload, no duplicate', async () => {
    // Arrange
    ice.setAccepts('media-id');
    const upload = uploader({ LOG_LEVEL: 'error' });
    const keys = Array.from({ length: 20 }, (_, i) => `uploads/female/burst-${i}.png`);

    // Act
    const results = await Promise.all(keys.map((key) => upload(key)));

    // Assert
    expect(results.map((result) => result.submitted.map((item) => item.source))).toEqual(keys.map((key) => [`oss://${BUCKET}/${key}`]));
    expect(await store().list(`${prefix}settings/image-modes/`)).toEqual([imageModeFindingKey(prefix, APP_ID)]);
    // Create-only: exactly one write of the finding succeeded; every other discovery found it taken.
    const findingPuts = oss.requests().filter((request) => request.method === 'PUT' && request.key === imageModeFindingKey(prefix, APP_ID));
    expect(findingPuts.filter((put) => put.status === 200)).toHaveLength(1);
    expect(findingPuts.filter((put) => put.status !== 200).map((put) => put.code)).toEqual(findingPuts.slice(1).map(() => 'FileAlreadyExists'));
    expect((await finding())?.mode).toBe('media-id');
    const jobs = ice.jobs();
    expect(new Set(jobs.map((job) => job.jobId)).size).toBe(20);
    // One job per upload key: each job's media id resolves to its own upload, none twice.
    const imageOf = (job: (typeof jobs)[number]) => ice.media().find((media) => media.mediaId === job.appParams['LoadImage.1.TargetImage'])?.inputUrl;
    expect(jobs.map(imageOf).sort()).toEqual(keys.map((key) => `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${key}`).sort());
  });

  it('an image that every form refuses is PRECHECK_FAILED with each form’s codes, nothing is submitted and no finding is kept', async () => {
    // Arrange
    ice.setAccepts('any');

    // Act
    const failure = await uploader()('uploads/female/not-pixels.jpg', Buffer.from('plain text, not pixels')).catch((error: any) => error);

    // Assert
    expect(failure.result.failed).toEqual([
      {
        source: `oss://${BUCKET}/uploads/female/not-pixels.jpg`,
        code: 'PRECHECK_FAILED',
        message: `ICE's precheck refused oss://${BUCKET}/uploads/female/not-pixels.jpg in every form (yike-asset: Failed ImageCheckFailed; media-id: Failed ImageCheckFailed; public: Failed ImageCheckFailed; signed: Failed ImageCheckFailed)`,
        retryable: false,
      },
    ]);
    expect(ice.calls().filter((call) => call.action === 'PrecheckYikeAIAppJob')).toHaveLength(4);
    expect(ice.calls().filter((call) => call.action === 'SubmitYikeAIAppJob')).toEqual([]);
    expect(ice.jobs()).toEqual([]);
    expect(await finding()).toBeUndefined();
    const record = await store().list(`${prefix}objects/`);
    expect(await store().get(record[0]!)).toMatchObject({
      status: 'REJECTED',
      error: {
        code: 'PRECHECK_FAILED',
        details: ['yike-asset', 'media-id', 'public', 'signed'].map((mode) => ({ mode, status: 'Failed', errorCodes: ['ImageCheckFailed'] })),
      },
    });
  });

  it('a finding that goes wrong (ICE switched from yike-asset to media-id) is replaced at the next refused image, with a warning giving both results', async () => {
    // Arrange
    const logs = logCapture();
    const upload = uploader({}, logs.sink);
    await upload('uploads/female/before-switch.png');
    ice.reset();
    ice.setAccepts('media-id');

    // Act
    const refusedThenReplaced = await upload('uploads/female/after-switch.png');
    const replacedCalls = actions();
    ice.reset();
    ice.setAccepts('media-id');
    const next = await upload('uploads/female/next.png');

    // Assert
    expect(refusedThenReplaced.submitted).toHaveLength(1);
    expect(replacedCalls).toEqual([
      'RegisterYikeAssetMediaInfo 200',
      'GetYikeAssetMediaInfo 200',
      'PrecheckYikeAIAppJob 200',
      'GetMediaInfo 404',
      'RegisterMediaInfo 200',
      'PrecheckYikeAIAppJob 200',
      'SubmitYikeAIAppJob 200',
    ]);
    expect(await finding()).toMatchObject({
      mode: 'media-id',
      image: `oss://${BUCKET}/uploads/female/after-switch.png`,
      tried: [
        { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
        { mode: 'media-id', status: 'Success', errorCodes: [] },
      ],
    });
    expect(
      logs.lines().find((line) => line.message === 'image mode finding replaced: ICE refused the image in the found form and accepts another'),
    ).toMatchObject({
      level: 'warn',
      appId: APP_ID,
      was: { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      now: { mode: 'media-id', status: 'Success', errorCodes: [] },
    });
    expect(next.submitted).toHaveLength(1);
    expect(actions()).toEqual(['GetMediaInfo 404', 'RegisterMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200']);
  });

  it('with PRECHECK=off the discovery still prechecks until a finding exists, and later jobs are submitted without a precheck', async () => {
    // Arrange
    ice.setAccepts('media-id');
    const upload = uploader({ PRECHECK: 'off' });

    // Act
    await upload('uploads/female/off-1.png');
    const discoveryCalls = actions().filter((call) => call.startsWith('PrecheckYikeAIAppJob')).length;
    ice.reset();
    ice.setAccepts('media-id');
    const second = await upload('uploads/female/off-2.png');

    // Assert
    expect(discoveryCalls).toBe(2);
    expect(second.submitted).toHaveLength(1);
    expect(actions()).toEqual(['GetMediaInfo 404', 'RegisterMediaInfo 200', 'SubmitYikeAIAppJob 200']);
  });

  it('a finding made in another ICE region is not used: the discovery runs again and replaces it', async () => {
    // Arrange
    ice.setAccepts('url');
    await store().put(imageModeFindingKey(prefix, APP_ID), {
      schemaVersion: 1,
      appId: APP_ID,
      mode: 'media-id',
      region: 'cn-beijing',
      decidedAt: '2026-01-01T00:00:00.000Z',
      image: 'oss://elsewhere/a.png',
      tried: [],
    });

    // Act
    const result = await uploader()('uploads/female/region.png');

    // Assert
    expect(result.submitted).toHaveLength(1);
    expect(await finding()).toMatchObject({ mode: 'public', region: 'cn-shanghai' });
  });

  it('a fixed IMAGE_URL_MODE is never second-guessed: the form ICE refuses fails PRECHECK_FAILED and no finding is written', async () => {
    // Arrange
    ice.setAccepts('media-id');

    // Act
    const failure = await uploader({ IMAGE_URL_MODE: 'public' })('uploads/female/fixed.png').catch((error: any) => error);

    // Assert
    expect(failure.result.failed[0]).toMatchObject({ code: 'PRECHECK_FAILED', message: expect.stringContaining('LoadImage.1.TargetImage: ImageCheckFailed') });
    expect(actions()).toEqual(['PrecheckYikeAIAppJob 200']);
    expect(await finding()).toBeUndefined();
  });
});
