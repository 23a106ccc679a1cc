import {
  ACS3_ALGORITHM,
  NonceCache,
  canonicalQueryString,
  canonicalRequest,
  rfc3986Encode,
  sha256Hex,
  sign,
  stringToSign,
  verifyAcs3Request,
  type Acs3Request,
  type Acs3Secret,
} from '../../local/acs3';

const MINUTE_MS = 60 * 1000;

/**
 * A request signed by hand, checked with shell tools (sha256sum, openssl dgst -hmac) rather than with this module:
 *   printf '<canonical request>' | sha256sum   -> CANONICAL_REQUEST_SHA256
 *   printf 'ACS3-HMAC-SHA256\n<that hash>' | openssl dgst -sha256 -hmac example-secret -> SIGNATURE
 */
const HAND = {
  body: 'AppId=sys-ao-smith-1',
  bodySha256: 'a27ae3edced3a704cb7364c475e4d8d0ec7a89729b84a3c23638c487bbd34456',
  date: '2026-01-02T03:04:05Z',
  nonce: '0123456789abcdef0123456789abcdef',
  secret: 'example-secret',
  accessKeyId: 'LTAI5tExampleKey',
  canonicalRequestSha256: '8cfeb5820d443b51e218f35e6b6e552ad603d42652627941b44a69c16b354fee',
  signature: 'deca86c5af1839df75ad815395b8eeba50d4a9e94ecc949a92fd2721c0fbb560',
  signedHeaders: ['content-type', 'host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'],
};

function handRequest(): Acs3Request {
  return {
    method: 'POST',
    path: '/',
    query: { B: 'a b', A: '图', a: '*' },
    headers: {
      host: 'ice.cn-shanghai.aliyuncs.com',
      'content-type': 'application/x-www-form-urlencoded',
      'x-acs-action': 'SubmitYikeAIAppJob',
      'x-acs-content-sha256': HAND.bodySha256,
      'x-acs-date': HAND.date,
      'x-acs-signature-nonce': HAND.nonce,
      'x-acs-version': '2020-11-09',
      authorization: `ACS3-HMAC-SHA256 Credential=${HAND.accessKeyId},SignedHeaders=${HAND.signedHeaders.join(';')},Signature=${HAND.signature}`,
      'user-agent': 'unsigned headers are ignored',
    },
    body: Buffer.from(HAND.body),
  };
}

