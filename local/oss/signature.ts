/**
 * OSS V1 signatures (HMAC-SHA1), checked the way OSS checks them. Written from the OSS documents, not from ali-oss:
 * the local OSS server uses it to catch signing mistakes a client makes, so it must not share the client's code.
 *
 * Sources:
 * - [V1HEADER] "Include a V1 signature in the Authorization header",
 *              https://www.alibabacloud.com/help/en/oss/developer-reference/include-signatures-in-the-authorization-header
 *              (also its worked example: secret "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV" signs PUT /oss-example/nelson
 *              as "26NBxoKdsyly4EDv6inkoDft/yA=").
 * - [V1URL]    "Include a V1 signature in a URL" (OSS developer reference): OSSAccessKeyId, Expires (epoch seconds),
 *              Signature, and security-token for STS; Expires takes the place of Date in the string to sign.
 * - [ERR403]   "HTTP 403 status code" (OSS error codes): InvalidAccessKeyId, SignatureDoesNotMatch,
 *              InvalidSecurityToken, AccessKeyIdAndSecurityTokenNotMatch, SecurityTokenExpired, RequestTimeTooSkewed
 *              (15 minutes), AccessDenied "Request has expired." / "Query string authentication requires the
 *              Signature, Expires and OSSAccessKeyId parameters" / "Invalid date (should be seconds since epoch)".
 * - [EC]       OSS error centre pages https://help.aliyun.com/en/oss/user-guide/<EC>: 0002-00000003 (STS AccessKey ID
 *              without its token: InvalidAccessKeyId, message "... The Security Token may be lost to specify that it
 *              is a STS Access Id.", as also seen in a real OSS answer quoted in lucky1213/aliyun_oss#19),
 *              0002-00000007 (token expired), 0002-00000008 (token does not match), 0002-00000503 (no Date and no
 *              x-oss-date).
 * - [SUBRES]   The sub-resources that go into CanonicalizedResource: the list of the official Python SDK (oss2,
 *              auth.py, ProviderAuth._subresource_key_set), the most complete published list.
 * Anything marked "unverified" is our best guess where no document was found.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LocalCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** Set for STS credentials: every request signed with this key must then carry exactly this token. */
  securityToken?: string;
  /** Requests after this instant fail with SecurityTokenExpired, as lapsed STS credentials do. */
  expiresAt?: Date;
}

export type CredentialLookup = (accessKeyId: string) => LocalCredential | undefined;

/** Request headers as Node's IncomingMessage.headers holds them: lower-case names, each wire byte one character. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Decoded query parameters; a parameter without "=" has the value "". */
export type QueryParams = Readonly<Record<string, string>>;

/** An OSS error answer: status, code, message, and the extra elements OSS adds to the error XML. */
export interface OssAuthFailure {
  status: number;
  code: string;
  message: string;
  details: Record<string, string>;
}

export type OssAuthResult = { ok: true; credential: LocalCredential } | { ok: false; failure: OssAuthFailure };

export interface HeaderSignatureRequest {
  method: string;
  /** Undefined for service-level requests (no bucket in the host or path). */
  bucket: string | undefined;
  /** The object key, unescaped; "" for bucket-level requests. */
  key: string;
  query: QueryParams;
  headers: RequestHeaders;
  lookupSecret: CredentialLookup;
  now?: Date;
}

/** A signed URL still signs the request's Content-MD5, Content-Type and x-oss-* headers [V1URL]. */
export type SignedUrlRequest = HeaderSignatureRequest;

/** [SUBRES]: query parameters that belong in CanonicalizedResource; every other parameter is left out. */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl',
  'append',
  'asyncFetch',
  'bucketInfo',
  'callback',
  'callback-var',
  'comp',
  'continuation-token',
  'cors',
  'delete',
  'encryption',
  'endTime',
  'group',
  'inventory',
  'inventoryId',
  'lifecycle',
  'link',
  'live',
  'location',
  'logging',
  'objectInfo',
  'objectMeta',
  'partNumber',
  'policy',
  'position',
  'qos',
  'qosInfo',
  'referer',
  'replication',
  'replicationLocation',
  'replicationProgress',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'security-token',
  'sequential',
  'startTime',
  'stat',
  'status',
  'symlink',
  'tagging',
  'transferAcceleration',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'vod',
  'website',
  'worm',
  'wormExtend',
  'wormId',
  'x-oss-process',
  'x-oss-request-payer',
  'x-oss-traffic-limit',
]);

