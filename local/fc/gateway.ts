/**
 * A local stand-in for an FC 3.0 HTTP trigger in front of a function in the built-in Node.js runtime.
 *
 * Sources (FC docs, found with the project's search tool):
 * - [TRIGGER]  "Use an HTTP trigger to invoke a function" (FC 3.0, built-in runtimes),
 *              https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function
 * - [HEADERS]  "Why does the first letter of the header key become uppercase when I use an HTTP trigger to invoke a
 *              function?", https://www.alibabacloud.com/help/en/functioncompute/fc/why-does-the-first-letter-of-header-key-become-uppercase-when-using-http-trigger-call
 * - [BODYSIZE] "Can I modify the limit on the body size of an HTTP request?",
 *              https://alibabacloud.com/help/en/functioncompute/fc-3-0/http-body-be-modified
 * - [ERRCODES] "Error codes", https://www.alibabacloud.com/help/en/functioncompute/error-codes
 * - [HTTPFAQ]  HTTP trigger FAQ, "Troubleshoot errors" table, https://www.alibabacloud.com/help/doc-detail/85445.htm
 *              (written for FC 2.0 HTTP functions; no FC 3.0 page with the statuses was found)
 * - [NODEERR]  "Error handling" (Node.js, FC 3.0), https://www.alibabacloud.com/help/en/functioncompute/fc/error-handling-nodejs
 * - [TIMEOUT]  "What do I do if a function execution times out and "Function time out after" is reported?",
 *              https://www.alibabacloud.com/help/en/fc/support/how-to-handle-an-execution-timeout-error
 * Anything marked "unverified" is our best guess where no document was found.
 */
import { randomBytes } from 'node:crypto';
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { format } from 'node:util';
import { listenOnLoopback, LOOPBACK_HOST, readBody } from '../http';

export type FcHandler = (event: unknown, context: FcContext) => Promise<unknown>;

export interface FcContext {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
  region: string;
  accountId: string;
  retryCount: number;
  logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void; debug(...a: unknown[]): void };
}

export interface FcGatewayOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Called with event = Buffer of the JSON request struct, as the Node.js built-in runtime delivers it. */
  handler: FcHandler;
  /** Default 'http-submit'. */
  functionName?: string;
  /** Put into context.credentials. */
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  /** Default 'cn-shanghai'. */
  region?: string;
  /** Default '1234567890123456' (the made-up account of the reference samples). */
  accountId?: string;
  /** Default 60 (as in events/fc3-context.json). Fractions are allowed so tests can time out quickly. */
  timeoutSeconds?: number;
  /** Default FC_SYNC_MAX_BODY_BYTES. Larger request bodies are answered the way FC answers them. */
  maxBodyBytes?: number;
  /** One structured line per request and per context.logger call. */
  log?: (line: Record<string, unknown>) => void;
}

export interface LocalFcGateway {
  readonly url: string;
  readonly port: number;
  invocations(): Array<{ requestId: string; event: Record<string, unknown>; status: number }>;
  close(): Promise<void>;
}

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

/** [BODYSIZE]: "For synchronous invocations, the limit is 32 MB". Whether FC counts MB as MiB is unverified. */
export const FC_SYNC_MAX_BODY_BYTES = 32 * 1024 * 1024;

const DEFAULT_FUNCTION_NAME = 'http-submit';
const DEFAULT_REGION = 'cn-shanghai';
const DEFAULT_ACCOUNT_ID = '1234567890123456';
const DEFAULT_TIMEOUT_SECONDS = 60;
const DEFAULT_MEMORY_MB = 512;
const DEFAULT_HTTP_VERSION = '1.1';
const HANDLER_NAME = 'index.handler';
const EVENT_VERSION = 'v1';
/** Trigger domains look like "yike-submit-abcdefghij.cn-shanghai.fcapp.run": function name plus 10 letters. */
const TRIGGER_ID_LETTERS = 10;
const TRIGGER_DOMAIN_SUFFIX = 'fcapp.run';
const LOWERCASE_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** [TRIGGER] shows multiple header and query values joined by a bare comma: "value1,value2". */
const MULTI_VALUE_SEPARATOR = ',';
/** Request ids look like "1-64f6cd87-1a2b3c4d5e6f7a8b9c0d1e2f": epoch seconds in hex, then 12 random bytes. */
const REQUEST_ID_VERSION = '1';
const REQUEST_ID_RANDOM_BYTES = 12;
const REQUEST_ID_SECONDS_HEX_DIGITS = 8;
const MS_PER_SECOND = 1000;
const REQUEST_ID_HEADER = 'X-Fc-Request-Id';
const ERROR_TYPE_HEADER = 'X-Fc-Error-Type';
/** [HTTPFAQ]: function errors (exceptions, invalid results) answer 502 UnhandledInvocationError. */
const FUNCTION_ERROR_STATUS = 502;
const FUNCTION_ERROR_TYPE = 'UnhandledInvocationError';
/** [HTTPFAQ]: a request over the limits answers 400 FcCommonError; [ERRCODES] gives code and message. */
const REQUEST_ERROR_STATUS = 400;
const REQUEST_ERROR_TYPE = 'FcCommonError';
const ENTITY_TOO_LARGE_CODE = 'EntityTooLarge';
const DEFAULT_STATUS = 200;
const MIN_STATUS = 100;
const MAX_STATUS = 599;
const JSON_CONTENT_TYPE = 'application/json';
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
const TIMED_OUT = Symbol('timed out');

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** An FC-3.0-like request id for the given time. */
export function newFcRequestId(now: Date = new Date()): string {
  const seconds = Math.floor(now.getTime() / MS_PER_SECOND)
    .toString(16)
    .padStart(REQUEST_ID_SECONDS_HEX_DIGITS, '0');
  return `${REQUEST_ID_VERSION}-${seconds}-${randomBytes(REQUEST_ID_RANDOM_BYTES).toString('hex')}`;
}

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

