/**
 * What the yike-backfill suites share: startBackfillHarness(seeds), called in each file's beforeAll, starts a local OSS
 * with one bucket per seed (uploaded in full before it returns), a local ICE whose precheck reads them and a local FC
 * invoke endpoint running the upload function (plus `echo` and `broken`), and sets the env the function reads; close()
 * restores it. backfill() runs the backfill through that endpoint with async invocations, as the CLI runs it.
 */
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { createHandler } from '../../../functions/oss-submit/index';
import { startFcInvokeServer, type AsyncHandler, type LocalFcInvokeServer } from '../../../local/fc/invoke-server';
import { startIceServer, type AcceptedJob, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { runBackfill } from '../../../cli/backfill/backfill';
import type { BackfillOptions, BackfillSummary, ListPage } from '../../../cli/backfill/types';
import { parseConfig, type Config } from '../../../shared/runtime/config';
import { createFunctionInvoker, type FunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { createOssClient } from '../../../shared/adapters/oss/client';
import { publicObjectUrl } from '../../../shared/domain/images/oss-urls';
import { FAST_RETRIES, LOCAL_CREDENTIALS, tempDir, TINY_PNG } from '../../helpers/local-cloud';

export const REGION = 'cn-shanghai';
export const ACCOUNT_ID = '1234567890123456';
export const FUNCTION_NAME = 'yike-oss-submit';
const IMAGE_KEY = 'LoadImage.1.TargetImage';
const APP_ROUTES = JSON.stringify({ 'uploads/female/': 'female', 'uploads/male/': 'male' });
/** High enough that the 1,000-object runs take seconds, as they would with a raised limit against FC. */
const FAST = { concurrency: 32, ratePerSecond: 2000 } as const;
const UPLOAD_CONCURRENCY = 32;
/** A hang detector, not a speed target: a 1,000-object run takes ~30 s alone, over a minute on a busy 2-core machine. */
export const SLOW_TEST_MS = 180_000;

/** What goes into a bucket, and what of it is an image the function would submit. */
export interface Seed {
  images: string[];
  others: { key: string; body: Buffer; reason: 'not-an-image' | 'empty-object' | 'records-prefix' }[];
}

export interface BackfillHarness {
  ice: LocalIceServer;
  oss: LocalOssServer;
  fc: LocalFcInvokeServer;
  /** Holds the OSS data and the checkpoints. */
  dir: ReturnType<typeof tempDir>;
  config: Config;
  invoker: FunctionInvoker;
  ossClient(bucket: string): OSS;
  /** A backfill through the FC invoke endpoint with async invocations, as the CLI runs it. */
  backfill(bucket: string, overrides?: Partial<BackfillOptions>): Promise<BackfillSummary>;
  /** What a user's shell would give the CLI: PATH, the local endpoints, the app routes and the local STS triple. */
  cliEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Distinct bytes per key, so every upload has its own eTag as real uploads do. */
function imageBytes(key: string): Buffer {
  return Buffer.concat([TINY_PNG, Buffer.from(key)]);
}

async function mapLimited<T>(items: T[], limit: number, worker: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await worker(items[next++]!);
    }),
  );
}

/** ListObjects V1 through ali-oss, as the CLI lists. */
export function lister(client: OSS, prefix = ''): (marker?: string) => Promise<ListPage> {
  return async (marker) => {
    const result = await client.list({ prefix, marker, 'max-keys': 1000 }, {});
    const objects = (result.objects ?? []).map((o) => ({ name: o.name, size: Number(o.size), etag: o.etag, lastModified: o.lastModified }));
    return { objects, nextMarker: result.isTruncated ? result.nextMarker : undefined };
  };
}

export function imageOf(job: AcceptedJob): string {
  return String(job.appParams[IMAGE_KEY]);
}

export function jobsFor(ice: LocalIceServer, bucket: string): AcceptedJob[] {
  const base = `https://${bucket}.oss-${REGION}.aliyuncs.com/`;
  return ice.jobs().filter((job) => imageOf(job).startsWith(base));
}

export const expectedUrls = (bucket: string, keys: string[]) => keys.map((key) => publicObjectUrl(bucket, REGION, key)).sort();

export async function startBackfillHarness(seeds: Record<string, Seed>): Promise<BackfillHarness> {
  const dir = tempDir('backfill-it-');
  const savedEnv: Record<string, string | undefined> = {};
  const oss = await startOssServer({ dataDir: join(dir.path, 'oss'), buckets: Object.keys(seeds), region: REGION, accountId: ACCOUNT_ID });
  // ICE's precheck reads the seeded images from the local OSS.
  const ice = await startIceServer({ finishAfterMs: 200, images: { ossUrl: oss.url } });
  const fc = await startFcInvokeServer({
    functions: {
      // The deployed handler reads process.env, as this one does; fast ICE retries are its tuning, never a variable.
      [FUNCTION_NAME]: createHandler({ tuning: FAST_RETRIES }) as unknown as AsyncHandler,
      echo: async (event) => JSON.parse(event.toString('utf8')),
      broken: async () => {
        throw new TypeError('boom');
      },
    },
    contextCredentials: LOCAL_CREDENTIALS,
    asyncConcurrency: 16,
    accountId: ACCOUNT_ID,
  });
  // loadConfig caches per env object: everything the handler reads is set before its first invocation.
  for (const [name, value] of Object.entries({
    ICE_ENDPOINT: ice.url,
    IMAGE_URL_MODE: 'public',
    OSS_ENDPOINT: oss.localhostUrl,
    APP_ROUTES,
    FC_ENDPOINT: fc.url,
    FC_ACCOUNT_ID: ACCOUNT_ID,
    LOG_LEVEL: 'error',
  })) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
  const config = parseConfig(process.env);
  const invoker = createFunctionInvoker({ config: config.fc, credentials: () => LOCAL_CREDENTIALS });
  const ossClient = (bucket: string) => createOssClient(config.oss, LOCAL_CREDENTIALS, bucket);
  await Promise.all(
    Object.entries(seeds).map(async ([bucket, objects]) => {
      const client = ossClient(bucket);
      const uploads = [...objects.images.map((key) => ({ key, body: imageBytes(key) })), ...objects.others];
      await mapLimited(uploads, UPLOAD_CONCURRENCY, ({ key, body }) => client.put(key, body));
    }),
  );

  return {
    ice,
    oss,
    fc,
    dir,
    config,
    invoker,
    ossClient,
    backfill: (bucket, overrides = {}) => {
      const prefix = overrides.prefix ?? '';
      return runBackfill({
        bucket,
        prefix,
        dryRun: false,
        list: lister(ossClient(bucket), prefix),
        submit: async (event) => void (await invoker.invokeAsync(FUNCTION_NAME, event)),
        config,
        checkpointPath: join(dir.path, `${bucket}.checkpoint.json`),
        ...FAST,
        ...overrides,
      });
    },
    cliEnv: (extra = {}) => ({
      PATH: process.env.PATH,
      ICE_ENDPOINT: ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      APP_ROUTES,
      ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_CREDENTIALS.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: LOCAL_CREDENTIALS.securityToken,
      ...extra,
    }),
    close: async () => {
      await fc.idle();
      await Promise.all([fc.close(), ice.close(), oss.close()]);
      for (const [name, value] of Object.entries(savedEnv)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      dir.remove();
    },
  };
}
