/**
 * What test/integration/cli/backfill.test.ts uses besides its suite: the 1,000-object buckets, the listing the CLI
 * reads, and small helpers (the CLI as a child process, a port nobody listens on).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import type { AcceptedJob, LocalIceServer } from '../../../local/ice/server';
import type { ListPage } from '../../../cli/backfill/types';
import { LOCAL_CREDENTIALS, TINY_PNG } from '../../helpers/local-cloud';

const ROOT = join(__dirname, '..', '..', '..');
export const REGION = 'cn-shanghai';
export const ACCOUNT_ID = '1234567890123456';
export const FUNCTION_NAME = 'yike-oss-submit';
const IMAGE_KEY = 'LoadImage.1.TargetImage';
export const APP_ROUTES = JSON.stringify({ 'uploads/female/': 'female', 'uploads/male/': 'male' });
/** Two buckets of 1,000 objects (one for the straight runs, one for interrupt + resume) and a small one for the CLI. */
export const MAIN_BUCKET = 'yike-uploads';
export const RESUME_BUCKET = 'yike-resume';
export const CLI_BUCKET = 'yike-cli';
export const CLI_IMAGES_PER_FOLDER = 20;
/** High enough that the 1,000-object runs take seconds, as they would with a raised limit against FC. */
export const FAST = { concurrency: 32, ratePerSecond: 2000 } as const;
export const UPLOAD_CONCURRENCY = 32;
export const SLOW_TEST_MS = 60_000;
export const INTERRUPT_AFTER_INVOCATIONS = 300;

/** What goes into each 1,000-object bucket, and what of it is an image the function would submit. */
export interface Seed {
  images: string[];
  others: { key: string; body: Buffer; reason: 'not-an-image' | 'empty-object' | 'records-prefix' }[];
}

export function thousandObjects(): Seed {
  const images = [
    ...Array.from({ length: 475 }, (_, i) => `uploads/female/portrait-${String(i).padStart(4, '0')}.jpg`),
    ...Array.from({ length: 475 }, (_, i) => `uploads/male/portrait-${String(i).padStart(4, '0')}.png`),
  ];
  const others: Seed['others'] = [
    ...Array.from({ length: 20 }, (_, i) => ({ key: `uploads/female/notes-${i}.txt`, body: Buffer.from(`note ${i}`), reason: 'not-an-image' as const })),
    ...Array.from({ length: 15 }, (_, i) => ({ key: `uploads/male/empty-${i}.jpg`, body: Buffer.alloc(0), reason: 'empty-object' as const })),
    ...Array.from({ length: 15 }, (_, i) => ({ key: `.yike-jobs/stale/old-${i}.jpg`, body: TINY_PNG, reason: 'records-prefix' as const })),
  ];
  return { images, others };
}

/** Distinct bytes per key, so every upload has its own eTag as real uploads do. */
export function imageBytes(key: string): Buffer {
  return Buffer.concat([TINY_PNG, Buffer.from(key)]);
}

export async function mapLimited<T>(items: T[], limit: number, worker: (item: T) => Promise<unknown>): Promise<void> {
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

export function keyOfEvent(event: Buffer): string {
  const parsed = JSON.parse(event.toString('utf8'));
  return parsed.events ? parsed.events[0].oss.object.key : parsed.image.key;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'yike-backfill.js'), ...args], { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What the CLI runs with: only PATH, the stand-ins and the standard ALIBABA_CLOUD_* triple. */
export function backfillCliEnv(iceUrl: string, ossUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ICE_ENDPOINT: iceUrl,
    OSS_ENDPOINT: ossUrl,
    APP_ROUTES,
    ICE_RETRY_BASE_MS: '1',
    ICE_RETRY_MAX_MS: '5',
    ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_CREDENTIALS.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: LOCAL_CREDENTIALS.securityToken,
    ...extra,
  };
}
