/**
 * A local stand-in for the Function Compute 3.0 control endpoint's InvokeFunction API (2023-03-30), the call that
 * scripts such as yike-backfill use to invoke a deployed function. A real HTTP server on 127.0.0.1 that checks the
 * ACS3-HMAC-SHA256 signature the SDK sends (local/acs3.ts) and runs async invocations with FC's retry semantics
 * (local/fc/async.ts).
 *
 * Sources:
 * - [INVOKE]  InvokeFunction (FC 3.0, API 2023-03-30), https://alibabacloud.com/help/en/functioncompute/fc-3-0/developer-reference/api-fc-2023-03-30-invokefunction:
 *             POST /2023-03-30/functions/{functionName}/invocations, query `qualifier`, headers x-fc-invocation-type
 *             (Sync | Async, default Sync), x-fc-log-type, x-fc-async-task-id; body = the event bytes.
 * - [SDK]     invokeFunctionWithOptions, aliyun/alibabacloud-typescript-sdk fc-20230330/src/client.ts: ROA, ACS3 signed,
 *             the event sent as application/octet-stream.
 * - [ERRMODEL] fc-20230330/src/models/Error.ts: FC 3.0 errors are {Code, Message, RequestId}, e.g. FunctionNotFound,
 *             request ids like "1-64e70cf1-5cbef92ea8fc8c42899cf5d1".
 * - [NODEERR] "Error handling" (Node.js, FC 3.0), https://www.alibabacloud.com/help/en/functioncompute/fc/error-handling-nodejs:
 *             a function that throws is answered with a 2xx status, the header X-Fc-Error-Type: UnhandledInvocationError
 *             and {errorMessage, errorType, stackTrace}.
 * - [ASYNC]   "Asynchronous invocations" (FC 3.0), https://www.alibabacloud.com/help/en/functioncompute/result-callback:
 *             FC returns at once after persisting the request and runs it in the background; x-fc-async-delay runs it
 *             that many seconds later (local/fc/async-delay.ts), unless the stand-in is told to ignore it.
 * Unverified (no FC 3.0 page found): the exact 2xx status of a sync invocation whose function threw (200 here), the
 * status of an accepted async invocation (202 here, as FC 2.0 and other clouds answer), the 404 status of
 * FunctionNotFound, and the async payload limit's error code.
 * It also answers the control API's reads that `npx yike-doctor` makes, GetFunction and ListTriggers, from each
 * function's definition (local/fc/control-api.ts cites their sources).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NonceCache, verifyAcs3Request, type Acs3Secret } from '../acs3';
import { createAsyncInvoker, type AsyncHandler, type AsyncInvocationRecord, type AsyncInvoker } from './async';
import { asyncDelayOf, closableDelays, realDelay } from './async-delay';
import { ControlApiError, functionView, triggersPage, type LocalFunctionDefinition } from './control-api';
import { DEFAULT_LOCAL_CREDENTIALS, type LocalCredential } from '../ice/server';
import { listenOnLoopback, LOOPBACK_HOST, queryRecord, rawPath, readBody } from '../http';
import { newFcRequestId } from './request-id';
import { createRunQueue } from './run-queue';

export type { AsyncHandler } from './async';

export interface FcInvokeServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** The functions this account has, by name. */
  functions: Record<string, AsyncHandler>;
  /** What GetFunction and ListTriggers show of each (runtime, environment, triggers); a function without one shows defaults. */
  definitions?: Record<string, LocalFunctionDefinition>;
  /** Keys allowed to call InvokeFunction. Default: the STS triple of local/ice/server.ts DEFAULT_LOCAL_CREDENTIALS. */
  credentials?: readonly LocalCredential[];
  /** What the functions receive in context.credentials (their role's STS credentials). */
  contextCredentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** Async invocations run at once at most (FC bounds them by instances); the rest wait in the queue. Default 16. */
  asyncConcurrency?: number;
  /** FC's maxAsyncRetryAttempts. Default 3. */
  maxAsyncRetryAttempts?: number;
  /** Pause before an async retry. Default 50 ms (FC waits seconds). */
  asyncRetryDelayMs?: number;
  /** Run delayed async invocations at once, as if FC ignored x-fc-async-delay (LOCAL_FC_IGNORE_ASYNC_DELAY=1). */
  ignoreAsyncDelay?: boolean;
  /** How a delayed invocation (FC's request id) waits: the machine's clock by default; tests and the bench pass a simulated one. */
  asyncDelay?: (ms: number, requestId: string) => Promise<void>;
  /** Default 'cn-shanghai'. */
  region?: string;
  /** Default '1234567890123456' (the made-up account of the sample events in test/fixtures/events). */
  accountId?: string;
  /** One structured line per request; never carries secrets, tokens or signatures. */
  log?: (line: Record<string, unknown>) => void;
}