/** [ERR403]: a header-signed request more than 15 minutes away from the server clock is refused. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const OSS_HEADER_PREFIX = 'x-oss-';
const SECURITY_TOKEN_HEADER = 'x-oss-security-token';
const SECURITY_TOKEN_PARAM = 'security-token';
const OSS_DATE_HEADER = 'x-oss-date';
const AUTHORIZATION_V1 = /^OSS ([^:\s]+):(\S+)$/;
/** ali-oss and the other SDKs name the V4 algorithm this way, in the header and in the URL. */
const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
const V4_URL_PARAM = 'x-oss-signature-version';
const MS_PER_SECOND = 1000;
const EPOCH_SECONDS = /^\d+$/;
/** Stands in for the caller's security token in error details: the answer may end up in logs. */
const REDACTED = '<redacted>';

/** "/<bucket>/<key>" with the sub-resources of the query, sorted by name, "name" or "name=value" [V1HEADER]. */
export function canonicalizedResource(bucket: string | undefined, key: string, query: QueryParams): string {
  const path = bucket === undefined ? '/' : `/${bucket}/${key}`;
  const subresources = Object.keys(query)
    .filter((name) => SIGNED_SUBRESOURCES.has(name))
    .sort()
    .map((name) => (query[name] ? `${name}=${query[name]}` : name));
  return subresources.length === 0 ? path : `${path}?${subresources.join('&')}`;
}

/** Every x-oss-* header, name lower-cased, value trimmed, sorted by name, one "name:value\n" line each [V1HEADER]. */
export function canonicalizedOssHeaders(headers: RequestHeaders): string {
  const ossHeaders = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith(OSS_HEADER_PREFIX) && value !== undefined) ossHeaders.set(lower, wireText(value).trim());
  }
  return [...ossHeaders.keys()]
    .sort()
    .map((name) => `${name}:${ossHeaders.get(name)}\n`)
    .join('');
}

export interface StringToSignParts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date (or x-oss-date) header for a header signature; the Expires parameter for a signed URL. */
  date: string;
  canonicalizedOssHeaders: string;
  canonicalizedResource: string;
}

/** VERB\nContent-MD5\nContent-Type\nDate\n + CanonicalizedOSSHeaders + CanonicalizedResource [V1HEADER]. */
export function stringToSignV1(parts: StringToSignParts): string {
  return `${parts.method}\n${parts.contentMd5}\n${parts.contentType}\n${parts.date}\n${parts.canonicalizedOssHeaders}${parts.canonicalizedResource}`;
}

/** base64(HMAC-SHA1(secret, UTF-8 bytes of the string to sign)) [V1HEADER]. */
export function signV1(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** Checks `Authorization: OSS <AccessKeyId>:<Signature>` against the request, as OSS does. */
export function verifyOssHeaderSignature(request: HeaderSignatureRequest): OssAuthResult {
  const authorization = wireText(request.headers.authorization ?? '');
  if (authorization.startsWith(V4_ALGORITHM)) return { ok: false, failure: v4NotSupported() };
  const match = AUTHORIZATION_V1.exec(authorization);
  if (!match) {
    // Unverified: the message OSS gives for a malformed V1 Authorization header.
    return { ok: false, failure: failure(400, 'InvalidArgument', 'Authorization header is invalid.', { Authorization: 'OSS <AccessKeyId>:<Signature>' }) };
  }
  const [, accessKeyId = '', signature = ''] = match;
  const now = request.now ?? new Date();

  // ali-oss sends only x-oss-date and signs it in the Date position, so OSS must take x-oss-date when it is there.
  const date = wireText(request.headers[OSS_DATE_HEADER] ?? request.headers.date ?? '');
  const requestTime = Date.parse(date);
  if (Number.isNaN(requestTime)) {
    // [EC] 0002-00000503; the message is unverified (S3 words it the same way).
    return { ok: false, failure: failure(403, 'AccessDenied', 'OSS authentication requires a valid Date.', {}) };
  }
  if (Math.abs(now.getTime() - requestTime) > MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      failure: failure(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: date,
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
      }),
    };
  }

  const token = optionalText(request.headers[SECURITY_TOKEN_HEADER]);
  const credentialCheck = checkCredential(accessKeyId, token, request.lookupSecret, now);
  if (!credentialCheck.ok) return credentialCheck;

  return compareSignature(credentialCheck.credential, signature, requestStringToSign(request, date), token);
}

/** The V1 StringToSign of a request: the header form signs its Date, a signed URL its Expires. */
function requestStringToSign(request: HeaderSignatureRequest, dateOrExpires: string): string {
  return stringToSignV1({
    method: request.method,
    contentMd5: wireText(request.headers['content-md5'] ?? ''),
    contentType: wireText(request.headers['content-type'] ?? ''),
    date: dateOrExpires,
    canonicalizedOssHeaders: canonicalizedOssHeaders(request.headers),
    canonicalizedResource: canonicalizedResource(request.bucket, request.key, request.query),
  });
}

