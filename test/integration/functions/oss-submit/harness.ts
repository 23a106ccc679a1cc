/**
 * What the OSS upload function suites share: startUploadHarness(), called in each file's beforeAll, starts a local OSS
 * holding the images the events name (its notifications filtered by the upload trigger rule, as in s.yaml) and a local
 * ICE whose precheck reads them; reset() clears ICE, the notifications and every job record before each test;
 * ossEvent() builds an OSS trigger event for other keys from the documented one.
 */
import type OSS from 'ali-oss';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import type { TuningOverrides } from '../../../../shared/runtime/tuning';
import { loadEvent } from '../../../helpers/fixtures';
import { localOssClient, putLocalObject, tempDir } from '../../../helpers/local-cloud';

export const BUCKET = 'yike-uploads';
export const FEMALE_KEY = 'uploads/female/portrait-001.jpg';
export const FIXTURE_ETAG = '688A7BF4F233DC9C88A80BF985AB7329';
/** For tests that inject ICE faults: 3 attempts, 1-2 ms apart (createHandler's `tuning`; never the environment). */
export const THREE_FAST_ATTEMPTS: TuningOverrides = { ice: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } } };

export interface UploadHarness {
  ice: LocalIceServer;
  oss: LocalOssServer;
  /** ali-oss signing for the local OSS, as a user's client would. */
  client: OSS;
  /** The notifications the upload trigger rule let through since the test began. */
  notifications: OssNotification[];
  /** The function's environment: the local endpoints, ProductionId, FolderId and app routes. */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  /** The upload's idempotency record, parsed. */
  readRecord(key: string, eTag: string): Promise<any>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startUploadHarness(): Promise<UploadHarness> {
  const dir = tempDir('oss-submit-');
  const notifications: OssNotification[] = [];
  const oss = await startOssServer({
    dataDir: dir.path,
    buckets: [BUCKET],
    // Like the trigger rule in s.yaml: only keys under uploads/ notify the function.
    onObjectCreated: (event) => matchesOssTrigger(event, UPLOAD_TRIGGER) && notifications.push(event),
  });
  const client = localOssClient(oss.url, BUCKET);
  // ICE's precheck reads the images the events name from the local OSS.
  const ice = await startIceServer({ images: { ossUrl: oss.url } });
  const images = [FEMALE_KEY, 'uploads/female/a.jpg', 'uploads/male/B.PNG', "uploads/female/照片 1+2%!'().JPEG", 'elsewhere/c.webp', 'uploads/male/b.jpg'];
  for (const key of images) await putLocalObject(oss.url, BUCKET, key);

  return {
    ice,
    oss,
    client,
    notifications,
    env: (overrides = {}) => ({
      ICE_ENDPOINT: ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      PRODUCTION_ID: 'prod-123',
      FOLDER_ID: 'fd-cReaEcVqQK',
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      LOG_LEVEL: 'error',
      ...overrides,
    }),
    readRecord: async (key, eTag) => {
      const result = await client.get(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key, eTag }));
      return JSON.parse(result.content.toString('utf8'));
    },
    reset: async () => {
      ice.reset();
      notifications.length = 0;
      // Each test starts without job records.
      const records = oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/'));
      if (records.length > 0) await client.deleteMulti(records, { quiet: true }).catch(async () => Promise.all(records.map((key) => client.delete(key))));
    },
    close: async () => {
      await Promise.all([ice.close(), oss.close()]);
      dir.remove();
    },
  };
}

export function ossEvent(records: { key: string; size?: number; eventName?: string; eTag?: string }[]) {
  const template = loadEvent('oss-trigger-put').events[0];
  return {
    events: records.map(({ key, size = 1024, eventName = 'ObjectCreated:PutObject', eTag = FIXTURE_ETAG }) => {
      const record = structuredClone(template);
      Object.assign(record.oss.object, { key, size, deltaSize: size, eTag });
      record.eventName = eventName;
      return record;
    }),
  };
}
