/**
 * Bucket CORS on the local OSS server: configured through ali-oss (putBucketCORS / getBucketCORS / deleteBucketCORS),
 * exercised with Node's fetch as a browser would send preflights and cross-origin form posts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { TINY_PNG } from '../../../local/dev-fixtures';
import type { OssCorsRule } from '../../../local/oss/cors';
import { DEFAULT_OSS_CREDENTIALS, startOssServer, type LocalOssServer } from '../../../local/oss/server';
import type { LocalCredential } from '../../../local/oss/signature';
import { localOssClient } from '../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const PRESET_BUCKET = 'yike-preset';
const CREDENTIAL = DEFAULT_OSS_CREDENTIALS[0] as Required<Pick<LocalCredential, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>>;
const PAGE_ORIGIN = 'https://upload.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';
const KEY = 'uploads/cors-photo.png';
const HOUR_MS = 3_600_000;
const PAGE_RULE: OssCorsRule = {
  allowedOrigin: ['https://*.example.com'],
  allowedMethod: ['POST', 'PUT'],
  allowedHeader: ['content-type', 'x-oss-*'],
  exposeHeader: ['ETag', 'x-oss-request-id'],
  maxAgeSeconds: '600',
};

let dataDir: string;
let server: LocalOssServer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'oss-cors-test-'));
  server = await startOssServer({
    dataDir,
    buckets: [BUCKET, PRESET_BUCKET],
    cors: { [PRESET_BUCKET]: { rules: [{ allowedOrigin: '*', allowedMethod: 'GET' }], responseVary: true } },
  });
});

afterEach(async () => {
  await client().deleteBucketCORS(BUCKET);
  server.reset();
});

afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** ali-oss against this server, with the local STS credentials. */
function client(): OSS {
  return localOssClient(server.url, BUCKET);
}

function preflight(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'OPTIONS', headers });
}

