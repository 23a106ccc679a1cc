/**
 * What the HTTP function suites share: startHttpHarness(), called in each file's beforeAll, starts a local OSS holding
 * the images and a local ICE whose precheck reads them; gateway() puts the local FC gateway in front of an http-submit
 * handler (closed by close()); reset() clears ICE and starts a fresh log capture before each test; post() sends POST /jobs.
 * The handlers retry ICE 3 times, 1-2 ms apart (HARNESS_TUNING), so an injected fault costs no wall time.
 */
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { tuningWith, type TuningOverrides } from '../../../../shared/runtime/tuning';
import { loadEvent } from '../../../helpers/fixtures';
import { LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir } from '../../../helpers/local-cloud';

export const BUCKET = 'yike-uploads';
export const TOKEN = 'test-token-0123456789';
export const FIXTURE_BODY = loadEvent('fc3-http-post-jobs').body as string;
export const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
const HARNESS_TUNING: TuningOverrides = { ice: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } } };

export interface HttpHarness {
  ice: LocalIceServer;
  oss: LocalOssServer;
  /** The current test's log lines: reset() starts a new capture. */
  logs: ReturnType<typeof logCapture>;
  /** The function's environment: the local endpoints, HTTP_AUTH=none unless AUTH_TOKENS is given. */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  /**
   * A gateway in front of an http-submit handler configured with `overrides`, handing it `credentials` as its role's;
   * `tuning` goes over HARNESS_TUNING (a shorter read timeout, fewer attempts).
   */
  gateway(overrides?: Record<string, string>, credentials?: typeof LOCAL_CREDENTIALS, tuning?: TuningOverrides): Promise<LocalFcGateway>;
  reset(): void;
  close(): Promise<void>;
}

export async function startHttpHarness(): Promise<HttpHarness> {
  const dir = tempDir('http-submit-');
  const gateways: LocalFcGateway[] = [];
  const oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
  // ICE's precheck reads the images from the local OSS (media.example.com stands for a CDN in front of the bucket).
  const ice = await startIceServer({ images: { ossUrl: oss.url, aliases: { 'https://media.example.com': BUCKET } } });
  for (const key of ['uploads/female/portrait-001.jpg', 'a.jpg']) await putLocalObject(oss.url, BUCKET, key);

  const harness: HttpHarness = {
    ice,
    oss,
    logs: logCapture(),
    env: (overrides = {}) => ({
      ICE_ENDPOINT: ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: BUCKET,
      // These tests exercise the API itself; auth modes have their own tests (http-auth.test.ts).
      ...(overrides.AUTH_TOKENS ? {} : { HTTP_AUTH: 'none' }),
      ...overrides,
    }),
    gateway: async (overrides = {}, credentials = LOCAL_CREDENTIALS, tuning = {}) => {
      const handler = createHttpHandler({ env: harness.env(overrides), tuning: tuningWith(HARNESS_TUNING, tuning), sink: harness.logs.sink });
      const started = await startFcGateway({ handler, credentials });
      gateways.push(started);
      return started;
    },
    reset: () => {
      ice.reset();
      harness.logs = logCapture();
    },
    close: async () => {
      await Promise.all([ice.close(), oss.close(), ...gateways.map((g) => g.close())]);
      dir.remove();
    },
  };
  return harness;
}

export async function post(target: LocalFcGateway, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${target.url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}
