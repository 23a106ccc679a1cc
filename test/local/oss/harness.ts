/**
 * What the local OSS server suites share: one server per test file, started by useLocalOssServer() before the file's
 * tests (a public-read bucket, an expired STS key besides the default one, every notification and log line recorded),
 * reset after each test and closed at the end; ali-oss clients signing for it; small readers of its answers.
 * `server` and `dataDir` are set once that beforeAll has run.
 *
 * ali-oss options that reach the server:
 * - { endpoint: server.url, bucket, region, accessKeyId, accessKeySecret, stsToken }: with an IP endpoint ali-oss
 *   sends "/<key>" and names the bucket in the Host header ("<bucket>.oss-<region>.aliyuncs.com").
 * - { endpoint: server.localhostUrl, sldEnable: true, ... }: path-style "/<bucket>/<key>"; needed for signatureUrl,
 *   which ali-oss refuses to build for an IP endpoint.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import { DEFAULT_OSS_CREDENTIALS, startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import type { LocalCredential } from '../../../local/oss/signature';
import { eventually } from '../../helpers/waiting';

export const BUCKET = 'yike-uploads';
export const PUBLIC_BUCKET = 'yike-public';
export const MISSING_BUCKET = 'no-such-bucket-here';
export const REGION = 'cn-shanghai';
export const ACCOUNT_ID = '1234567890123456';
export const CREDENTIAL = DEFAULT_OSS_CREDENTIALS[0] as LocalCredential;
export const EXPIRED_CREDENTIAL: LocalCredential = {
  accessKeyId: 'STS.ExpiredAccessKeyId',
  accessKeySecret: 'expired-secret',
  securityToken: 'expired-security-token',
  expiresAt: new Date(Date.now() - 60_000),
};
const CLIENT_TIMEOUT_MS = 10_000;
/** Keys OSS URLs must escape: spaces, "+", "%", CJK, and the characters encodeURIComponent leaves alone. */
export const AWKWARD_KEYS = ['uploads/女/照片 1+2%.JPG', "uploads/odd !*'() name.png", 'uploads/a+b c%20d.jpg'];

/** ali-oss reads sldEnable at run time, but @types/ali-oss does not declare it. */
type ClientOptions = OSS.Options & { sldEnable?: boolean };

export let dataDir: string;
export let server: LocalOssServer;
export const notifications: OssNotification[] = [];
export const logLines: Array<Record<string, unknown>> = [];
/** What onObjectCreated does besides recording; a test may make it fail. */
let onCreated: (event: OssNotification) => void = () => undefined;

/** Makes onObjectCreated also call `handler`, until the test ends. */
export function onObjectCreated(handler: (event: OssNotification) => void): void {
  onCreated = handler;
}

/** Registers the file's hooks: the server starts before its tests, is reset after each and closed after the last. */
export function useLocalOssServer(): void {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oss-server-test-'));
    server = await startOssServer({
      dataDir,
      buckets: [BUCKET, PUBLIC_BUCKET],
      publicReadBuckets: [PUBLIC_BUCKET],
      credentials: [CREDENTIAL, EXPIRED_CREDENTIAL],
      onObjectCreated: (event) => {
        notifications.push(event);
        onCreated(event);
      },
      log: (line) => logLines.push(line),
    });
  });

  afterEach(() => {
    onCreated = () => undefined;
    notifications.length = 0;
    server.reset();
  });

  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
}

export function client(overrides: Partial<ClientOptions> = {}): OSS {
  const options: ClientOptions = {
    endpoint: server.url,
    bucket: BUCKET,
    region: `oss-${REGION}`,
    accessKeyId: CREDENTIAL.accessKeyId,
    accessKeySecret: CREDENTIAL.accessKeySecret,
    stsToken: CREDENTIAL.securityToken,
    // Only quiets ali-oss's advice to configure token refreshing; without refreshSTSToken nothing refreshes.
    refreshSTSTokenInterval: 3_600_000,
    timeout: CLIENT_TIMEOUT_MS,
    ...overrides,
  };
  return new OSS(options);
}

/** A client that can build signed URLs: ali-oss refuses signatureUrl for IP endpoints. */
export function signingClient(overrides: Partial<ClientOptions> = {}): OSS {
  return client({ endpoint: server.localhostUrl, sldEnable: true, ...overrides });
}

/** The error a call fails with (undefined if it succeeds), so Act can run calls in order and Assert inspect them. */
export async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

export function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex').toUpperCase();
}

export function xmlElement(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

export function waitForNotification(key: string): Promise<OssNotification> {
  return eventually(() => notifications.find((notification) => notification.key === key), `an onObjectCreated call for ${key}`);
}
