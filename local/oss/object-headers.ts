/**
 * Object headers for the local OSS server: what a PutObject/CopyObject request's headers say about the object
 * (x-oss-meta-*, Content-MD5, x-oss-copy-source), and the headers GetObject/HeadObject answer with, including the
 * response-* overrides. Kept apart so the server's operations read as steps, not header arithmetic.
 *
 * Sources:
 * - [API]      OSS API reference pages PutObject, CopyObject, GetObject, HeadObject: headers and parameters.
 * - [EC]       OSS error centre pages 0017-00000502 / 0017-00000503 (Content-MD5 malformed / not matching the body),
 *              0011-00000002 (user metadata, every x-oss-meta-* name and value together, must stay under 8 KB; the
 *              page names no error code: InvalidArgument here is unverified).
 */
import { validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import type { QueryParams } from './signature';
import { invalidArgument, notImplemented, OssError } from './errors';
import type { StoredObject } from './object-store';

export const COPY_SOURCE_HEADER = 'x-oss-copy-source';
const USER_META_PREFIX = 'x-oss-meta-';
/** GetObject's response-* parameters and the header each one overrides [API]. */
const RESPONSE_OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];
/** The response-* parameters, which are signed sub-resources. */
export const RESPONSE_OVERRIDE_PARAMS: readonly string[] = RESPONSE_OVERRIDES.map(([param]) => param);

/** [API] CopyObject: "/<bucket>/<URL-encoded key>". */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const match = /^\/([^/]+)\/(.+)$/s.exec(value);
  if (!match) throw invalidArgument(`${COPY_SOURCE_HEADER} must look like /<bucket>/<key>`, { [COPY_SOURCE_HEADER]: value });
  const [, bucket = '', encodedKey = ''] = match;
  if (encodedKey.includes('?')) throw notImplemented('versioned copy sources');
  try {
    return { bucket, key: decodeURIComponent(encodedKey) };
  } catch {
    throw invalidArgument(`${COPY_SOURCE_HEADER} is not valid percent-encoded UTF-8`);
  }
}

/** [EC] 0017-00000502 (not 16 base64 bytes) and 0017-00000503 (does not match the body); both answer InvalidDigest. */
export function checkContentMd5(headers: IncomingHttpHeaders, actual: Buffer): void {
  if (headers['content-md5'] === undefined) return;
  const header = headerText(headers['content-md5']);
  const declared = Buffer.from(header, 'base64');
  if (declared.length !== actual.length || declared.toString('base64') !== header) {
    throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.', { 'Content-MD5': header });
  }
  if (!declared.equals(actual)) {
    throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified did not match what we received.', {
      'Content-MD5': header,
      CalculatedMD5: actual.toString('base64'),
    });
  }
}

export function userMetaOf(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(USER_META_PREFIX) && value !== undefined) meta[name] = headerText(value);
  }
  return checkUserMetaSize(meta);
}

const MAX_USER_META_BYTES = 8 * 1024;

/** [EC] 0011-00000002: an object's user metadata, names and values (as their bytes), is refused at 8 KB or more. */
export function checkUserMetaSize(meta: Record<string, string>): Record<string, string> {
  const bytes = Object.entries(meta).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1'), 0);
  if (bytes >= MAX_USER_META_BYTES) throw invalidArgument('Your metadata headers exceed the maximum allowed metadata size.', { MetaSize: String(bytes) });
  return meta;
}

export function objectHeaders(stored: StoredObject): Record<string, string | number> {
  return {
    'Content-Type': stored.contentType,
    'Content-Length': stored.size,
    ETag: quoted(stored.etag),
    'Content-MD5': Buffer.from(stored.etag, 'hex').toString('base64'),
    'Last-Modified': new Date(stored.lastModified).toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
    ...stored.userMeta,
  };
}

/** The response-* parameters of GetObject [API]. Values go out as their UTF-8 bytes, as OSS echoes them. */
export function applyResponseOverrides(headers: Record<string, string | number>, query: QueryParams): void {
  for (const [param, header] of RESPONSE_OVERRIDES) {
    const value = query[param];
    if (value === undefined) continue;
    const wire = Buffer.from(value, 'utf8').toString('latin1');
    try {
      validateHeaderValue(header, wire);
    } catch {
      throw invalidArgument(`${param} cannot be sent as a header value`, { [param]: value });
    }
    headers[header] = wire;
  }
}

/** An ETag as OSS sends it, in double quotes. */
export function quoted(etag: string): string {
  return `"${etag}"`;
}

/** A header's value as one string (Node gives repeated headers as an array). */
export function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
