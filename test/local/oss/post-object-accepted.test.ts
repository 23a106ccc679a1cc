import { request } from 'node:http';
import { TINY_PNG } from '../../../local/dev-fixtures';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../local/oss/trigger';
import {
  BUCKET,
  client,
  CREDENTIAL,
  type Field,
  KEY,
  md5Hex,
  pngFile,
  post,
  REGION,
  server,
  signedFields,
  uploadPolicy,
  usePostObjectServer,
  waitForNotification,
  xmlElement,
} from './post-object-harness';

usePostObjectServer();

describe('PostObject accepted', () => {
  it('stores a signed form upload with its bytes, content type and metadata, answers 204 with the ETag and fires ObjectCreated:PostObject', async () => {
    // Arrange
    const fields = [...signedFields(uploadPolicy(), [['x-oss-meta-uploaded-by', 'browser']]), pngFile()];

    // Act
    const response = await post(fields);
    const stored = await client().get(KEY);
    const notification = await waitForNotification(KEY);

    // Assert
    expect(response.status).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers.get('etag')).toBe(`"${md5Hex(TINY_PNG)}"`);
    expect(Buffer.compare(stored.content as Buffer, TINY_PNG)).toBe(0);
    expect((stored.res.headers as Record<string, string>)['content-type']).toBe('image/png');
    expect((stored.res.headers as Record<string, string>)['x-oss-meta-uploaded-by']).toBe('browser');
    expect(notification.eventName).toBe('ObjectCreated:PostObject');
    expect(matchesOssTrigger(notification, UPLOAD_TRIGGER)).toBe(true);
    const event = JSON.parse(notification.payload.toString('utf8'));
    expect(event.events[0]).toMatchObject({
      eventName: 'ObjectCreated:PostObject',
      oss: { bucket: { name: BUCKET }, object: { key: KEY, size: TINY_PNG.length, eTag: md5Hex(TINY_PNG) } },
    });
    expect(server.requests()[0]).toEqual({ method: 'POST', bucket: BUCKET, key: undefined, status: 204, code: undefined, auth: 'form' });
  });

  it('answers success_action_status 201 with a PostResponse naming the bucket, location, key and ETag', async () => {
    // Arrange
    const fields = [...signedFields(uploadPolicy(), [['success_action_status', '201']]), pngFile()];

    // Act
    const response = await post(fields);

    // Assert
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(xmlElement(response.body, 'Bucket')).toBe(BUCKET);
    expect(xmlElement(response.body, 'Key')).toBe(KEY);
    expect(xmlElement(response.body, 'Location')).toBe(`${server.url}/${BUCKET}/uploads/browser-photo.png`);
    expect(xmlElement(response.body, 'ETag')).toBe(`"${md5Hex(TINY_PNG)}"`);
  });

  it('answers success_action_status 200 with an empty body', async () => {
    // Arrange
    const fields = [...signedFields(uploadPolicy(), [['success_action_status', '200']]), pngFile()];

    // Act
    const response = await post(fields);

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
  });

  it('accepts a form posted virtual-hosted style, naming the bucket in the Host header as browsers do on OSS', async () => {
    // Arrange: Node's fetch will not send another Host, so the encoded form goes out through node:http.
    const form = new FormData();
    for (const field of [...signedFields(uploadPolicy(), [['success_action_status', '201']]), pngFile()]) {
      if (field.length === 3) form.append(field[0], field[1], field[2]);
      else form.append(field[0], field[1]);
    }
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const host = `${BUCKET}.oss-${REGION}.aliyuncs.com`;

    // Act
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/',
          headers: { Host: host, 'Content-Type': encoded.headers.get('content-type') as string, 'Content-Length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

    // Assert
    expect(answer.status).toBe(201);
    expect(xmlElement(answer.body, 'Location')).toBe(`http://${host}/${KEY}`);
    expect(server.requests()[0]).toEqual({ method: 'POST', bucket: BUCKET, key: undefined, status: 201, code: undefined, auth: 'form' });
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: PostObject's ${filename} placeholder, literally
  it('reads field names case-insensitively and replaces ${filename} in the key with the file name', async () => {
    // Arrange
    const policy = uploadPolicy({
      conditions: [
        ['starts-with', '$KEY', 'uploads/'],
        ['in', '$Content-Type', ['image/png', 'image/jpeg']],
      ],
    });
    const { OSSAccessKeyId, Signature, policy: encoded } = client().calculatePostSignature(policy);
    const fields: Field[] = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: PostObject's ${filename} placeholder, literally
      ['KEY', 'uploads/${filename}'],
      ['Policy', encoded],
      ['ossaccesskeyid', OSSAccessKeyId],
      ['signature', Signature],
      ['X-OSS-Security-Token', CREDENTIAL.securityToken],
      ['content-type', 'image/png'],
      ['file', new Blob([TINY_PNG], { type: 'image/png' }), 'named-by-browser.png'],
    ];

    // Act
    const response = await post(fields);

    // Assert
    expect(response.status).toBe(204);
    expect(server.listKeys(BUCKET)).toContain('uploads/named-by-browser.png');
  });
});
