import { startIceServer, type LocalIceServer } from '../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../local/oss/trigger';
import { localOssClient, tempDir, TINY_PNG } from './local-cloud';

/**
 * What the budget's tests share: the local OSS (its upload trigger's events kept per key, as FC would receive them)
 * and the local ICE reading the images from it, a fixed clock for the budget's day, and small readers.
 */
export const BUCKET = 'yike-uploads';
export { RECORDS_PREFIX } from '../../shared/runtime/tuning';

/** Noon in Shanghai on 2 December 2026, far from either midnight: the day the tests spend in. */
export const DAY_ONE = '2026-12-02T04:00:00.000Z';
/** When that day's budget renews: midnight in Shanghai (UTC+8). */
export const DAY_ONE_RESET = '2026-12-02T16:00:00.000Z';

/** A clock that starts at `iso` and runs on with the wall clock. */
export function clockAt(iso: string): () => Date {
  const startedAt = Date.now();
  const base = Date.parse(iso);
  return () => new Date(base + (Date.now() - startedAt));
}

export interface BudgetCloud {
  oss: LocalOssServer;
  ice: LocalIceServer;
  /** The OSS trigger event of the last upload of `key`. */
  eventOf(key: string): Buffer;
  /** Uploads a PNG under `key` (a user's PutObject) and answers the trigger event FC would deliver. */
  upload(key: string, body?: Buffer): Promise<Buffer>;
  readJson<T = Record<string, unknown>>(key: string): Promise<T | undefined>;
  keysUnder(prefix: string): string[];
  remove(key: string): Promise<void>;
  /** The environment of a function pointed at this cloud. */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startBudgetCloud(prefix: string): Promise<BudgetCloud> {
  const dir = tempDir(prefix);
  const events = new Map<string, Buffer>();
  const oss = await startOssServer({
    dataDir: dir.path,
    buckets: [BUCKET],
    onObjectCreated: (notification) => {
      if (matchesOssTrigger(notification, UPLOAD_TRIGGER)) events.set(notification.key, notification.payload);
    },
  });
  const ice = await startIceServer({ images: { ossUrl: oss.url } });
  const client = localOssClient(oss.url, BUCKET);
  return {
    oss,
    ice,
    eventOf: (key) => {
      const event = events.get(key);
      if (!event) throw new Error(`no trigger event for ${key}`);
      return event;
    },
    async upload(key, body = TINY_PNG) {
      await client.put(key, body, { headers: { 'Content-Type': 'image/png' } });
      return events.get(key)!;
    },
    async readJson<T>(key: string) {
      try {
        return JSON.parse((await client.get(key)).content.toString('utf8')) as T;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }
    },
    keysUnder: (under) => oss.listKeys(BUCKET).filter((key) => key.startsWith(under)),
    remove: async (key) => {
      await client.delete(key);
    },
    env: (overrides = {}) => ({
      ICE_ENDPOINT: ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      RECORDS_BUCKET: BUCKET,
      ALLOWED_BUCKETS: BUCKET,
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      LOG_LEVEL: 'warn',
      ...overrides,
    }),
    async close() {
      await Promise.all([ice.close(), oss.close()]);
      dir.remove();
    },
  };
}
