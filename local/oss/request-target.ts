/**
 * Where a request to the local OSS server points: bucket, key and query, read from the request target and the Host
 * header, with OSS's object naming rules checked on the way.
 *
 * Addressing. ali-oss 6.x with an IP endpoint (`endpoint: server.url`) sends the key as the whole path and names
 * the bucket only in the Host header, "<bucket>.oss-<region>.aliyuncs.com" (lib/common/utils/createRequest.js:108-112,
 * lib/common/client/getReqUrl.js:18). So a request whose host is a name is virtual-hosted (bucket = first label),
 * and a request to an IP or "localhost" is path-style, "/<bucket>/<key>" (plain fetch of `objectUrl`, and ali-oss
 * with `endpoint: server.localhostUrl, sldEnable: true`, which is also the only way to use `signatureUrl` locally:
 * ali-oss refuses IP endpoints there, lib/common/object/signatureUrl.js:17).
 */
import { isIP } from 'node:net';
import type { QueryParams } from './signature';
import { invalidArgument, OssError } from './errors';

export const LOCALHOST = 'localhost';
/** [API] object naming: 1-1023 bytes of UTF-8, not starting with "/" or "\". */
const MAX_KEY_BYTES = 1023;
/** A request target in absolute form ("http://host/path"), which a proxy-style client may send. */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/** Where a request points: bucket (undefined at service level), unescaped key ("" for the bucket) and query. */
export interface Target {
  bucket: string | undefined;
  key: string;
  query: QueryParams;
  /** Whether the bucket was named in the path ("/<bucket>/<key>") rather than the Host. */
  pathStyle: boolean;
}

/** Virtual-hosted for host names, path-style for IPs and localhost (see "Addressing" above). */
export function parseTarget(requestTarget: string, host: string): Target {
  const originForm = requestTarget.replace(ABSOLUTE_FORM_PREFIX, '');
  const queryStart = originForm.indexOf('?');
  const rawPath = queryStart === -1 ? originForm : originForm.slice(0, queryStart);
  const query = parseQuery(queryStart === -1 ? '' : originForm.slice(queryStart + 1));
  const hostname = host
    .replace(/:\d*$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();

  let bucket: string | undefined;
  let rawKey: string;
  if (hostname === '' || hostname === LOCALHOST || isIP(hostname) !== 0) {
    const [, first = '', rest] = /^\/([^/]*)(?:\/(.*))?$/s.exec(rawPath) ?? [];
    bucket = first === '' ? undefined : first;
    rawKey = rest ?? '';
  } else {
    bucket = hostname.split('.')[0];
    rawKey = rawPath.slice(1);
  }
  let key: string;
  try {
    key = decodeURIComponent(rawKey);
  } catch {
    throw new OssError(400, 'InvalidObjectName', 'The object name is not valid percent-encoded UTF-8.');
  }
  if (key !== '' && (Buffer.byteLength(key) > MAX_KEY_BYTES || key.startsWith('/') || key.startsWith('\\'))) {
    throw new OssError(400, 'InvalidObjectName', 'The specified object is not valid.', { ObjectName: key });
  }
  return { bucket, key, query, pathStyle: hostname === '' || hostname === LOCALHOST || isIP(hostname) !== 0 };
}

/**
 * RFC 3986 decoding: "+" stays "+" (unverified for OSS; SDKs send spaces as %20 and "+" as %2B, so either reading
 * agrees for them). The first value of a repeated parameter wins.
 */
function parseQuery(rawQuery: string): QueryParams {
  const params: Record<string, string> = Object.create(null);
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    try {
      const name = decodeURIComponent(equals === -1 ? part : part.slice(0, equals));
      if (!(name in params)) params[name] = equals === -1 ? '' : decodeURIComponent(part.slice(equals + 1));
    } catch {
      throw invalidArgument('The query string is not valid percent-encoded UTF-8.');
    }
  }
  return params;
}
