/**
 * Server-side verification of Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256, for local stand-ins of
 * Alibaba endpoints (RPC style as ICE uses it, ROA paths as the FC invoke API uses them).
 *
 * Written from the public spec, NOT from @alicloud/openapi-util: its purpose is to catch mistakes in what a client
 * sends, so it must not share the client's code. Sources:
 * - [V3SIG]  "Request syntax and signature method V3" (Alibaba Cloud SDK docs,
 *            https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature), summarised
 *            in docs/platform-facts.md, "ACS3-HMAC-SHA256".
 * - [COMMON] Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438, and "管控OpenAPI的客户端公用错误码",
 *            developer.aliyun.com/ask/278265): codes, messages and statuses used below.
 * - [FAASCMD] Alibaba Cloud error table listing the InvalidSecurityToken.* codes with status 400 and their messages.
 * Where the spec is silent the choice is marked "local choice".
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
/** [COMMON] InvalidTimeStamp.Expired: the request time and the server time are more than 15 minutes apart. */
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/** What a local endpoint knows about one AccessKey. */
export interface Acs3Secret {
  accessKeySecret: string;
  /** Set for STS credentials: the request must then carry exactly this token in x-acs-security-token. */
  securityToken?: string;
  /** When the STS token stops being accepted. */
  expiresAt?: Date;
}

/** Remembers signature nonces; a plain Set<string> will do, NonceCache also forgets old ones. */
interface NonceStore {
  has(key: string): boolean;
  add(key: string): unknown;
}

export interface Acs3Request {
  method: string;
  /** The path exactly as it was on the wire (still percent-encoded), e.g. "/" or "/2023-03-30/functions/x/invocations". */
  path: string;
  /** Decoded query parameters; a repeated name carries all its values. */
  query: Record<string, string | string[]>;
  /** Node's IncomingMessage.headers (lowercased names). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Acs3VerifyOptions extends Acs3Request {
  lookupSecret(accessKeyId: string): Acs3Secret | undefined;
  /** Default: the current time. */
  now?: Date;
  /** Default DEFAULT_MAX_SKEW_MS. */
  maxSkewMs?: number;
  /** Without it, nonce reuse is not checked. */
  seenNonces?: NonceStore;
}

export type Acs3Verdict = { ok: true; accessKeyId: string } | { ok: false; status: number; code: string; message: string };

/** The parts of an Authorization header. */
interface Acs3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** The error codes verifyAcs3Request answers with. */
const ACS3_ERRORS = {
  /** Missing{ParameterName} [COMMON], for the Authorization header. */
  missingAuthorization: 'MissingAuthorization',
  /** [COMMON] "The request signature does not conform to Aliyun standards." Used for every malformed-signature case. */
  incompleteSignature: 'IncompleteSignature',
  invalidSignatureMethod: 'InvalidSignatureMethod',
  invalidTimeStampFormat: 'InvalidTimeStamp.Format',
  invalidTimeStampExpired: 'InvalidTimeStamp.Expired',
  accessKeyNotFound: 'InvalidAccessKeyId.NotFound',
  missingSecurityToken: 'MissingSecurityToken',
  securityTokenMismatch: 'InvalidSecurityToken.MismatchWithAccessKey',
  securityTokenExpired: 'InvalidSecurityToken.Expired',
  signatureDoesNotMatch: 'SignatureDoesNotMatch',
  /**
   * Local choice: no public code for a body that does not hash to x-acs-content-sha256 was found. Named after the
   * documented ContentMD5NotMatched [COMMON], which plays the same role for Content-MD5.
   */
  contentSha256NotMatched: 'ContentSha256NotMatched',
  signatureNonceUsed: 'SignatureNonceUsed',
} as const;

