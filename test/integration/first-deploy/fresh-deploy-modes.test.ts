import type OSS from 'ali-oss';
import { createAsyncInvoker } from '../../../local/fc/async';
import { startFcTimer } from '../../../local/fc/timer';
import type { AcceptedForm } from '../../../local/ice/acceptance';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../local/oss/trigger';
import { imageModeFindingKey } from '../../../shared/domain/images/image-modes/findings';
import { jobRecordKey } from '../../../shared/domain/lifecycle/job-record';
import { startBundleInstance, type BundleInstance } from '../../helpers/bundle-instance';
import { LOCAL_CREDENTIALS, localOssClient, tempDir, TINY_PNG } from '../../helpers/local-cloud';
import { preview } from '../../helpers/s-preview';

/**
 * Issue 17's first "Must show": a fresh deploy, configured only by what s.yaml renders when the user sets no
 * YIKE_IMAGE_URL_MODE, against a local ICE that takes one image form (LOCAL_ICE_ACCEPTS). The BUILT bundles run in
 * processes of their own (test/helpers/bundle-instance.ts) behind the local FC stand-ins: the OSS trigger's
 * asynchronous invocation (local/fc/async.ts) and the watcher's timer (local/fc/timer.ts). The first upload is
 * followed to Finished; a second instance, a new process, then reuses the finding the first one kept.
 */
const BUCKET = 'yike-uploads';
const APP_ID = 'sys-ao-smith-1';
/** ICE's job time on the job clock; the test moves that clock instead of sleeping. */
const JOB_MS = 60_000;
const PUBLIC_URL = (key: string) => `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${key}`;

