/**
 * Drives the local OSS server with the real ali-oss client over HTTP.
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
import {
  canonicalizedOssHeaders,
  canonicalizedResource,
  signV1,
  stringToSignV1,
  verifyOssHeaderSignature,
  type LocalCredential,
} from '../../../local/oss/signature';
import { DEFAULT_OSS_CREDENTIALS, MAX_PUT_BODY_BYTES, startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import { loadEvent } from '../../helpers/fixtures';

const BUCKET = 'yike-uploads';
const PUBLIC_BUCKET = 'yike-public';
const MISSING_BUCKET = 'no-such-bucket-here';
const REGION = 'cn-shanghai';
const ACCOUNT_ID = '1234567890123456';
const CREDENTIAL = DEFAULT_OSS_CREDENTIALS[0] as LocalCredential;
const EXPIRED_CREDENTIAL: LocalCredential = {
  accessKeyId: 'STS.ExpiredAccessKeyId',
  accessKeySecret: 'expired-secret',
  securityToken: 'expired-security-token',
  expiresAt: new Date(Date.now() - 60_000),
};
const CLIENT_TIMEOUT_MS = 10_000;
/** Keys OSS URLs must escape: spaces, "+", "%", CJK, and the characters encodeURIComponent leaves alone. */
const AWKWARD_KEYS = ['uploads/女/照片 1+2%.JPG', "uploads/odd !*'() name.png", 'uploads/a+b c%20d.jpg'];
const NOTIFICATION_WAIT_MS = 2_000;
const POLL_MS = 5;

/** ali-oss reads sldEnable at run time, but @types/ali-oss does not declare it. */
type ClientOptions = OSS.Options & { sldEnable?: boolean };

let dataDir: string;
let server: LocalOssServer;
const notifications: OssNotification[] = [];
const logLines: Array<Record<string, unknown>> = [];
/** What onObjectCreated does besides recording; a test may make it fail. */
let onCreated: (event: OssNotification) => void = () => undefined;

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

function client(overrides: Partial<ClientOptions> = {}): OSS {
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
function signingClient(overrides: Partial<ClientOptions> = {}): OSS {
  return client({ endpoint: server.localhostUrl, sldEnable: true, ...overrides });
}

/** The error a call fails with (undefined if it succeeds), so Act can run calls in order and Assert inspect them. */
async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex').toUpperCase();
}

function xmlElement(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

async function waitForNotification(key: string): Promise<OssNotification> {
  const deadline = Date.now() + NOTIFICATION_WAIT_MS;
  for (;;) {
    const found = notifications.find((notification) => notification.key === key);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no onObjectCreated call for ${key}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The set of key paths of a JSON value, e.g. "events.0.oss.object.eTag". */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...keyPaths(child, path)];
  });
}

