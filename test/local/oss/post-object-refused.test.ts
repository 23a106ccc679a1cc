import { signV1 } from '../../../local/oss/signature';
import {
  BUCKET,
  CREDENTIAL,
  type Field,
  KEY,
  notifications,
  pngFile,
  post,
  server,
  signedFields,
  uploadPolicy,
  usePostObjectServer,
  withField,
  xmlElement,
} from './post-object-harness';

usePostObjectServer();

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

  it.each([
    ['changed', 'x-oss-meta-yike-metadata', '7b7d'],
    ['left out', 'x-oss-meta-yike-metadata', undefined],
  ])('refuses a user metadata field the policy pins when it is %s, quoting the failed condition', async (_case, name, value) => {
    // Arrange: the policy pins the field to what was signed (7b2261223a2231227d is {"a":"1"} in hex).
    const policy = uploadPolicy({
      conditions: [
        ['eq', '$key', KEY],
        ['eq', `$${name}`, '7b2261223a2231227d'],
        ['content-length-range', 1, 1024 * 1024],
      ],
    });
    const fields = [...withField(signedFields(policy, [[name, '7b2261223a2231227d']]), name, value), pngFile()];

    // Act + Assert
    await expectRefusal(fields, 403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "7b2261223a2231227d"]`);
    expect(server.listKeys(BUCKET)).not.toContain(KEY);
  });

  it('refuses user metadata of 8 KB or more, names and values together, as PutObject does', async () => {
    // Arrange: two fields whose names and values make exactly 8,192 bytes.
    const value = 'a'.repeat(4096 - 'x-oss-meta-one'.length);
    const fields = [
      ...signedFields(uploadPolicy(), [
        ['x-oss-meta-one', value],
        ['x-oss-meta-two', 'b'.repeat(4096 - 'x-oss-meta-two'.length)],
      ]),
      pngFile(),
    ];

    // Act + Assert
    await expectRefusal(fields, 400, 'InvalidArgument', 'Your metadata headers exceed the maximum allowed metadata size.');
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