/** Starts the gateway on 127.0.0.1. Each request becomes one invocation of `options.handler`. */
export async function startFcGateway(options: FcGatewayOptions): Promise<LocalFcGateway> {
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const maxBodyBytes = options.maxBodyBytes ?? FC_SYNC_MAX_BODY_BYTES;
  const log = options.log ?? (() => undefined);
  const domainName = `${functionName}-${randomLetters(TRIGGER_ID_LETTERS)}.${region}.${TRIGGER_DOMAIN_SUFFIX}`;
  const recorded: Array<{ requestId: string; event: Record<string, unknown>; status: number }> = [];

  const contextFor = (requestId: string): FcContext => {
    const write =
      (level: string) =>
      (...args: unknown[]) =>
        log({ level, requestId, message: format(...args) });
    return {
      requestId,
      credentials: { ...options.credentials },
      function: { name: functionName, handler: HANDLER_NAME, memory: DEFAULT_MEMORY_MB, timeout: timeoutSeconds },
      region,
      accountId,
      // HTTP invocations are synchronous: FC never retries them.
      retryCount: 0,
      logger: { info: write('info'), warn: write('warn'), error: write('error'), debug: write('debug') },
    };
  };

  const invoke = async (event: FcHttpEvent, requestId: string): Promise<FcHttpAnswer> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutSeconds * MS_PER_SECOND);
      // A handler that never settles must not keep the process (or a test run) alive.
      timer.unref();
    });
    try {
      // Wrapped so that a handler which throws synchronously is treated like one that rejects.
      const running = Promise.resolve().then(() => options.handler(Buffer.from(JSON.stringify(event)), contextFor(requestId)));
      const result = await Promise.race([running, timedOut]);
      if (result === TIMED_OUT) {
        // Message after [TIMEOUT]; the status and error type for a timeout are unverified.
        return functionError({ errorMessage: `Function time out after ${timeoutSeconds} seconds` });
      }
      return fromFcHttpResult(result);
    } catch (error) {
      return functionError(describeThrown(error));
    } finally {
      clearTimeout(timer);
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAtMs = Date.now();
    const now = new Date(startedAtMs);
    const requestId = newFcRequestId(now);
    const method = req.method ?? 'GET';
    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      // FC rejects the request before the function runs, so nothing is invoked or recorded.
      send(res, requestId, entityTooLarge(maxBodyBytes));
      log({ requestId, method, url: req.url, status: REQUEST_ERROR_STATUS, error: ENTITY_TOO_LARGE_CODE, latencyMs: Date.now() - startedAtMs });
      return;
    }
    const event = toFcHttpEvent({
      method,
      url: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      remoteAddress: req.socket.remoteAddress ?? '',
      requestId,
      now,
      domainName,
      accountId,
      httpVersion: req.httpVersion,
    });
    const answer = await invoke(event, requestId);
    recorded.push({ requestId, event: event as unknown as Record<string, unknown>, status: answer.statusCode });
    send(res, requestId, answer);
    log({ requestId, method, path: event.requestContext.http.path, status: answer.statusCode, latencyMs: Date.now() - startedAtMs });
  };

  const { port, close } = await listenOnLoopback(serve, {
    port: options.port,
    onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
  });

  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    port,
    invocations: () => recorded.map((entry) => ({ ...entry })),
    close,
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

/** [NODEERR]: {"errorMessage","errorType","stackTrace"}; a thrown non-Error carries only errorMessage (unverified). */
function describeThrown(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { errorMessage: String(error) };
  return { errorMessage: error.message, errorType: error.name, stackTrace: (error.stack ?? '').split('\n') };
}

function functionError(payload: Record<string, unknown>): FcHttpAnswer {
  return {
    statusCode: FUNCTION_ERROR_STATUS,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, [ERROR_TYPE_HEADER]: FUNCTION_ERROR_TYPE },
    body: Buffer.from(JSON.stringify(payload)),
  };
}

function entityTooLarge(maxBodyBytes: number): FcHttpAnswer {
  return {
    statusCode: REQUEST_ERROR_STATUS,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, [ERROR_TYPE_HEADER]: REQUEST_ERROR_TYPE },
    body: Buffer.from(JSON.stringify({ errorCode: ENTITY_TOO_LARGE_CODE, errorMessage: `payload size exceeds maximum allowed size (${maxBodyBytes} bytes)` })),
  };
}

function send(res: ServerResponse, requestId: string, answer: FcHttpAnswer): void {
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  // Set last: the request id is FC's, whatever the function said.
  res.setHeader(REQUEST_ID_HEADER, requestId);
  res.statusCode = answer.statusCode;
  res.end(answer.body);
}

/**
 * Resolves to the body, or to undefined once it exceeds maxBytes. An oversized body is still read to its end
 * (and discarded) so the client gets the error answer instead of a reset connection.
 */

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function randomLetters(count: number): string {
  return Array.from(randomBytes(count), (byte) => LOWERCASE_LETTERS[byte % LOWERCASE_LETTERS.length]).join('');
}