describe('OSS V1 signature functions', () => {
  it('reproduce the worked example of the OSS documentation', () => {
    // Arrange
    const headers = { 'x-oss-magic': 'abracadabra', 'x-oss-meta-author': 'foo@bar.com', 'content-type': 'text/html' };

    // Act
    const stringToSign = stringToSignV1({
      method: 'PUT',
      contentMd5: 'ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=',
      contentType: 'text/html',
      date: 'Thu, 17 Nov 2005 18:49:58 GMT',
      canonicalizedOssHeaders: canonicalizedOssHeaders(headers),
      canonicalizedResource: canonicalizedResource('oss-example', 'nelson', {}),
    });

    // Assert
    expect(stringToSign).toBe(
      'PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\n' +
        'x-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n/oss-example/nelson',
    );
    expect(signV1('OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV', stringToSign)).toBe('26NBxoKdsyly4EDv6inkoDft/yA=');
  });

  it('put only sub-resources into the canonicalized resource, sorted, next to the unescaped key', () => {
    // Act
    const resource = canonicalizedResource('b', 'uploads/女/a b+c%.jpg', {
      prefix: 'uploads/',
      'security-token': 'token',
      acl: '',
      'response-content-type': 'image/jpeg',
    });

    // Assert
    expect(resource).toBe('/b/uploads/女/a b+c%.jpg?acl&response-content-type=image/jpeg&security-token=token');
  });

  it('refuse a correctly signed request dated more than 15 minutes away from the server clock', () => {
    // Arrange
    const date = 'Tue, 24 Nov 2026 10:00:00 GMT';
    const headers = { 'x-oss-date': date, 'x-oss-security-token': CREDENTIAL.securityToken };
    const signature = signV1(
      CREDENTIAL.accessKeySecret,
      stringToSignV1({
        method: 'GET',
        contentMd5: '',
        contentType: '',
        date,
        canonicalizedOssHeaders: canonicalizedOssHeaders(headers),
        canonicalizedResource: `/${BUCKET}/k`,
      }),
    );
    const request = {
      method: 'GET',
      bucket: BUCKET,
      key: 'k',
      query: {},
      headers: { ...headers, authorization: `OSS ${CREDENTIAL.accessKeyId}:${signature}` },
      lookupSecret: () => CREDENTIAL,
    };

    // Act
    const onTime = verifyOssHeaderSignature({ ...request, now: new Date('2026-11-24T10:14:00Z') });
    const skewed = verifyOssHeaderSignature({ ...request, now: new Date('2026-11-24T10:16:00Z') });

    // Assert
    expect(onTime.ok).toBe(true);
    expect(skewed).toMatchObject({ ok: false, failure: { status: 403, code: 'RequestTimeTooSkewed' } });
  });
});

