import { canonicalizedOssHeaders, canonicalizedResource, signV1, stringToSignV1, verifyOssHeaderSignature } from '../../../local/oss/signature';
import { BUCKET, CREDENTIAL } from './harness';

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