interface InvocationRecord {
  requestId: string;
  functionName: string;
  qualifier?: string;
  invocationType: 'Sync' | 'Async';
  /** The event bytes as received. */
  event: Buffer;
  /** x-fc-async-delay, when the invocation carried it (honoured or not). */
  asyncDelaySeconds?: number;
  /** The HTTP status answered. */
  status: number;
  accessKeyId: string;
}

export interface LocalFcInvokeServer {
  /** http://127.0.0.1:PORT, usable as FC_ENDPOINT. */
  readonly url: string;
  /** 127.0.0.1:PORT, what openapi-client's Config.endpoint takes (with protocol 'http'). */
  readonly endpoint: string;
  readonly port: number;
  /** Accepted invocations (signature valid, function known), in arrival order. */
  invocations(): InvocationRecord[];
  /** GetFunction and ListTriggers calls answered (signature valid, function known), and who made them. */
  controlCalls(): { action: 'GetFunction' | 'ListTriggers'; functionName: string; accessKeyId: string }[];
  /** Resolves when every accepted async invocation has finished, FC's retries and delays included. */
  idle(): Promise<void>;
  /** Resolves when the async invocation FC answered with this request id has finished (after its delay and retries). */
  settled(requestId: string): Promise<AsyncInvocationRecord>;
  /** Outcome of each finished async invocation, by function. */
  asyncResults(functionName: string): ReturnType<AsyncInvoker['records']>;
  /** Runs no delayed invocation any more, and resolves when those running have finished (then close it). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const API_VERSION = '2023-03-30';
/** /2023-03-30/functions/{functionName}/invocations, the name one percent-encoded path segment [INVOKE]. */
const INVOKE_PATH = new RegExp(`^/${API_VERSION}/functions/([^/]+)/invocations$`);
/** GetFunction and ListTriggers (control-api.ts). */
const FUNCTION_PATH = new RegExp(`^/${API_VERSION}/functions/([^/]+)(/triggers)?$`);
const INVOCATION_TYPE_HEADER = 'x-fc-invocation-type';
const REQUEST_ID_HEADER = 'x-fc-request-id';
const ERROR_TYPE_HEADER = 'x-fc-error-type';
const UNHANDLED_INVOCATION_ERROR = 'UnhandledInvocationError';
const JSON_CONTENT_TYPE = 'application/json';
const HTTP_OK = 200;
/** Unverified for FC 3.0 (see the header comment). */
const HTTP_ACCEPTED = 202;
const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;
const HTTP_PAYLOAD_TOO_LARGE = 413;
/** FC limits: 128 KB of event for an async invocation, 32 MB for a sync one (FC 3.0 limits page). */
const MAX_ASYNC_PAYLOAD_BYTES = 128 * 1024;
const MAX_SYNC_PAYLOAD_BYTES = 32 * 1024 * 1024;
const DEFAULT_ASYNC_CONCURRENCY = 16;
const DEFAULT_REGION = 'cn-shanghai';
const DEFAULT_ACCOUNT_ID = '1234567890123456';
const DEFAULT_TIMEOUT_SECONDS = 60;

/** An FC API error, answered as {Code, Message, RequestId} [ERRMODEL]. */
class FcApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Invocation {
  functionName: string;
  qualifier?: string;
  invocationType: 'Sync' | 'Async';
  accessKeyId: string;
  body: Buffer;
  asyncDelaySeconds?: number;
}

export async function startFcInvokeServer(options: FcInvokeServerOptions): Promise<LocalFcInvokeServer> {
  const credentials = new Map((options.credentials ?? DEFAULT_LOCAL_CREDENTIALS).map((credential) => [credential.accessKeyId, credential]));
  const lookupSecret = (accessKeyId: string): Acs3Secret | undefined => credentials.get(accessKeyId);
  const log = options.log ?? (() => undefined);
  const seenNonces = new NonceCache();
  const records: InvocationRecord[] = [];
  const controlRecords: ReturnType<LocalFcInvokeServer['controlCalls']> = [];
  const queue = createRunQueue(options.asyncConcurrency ?? DEFAULT_ASYNC_CONCURRENCY);
  const invokers = new Map<string, AsyncInvoker>();
  const accepted = new Map<string, Promise<AsyncInvocationRecord>>();

  const invokerFor = (functionName: string, handler: AsyncHandler): AsyncInvoker => {
    let invoker = invokers.get(functionName);
    if (!invoker) {
      invoker = createAsyncInvoker({
        handler,
        functionName,
        credentials: options.contextCredentials,
        maxAsyncRetryAttempts: options.maxAsyncRetryAttempts,
        retryDelayMs: options.asyncRetryDelayMs,
        // FC runs a function with its configured timeout, however it was invoked.
        timeoutSeconds: options.definitions?.[functionName]?.timeout,
        region: options.region ?? DEFAULT_REGION,
        accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
        log,
      });
      invokers.set(functionName, invoker);
    }
    return invoker;
  };

  /** Every FC API call: its ACS3 signature checked as FC checks it, then the function it names, which must exist. */
  const verifiedCall = (req: IncomingMessage, url: URL, body: Buffer, match: RegExpExecArray, method: string) => {
    const verdict = verifyAcs3Request({
      method,
      path: rawPath(req.url ?? '/'),
      query: queryRecord(url.searchParams),
      headers: req.headers,
      body,
      lookupSecret,
      seenNonces,
    });
    if (!verdict.ok) throw new FcApiError(verdict.status, verdict.code, verdict.message);
    const functionName = decodeSegment(match[1]!);
    if (!options.functions[functionName]) throw new FcApiError(HTTP_NOT_FOUND, 'FunctionNotFound', `function '${functionName}' does not exist`);
    return { functionName, accessKeyId: verdict.accessKeyId };
  };

  /** Signature, route, function: everything that must hold before FC accepts an invocation. */
  const authorize = (req: IncomingMessage, url: URL, body: Buffer): Invocation => {
    const match = req.method === 'POST' ? INVOKE_PATH.exec(url.pathname) : null;
    // FC 2.0's PathNotSupported; whether FC 3.0 words it the same is unverified.
    if (!match) throw new FcApiError(HTTP_NOT_FOUND, 'PathNotSupported', `${req.method} ${url.pathname} is not supported`);
    const { functionName, accessKeyId } = verifiedCall(req, url, body, match, req.method ?? '');
    const delay = asyncDelayOf(req);
    if ('invalid' in delay) throw new FcApiError(HTTP_BAD_REQUEST, 'InvalidArgument', delay.invalid);
    return {
      functionName,
      qualifier: url.searchParams.get('qualifier') ?? undefined,
      invocationType: invocationTypeOf(req),
      accessKeyId,
      body,
      asyncDelaySeconds: delay.seconds,
    };
  };

  const delays = closableDelays(options.asyncDelay ?? realDelay);

  const runAsync = (invocation: Invocation, requestId: string): void => {
    const invoker = invokerFor(invocation.functionName, options.functions[invocation.functionName]!);
    const delayMs = options.ignoreAsyncDelay ? 0 : (invocation.asyncDelaySeconds ?? 0) * 1000;
    // Queued like FC's async queue: accepted now, run when an instance is free (a delayed one: once its delay is over).
    const done = delays.wait(delayMs, requestId).then((open) =>
      open
        ? new Promise<AsyncInvocationRecord>((resolve, reject) =>
            queue.push(() => {
              const run = invoker.invoke(invocation.body).done;
              run.then(resolve, reject);
              return run;
            }),
          )
        : delays.notRun(requestId),
    );
    accepted.set(requestId, done);
    log({ message: 'async invocation accepted', requestId, function: invocation.functionName, asyncDelaySeconds: invocation.asyncDelaySeconds });
  };

  const runSync = async (invocation: Invocation, requestId: string, res: ServerResponse): Promise<void> => {
    const handler = options.functions[invocation.functionName]!;
    const context = {
      requestId,
      credentials: { ...options.contextCredentials },
      function: {
        name: invocation.functionName,
        handler: 'index.handler',
        memory: 512,
        timeout: options.definitions?.[invocation.functionName]?.timeout ?? DEFAULT_TIMEOUT_SECONDS,
      },
      region: options.region ?? DEFAULT_REGION,
      accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
      retryCount: 0,
    };
    try {
      const result = await handler(invocation.body, context);
      send(res, HTTP_OK, requestId, result === undefined ? '' : JSON.stringify(result));
    } catch (error) {
      // [NODEERR]: the function's error, not FC's, so still a 2xx with the error type header.
      const thrown = error instanceof Error ? error : new Error(String(error));
      send(res, HTTP_OK, requestId, JSON.stringify({ errorMessage: thrown.message, errorType: thrown.name, stackTrace: (thrown.stack ?? '').split('\n') }), {
        [ERROR_TYPE_HEADER]: UNHANDLED_INVOCATION_ERROR,
      });
    }
  };

  const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const where = { region: options.region ?? DEFAULT_REGION, accountId: options.accountId ?? DEFAULT_ACCOUNT_ID, createdAt };

  /** GetFunction / ListTriggers: signed like every call; an unknown function is FunctionNotFound. */
  const answerControl = (req: IncomingMessage, url: URL, body: Buffer, match: RegExpExecArray): string => {
    const { functionName, accessKeyId } = verifiedCall(req, url, body, match, 'GET');
    controlRecords.push({ action: match[2] ? 'ListTriggers' : 'GetFunction', functionName, accessKeyId });
    const definition = options.definitions?.[functionName] ?? {};
    try {
      return JSON.stringify(match[2] ? triggersPage(functionName, definition, url.searchParams, where) : functionView(functionName, definition, where));
    } catch (error) {
      if (error instanceof ControlApiError) throw new FcApiError(error.status, error.code, error.message);
      throw error;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = newFcRequestId();
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`);
    const body = await readBody(req, MAX_SYNC_PAYLOAD_BYTES);
    const control = req.method === 'GET' ? FUNCTION_PATH.exec(url.pathname) : null;
    if (control && body !== undefined) {
      try {
        const answer = answerControl(req, url, body, control);
        log({ requestId, path: url.pathname, status: HTTP_OK });
        send(res, HTTP_OK, requestId, answer);
      } catch (error) {
        if (!(error instanceof FcApiError)) throw error;
        log({ requestId, path: url.pathname, status: error.status, code: error.code });
        send(res, error.status, requestId, JSON.stringify({ Code: error.code, Message: error.message, RequestId: requestId }));
      }
      return;
    }
    let invocation: Invocation;
    try {
      if (body === undefined) throw payloadTooLarge(MAX_SYNC_PAYLOAD_BYTES);
      invocation = authorize(req, url, body);
      if (invocation.invocationType === 'Async' && body.length > MAX_ASYNC_PAYLOAD_BYTES) throw payloadTooLarge(MAX_ASYNC_PAYLOAD_BYTES);
    } catch (error) {
      if (!(error instanceof FcApiError)) throw error;
      log({ requestId, path: url.pathname, status: error.status, code: error.code });
      send(res, error.status, requestId, JSON.stringify({ Code: error.code, Message: error.message, RequestId: requestId }));
      return;
    }
    const status = invocation.invocationType === 'Async' ? HTTP_ACCEPTED : HTTP_OK;
    records.push({ requestId, status, event: invocation.body, ...withoutBody(invocation) });
    if (invocation.invocationType === 'Async') {
      runAsync(invocation, requestId);
      send(res, HTTP_ACCEPTED, requestId, '');
      return;
    }
    await runSync(invocation, requestId, res);
  };

  const { port, close: closeServer } = await listenOnLoopback(serve, {
    port: options.port,
    onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
  });

  const idle = async () => {
    await Promise.allSettled([...accepted.values()]);
    await queue.idle();
    await Promise.all([...invokers.values()].map((invoker) => invoker.idle()));
  };

  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    endpoint: `${LOOPBACK_HOST}:${port}`,
    port,
    invocations: () => records.map((record) => ({ ...record })),
    controlCalls: () => controlRecords.map((record) => ({ ...record })),
    idle,
    async drain() {
      delays.close();
      await idle();
    },
    settled(requestId) {
      const done = accepted.get(requestId);
      return done ?? Promise.reject(new Error(`no async invocation ${requestId} was accepted`));
    },
    asyncResults: (functionName) => invokers.get(functionName)?.records() ?? [],
    async close() {
      delays.close();
      await closeServer();
    },
  };
}

/** [INVOKE] Sync unless the header says Async (case-insensitive: a local choice). */
function invocationTypeOf(req: IncomingMessage): 'Sync' | 'Async' {
  const value = req.headers[INVOCATION_TYPE_HEADER];
  const type = (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
  if (type === undefined || type === '' || type === 'sync') return 'Sync';
  if (type === 'async') return 'Async';
  throw new FcApiError(HTTP_BAD_REQUEST, 'InvalidArgument', `${INVOCATION_TYPE_HEADER} must be Sync or Async, got "${type}"`);
}

function payloadTooLarge(maxBytes: number): FcApiError {
  // FC 2.0 calls it EntityTooLarge ("payload size exceeds maximum allowed size"); FC 3.0's status is unverified.
  return new FcApiError(HTTP_PAYLOAD_TOO_LARGE, 'EntityTooLarge', `payload size exceeds maximum allowed size (${maxBytes} bytes)`);
}

function withoutBody(invocation: Invocation): Omit<InvocationRecord, 'requestId' | 'status' | 'event'> {
  return {
    functionName: invocation.functionName,
    ...(invocation.qualifier === undefined ? {} : { qualifier: invocation.qualifier }),
    ...(invocation.asyncDelaySeconds === undefined ? {} : { asyncDelaySeconds: invocation.asyncDelaySeconds }),
    invocationType: invocation.invocationType,
    accessKeyId: invocation.accessKeyId,
  };
}

function send(res: ServerResponse, status: number, requestId: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: requestId,
    ...headers,
  });
  res.end(body);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new FcApiError(HTTP_BAD_REQUEST, 'InvalidArgument', `the function name "${segment}" is not valid percent-encoding`);
  }
}