/** Checks a V1 signed URL (?OSSAccessKeyId=&Expires=&Signature=[&security-token=]) against the request [V1URL]. */
export function verifyOssSignedUrl(request: SignedUrlRequest): OssAuthResult {
  const { query } = request;
  if (V4_URL_PARAM in query) return { ok: false, failure: v4NotSupported() };
  const accessKeyId = query.OSSAccessKeyId;
  const expires = query.Expires;
  const signature = query.Signature;
  if (!accessKeyId || !expires || !signature) {
    return {
      ok: false,
      failure: failure(403, 'AccessDenied', 'Query string authentication requires the Signature, Expires and OSSAccessKeyId parameters', {}),
    };
  }
  if (!EPOCH_SECONDS.test(expires)) {
    return { ok: false, failure: failure(403, 'AccessDenied', 'Invalid date (should be seconds since epoch)', { Expires: expires }) };
  }
  const now = request.now ?? new Date();
  const expiresAtMs = Number(expires) * MS_PER_SECOND;
  if (now.getTime() > expiresAtMs) {
    return {
      ok: false,
      failure: failure(403, 'AccessDenied', 'Request has expired.', {
        Expires: new Date(expiresAtMs).toISOString(),
        ServerTime: now.toISOString(),
      }),
    };
  }

  const token = query[SECURITY_TOKEN_PARAM];
  const credentialCheck = checkCredential(accessKeyId, token, request.lookupSecret, now);
  if (!credentialCheck.ok) return credentialCheck;

  const stringToSign = requestStringToSign(request, expires);
  return compareSignature(credentialCheck.credential, signature, stringToSign, token);
}

/** The AccessKey ID must exist; an STS key needs its own token, unexpired [ERR403] [EC]. */
export function checkCredential(accessKeyId: string, token: string | undefined, lookup: CredentialLookup, now: Date): OssAuthResult {
  const credential = lookup(accessKeyId);
  const keyDetails = { OSSAccessKeyId: accessKeyId };
  if (!credential) {
    return { ok: false, failure: failure(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', keyDetails) };
  }
  if (credential.securityToken !== undefined && token === undefined) {
    return {
      ok: false,
      failure: failure(
        403,
        'InvalidAccessKeyId',
        'The OSS Access Key Id you provided does not exist in our records. The Security Token may be lost to specify that it is a STS Access Id.',
        keyDetails,
      ),
    };
  }
  // A token on a key that has none is as invalid as a wrong one (unverified: OSS may ignore it instead).
  if (token !== undefined && token !== credential.securityToken) {
    return { ok: false, failure: failure(403, 'InvalidSecurityToken', 'The security token you provided is invalid.', keyDetails) };
  }
  if (credential.expiresAt !== undefined && now.getTime() > credential.expiresAt.getTime()) {
    return { ok: false, failure: failure(403, 'SecurityTokenExpired', 'The security token you provided has expired.', keyDetails) };
  }
  return { ok: true, credential };
}

/**
 * Constant-time comparison. Like OSS, the answer carries the server's StringToSign so a client can diff it with its
 * own; the security token in it is redacted, and the provided signature is not echoed.
 */
function compareSignature(credential: LocalCredential, provided: string, stringToSign: string, token: string | undefined): OssAuthResult {
  const expected = Buffer.from(signV1(credential.accessKeySecret, stringToSign));
  const actual = Buffer.from(provided);
  if (expected.length === actual.length && timingSafeEqual(expected, actual)) return { ok: true, credential };
  return {
    ok: false,
    failure: failure(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        StringToSign: token ? stringToSign.split(token).join(REDACTED) : stringToSign,
        OSSAccessKeyId: credential.accessKeyId,
      },
    ),
  };
}

function v4NotSupported(): OssAuthFailure {
  return failure(
    501,
    'NotImplemented',
    `The local OSS server checks V1 signatures only; create the ali-oss client without authorizationV4 (${V4_ALGORITHM}).`,
    {},
  );
}

function failure(status: number, code: string, message: string, details: Record<string, string>): OssAuthFailure {
  return { status, code, message, details };
}

function optionalText(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : wireText(value);
}

/**
 * Node decodes header bytes as latin1, one character per byte; OSS signs the bytes themselves. Reading them back
 * as UTF-8 makes the UTF-8 string to sign reproduce those bytes for any UTF-8 header value (bytes that are not
 * UTF-8 turn into U+FFFD, so such a signature cannot match). Repeated headers are joined as Node joins them.
 */
function wireText(value: string | string[]): string {
  const text = Array.isArray(value) ? value.join(', ') : value;
  return Buffer.from(text, 'latin1').toString('utf8');
}
