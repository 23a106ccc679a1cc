/**
 * PostObject on the local OSS server: policies signed by ali-oss's calculatePostSignature (as the function that hands
 * a browser its upload form does), forms posted with Node's fetch + FormData + Blob (as the browser posts them).
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import { TINY_PNG } from '../../../local/dev-fixtures';
import { DEFAULT_OSS_CREDENTIALS, startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import { signV1, type LocalCredential } from '../../../local/oss/signature';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../local/oss/trigger';
import { localOssClient } from '../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const REGION = 'cn-shanghai';
const CREDENTIAL = DEFAULT_OSS_CREDENTIALS[0] as Required<Pick<LocalCredential, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>>;
const KEY = 'uploads/browser-photo.png';
const HOUR_MS = 3_600_000;
const NOTIFICATION_WAIT_MS = 2_000;
const POLL_MS = 5;

let dataDir: string;
let server: LocalOssServer;
const notifications: OssNotification[] = [];

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

/** ali-oss against this server, with the local STS credentials. */
function client(): OSS {
  return localOssClient(server.url, BUCKET);
}

/** The policy an upload page would be given: one key, images only, 1 byte to 1 MB, valid for an hour. */
function uploadPolicy(overrides: { expiration?: string; conditions?: unknown[] } = {}) {
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

type Field = [name: string, value: string] | [name: string, value: Blob, filename: string];

/** The form fields in the order a page sends them, signed with ali-oss; `file` last. */
function signedFields(policy: object | string = uploadPolicy(), extra: Field[] = []): Field[] {
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

function pngFile(bytes: Buffer = TINY_PNG): Field {
  return ['file', new Blob([bytes], { type: 'image/png' }), 'photo.png'];
}

function withField(fields: Field[], name: string, value: string | undefined): Field[] {
  const rest = fields.filter(([fieldName]) => fieldName.toLowerCase() !== name.toLowerCase());
  return value === undefined ? rest : [...rest, [name, value]];
}

async function post(fields: Field[], headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const form = new FormData();
  for (const field of fields) {
    if (field.length === 3) form.append(field[0], field[1], field[2]);
    else form.append(field[0], field[1]);
  }
  const response = await fetch(`${server.url}/${BUCKET}/`, { method: 'POST', body: form, headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
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

function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex').toUpperCase();
}

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

describe('PostObject refused', () => {
  async function expectRefusal(fields: Field[], status: number, code: string, message?: string | RegExp) {
    // Act
    const response = await post(fields);

    // Assert
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(xmlElement(response.body, 'Code')).toBe(code);
    if (typeof message === 'string') expect(xmlElement(response.body, 'Message')).toBe(message);
    else if (message !== undefined) expect(xmlElement(response.body, 'Message')).toMatch(message);
    expect(server.requests()).toEqual([expect.objectContaining({ method: 'POST', bucket: BUCKET, status, code })]);
    expect(notifications).toEqual([]);
    return response;
  }

  it('refuses an expired policy with AccessDenied "Policy expired."', async () => {
    // Arrange
    const fields = [...signedFields(uploadPolicy({ expiration: new Date(Date.now() - 1000).toISOString() })), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  });

  it('refuses a key other than the one the policy names, quoting the failed condition', async () => {
    // Arrange
    const fields = [...withField(signedFields(), 'key', 'uploads/somebody-elses.png'), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/browser-photo.png"]');
    expect(server.listKeys(BUCKET)).not.toContain('uploads/somebody-elses.png');
  });

  it('refuses a Content-Type field that is not an image', async () => {
    // Arrange
    const fields = [...withField(signedFields(), 'Content-Type', 'text/html'), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]');
  });

  it('refuses a file larger than content-length-range allows with EntityTooLarge', async () => {
    // Arrange
    const policy = uploadPolicy({ conditions: [['content-length-range', 1, 10]] });
    const fields = [...signedFields(policy), pngFile(Buffer.alloc(11))];

    // Act + Assert
    const response = await expectRefusal(fields, 400, 'EntityTooLarge');
    expect(xmlElement(response.body, 'MaxSizeAllowed')).toBe('10');
  });

  it('refuses a file smaller than content-length-range allows with EntityTooSmall', async () => {
    // Arrange
    const policy = uploadPolicy({ conditions: [['content-length-range', 5, 10]] });
    const fields = [...signedFields(policy), pngFile(Buffer.alloc(4))];

    // Act + Assert
    const response = await expectRefusal(fields, 400, 'EntityTooSmall');
    expect(xmlElement(response.body, 'MinSizeAllowed')).toBe('5');
  });

  it('refuses a signature made with another secret with SignatureDoesNotMatch', async () => {
    // Arrange
    const fields = signedFields();
    const encoded = fields.find(([name]) => name === 'policy')?.[1] as string;
    const forged = withField(fields, 'Signature', signV1('not-the-secret', encoded));

    // Act + Assert
    await expectRefusal([...forged, pngFile()], 403, 'SignatureDoesNotMatch');
  });

  it('refuses a policy changed after it was signed with SignatureDoesNotMatch', async () => {
    // Arrange
    const widened = Buffer.from(JSON.stringify(uploadPolicy({ conditions: [] }))).toString('base64');
    const fields = withField(signedFields(), 'policy', widened);

    // Act + Assert
    await expectRefusal([...fields, pngFile()], 403, 'SignatureDoesNotMatch');
  });

  it('refuses an STS AccessKey ID without its security token with InvalidAccessKeyId', async () => {
    // Arrange
    const fields = [...withField(signedFields(), 'x-oss-security-token', undefined), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'InvalidAccessKeyId', /The Security Token may be lost/);
  });

  it('refuses a wrong security token with InvalidSecurityToken', async () => {
    // Arrange
    const fields = [...withField(signedFields(), 'x-oss-security-token', 'another-token'), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'InvalidSecurityToken');
  });

  it('refuses an unknown AccessKey ID with InvalidAccessKeyId', async () => {
    // Arrange
    const fields = [...withField(signedFields(), 'OSSAccessKeyId', 'STS.NobodyKnowsThisKey'), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  });

  it.each(['policy', 'OSSAccessKeyId', 'Signature'])('refuses a signed form without its %s field', async (missing) => {
    // Arrange
    const fields = [...withField(signedFields(), missing, undefined), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 400, 'InvalidArgument', new RegExp(`field named '${missing}'`));
  });

  it('refuses an unsigned form to a private bucket with AccessDenied', async () => {
    // Arrange
    const fields: Field[] = [['key', KEY], ['Content-Type', 'image/png'], pngFile()];

    // Act
    await expectRefusal(fields, 403, 'AccessDenied');

    // Assert
    expect(server.requests()[0]?.auth).toBe('anonymous');
  });

  it.each([
    ['a policy that is not JSON', 'this is not json', /^Invalid Policy: Invalid JSON/],
    ['a policy without conditions', JSON.stringify({ expiration: '2030-01-01T00:00:00.000Z' }), /Simple-Conditions must have exactly one property/],
    ['conditions that are not a list', JSON.stringify({ expiration: '2030-01-01T00:00:00.000Z', conditions: 123 }), /Conditions must be a list/],
    [
      'a content-length-range that is not two integers',
      JSON.stringify({ expiration: '2030-01-01T00:00:00.000Z', conditions: [['content-length-range', [1], 'test']] }),
      /content-length-range/,
    ],
    ['an expiration that is not ISO 8601 UTC', JSON.stringify({ expiration: 'tomorrow', conditions: [] }), /Invalid expiration/],
  ])('refuses %s with InvalidPolicyDocument', async (_case, document, message) => {
    // Arrange: signed correctly, so only the document itself is wrong.
    const encoded = Buffer.from(document).toString('base64');
    const fields = withField(withField(signedFields(), 'policy', encoded), 'Signature', signV1(CREDENTIAL.accessKeySecret, encoded));

    // Act + Assert
    await expectRefusal([...fields, pngFile()], 400, 'InvalidPolicyDocument', message);
  });

  it('ignores fields after the file, so a key sent after it is missing', async () => {
    // Arrange
    const policy = uploadPolicy({ conditions: [['content-length-range', 1, 1024]] });
    const fields = [...withField(signedFields(policy), 'key', undefined), pngFile(), ['key', KEY] as Field];

    // Act + Assert
    await expectRefusal(fields, 400, 'InvalidArgument', /field named 'key'/);
  });

  it('refuses a signed form without a file with MalformedPOSTRequest', async () => {
    // Arrange
    const fields = signedFields();

    // Act + Assert
    await expectRefusal(fields, 400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  });

  it('refuses a body that is not well-formed multipart with MalformedPOSTRequest', async () => {
    // Act
    const response = await fetch(`${server.url}/${BUCKET}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nnever closed',
    });

    // Assert
    expect(response.status).toBe(400);
    expect(xmlElement(await response.text(), 'Code')).toBe('MalformedPOSTRequest');
  });
});