describe('local OSS server driven by ali-oss', () => {
  it('stores, reads, heads and deletes an object with its exact bytes, content type and user metadata', async () => {
    // Arrange
    const oss = client();
    const key = 'uploads/female/portrait-001.jpg';
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x80, 0xc3, 0x28]);

    // Act
    const put = await oss.put(key, bytes, { meta: { uid: 42, pid: 7, role: 'portrait' }, mime: 'image/jpeg' });
    const got = await oss.get(key);
    const head = await oss.head(key);
    await oss.delete(key);
    const afterDelete = await failureOf(oss.get(key));

    // Assert
    expect(put.res.status).toBe(200);
    expect(put.res.headers).toMatchObject({ etag: `"${md5Hex(bytes)}"`, 'x-oss-request-id': expect.stringMatching(/^[0-9A-F]{24}$/) });
    expect(Buffer.compare(got.content as Buffer, bytes)).toBe(0);
    expect(got.res.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'content-length': String(bytes.length),
      etag: `"${md5Hex(bytes)}"`,
      'x-oss-meta-uid': '42',
      'x-oss-meta-pid': '7',
      'x-oss-meta-role': 'portrait',
    });
    expect(new Date((got.res.headers as Record<string, string>)['last-modified'] ?? '').getTime()).not.toBeNaN();
    expect(head.meta).toEqual({ uid: '42', pid: '7', role: 'portrait' });
    expect(afterDelete).toMatchObject({ code: 'NoSuchKey', status: 404 });
    expect(server.listKeys(BUCKET)).not.toContain(key);
  });

  it('answers NoSuchKey for a missing key, NoSuchBucket for a missing bucket, and 204 when deleting a missing key', async () => {
    // Act
    const missingKey = await failureOf(client().get('uploads/never-written.jpg'));
    const missingHead = await failureOf(client().head('uploads/never-written.jpg'));
    const missingBucket = await failureOf(client({ bucket: MISSING_BUCKET }).get('anything.jpg'));
    const deleted = await client().delete('uploads/never-written.jpg');

    // Assert
    expect(missingKey).toMatchObject({ code: 'NoSuchKey', status: 404 });
    expect(missingHead).toMatchObject({ code: 'NoSuchKey', status: 404 });
    expect(missingBucket).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    expect(deleted.res.status).toBe(204);
  });

  it('refuses to overwrite an existing key when x-oss-forbid-overwrite is true', async () => {
    // Arrange
    const oss = client();
    const key = 'uploads/forbid-overwrite.jpg';
    await oss.put(key, Buffer.from('first'));

    // Act
    const second = await failureOf(oss.put(key, Buffer.from('second'), { headers: { 'x-oss-forbid-overwrite': 'true' } }));

    // Assert
    expect(second).toMatchObject({ code: 'FileAlreadyExists', status: 409 });
    expect((await oss.get(key)).content.toString()).toBe('first');
  });

  it('refuses a body whose Content-MD5 does not match with InvalidDigest', async () => {
    // Arrange
    const wrongMd5 = createHash('md5').update('something else').digest('base64');

    // Act
    const put = await failureOf(client().put('uploads/bad-digest.jpg', Buffer.from('payload'), { headers: { 'Content-MD5': wrongMd5 } }));

    // Assert
    expect(put).toMatchObject({ code: 'InvalidDigest', status: 400 });
    expect(server.listKeys(BUCKET)).not.toContain('uploads/bad-digest.jpg');
  });

  it('refuses a body over the size limit with EntityTooLarge', async () => {
    // Act
    const put = await failureOf(client().put('uploads/huge.bin', Buffer.alloc(MAX_PUT_BODY_BYTES + 1)));

    // Assert
    expect(put).toMatchObject({ code: 'EntityTooLarge', status: 400 });
    expect(server.listKeys(BUCKET)).not.toContain('uploads/huge.bin');
  });

  it('answers SignatureDoesNotMatch 403 to a client signing with the wrong secret, for GET and for HEAD', async () => {
    // Arrange
    await client().put('uploads/signed.jpg', Buffer.from('x'));
    const wrongSecret = client({ accessKeySecret: 'not-the-secret' });

    // Act
    const get = await failureOf(wrongSecret.get('uploads/signed.jpg'));
    const head = await failureOf(wrongSecret.head('uploads/signed.jpg'));

    // Assert
    expect(get).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect(head).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('rejects an STS AccessKey ID sent without its token, with a wrong token, or after it expired', async () => {
    // Act
    const withoutToken = await failureOf(client({ stsToken: undefined }).get('uploads/any.jpg'));
    const wrongToken = await failureOf(client({ stsToken: 'someone-elses-token' }).get('uploads/any.jpg'));
    const expired = await failureOf(
      client({
        accessKeyId: EXPIRED_CREDENTIAL.accessKeyId,
        accessKeySecret: EXPIRED_CREDENTIAL.accessKeySecret,
        stsToken: EXPIRED_CREDENTIAL.securityToken,
      }).get('uploads/any.jpg'),
    );
    const unknownKey = await failureOf(client({ accessKeyId: 'STS.UnknownAccessKeyId' }).get('uploads/any.jpg'));

    // Assert
    expect(withoutToken).toMatchObject({ code: 'InvalidAccessKeyId', status: 403, message: expect.stringContaining('Security Token may be lost') });
    expect(wrongToken).toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
    expect(expired).toMatchObject({ code: 'SecurityTokenExpired', status: 403 });
    expect(unknownKey).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
  });

  it('serves a signatureUrl to plain fetch, and refuses it once expired or tampered with', async () => {
    // Arrange
    const key = 'uploads/signed-url.jpg';
    const bytes = Buffer.from('signed url body');
    await client().put(key, bytes);
    const signer = signingClient();
    const url = signer.signatureUrl(key, { expires: 300 });
    const expiredUrl = signer.signatureUrl(key, { expires: -60 });
    const extendedUrl = url.replace(/Expires=(\d+)/, (_match, expires: string) => `Expires=${Number(expires) + 3600}`);

    // Act
    const ok = await fetch(url);
    // Read before the next requests: the server records a GET once its download has finished.
    const okBody = Buffer.from(await ok.arrayBuffer());
    const expired = await fetch(expiredUrl);
    const tampered = await fetch(extendedUrl);

    // Assert
    expect(ok.status).toBe(200);
    expect(Buffer.compare(okBody, bytes)).toBe(0);
    expect(expired.status).toBe(403);
    const expiredXml = await expired.text();
    expect(xmlElement(expiredXml, 'Code')).toBe('AccessDenied');
    expect(xmlElement(expiredXml, 'Message')).toBe('Request has expired.');
    expect(tampered.status).toBe(403);
    expect(xmlElement(await tampered.text(), 'Code')).toBe('SignatureDoesNotMatch');
    expect(
      server
        .requests()
        .map((request) => request.auth)
        .slice(-3),
    ).toEqual(['url', 'url', 'url']);
  });

  it('accepts a PUT through a signed URL only with the Content-Type it was signed for', async () => {
    // Arrange
    const key = 'uploads/signed-put.jpg';
    const url = signingClient().signatureUrl(key, { method: 'PUT', expires: 60, 'Content-Type': 'image/jpeg' });

    // Act
    const wrongType = await fetch(url, { method: 'PUT', body: 'jpeg bytes', headers: { 'Content-Type': 'image/png' } });
    const rightType = await fetch(url, { method: 'PUT', body: 'jpeg bytes', headers: { 'Content-Type': 'image/jpeg' } });
    const stored = await client().get(key);

    // Assert
    expect(wrongType.status).toBe(403);
    expect(xmlElement(await wrongType.text(), 'Code')).toBe('SignatureDoesNotMatch');
    expect(rightType.status).toBe(200);
    expect(stored.content.toString()).toBe('jpeg bytes');
    expect(stored.res.headers).toMatchObject({ 'content-type': 'image/jpeg' });
  });

  it('lets anonymous GET read public-read buckets only', async () => {
    // Arrange
    const key = 'assets/logo.png';
    const bytes = Buffer.from('public bytes');
    await client({ bucket: PUBLIC_BUCKET }).put(key, bytes);
    await client().put(key, bytes);

    // Act
    const publicGet = await fetch(server.objectUrl(PUBLIC_BUCKET, key));
    const privateGet = await fetch(server.objectUrl(BUCKET, key));
    const anonymousPut = await fetch(server.objectUrl(PUBLIC_BUCKET, 'assets/anonymous.png'), { method: 'PUT', body: 'x' });

    // Assert
    expect(publicGet.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await publicGet.arrayBuffer()), bytes)).toBe(0);
    expect(privateGet.status).toBe(403);
    expect(xmlElement(await privateGet.text(), 'Code')).toBe('AccessDenied');
    expect(anonymousPut.status).toBe(403);
    expect(server.listKeys(PUBLIC_BUCKET)).not.toContain('assets/anonymous.png');
  });

  it('answers errors as OSS XML carrying the same request id as the x-oss-request-id header', async () => {
    // Act
    const response = await fetch(server.objectUrl(BUCKET, 'uploads/whatever.jpg'));
    const xml = await response.text();

    // Assert
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>')).toBe(true);
    expect(xmlElement(xml, 'RequestId')).toBe(response.headers.get('x-oss-request-id'));
    expect(xmlElement(xml, 'HostId')).toBe(`${BUCKET}.oss-${REGION}.aliyuncs.com`);
  });

  it('pages through 25 keys ten at a time with prefix, max-keys and marker', async () => {
    // Arrange
    const oss = client();
    const keys = Array.from({ length: 25 }, (_, i) => `paging/${String(i).padStart(2, '0')}.jpg`);
    for (const key of keys) await oss.put(key, Buffer.from(key));
    await oss.put('paging-outside-prefix.jpg', Buffer.from('x'));

    // Act
    const pages: OSS.ListObjectResult[] = [];
    let marker: string | undefined;
    do {
      const page: OSS.ListObjectResult = await oss.list({ prefix: 'paging/', 'max-keys': 10, ...(marker ? { marker } : {}) }, {});
      pages.push(page);
      marker = page.isTruncated ? (page.nextMarker ?? undefined) : undefined;
    } while (marker);

    // Assert
    expect(pages.map((page) => page.objects.length)).toEqual([10, 10, 5]);
    expect(pages.map((page) => page.isTruncated)).toEqual([true, true, false]);
    expect(pages[0]?.nextMarker).toBe('paging/09.jpg');
    expect(pages.flatMap((page) => page.objects.map((object) => object.name))).toEqual(keys);
    expect(pages[0]?.objects[0]).toMatchObject({ etag: `"${md5Hex(Buffer.from(keys[0] ?? ''))}"`, size: keys[0]?.length, owner: { id: ACCOUNT_ID } });
  });

  it('pages with listV2 continuation tokens and rolls keys up into common prefixes at the delimiter', async () => {
    // Arrange
    const oss = client();
    const keys = ['tree/a.jpg', 'tree/b.jpg', 'tree/c/1.jpg', 'tree/c/2.jpg', 'tree/d/1.jpg', 'tree/e.jpg'];
    for (const key of keys) await oss.put(key, Buffer.from(key));

    // Act
    const first = await oss.listV2({ prefix: 'tree/', delimiter: '/', 'max-keys': 3 });
    const second = await oss.listV2({ prefix: 'tree/', delimiter: '/', 'max-keys': 3, 'continuation-token': first.nextContinuationToken ?? '' });

    // Assert
    expect(first.objects.map((object) => object.name)).toEqual(['tree/a.jpg', 'tree/b.jpg']);
    expect(first.prefixes).toEqual(['tree/c/']);
    expect(first).toMatchObject({ isTruncated: true, keyCount: 3 });
    expect(second.prefixes).toEqual(['tree/d/']);
    expect(second.objects.map((object) => object.name)).toEqual(['tree/e.jpg']);
    expect(second).toMatchObject({ isTruncated: false, keyCount: 2, nextContinuationToken: null });
  });

  it('refuses max-keys above 1000 with InvalidArgument', async () => {
    // Act
    const list = await failureOf(client().list({ 'max-keys': 1001 }, {}));

    // Assert
    expect(list).toMatchObject({ code: 'InvalidArgument', status: 400 });
  });

  it.each(AWKWARD_KEYS)('round-trips the key %j through put, get, list and signatureUrl', async (key) => {
    // Arrange
    const oss = client();
    const bytes = Buffer.from(`bytes of ${key}`);

    // Act
    await oss.put(key, bytes);
    const got = await oss.get(key);
    const listed = await oss.list({ prefix: key, 'max-keys': 10 }, {});
    const viaSignedUrl = await fetch(signingClient().signatureUrl(key, { expires: 60 }));

    // Assert
    expect(Buffer.compare(got.content as Buffer, bytes)).toBe(0);
    expect(listed.objects.map((object) => object.name)).toEqual([key]);
    expect(viaSignedUrl.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await viaSignedUrl.arrayBuffer()), bytes)).toBe(0);
    expect(server.listKeys(BUCKET)).toContain(key);
  });

  it('calls onObjectCreated with an FC OSS trigger event shaped exactly like the reference sample', async () => {
    // Arrange
    const key = AWKWARD_KEYS[0] as string;
    const bytes = Buffer.from('a portrait, new version');
    const reference = loadEvent('oss-trigger-put');

    // Act
    const put = await client().put(key, bytes);
    const notification = await waitForNotification(key);
    const event = JSON.parse(notification.payload.toString('utf8'));

    // Assert
    expect(notification).toMatchObject({ bucket: BUCKET, key, eventName: 'ObjectCreated:PutObject' });
    expect(keyPaths(event).sort()).toEqual(keyPaths(reference).sort());
    expect(event.events[0]).toMatchObject({
      eventName: 'ObjectCreated:PutObject',
      eventSource: 'acs:oss',
      region: REGION,
      oss: {
        bucket: { arn: `acs:oss:${REGION}:${ACCOUNT_ID}:${BUCKET}`, name: BUCKET, ownerIdentity: ACCOUNT_ID },
        object: { key, size: bytes.length, eTag: md5Hex(bytes) },
      },
      responseElements: { requestId: (put.res.headers as Record<string, string>)['x-oss-request-id'] },
      userIdentity: { principalId: ACCOUNT_ID },
    });
    expect(event.events[0].eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('reports the change in size as deltaSize when a key is overwritten', async () => {
    // Arrange
    const key = 'uploads/overwritten.jpg';
    await client().put(key, Buffer.alloc(10));
    await waitForNotification(key);
    notifications.length = 0;

    // Act
    await client().put(key, Buffer.alloc(4));
    const event = JSON.parse((await waitForNotification(key)).payload.toString('utf8'));

    // Assert
    expect(event.events[0].oss.object).toMatchObject({ size: 4, deltaSize: -6 });
  });

  it('never fails a PUT because onObjectCreated throws', async () => {
    // Arrange
    onCreated = () => {
      throw new Error('subscriber is broken');
    };

    // Act
    const put = await client().put('uploads/subscriber-broken.jpg', Buffer.from('x'));
    await waitForNotification('uploads/subscriber-broken.jpg');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));

    // Assert
    expect(put.res.status).toBe(200);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'onObjectCreated failed', key: 'uploads/subscriber-broken.jpg' }));
  });

  it('copies an object with x-oss-copy-source and reports ObjectCreated:CopyObject', async () => {
    // Arrange
    const oss = client();
    const bytes = Buffer.from('copy me');
    await oss.put('uploads/copy-source 女.jpg', bytes, { meta: { uid: 1, pid: 2, origin: 'source' }, mime: 'image/jpeg' });

    // Act
    const copied = await oss.copy('uploads/copy-target.jpg', 'uploads/copy-source 女.jpg');
    const target = await oss.get('uploads/copy-target.jpg');
    const notification = await waitForNotification('uploads/copy-target.jpg');

    // Assert
    expect(copied.data.etag).toBe(`"${md5Hex(bytes)}"`);
    expect(Buffer.compare(target.content as Buffer, bytes)).toBe(0);
    expect(target.res.headers).toMatchObject({ 'content-type': 'image/jpeg', 'x-oss-meta-origin': 'source' });
    expect(notification.eventName).toBe('ObjectCreated:CopyObject');
  });

  it('serves objects already in dataDir after a restart', async () => {
    // Arrange
    const key = 'uploads/persisted 女.jpg';
    const bytes = Buffer.from('still here');
    await client().put(key, bytes);
    const restarted = await startOssServer({ dataDir, buckets: [BUCKET, PUBLIC_BUCKET], credentials: [CREDENTIAL] });

    try {
      // Act
      const got = await client({ endpoint: restarted.url }).get(key);

      // Assert
      expect(Buffer.compare(got.content as Buffer, bytes)).toBe(0);
      expect(restarted.listKeys(BUCKET)).toContain(key);
    } finally {
      await restarted.close();
    }
  });

  it('never writes secrets, tokens or signatures to its log', async () => {
    // Arrange
    await client().put('uploads/logged.jpg', Buffer.from('x'));
    await client({ accessKeySecret: 'wrong-secret' })
      .get('uploads/logged.jpg')
      .catch(() => undefined);

    // Act
    const logged = JSON.stringify(logLines);

    // Assert
    expect(logged).not.toContain(CREDENTIAL.accessKeySecret);
    expect(logged).not.toContain(CREDENTIAL.securityToken);
    expect(logged).not.toContain(`OSS ${CREDENTIAL.accessKeyId}:`);
  });
});
