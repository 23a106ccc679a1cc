import {
  BUCKET,
  client,
  CREDENTIAL,
  EXPIRED_CREDENTIAL,
  failureOf,
  logLines,
  PUBLIC_BUCKET,
  REGION,
  server,
  signingClient,
  useLocalOssServer,
  xmlElement,
} from './harness';

useLocalOssServer();

describe('local OSS server driven by ali-oss: signatures, STS tokens, signed URLs and anonymous access', () => {
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
