/**
 * How an FC 3.0 HTTP trigger translates between HTTP and a function in the built-in Node.js runtime: the request
 * struct the function receives as its event (toFcHttpEvent) and the HTTP answer made of what it returns
 * (fromFcHttpResult). Pure functions; gateway.ts serves them on 127.0.0.1.
 *
 * Sources (FC docs, found with the project's search tool):
 * - [TRIGGER]  "Use an HTTP trigger to invoke a function" (FC 3.0, built-in runtimes),
 *              https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function
 * - [HEADERS]  "Why does the first letter of the header key become uppercase when I use an HTTP trigger to invoke a
 *              function?", https://www.alibabacloud.com/help/en/functioncompute/fc/why-does-the-first-letter-of-header-key-become-uppercase-when-using-http-trigger-call
 * Anything marked "unverified" is our best guess where no document was found.
 */
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';

/** The HTTP trigger request struct [TRIGGER]; field order follows events/fc3-http-post-jobs.json. */
export interface FcHttpEvent {
  version: 'v1';
  rawPath: string;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    time: string;
    timeEpoch: string;
  };
}

export interface FcHttpRequest {
  method: string;
  /** The raw request target, e.g. "/jobs?x=1". */
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  remoteAddress: string;
  requestId: string;
  now: Date;
  /** The trigger's domain, "<domainPrefix>.<region>.fcapp.run". */
  domainName: string;
  /** Default '1234567890123456'. */
  accountId?: string;
  /** As in IncomingMessage.httpVersion; default '1.1'. */
  httpVersion?: string;
}

export interface FcHttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Default '1234567890123456' (the made-up account of the sample events in test/fixtures/events). */
const DEFAULT_ACCOUNT_ID = '1234567890123456';
const DEFAULT_HTTP_VERSION = '1.1';
const EVENT_VERSION = 'v1';
/** [TRIGGER] shows multiple header and query values joined by a bare comma: "value1,value2". */
const MULTI_VALUE_SEPARATOR = ',';
const DEFAULT_STATUS = 200;
const MIN_STATUS = 100;
const MAX_STATUS = 599;
/** Node reports IPv4 clients of a dual-stack socket as IPv4-mapped IPv6 addresses. */
const IPV4_MAPPED_PREFIX = '::ffff:';
/** A request target in absolute form ("http://host/path"), which a proxy-style client may send. */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;
/**
 * Which bodies travel as text. [TRIGGER] only says binary bodies are Base64-encoded; which content types FC counts
 * as text is unverified. We treat text/*, JSON, XML, JavaScript and form-urlencoded as text, and additionally
 * Base64-encode any "text" that is not valid UTF-8, because a JSON string cannot carry it losslessly.
 */
const TEXT_MEDIA_TYPE = /^(text\/[^\s;]+|application\/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))$/;
/** Go's net/http, which FC uses to build the event [HEADERS], moves Host out of the header map. Unverified for FC. */
const HEADERS_NOT_IN_EVENT = new Set(['host']);
/** We frame the body ourselves; framing headers from the function would contradict it. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Maps an HTTP request to the request struct the function receives [TRIGGER]. Pure. */
export function toFcHttpEvent(req: FcHttpRequest): FcHttpEvent {
  const { rawPath, rawQuery } = splitRequestTarget(req.url);
  const headers = eventHeaders(req.rawHeaders);
  const { body, isBase64Encoded } = eventBody(req.body, firstValue(req.headers['content-type']));
  const domainPrefix = req.domainName.split('.')[0] ?? req.domainName;
  return {
    version: EVENT_VERSION,
    rawPath,
    body,
    isBase64Encoded,
    headers,
    queryParameters: queryParameters(rawQuery),
    requestContext: {
      accountId: req.accountId ?? DEFAULT_ACCOUNT_ID,
      domainName: req.domainName,
      domainPrefix,
      http: {
        method: req.method,
        path: decodePath(rawPath),
        protocol: `HTTP/${req.httpVersion ?? DEFAULT_HTTP_VERSION}`,
        sourceIp: req.remoteAddress.startsWith(IPV4_MAPPED_PREFIX) ? req.remoteAddress.slice(IPV4_MAPPED_PREFIX.length) : req.remoteAddress,
        userAgent: headers['User-Agent'] ?? '',
      },
      requestId: req.requestId,
      // Whole seconds, as in the documented sample ("2023-09-05T06:41:11Z").
      time: req.now.toISOString().replace(/\.\d+Z$/, 'Z'),
      timeEpoch: String(req.now.getTime()),
    },
  };
}

