/**
 * A local stand-in for an FC 3.0 HTTP trigger in front of a function in the built-in Node.js runtime: a real HTTP
 * server on 127.0.0.1 that turns each request into one invocation (the event and the answer are mapped as FC maps
 * them, in http-trigger-event.ts), with FC's context, body limit, timeout and function-error answers.
 *
 * Sources (FC docs, found with the project's search tool):
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { format } from 'node:util';
import { listenOnLoopback, LOOPBACK_HOST, readBody } from '../http';
import { fromFcHttpResult, toFcHttpEvent, type FcHttpAnswer, type FcHttpEvent } from './http-trigger-event';
import { newFcRequestId } from './request-id';

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
  /** Default '1234567890123456' (the made-up account of the sample events in test/fixtures/events). */
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

/** [BODYSIZE]: "For synchronous invocations, the limit is 32 MB". Whether FC counts MB as MiB is unverified. */
export const FC_SYNC_MAX_BODY_BYTES = 32 * 1024 * 1024;

const DEFAULT_FUNCTION_NAME = 'http-submit';
const DEFAULT_REGION = 'cn-shanghai';
const DEFAULT_ACCOUNT_ID = '1234567890123456';
const DEFAULT_TIMEOUT_SECONDS = 60;
const DEFAULT_MEMORY_MB = 512;
const HANDLER_NAME = 'index.handler';
/** Trigger domains look like "yike-submit-abcdefghij.cn-shanghai.fcapp.run": function name plus 10 letters. */
const TRIGGER_ID_LETTERS = 10;
const TRIGGER_DOMAIN_SUFFIX = 'fcapp.run';
const LOWERCASE_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
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
const JSON_CONTENT_TYPE = 'application/json';
const TIMED_OUT = Symbol('timed out');

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

function randomLetters(count: number): string {
  return Array.from(randomBytes(count), (byte) => LOWERCASE_LETTERS[byte % LOWERCASE_LETTERS.length]).join('');
}
