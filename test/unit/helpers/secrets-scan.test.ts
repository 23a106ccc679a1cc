const { scanLogText } = require('../../helpers/secrets-scan') as { scanLogText: (text: string) => { line: number; kind: string; excerpt: string }[] };

describe('the secrets check that runs over every log line of the suite', () => {
  it.each([
    ['a bearer token', '{"message":"http request","header":"Bearer abcdef0123456789"}', 'bearer token'],
    ['a signed-URL signature', '{"url":"http://localhost/b/k.jpg?OSSAccessKeyId=STS.x&Expires=1&Signature=abcd%2Bef"}', 'signed-URL signature'],
    [
      'an ACS3 signature',
      `{"authorization":"ACS3-HMAC-SHA256 Credential=STS.x,SignedHeaders=host,Signature=${'a'.repeat(64)}"}`,
      'ACS3 authorization signature',
    ],
    ['a webhook secret', `{"message":"signing with whsec_${'A'.repeat(43)}="}`, 'webhook secret'],
    ['an AccessKeySecret field', '{"credentials":{"accessKeySecret":"real-looking-secret"}}', 'secret-named field with a value'],
    ['a SecurityToken field', '{"SecurityToken":"CAIS...token"}', 'secret-named field with a value'],
    ['the local STS secret anywhere', '{"message":"signing with local-dev-secret"}', 'local accessKeySecret'],
    ['the local STS token anywhere', '{"message":"token local-dev-security-token"}', 'local securityToken'],
  ])('finds %s and masks it in its report', (_case, line, kind) => {
    // Act
    const findings = scanLogText(`{"message":"clean"}\n${line}\n`);

    // Assert
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ line: 2, kind })]));
    for (const finding of findings) expect(finding.excerpt).toContain('(masked)');
  });

  it('passes the redacted forms the logger writes', () => {
    // Arrange
    const redacted = [
      '{"authorization":"[REDACTED]","accessKeySecret":"[REDACTED]","securityToken":"[REDACTED]"}',
      '{"url":"https://b.oss-cn-shanghai.aliyuncs.com/k.jpg?OSSAccessKeyId=[REDACTED]&Expires=1&Signature=[REDACTED]"}',
      '{"message":"answers 401 for a missing bearer token"}',
    ].join('\n');

    // Act
    const findings = scanLogText(redacted);

    // Assert
    expect(findings).toEqual([]);
  });
});
