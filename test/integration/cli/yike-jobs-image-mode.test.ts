import { join } from 'node:path';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { fcContext, jsonLines, putLocalObject, runCli, tempDir } from '../../helpers/local-cloud';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-jobs.js');
const BUCKET = 'yike-uploads';
const FINDING_KEY = (appId: string) => `.yike-jobs/settings/image-modes/${appId}.json`;

describe('npx yike-jobs image-mode shows and resets the form IMAGE_URL_MODE=auto found', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let uploads = 0;

  const env = () => ({ ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl, RECORDS_BUCKET: BUCKET, LOG_LEVEL: 'error' });
  const cli = (args: string[]) => runCli(BIN, ['image-mode', ...args], env());

  /** One upload through the upload function (on a new instance: nothing cached), for the app its folder routes to. */
  async function upload(app: 'female' | 'male') {
    const key = `uploads/${app}/cli-${++uploads}.png`;
    const { eTag } = await putLocalObject(oss.url, BUCKET, key);
    const event = loadEvent('oss-trigger-put');
    Object.assign(event.events[0].oss.object, { key, eTag, size: 68, deltaSize: 68 });
    let createOssHandler!: typeof import('../../../functions/oss-submit/index').createHandler;
    jest.isolateModules(() => {
      ({ createHandler: createOssHandler } = require('../../../functions/oss-submit/index') as typeof import('../../../functions/oss-submit/index'));
    });
    const handler = createOssHandler({ env: { ...env(), APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}' }, sink: () => undefined });
    return handler(asFcPayload(event), fcContext());
  }

  beforeAll(async () => {
    dir = tempDir('yike-jobs-image-mode-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url }, accepts: 'media-id' });
    await upload('female');
    await upload('male');
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });

  it('prints one JSON line per app with the finding and where it is kept', async () => {
    // Act
    const result = await cli([]);

    // Assert
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toEqual(
      ['sys-ao-smith-1', 'sys-ao-smith-2'].map((appId) => ({
        recordKey: FINDING_KEY(appId),
        schemaVersion: 1,
        appId,
        mode: 'media-id',
        region: 'cn-shanghai',
        decidedAt: expect.any(String),
        image: expect.stringMatching(/^oss:\/\/yike-uploads\/uploads\//),
        tried: [
          { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
          { mode: 'media-id', status: 'Success', errorCodes: [] },
        ],
      })),
    );
  });

  it('--reset --app female deletes that finding only, and the next female job (on a new instance) finds its form again', async () => {
    // Act
    const reset = await cli(['--app', 'female', '--reset']);
    const shown = await cli(['--app', 'female']);
    const remaining = await cli([]);
    ice.reset();
    await upload('female');
    const found = await cli(['--app', 'female']);

    // Assert
    expect(jsonLines(reset.stdout)).toEqual([{ appId: 'sys-ao-smith-1', recordKey: FINDING_KEY('sys-ao-smith-1'), reset: true, was: 'media-id' }]);
    expect(jsonLines(shown.stdout)).toEqual([
      { appId: 'sys-ao-smith-1', mode: null, recordKey: FINDING_KEY('sys-ao-smith-1'), note: 'no finding yet: the next job of this app finds its form' },
    ]);
    expect(jsonLines(remaining.stdout).map((line) => line.appId)).toEqual(['sys-ao-smith-2']);
    expect(ice.calls().filter((call) => call.action === 'PrecheckYikeAIAppJob')).toHaveLength(2);
    expect(jsonLines(found.stdout)).toEqual([expect.objectContaining({ appId: 'sys-ao-smith-1', mode: 'media-id' })]);
  });

  it('refuses an unknown app and --reset outside image-mode, naming the flag', async () => {
    // Act
    const unknown = await cli(['--app', 'nobody']);
    const stray = await runCli(BIN, ['list', '--reset'], env());

    // Assert
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^yike-jobs: UNKNOWN_APP: --app: unknown app "nobody"/) });
    expect(stray).toMatchObject({ code: 1, stderr: 'yike-jobs: INVALID_ARGUMENTS: --reset only applies to image-mode (see --help)\n' });
  });
});