/** The hand request with extra headers, signed again (by the primitives checked above) over every header it must sign. */
function resigned(extraHeaders: Record<string, string>): Acs3Request {
  const request = handRequest();
  Object.assign(request.headers, extraHeaders);
  const signedHeaders = [...HAND.signedHeaders, ...Object.keys(extraHeaders)].sort();
  const signature = sign(HAND.secret, stringToSign(canonicalRequest(request, signedHeaders, HAND.bodySha256)));
  request.headers.authorization = `${ACS3_ALGORITHM} Credential=${HAND.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  return request;
}

function verifyHand(overrides: Partial<Parameters<typeof verifyAcs3Request>[0]> = {}, secret: Acs3Secret = { accessKeySecret: HAND.secret }) {
  return verifyAcs3Request({
    ...handRequest(),
    lookupSecret: (accessKeyId) => (accessKeyId === HAND.accessKeyId ? secret : undefined),
    now: new Date(HAND.date),
    ...overrides,
  });
}

describe('ACS3-HMAC-SHA256 primitives against a hand-computed example', () => {
  it('percent-encodes everything but unreserved characters, byte by byte in UTF-8 with upper-case hex', () => {
    // Arrange
    const input = "a b+c*~!'()/图-_.";

    // Act
    const encoded = rfc3986Encode(input);

    // Assert
    expect(encoded).toBe('a%20b%2Bc%2A~%21%27%28%29%2F%E5%9B%BE-_.');
  });

  it('sorts the canonical query string by encoded name, upper case before lower case', () => {
    // Arrange
    const query = handRequest().query;

    // Act
    const canonical = canonicalQueryString(query);

    // Assert
    expect(canonical).toBe('A=%E5%9B%BE&B=a%20b&a=%2A');
  });

  it('builds the canonical request, string to sign and signature that shell tools computed', () => {
    // Arrange
    const request = handRequest();

    // Act
    const canonical = canonicalRequest(request, HAND.signedHeaders, sha256Hex(request.body));
    const toSign = stringToSign(canonical);
    const signature = sign(HAND.secret, toSign);

    // Assert
    expect(sha256Hex(request.body)).toBe(HAND.bodySha256);
    expect(canonical.split('\n').slice(0, 4)).toEqual(['POST', '/', 'A=%E5%9B%BE&B=a%20b&a=%2A', 'content-type:application/x-www-form-urlencoded']);
    expect(toSign).toBe(`ACS3-HMAC-SHA256\n${HAND.canonicalRequestSha256}`);
    expect(signature).toBe(HAND.signature);
  });
});

describe('verifyAcs3Request', () => {
  it('accepts the hand-signed request and names its AccessKey', () => {
    // Arrange / Act
    const verdict = verifyHand();

    // Assert
    expect(verdict).toEqual({ ok: true, accessKeyId: HAND.accessKeyId });
  });

  it.each([
    ['16 minutes after', 16],
    ['16 minutes before', -16],
  ])('rejects a request whose x-acs-date is %s the server clock with InvalidTimeStamp.Expired', (_case, minutes) => {
    // Arrange
    const now = new Date(Date.parse(HAND.date) + minutes * MINUTE_MS);

    // Act
    const verdict = verifyHand({ now });

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidTimeStamp.Expired' });
  });

  it('accepts a request 14 minutes old', () => {
    // Arrange
    const now = new Date(Date.parse(HAND.date) + 14 * MINUTE_MS);

    // Act
    const verdict = verifyHand({ now });

    // Assert
    expect(verdict.ok).toBe(true);
  });

  it('rejects an x-acs-date that is not ISO 8601 UTC to the second with InvalidTimeStamp.Format', () => {
    // Arrange
    const request = handRequest();
    request.headers['x-acs-date'] = 'Fri, 02 Jan 2026 03:04:05 GMT';

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidTimeStamp.Format' });
  });

  it('rejects the second use of a nonce with SignatureNonceUsed', () => {
    // Arrange
    const seenNonces = new Set<string>();

    // Act
    const first = verifyHand({ seenNonces });
    const second = verifyHand({ seenNonces });

    // Assert
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, status: 400, code: 'SignatureNonceUsed' });
  });

  it('does not burn the nonce of a request it rejected', () => {
    // Arrange
    const seenNonces = new Set<string>();

    // Act
    const rejected = verifyHand({ seenNonces, body: Buffer.from('AppId=other') });
    const accepted = verifyHand({ seenNonces });

    // Assert
    expect(rejected).toMatchObject({ ok: false, code: 'ContentSha256NotMatched' });
    expect(accepted.ok).toBe(true);
  });

  it('rejects a SignedHeaders list that leaves out an x-acs-* header that was sent', () => {
    // Arrange
    const request = handRequest();
    const withoutVersion = HAND.signedHeaders.filter((name) => name !== 'x-acs-version');
    request.headers.authorization = `ACS3-HMAC-SHA256 Credential=${HAND.accessKeyId},SignedHeaders=${withoutVersion.join(';')},Signature=${HAND.signature}`;

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'IncompleteSignature', message: expect.stringContaining('x-acs-version') });
  });

  it('rejects a SignedHeaders list naming a header that was not sent', () => {
    // Arrange
    const request = handRequest();
    delete request.headers['x-acs-version'];

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, code: 'IncompleteSignature', message: expect.stringContaining('x-acs-version was not sent') });
  });

  it('rejects another signature algorithm with InvalidSignatureMethod', () => {
    // Arrange
    const request = handRequest();
    request.headers.authorization = (request.headers.authorization as string).replace(ACS3_ALGORITHM, 'ACS3-HMAC-SM3');

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidSignatureMethod' });
  });

  it('requires the configured token of an STS key, refuses another token and refuses it once expired', () => {
    // Arrange
    const token = 'token-1';
    const sts: Acs3Secret = { accessKeySecret: HAND.secret, securityToken: token, expiresAt: new Date(Date.parse(HAND.date) + MINUTE_MS) };
    const withToken = (sent: string) => resigned({ 'x-acs-security-token': sent });

    // Act
    const withoutToken = verifyHand({}, sts);
    const wrongToken = verifyHand(withToken('token-2'), sts);
    const rightToken = verifyHand(withToken(token), sts);
    const expired = verifyHand({ ...withToken(token), now: new Date(Date.parse(HAND.date) + 2 * MINUTE_MS) }, sts);

    // Assert
    expect(withoutToken).toMatchObject({ ok: false, status: 400, code: 'MissingSecurityToken' });
    expect(wrongToken).toMatchObject({ ok: false, status: 400, code: 'InvalidSecurityToken.MismatchWithAccessKey' });
    expect(rightToken.ok).toBe(true);
    expect(expired).toMatchObject({ ok: false, status: 400, code: 'InvalidSecurityToken.Expired' });
  });
});

describe('NonceCache', () => {
  it('forgets a nonce once its time to live has passed', () => {
    // Arrange
    let now = 0;
    const cache = new NonceCache(1000, () => now);
    cache.add('nonce');

    // Act
    now = 999;
    const remembered = cache.has('nonce');
    now = 1001;
    const forgotten = !cache.has('nonce');

    // Assert
    expect(remembered).toBe(true);
    expect(forgotten).toBe(true);
  });
});