/**
 * Maps what the handler returned to an HTTP answer. A value with a `statusCode` is the response struct
 * {statusCode, headers, isBase64Encoded, body} [TRIGGER]; anything else is sent as the body with status 200
 * (strings as they are, Buffers as bytes, other values JSON-serialized; the serialization is unverified).
 * Throws TypeError for a struct FC could not send (bad status, header or body); the gateway answers that like
 * an exception (unverified). Pure.
 */
export function fromFcHttpResult(result: unknown): FcHttpAnswer {
  if (!isPlainObject(result) || !('statusCode' in result)) {
    return { statusCode: DEFAULT_STATUS, headers: {}, body: bodyBytes(result) };
  }
  const { statusCode, headers, isBase64Encoded, body } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < MIN_STATUS || statusCode > MAX_STATUS) {
    throw new TypeError(`statusCode must be an integer from ${MIN_STATUS} to ${MAX_STATUS}, got ${JSON.stringify(statusCode)}`);
  }
  if (isBase64Encoded === true && typeof body !== 'string') {
    throw new TypeError('isBase64Encoded is true but body is not a string');
  }
  return {
    statusCode,
    headers: answerHeaders(headers),
    body: isBase64Encoded === true ? Buffer.from(body as string, 'base64') : bodyBytes(body),
  };
}

function splitRequestTarget(target: string): { rawPath: string; rawQuery: string } {
  const originForm = target.replace(ABSOLUTE_FORM_PREFIX, '');
  const queryStart = originForm.indexOf('?');
  const rawPath = queryStart === -1 ? originForm : originForm.slice(0, queryStart);
  return { rawPath: rawPath || '/', rawQuery: queryStart === -1 ? '' : originForm.slice(queryStart + 1) };
}

/** requestContext.http.path is the decoded rawPath [TRIGGER]; a malformed escape is left as sent (unverified). */
function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

/** Decoded names and values ("+" is a space); a repeated name keeps all values, comma-joined [TRIGGER]. */
function queryParameters(rawQuery: string): Record<string, string> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQuery)) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return Object.fromEntries([...grouped].map(([name, values]) => [name, values.join(MULTI_VALUE_SEPARATOR)]));
}

/** Built from rawHeaders, since IncomingMessage.headers drops or ", "-joins repeated headers. */
function eventHeaders(rawHeaders: string[]): Record<string, string> {
  const grouped = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (HEADERS_NOT_IN_EVENT.has(name.toLowerCase())) continue;
    const key = canonicalHeaderKey(name);
    grouped.set(key, [...(grouped.get(key) ?? []), rawHeaders[i + 1] as string]);
  }
  return Object.fromEntries([...grouped].map(([name, values]) => [name, values.join(MULTI_VALUE_SEPARATOR)]));
}

/** Go's http.CanonicalHeaderKey [HEADERS]: "accept-encoding" becomes "Accept-Encoding". */
function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, start: string, letter: string) => start + letter.toUpperCase());
}

function eventBody(body: Buffer, contentType: string | undefined): { body: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: '', isBase64Encoded: false };
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (TEXT_MEDIA_TYPE.test(mediaType)) {
    try {
      return { body: strictUtf8.decode(body), isBase64Encoded: false };
    } catch {
      // Not UTF-8 after all: fall through to Base64 so no byte is lost.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function answerHeaders(headers: unknown): Record<string, string | string[]> {
  if (headers === undefined || headers === null) return {};
  if (!isPlainObject(headers)) throw new TypeError('headers must be an object');
  const answer: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null || FRAMING_HEADERS.has(name.toLowerCase())) continue;
    const text = Array.isArray(value) ? value.map(String) : String(value);
    try {
      // Node's own checks, so a bad header becomes a function error instead of a crash while answering.
      validateHeaderName(name);
      for (const item of Array.isArray(text) ? text : [text]) validateHeaderValue(name, item);
    } catch (error) {
      throw new TypeError(`header ${JSON.stringify(name)} cannot be sent: ${(error as Error).message}`);
    }
    answer[name] = text;
  }
  return answer;
}

function bodyBytes(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
