/**
 * What the PostObject suites share. Policies are signed by ali-oss's calculatePostSignature (as the function that
 * hands a browser its upload form does), forms posted with Node's fetch + FormData + Blob (as the browser posts
 * them). usePostObjectServer() starts one local OSS server for the file (every notification recorded), resets it
 * after each test and closes it at the end; `server` is set once that beforeAll has run.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { TINY_PNG } from '../../../local/dev-fixtures';
import { DEFAULT_OSS_CREDENTIALS, startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import type { LocalCredential } from '../../../local/oss/signature';
import { localOssClient } from '../../helpers/local-cloud';
import { eventually } from '../../helpers/waiting';

export const BUCKET = 'yike-uploads';
export const REGION = 'cn-shanghai';
export const CREDENTIAL = DEFAULT_OSS_CREDENTIALS[0] as Required<Pick<LocalCredential, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>>;
export const KEY = 'uploads/browser-photo.png';
const HOUR_MS = 3_600_000;

let dataDir: string;
export let server: LocalOssServer;
export const notifications: OssNotification[] = [];

/** Registers the file's hooks: the server starts before its tests, is reset after each and closed after the last. */
export function usePostObjectServer(): void {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oss-post-object-test-'));
    server = await startOssServer({ dataDir, buckets: [BUCKET], onObjectCreated: (event) => notifications.push(event) });
  });

  afterEach(() => {
    notifications.length = 0;
    server.reset();
  });

  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
}

/** ali-oss against this server, with the local STS credentials. */
export function client(): OSS {
  return localOssClient(server.url, BUCKET);
}

/** The policy an upload page would be given: one key, images only, 1 byte to 1 MB, valid for an hour. */
export function uploadPolicy(overrides: { expiration?: string; conditions?: unknown[] } = {}) {
  return {
    expiration: overrides.expiration ?? new Date(Date.now() + HOUR_MS).toISOString(),
    conditions: overrides.conditions ?? [
      { bucket: BUCKET },
      ['eq', '$key', KEY],
      ['starts-with', '$content-type', 'image/'],
      ['content-length-range', 1, 1024 * 1024],
    ],
  };
}

export type Field = [name: string, value: string] | [name: string, value: Blob, filename: string];

/** The form fields in the order a page sends them, signed with ali-oss; `file` last. */
export function signedFields(policy: object | string = uploadPolicy(), extra: Field[] = []): Field[] {
  const { OSSAccessKeyId, Signature, policy: encoded } = client().calculatePostSignature(policy);
  return [
    ['key', KEY],
    ['policy', encoded],
    ['OSSAccessKeyId', OSSAccessKeyId],
    ['Signature', Signature],
    ['x-oss-security-token', CREDENTIAL.securityToken],
    ['Content-Type', 'image/png'],
    ...extra,
  ];
}

export function pngFile(bytes: Buffer = TINY_PNG): Field {
  return ['file', new Blob([bytes], { type: 'image/png' }), 'photo.png'];
}

export function withField(fields: Field[], name: string, value: string | undefined): Field[] {
  const rest = fields.filter(([fieldName]) => fieldName.toLowerCase() !== name.toLowerCase());
  return value === undefined ? rest : [...rest, [name, value]];
}

export async function post(fields: Field[], headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const form = new FormData();
  for (const field of fields) {
    if (field.length === 3) form.append(field[0], field[1], field[2]);
    else form.append(field[0], field[1]);
  }
  const response = await fetch(`${server.url}/${BUCKET}/`, { method: 'POST', body: form, headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

export function xmlElement(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

export function waitForNotification(key: string): Promise<OssNotification> {
  return eventually(() => notifications.find((notification) => notification.key === key), `an onObjectCreated call for ${key}`);
}

export function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex').toUpperCase();
}