function xmlElement(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** A signed PostObject form for KEY, posted with the given Origin. */
async function postFromOrigin(origin: string, key = KEY): Promise<Response> {
  const { OSSAccessKeyId, Signature, policy } = client().calculatePostSignature({
    expiration: new Date(Date.now() + HOUR_MS).toISOString(),
    conditions: [['eq', '$key', KEY]],
  });
  const form = new FormData();
  form.append('key', key);
  form.append('policy', policy);
  form.append('OSSAccessKeyId', OSSAccessKeyId);
  form.append('Signature', Signature);
  form.append('x-oss-security-token', CREDENTIAL.securityToken);
  form.append('file', new Blob([TINY_PNG], { type: 'image/png' }), 'photo.png');
  return fetch(`${server.url}/${BUCKET}/`, { method: 'POST', body: form, headers: { Origin: origin } });
}

describe('bucket CORS configuration through ali-oss', () => {
  it('stores rules with putBucketCORS and gives them back with getBucketCORS', async () => {
    // Act
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);
    const { rules } = await client().getBucketCORS(BUCKET);

    // Assert
    expect(rules).toEqual([
      {
        allowedOrigin: 'https://*.example.com',
        allowedMethod: ['POST', 'PUT'],
        allowedHeader: ['content-type', 'x-oss-*'],
        exposeHeader: ['ETag', 'x-oss-request-id'],
        maxAgeSeconds: '600',
      },
    ]);
    expect(server.requests().map(({ method, status, auth }) => ({ method, status, auth }))).toEqual([
      { method: 'PUT', status: 200, auth: 'header' },
      { method: 'GET', status: 200, auth: 'header' },
    ]);
  });

  it('answers NoSuchCORSConfiguration 404 once the rules are deleted', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    await client().deleteBucketCORS(BUCKET);
    const error = await client()
      .getBucketCORS(BUCKET)
      .then(
        () => undefined,
        (thrown: { code?: string; status?: number }) => thrown,
      );

    // Assert
    expect(error).toMatchObject({ code: 'NoSuchCORSConfiguration', status: 404 });
  });

  it('refuses an unsigned putBucketCORS like any other bucket write', async () => {
    // Act
    const response = await fetch(`${server.url}/${BUCKET}/?cors`, {
      method: 'PUT',
      body: '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
    });

    // Assert
    expect(response.status).toBe(403);
    expect(xmlElement(await response.text(), 'Code')).toBe('AccessDenied');
  });

  it('refuses a rule with a method OSS does not support with InvalidArgument', async () => {
    // Act
    const error = await client()
      .putBucketCORS(BUCKET, [{ allowedOrigin: '*', allowedMethod: 'PATCH' }])
      .then(
        () => undefined,
        (thrown: { code?: string }) => thrown,
      );

    // Assert
    expect(error).toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('preflight OPTIONS', () => {
  it('allows a matching origin, method and headers with the Access-Control-* headers of the rule', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await preflight(`/${BUCKET}/`, {
      Origin: PAGE_ORIGIN,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'Content-Type, X-OSS-Meta-Uploaded-By',
    });

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, PUT');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type, x-oss-meta-uploaded-by');
    expect(response.headers.get('access-control-expose-headers')).toBe('ETag, x-oss-request-id');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(server.requests()).toEqual([
      expect.objectContaining({ method: 'PUT' }),
      { method: 'OPTIONS', bucket: BUCKET, key: undefined, status: 200, code: undefined, auth: 'anonymous' },
    ]);
  });

  it.each([
    ['an origin no rule names', { Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'POST' }],
    ['a method no rule allows', { Origin: PAGE_ORIGIN, 'Access-Control-Request-Method': 'DELETE' }],
    ['a header no rule allows', { Origin: PAGE_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' }],
  ])('refuses %s with 403 AccessForbidden and no Access-Control headers', async (_case, headers) => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await preflight(`/${BUCKET}/${KEY}`, headers);
    const body = await response.text();

    // Assert
    expect(response.status).toBe(403);
    expect(xmlElement(body, 'Code')).toBe('AccessForbidden');
    expect(xmlElement(body, 'Message')).toMatch(/^CORSResponse: This CORS request is not allowed/);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a preflight to a bucket without CORS rules with AccessForbidden', async () => {
    // Act
    const response = await preflight(`/${BUCKET}/${KEY}`, { Origin: PAGE_ORIGIN, 'Access-Control-Request-Method': 'POST' });

    // Assert
    expect(response.status).toBe(403);
    expect(xmlElement(await response.text(), 'Message')).toBe('CORSResponse: CORS is not enabled for this bucket.');
  });

  it('answers BadRequest to a preflight without Origin', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await preflight(`/${BUCKET}/${KEY}`, { 'Access-Control-Request-Method': 'POST' });

    // Assert
    expect(response.status).toBe(400);
    expect(xmlElement(await response.text(), 'Message')).toBe('Insufficient information. Origin request header needed.');
  });

  it('answers "*" for a rule that allows every origin, and Vary: Origin with ResponseVary, for rules given at start', async () => {
    // Act
    const response = await preflight(`/${PRESET_BUCKET}/any.png`, { Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'GET' });

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('vary')).toBe('Origin');
  });
});

describe('actual cross-origin requests', () => {
  it('gives an accepted PostObject from an allowed origin Access-Control-Allow-Origin and the exposed headers', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await postFromOrigin(PAGE_ORIGIN);

    // Assert
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    expect(response.headers.get('access-control-expose-headers')).toBe('ETag, x-oss-request-id');
  });

  it('gives a refused PostObject from an allowed origin the CORS headers too, so the page can read the error', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await postFromOrigin(PAGE_ORIGIN, 'uploads/not-the-signed-key.png');

    // Assert
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
  });

  it('processes a PostObject from an origin no rule allows but sends no CORS headers, as OSS does', async () => {
    // Arrange
    await client().putBucketCORS(BUCKET, [PAGE_RULE]);

    // Act
    const response = await postFromOrigin(OTHER_ORIGIN);

    // Assert
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('vary')).toBeNull();
  });
});