const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;
const ACS_HEADER_PREFIX = 'x-acs-';
const HOST_HEADER = 'host';
const CONTENT_TYPE_HEADER = 'content-type';
const AUTHORIZATION_HEADER = 'authorization';
const DATE_HEADER = 'x-acs-date';
const NONCE_HEADER = 'x-acs-signature-nonce';
const CONTENT_SHA256_HEADER = 'x-acs-content-sha256';
const SECURITY_TOKEN_HEADER = 'x-acs-security-token';
const ACCESS_KEY_ID_HEADER = 'x-acs-accesskey-id';
/** [V3SIG] x-acs-date is ISO 8601 in UTC, to the second: 2026-11-23T23:51:52Z. */
const ACS_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** RFC 3986 section 2.3: the only characters left as they are. */
const UNRESERVED_BYTE = /^[A-Za-z0-9\-_.~]$/;
/** Node joins repeated headers (other than a few well-known ones) with ", "; [V3SIG] wants the values sorted and comma-joined. */
const REPEATED_HEADER_SEPARATOR = ',';

/** RFC 3986 percent-encoding of the UTF-8 bytes of `s`: everything but A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex). */
export function rfc3986Encode(s: string): string {
  let encoded = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += UNRESERVED_BYTE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/**
 * [V3SIG] CanonicalQueryString: name=value pairs, both RFC 3986-encoded, sorted by encoded name, joined by "&".
 * A repeated name (not covered by the spec; RPC clients flatten lists into Name.1, Name.2) yields one pair per value,
 * sorted by encoded value: local choice.
 */
export function canonicalQueryString(query: Record<string, string | string[]>): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, values] of Object.entries(query)) {
    for (const value of Array.isArray(values) ? values : [values]) pairs.push([rfc3986Encode(name), rfc3986Encode(value)]);
  }
  // Encoded strings are pure ASCII, so code-unit order is byte order.
  pairs.sort(([nameA, valueA], [nameB, valueB]) => compareAscii(nameA, nameB) || compareAscii(valueA, valueB));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** [V3SIG] CanonicalHeaders: `name:trimmed value\n` for each signed header, in the order given (which must be sorted). */
function canonicalHeaders(headers: Acs3Request['headers'], signedHeaders: readonly string[]): string {
  return signedHeaders.map((name) => `${name}:${headerValue(headers[name]) ?? ''}\n`).join('');
}

/**
 * [V3SIG] CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload.
 * CanonicalURI is the path as sent (already percent-encoded by the client), "/" when empty.
 */
export function canonicalRequest(request: Omit<Acs3Request, 'body'>, signedHeaders: readonly string[], hashedPayload: string): string {
  return [
    request.method.toUpperCase(),
    request.path || '/',
    canonicalQueryString(request.query),
    // CanonicalHeaders ends with its own "\n", so the join adds the blank line the spec shows.
    canonicalHeaders(request.headers, signedHeaders),
    signedHeaders.join(';'),
    hashedPayload,
  ].join('\n');
}

/** [V3SIG] StringToSign = "ACS3-HMAC-SHA256\n" + hex(sha256(CanonicalRequest)). */
export function stringToSign(canonical: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
}

