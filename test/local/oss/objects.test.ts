import { createHash } from 'node:crypto';
import { MAX_PUT_BODY_BYTES, startOssServer } from '../../../local/oss/server';
import {
  AWKWARD_KEYS,
  BUCKET,
  client,
  CREDENTIAL,
  dataDir,
  failureOf,
  md5Hex,
  MISSING_BUCKET,
  PUBLIC_BUCKET,
  server,
  signingClient,
  useLocalOssServer,
  waitForNotification,
} from './harness';

useLocalOssServer();

describe('local OSS server driven by ali-oss: objects', () => {
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

  it('refuses user metadata of 8 KB or more (names and values together) with InvalidArgument, and stores nothing', async () => {
    // Act: one byte under the limit, then exactly at it (ali-oss's types ask for uid and pid: they count too).
    const under = await client().put('uploads/meta-under.jpg', Buffer.from('payload'), {
      meta: { uid: 1, pid: 2, big: 'v'.repeat(8191 - 'x-oss-meta-big'.length - 'x-oss-meta-uid1x-oss-meta-pid2'.length) },
    });
    const at = await failureOf(
      client().put('uploads/meta-at.jpg', Buffer.from('payload'), {
        meta: { uid: 1, pid: 2, big: 'v'.repeat(8192 - 'x-oss-meta-big'.length - 'x-oss-meta-uid1x-oss-meta-pid2'.length) },
      }),
    );

    // Assert
    expect(under.res.status).toBe(200);
    expect(at).toMatchObject({ code: 'InvalidArgument', status: 400 });
    expect(server.listKeys(BUCKET)).not.toContain('uploads/meta-at.jpg');
  });

  it('refuses a body over the size limit with EntityTooLarge', async () => {
    // Act
    const put = await failureOf(client().put('uploads/huge.bin', Buffer.alloc(MAX_PUT_BODY_BYTES + 1)));

    // Assert
    expect(put).toMatchObject({ code: 'EntityTooLarge', status: 400 });
    expect(server.listKeys(BUCKET)).not.toContain('uploads/huge.bin');
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
});