/** For each LOCAL_ICE_ACCEPTS value: the form found, the forms tried on the way, and the second job's ICE calls. */
const EXPECTED: Record<AcceptedForm, { mode: string; tried: { mode: string; status: string; errorCodes: string[] }[]; secondJobCalls: string[] }> = {
  'yike-asset': {
    mode: 'yike-asset',
    tried: [{ mode: 'yike-asset', status: 'Success', errorCodes: [] }],
    secondJobCalls: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
  },
  'media-id': {
    mode: 'media-id',
    tried: [
      { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      { mode: 'media-id', status: 'Success', errorCodes: [] },
    ],
    secondJobCalls: ['GetMediaInfo 404', 'RegisterMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
  },
  url: {
    mode: 'public',
    tried: [
      { mode: 'yike-asset', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      { mode: 'media-id', status: 'Failed', errorCodes: ['ImageCheckFailed'] },
      { mode: 'public', status: 'Success', errorCodes: [] },
    ],
    secondJobCalls: ['PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
  },
  any: {
    mode: 'yike-asset',
    tried: [{ mode: 'yike-asset', status: 'Success', errorCodes: [] }],
    secondJobCalls: ['RegisterYikeAssetMediaInfo 200', 'GetYikeAssetMediaInfo 200', 'PrecheckYikeAIAppJob 200', 'SubmitYikeAIAppJob 200'],
  },
};

describe('a fresh deploy with no IMAGE_URL_MODE set, for each form the local ICE takes', () => {
  let rendered: Record<string, Record<string, string>>;
  let home: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    home = tempDir('s-home-');
    const resources = await preview({ YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: 'fresh-deploy-token' }, home.path);
    rendered = { 'oss-submit': resources['oss-submit']!.props.environmentVariables, 'job-watcher': resources['job-watcher']!.props.environmentVariables };
  }, 70_000);
  afterAll(() => home.remove());

  let dir: ReturnType<typeof tempDir>;
  let oss: LocalOssServer;
  let ice: LocalIceServer;
  let iceClock: number;
  let client: OSS;
  let notified: Map<string, (notification: OssNotification) => void>;
  let instances: BundleInstance[];

  beforeEach(async () => {
    dir = tempDir('fresh-deploy-');
    notified = new Map();
    instances = [];
    iceClock = Date.now();
    oss = await startOssServer({
      dataDir: dir.path,
      buckets: [BUCKET],
      onObjectCreated: (notification) => matchesOssTrigger(notification, UPLOAD_TRIGGER) && notified.get(notification.key)?.(notification),
    });
    client = localOssClient(oss.url, BUCKET);
  });
  afterEach(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });

  /** A function as FC runs it: s.yaml's environmentVariables, with the endpoints pointed at the stand-ins. */
  async function instance(name: 'oss-submit' | 'job-watcher'): Promise<BundleInstance> {
    // The watcher polls in sleeping rounds here: a delayed round would invoke FC, which this test has no stand-in for
    // (and the tick, not a scheduled round, is what it drives).
    const tuning = name === 'job-watcher' ? { lifecycle: { delayedRounds: false } } : undefined;
    const started = await startBundleInstance(name, { ...rendered[name]!, ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl }, tuning);
    instances.push(started);
    return started;
  }

  /** A user's upload; OSS's trigger then invokes the instance asynchronously, as FC does. */
  async function upload(key: string, submitInstance: BundleInstance) {
    const notification = new Promise<OssNotification>((resolve) => notified.set(key, resolve));
    await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const invoker = createAsyncInvoker({ handler: submitInstance.invoke, functionName: 'yike-oss-submit', credentials: LOCAL_CREDENTIALS });
    return invoker.invoke((await notification).payload).done;
  }

  const readJson = async (key: string) => JSON.parse((await client.get(key)).content.toString('utf8')) as Record<string, any>;
  const callsSince = (from: number) => ice.calls().slice(from);
  /** The reference the found form gives `key`'s image: the Yike asset or media id ICE registered for it, or the URL. */
  const referenceIn = (mode: string, key: string) =>
    mode === 'yike-asset'
      ? ice.yikeAssets().find((asset) => asset.inputUrl === PUBLIC_URL(key))?.mediaId
      : mode === 'media-id'
        ? ice.media().find((media) => media.inputUrl === PUBLIC_URL(key))?.mediaId
        : PUBLIC_URL(key);

  it.each(Object.keys(EXPECTED) as AcceptedForm[])(
    'LOCAL_ICE_ACCEPTS=%s: the first upload reaches Finished in the form found, the finding is kept, and a new process reuses it with one precheck per job',
    async (accepts) => {
      // Arrange
      ice = await startIceServer({ accepts, finishAfterMs: JOB_MS, now: () => iceClock, images: { ossUrl: oss.url } });
      const expected = EXPECTED[accepts];
      const firstKey = `uploads/female/first-${accepts}.png`;
      const secondKey = `uploads/female/second-${accepts}.png`;
      const firstInstance = await instance('oss-submit');
      const watcherInstance = await instance('job-watcher');
      // Ticks only when the test says (tickNow); an FC timeout shorter than a round (10 s) and the reserve (5 s), so a
      // run stops after one round, with 9 s for that round however busy the machine is.
      const timer = startFcTimer({
        handler: watcherInstance.invoke,
        intervalMs: 3_600_000,
        timeoutSeconds: 14,
        credentials: LOCAL_CREDENTIALS,
        functionName: 'yike-job-watcher',
      });

      // Act
      const first = await upload(firstKey, firstInstance);
      const firstJobCalls = ice.calls();
      const jobId = (first.result as { submitted: { jobId: string }[] }).submitted[0]!.jobId;
      const statuses: string[] = [];
      for (const advance of [JOB_MS / 2, JOB_MS]) {
        iceClock += advance;
        await timer.tickNow();
        statuses.push((await readJson(jobRecordKey('.yike-jobs/', jobId))).status);
      }
      await timer.stop();
      const findingAfterFirst = await readJson(imageModeFindingKey('.yike-jobs/', APP_ID));
      await firstInstance.close();
      const secondInstance = await instance('oss-submit');
      const before = ice.calls().length;
      const second = await upload(secondKey, secondInstance);
      const secondJobCalls = callsSince(before);

      // Assert
      expect(rendered['oss-submit']).toMatchObject({ IMAGE_URL_MODE: 'auto', PRECHECK: 'on', ICE_REGION: 'cn-shanghai', RECORDS_BUCKET: 'yike-uploads' });
      expect({ status: first.status, attempts: first.attempts }).toEqual({ status: 'succeeded', attempts: 1 });
      expect(firstJobCalls.filter((call) => call.action === 'PrecheckYikeAIAppJob')).toHaveLength(expected.tried.length);
      expect(firstJobCalls.filter((call) => call.action === 'SubmitYikeAIAppJob').map((call) => call.status)).toEqual([200]);
      expect(ice.jobs()[0]).toMatchObject({ jobId, appId: APP_ID, appParams: { 'LoadImage.1.TargetImage': referenceIn(expected.mode, firstKey) } });
      expect(statuses).toEqual(['Executing', 'Finished']);
      expect(await readJson(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
        jobId,
        status: 'Finished',
        entryPoint: 'upload',
        source: `oss://${BUCKET}/${firstKey}`,
        results: [{ kind: 'video', outputUrl: expect.stringMatching(new RegExp(`/${jobId}\\.mp4$`)) }],
      });
      expect(findingAfterFirst).toEqual({
        schemaVersion: 1,
        appId: APP_ID,
        mode: expected.mode,
        region: 'cn-shanghai',
        decidedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        image: `oss://${BUCKET}/${firstKey}`,
        tried: expected.tried,
      });
      expect(oss.listKeys(BUCKET).filter((key) => key.includes('settings/image-modes/'))).toEqual([imageModeFindingKey('.yike-jobs/', APP_ID)]);
      expect(firstInstance.logs().filter((line) => line.message === 'image mode found')).toMatchObject([{ level: 'info', mode: expected.mode }]);

      expect(secondInstance.pid).not.toBe(firstInstance.pid);
      expect({ status: second.status, attempts: second.attempts }).toEqual({ status: 'succeeded', attempts: 1 });
      expect(secondJobCalls.map((call) => `${call.action} ${call.status}`)).toEqual(expected.secondJobCalls);
      const [precheck, submit] = ['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob'].map((action) => secondJobCalls.find((call) => call.action === action)!);
      const foundForm = JSON.stringify({ 'LoadImage.1.TargetImage': referenceIn(expected.mode, secondKey) });
      expect([precheck!.fields.AppParams, submit!.fields.AppParams]).toEqual([foundForm, foundForm]);
      expect(secondInstance.logs().filter((line) => String(line.message).startsWith('image mode'))).toEqual([]);
      expect(await readJson(imageModeFindingKey('.yike-jobs/', APP_ID))).toEqual(findingAfterFirst);
    },
  );
});