/** [V3SIG] Signature = hex(hmac_sha256(AccessKeySecret, StringToSign)). */
export function sign(secret: string, toSign: string): string {
  return createHmac('sha256', secret).update(toSign, 'utf8').digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>"; undefined when malformed. */
function parseAuthorization(value: string): Acs3Authorization | undefined {
  const match = /^(\S+)\s+(.+)$/.exec(value.trim());
  if (!match) return undefined;
  const algorithm = match[1] as string;
  const rest = match[2] as string;
  const parts = new Map<string, string>();
  for (const part of rest.split(',')) {
    const separator = part.indexOf('=');
    if (separator === -1) return undefined;
    const key = part.slice(0, separator).trim();
    if (parts.has(key)) return undefined;
    parts.set(key, part.slice(separator + 1).trim());
  }
  const accessKeyId = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature || parts.size !== 3) return undefined;
  return { algorithm, accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

/**
 * Checks a request the way an Alibaba Cloud gateway checks a V3-signed one. Order: Authorization syntax, required
 * headers, timestamp, which headers are signed, AccessKey, STS token, signature, body hash, nonce. The nonce is only
 * remembered once everything else passed, so a rejected request does not burn it.
 */
export function verifyAcs3Request(options: Acs3VerifyOptions): Acs3Verdict {
  const { headers } = options;
  const now = options.now ?? new Date();
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;

  const authorizationValue = headerValue(headers[AUTHORIZATION_HEADER]);
  if (!authorizationValue) return reject(ACS3_ERRORS.missingAuthorization, 'Authorization is mandatory for this action.');
  const authorization = parseAuthorization(authorizationValue);
  if (!authorization) return incomplete('the Authorization header is not "<algorithm> Credential=...,SignedHeaders=...,Signature=..."');
  if (authorization.algorithm !== ACS3_ALGORITHM) {
    return reject(ACS3_ERRORS.invalidSignatureMethod, `Specified signature method is not valid: only ${ACS3_ALGORITHM} is supported.`);
  }

  for (const required of [HOST_HEADER, DATE_HEADER, NONCE_HEADER, CONTENT_SHA256_HEADER]) {
    if (!headerValue(headers[required])) return incomplete(`the ${required} header is missing`);
  }
  const date = headerValue(headers[DATE_HEADER]) as string;
  const timestamp = Date.parse(date);
  if (!ACS_DATE_PATTERN.test(date) || Number.isNaN(timestamp)) {
    return reject(
      ACS3_ERRORS.invalidTimeStampFormat,
      `Specified time stamp or date value is not well formatted: ${DATE_HEADER} must look like 2026-01-02T03:04:05Z.`,
    );
  }
  if (Math.abs(now.getTime() - timestamp) > maxSkewMs) {
    return reject(
      ACS3_ERRORS.invalidTimeStampExpired,
      `Specified time stamp or date value is expired: ${date} is more than ${maxSkewMs / 1000} seconds from server time ${formatAcsDate(now)}.`,
    );
  }

  const coverageProblem = signedHeadersProblem(authorization.signedHeaders, headers);
  if (coverageProblem) return incomplete(coverageProblem);
  const declaredKeyId = headerValue(headers[ACCESS_KEY_ID_HEADER]);
  if (declaredKeyId !== undefined && declaredKeyId !== authorization.accessKeyId) {
    return incomplete(`${ACCESS_KEY_ID_HEADER} does not match the Credential of the Authorization header`);
  }

  const secret = options.lookupSecret(authorization.accessKeyId);
  if (!secret) return reject(ACS3_ERRORS.accessKeyNotFound, 'Specified access key is not found.', HTTP_NOT_FOUND);
  const tokenProblem = securityTokenProblem(secret, headerValue(headers[SECURITY_TOKEN_HEADER]), now);
  if (tokenProblem) return tokenProblem;

  const contentSha256 = (headerValue(headers[CONTENT_SHA256_HEADER]) as string).toLowerCase();
  const toSign = stringToSign(canonicalRequest(options, authorization.signedHeaders, contentSha256));
  if (!equalSecrets(sign(secret.accessKeySecret, toSign), authorization.signature.toLowerCase())) {
    // The same wording ICE uses; the string to sign holds only a hash, so it reveals nothing secret.
    return reject(ACS3_ERRORS.signatureDoesNotMatch, `Specified signature is not matched with our calculation. server string to sign is:${toSign}`);
  }
  if (!SHA256_HEX_PATTERN.test(contentSha256) || contentSha256 !== sha256Hex(options.body)) {
    return reject(
      ACS3_ERRORS.contentSha256NotMatched,
      `Specified ${CONTENT_SHA256_HEADER} does not match the SHA-256 of the ${options.body.length}-byte body received.`,
    );
  }

  if (options.seenNonces) {
    // Scoped per AccessKey: two callers may pick the same random nonce without replaying anything.
    const nonceKey = `${authorization.accessKeyId}\n${headerValue(headers[NONCE_HEADER])}`;
    if (options.seenNonces.has(nonceKey)) return reject(ACS3_ERRORS.signatureNonceUsed, 'Specified signature nonce was used already.');
    options.seenNonces.add(nonceKey);
  }
  return { ok: true, accessKeyId: authorization.accessKeyId };
}

/**
 * A NonceStore that forgets a nonce after `ttlMs`. Twice the allowed clock skew is enough: a request old enough for
 * its nonce to be forgotten already fails the timestamp check.
 */
export class NonceCache implements NonceStore {
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number = 2 * DEFAULT_MAX_SKEW_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  has(key: string): boolean {
    this.prune();
    return this.seenAt.has(key);
  }

  add(key: string): void {
    this.seenAt.set(key, this.clock());
  }

  clear(): void {
    this.seenAt.clear();
  }

  private prune(): void {
    const oldest = this.clock() - this.ttlMs;
    // Map iteration follows insertion order, which is time order here.
    for (const [key, at] of this.seenAt) {
      if (at >= oldest) break;
      this.seenAt.delete(key);
    }
  }
}

/** x-acs-date for a time: ISO 8601 UTC without milliseconds. */
export function formatAcsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * [V3SIG] SignedHeaders is lowercase, sorted and must cover host, content-type (when sent) and every x-acs-* header;
 * every header it names must have been sent.
 */
function signedHeadersProblem(signedHeaders: readonly string[], headers: Acs3Request['headers']): string | undefined {
  for (let i = 0; i < signedHeaders.length; i += 1) {
    const name = signedHeaders[i] as string;
    if (name === '' || name !== name.toLowerCase()) return `SignedHeaders must be lowercase names separated by ";", got "${signedHeaders.join(';')}"`;
    if (i > 0 && compareAscii(signedHeaders[i - 1] as string, name) >= 0)
      return `SignedHeaders must be sorted and without repeats, got "${signedHeaders.join(';')}"`;
    if (headers[name] === undefined) return `the signed header ${name} was not sent`;
  }
  const signed = new Set(signedHeaders);
  const mustBeSigned = Object.keys(headers).filter((name) => name === HOST_HEADER || name === CONTENT_TYPE_HEADER || name.startsWith(ACS_HEADER_PREFIX));
  const unsigned = mustBeSigned.filter((name) => !signed.has(name));
  return unsigned.length > 0 ? `these headers must be signed: ${unsigned.sort().join(', ')}` : undefined;
}

function securityTokenProblem(secret: Acs3Secret, sentToken: string | undefined, now: Date): Acs3Verdict | undefined {
  if (secret.securityToken === undefined) {
    // Local choice: a token sent with a long-term AccessKey cannot belong to it.
    return sentToken === undefined ? undefined : reject(ACS3_ERRORS.securityTokenMismatch, 'Specified SecurityToken mismatch with the AccessKey.');
  }
  if (sentToken === undefined) return reject(ACS3_ERRORS.missingSecurityToken, 'SecurityToken is mandatory for this action.');
  if (!equalSecrets(sentToken, secret.securityToken)) {
    return reject(ACS3_ERRORS.securityTokenMismatch, 'Specified SecurityToken mismatch with the AccessKey.');
  }
  if (secret.expiresAt && secret.expiresAt.getTime() <= now.getTime()) {
    return reject(ACS3_ERRORS.securityTokenExpired, 'Specified SecurityToken is expired.');
  }
  return undefined;
}

/** One header value, trimmed; repeated values sorted and comma-joined [V3SIG]. */
function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value)
    ? value
        .map((item) => item.trim())
        .sort(compareAscii)
        .join(REPEATED_HEADER_SEPARATOR)
    : value.trim();
}

/** Constant-time comparison, so response timing does not reveal how much of a signature or token was right. */
function equalSecrets(a: string, b: string): boolean {
  const bytesA = Buffer.from(a, 'utf8');
  const bytesB = Buffer.from(b, 'utf8');
  return bytesA.length === bytesB.length && timingSafeEqual(bytesA, bytesB);
}

function compareAscii(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function incomplete(detail: string): Acs3Verdict {
  return reject(ACS3_ERRORS.incompleteSignature, `The request signature does not conform to Aliyun standards: ${detail}.`);
}

function reject(code: string, message: string, status: number = HTTP_BAD_REQUEST): Acs3Verdict {
  return { ok: false, status, code, message };
}
