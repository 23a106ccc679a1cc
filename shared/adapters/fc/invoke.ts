import { Readable } from 'node:stream';
import { OpenApiRequest, Params } from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import { RuntimeOptions } from '@alicloud/tea-util';
import type { Config } from '../../runtime/config';
import type { CredentialsProvider } from '../openapi/credentials';
import { RemoteCallError, YikeError, type CallOutcome, type YikeErrorOptions } from '../../runtime/errors';
import { withRetry, type RetryHooks, type RetryPolicy } from '../../runtime/retry';
import type { Logger } from '../../runtime/logger';
import { classifyOpenApiError, NO_KEEP_ALIVE, openApiClientCache, type ServiceProfile } from '../openapi/client';

/**
 * Invokes deployed FC 3.0 functions through the FC API 2023-03-30 (InvokeFunction), signed with ACS3-HMAC-SHA256 by
 * `@alicloud/openapi-client`. The request is built exactly as the official SDK builds it: `invokeFunctionWithOptions`
 * in aliyun/alibabacloud-typescript-sdk, fc-20230330/src/client.ts (the tea-based generation that pairs with
 * openapi-client 0.4.x, read at commit 55f18b0414f67b9785536ede0a9286ebaefe90f9; later Darabonba versions send the same):
 *   Params { action "InvokeFunction", version "2023-03-30", protocol "HTTPS", method "POST", authType "AK",
 *            style "ROA", reqBodyType "json", bodyType "binary",
 *            pathname `/2023-03-30/functions/${OpenApiUtil.getEncodeParam(functionName)}/invocations` }
 *   OpenApiRequest { headers: { "x-fc-invocation-type": "Async" | "Sync", ... }, query: { qualifier? },
 *                    body: <event stream>, stream: <event stream> }
 * Given a stream, the client hashes and sends its bytes as `application/octet-stream`. `@alicloud/fc2` (API 2016-08-15)
 * addresses functions by service, which FC 3.0 functions do not have, so it is not used.
 */

const FC_API_VERSION = '2023-03-30';
const INVOKE_ACTION = 'InvokeFunction';
const INVOCATION_TYPE_HEADER = 'x-fc-invocation-type';
/**
 * Delays an async invocation by whole seconds, (0, 3600) on FC 3.0 ("Asynchronous invocation overview", deferred
 * invocation: help.aliyun.com/document_detail/2513619.html; docs/platform-facts.md). InvokeFunctionHeaders has no
 * typed field for it: the SDK sends it through `commonHeaders`, which invokeFunctionWithOptions copies into the
 * request's headers as they are; so do we.
 */
const ASYNC_DELAY_HEADER = 'x-fc-async-delay';
/** The header's documented range, exclusive at both ends. */
const MAX_ASYNC_DELAY_SECONDS = 3_599;
const REQUEST_ID_HEADER = 'x-fc-request-id';
const ERROR_TYPE_HEADER = 'x-fc-error-type';

const FC_ERROR_CODES = {
  /** Neither FC_ENDPOINT nor FC_ACCOUNT_ID is set: there is no endpoint to call. */
  configMissing: 'FC_CONFIG_MISSING',
  /** No answer within the read timeout: FC may have queued the invocation. */
  timeout: 'FC_TIMEOUT',
  /** Connection refused / DNS failure: the request never left. */
  connectionFailed: 'FC_CONNECTION_FAILED',
  /** The connection broke after the request may have been written. */
  connectionReset: 'FC_CONNECTION_RESET',
  /** FC answered something that is not its documented JSON error or a success. */
  badResponse: 'FC_BAD_RESPONSE',
} as const;

/** Defaults for a script run: a few attempts, backing off long enough for FC's throttling to clear. */
const DEFAULT_FC_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };
/** openapi-client's own default is 3000 ms for both (docs/platform-facts.md, "How @alicloud/openapi-client 0.4.15 sends and reads"). */
const DEFAULT_READ_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** A failed InvokeFunction call; `code` is FC's own error code when FC answered, otherwise an FC_* code. */
class FcInvokeError extends RemoteCallError {
  constructor(code: string, message: string, outcome: CallOutcome, options: YikeErrorOptions = {}) {
    super(code, message, outcome, options);
    this.name = 'FcInvokeError';
  }
}

export interface FunctionInvokerOptions extends RetryHooks {
  config: Config['fc'];
  credentials: CredentialsProvider;
  logger?: Logger;
  /** Default DEFAULT_FC_RETRY. */
  retry?: RetryPolicy;
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
}

interface InvokeOptions {
  /** A version or alias; FC takes it in the query string. */
  qualifier?: string;
}

interface AsyncInvokeOptions extends InvokeOptions {
  /** FC runs the event this many whole seconds later (1–3599): `x-fc-async-delay`. */
  asyncDelaySeconds?: number;
}

interface SyncInvocationResult {
  requestId: string;
  statusCode: number;
  body: Buffer;
  /** Set (e.g. UnhandledInvocationError) when the function threw: FC still answers 2xx then. */
  errorType?: string;
}

export interface FunctionInvoker {
  /** Hands the event to FC's async queue (FC answers 202); FC runs and retries it, `asyncDelaySeconds` later when given. */
  invokeAsync(functionName: string, payload: Buffer, options?: AsyncInvokeOptions): Promise<{ requestId: string }>;
  /** Runs the function and returns its answer (tests and diagnostics). */
  invokeSync(functionName: string, payload: Buffer, options?: InvokeOptions): Promise<SyncInvocationResult>;
}

/** Throttling as Alibaba's common codes and FC's own (ResourceThrottled / ResourceExhausted, HTTP 429) name it. */
const THROTTLING_CODE = /^(Throttling(\.|$)|ResourceThrottled$|ResourceExhausted$|TooManyRequests$)/;
const HTTP_TOO_MANY_REQUESTS = 429;
const HTTP_SERVER_ERROR = 500;

const FC_PROFILE: ServiceProfile<FcInvokeError> = {
  name: 'FC',
  codes: {
    timeout: FC_ERROR_CODES.timeout,
    connectionFailed: FC_ERROR_CODES.connectionFailed,
    connectionReset: FC_ERROR_CODES.connectionReset,
    badResponse: FC_ERROR_CODES.badResponse,
  },
  retryableAnswer: (code, statusCode) =>
    THROTTLING_CODE.test(code) || statusCode === HTTP_TOO_MANY_REQUESTS || (statusCode !== undefined && statusCode >= HTTP_SERVER_ERROR),
  create: (code, message, outcome, options) => new FcInvokeError(code, message, outcome, options),
};

/**
 * What an InvokeFunction failure means and whether to send it again. Retried: requests that never left, and FC's
 * throttling and 5xx answers. A 5xx may still have queued the event, and a retry then invokes the function twice:
 * harmless, because the function is idempotent (one job per upload through its job records). Timeouts and broken
 * connections are not retried blindly; the caller reports them and a re-run of the backfill covers them.
 */
function classifyFcError(raw: unknown): FcInvokeError {
  if (raw instanceof FcInvokeError) return raw;
  return classifyOpenApiError(raw, false, FC_PROFILE);
}

function invokeParams(functionName: string): Params {
  return new Params({
    action: INVOKE_ACTION,
    version: FC_API_VERSION,
    protocol: 'HTTPS',
    // RFC 3986-encoded, as the SDK does, so a name is one path segment whatever it holds.
    pathname: `/${FC_API_VERSION}/functions/${OpenApiUtil.getEncodeParam(functionName)}/invocations`,
    method: 'POST',
    authType: 'AK',
    style: 'ROA',
    reqBodyType: 'json',
    bodyType: 'binary',
  });
}

function invokeRequest(payload: Buffer, invocationType: 'Async' | 'Sync', options: AsyncInvokeOptions): OpenApiRequest {
  // One stream as both body and stream, as the SDK does; made per attempt because reading consumes it.
  const stream = Readable.from([payload]);
  const delay = options.asyncDelaySeconds === undefined ? {} : { [ASYNC_DELAY_HEADER]: String(options.asyncDelaySeconds) };
  return new OpenApiRequest({
    headers: { [INVOCATION_TYPE_HEADER]: invocationType, ...delay, ...NO_KEEP_ALIVE },
    query: options.qualifier ? { qualifier: options.qualifier } : {},
    body: stream,
    stream,
  });
}

async function readAll(body: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  if (!body || typeof (body as Readable)[Symbol.asyncIterator] !== 'function') return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

function headerOf(headers: unknown, name: string): string | undefined {
  const value = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function createFunctionInvoker(options: FunctionInvokerOptions): FunctionInvoker {
  const { config, logger } = options;
  if (!config.endpoint) {
    throw new YikeError(
      FC_ERROR_CODES.configMissing,
      'No Function Compute endpoint: set FC_ACCOUNT_ID for <account>.<ICE_REGION>.fc.aliyuncs.com, or FC_ENDPOINT',
      { details: { variables: ['FC_ACCOUNT_ID', 'FC_ENDPOINT'] } },
    );
  }
  const endpoint = config.endpoint;
  const readTimeout = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const clientFor = openApiClientCache({
    endpoint,
    protocol: config.protocol,
    region: config.region,
    readTimeoutMs: readTimeout,
    connectTimeoutMs: connectTimeout,
  });

  async function invoke(
    functionName: string,
    payload: Buffer,
    invocationType: 'Async' | 'Sync',
    invokeOptions: AsyncInvokeOptions,
  ): Promise<SyncInvocationResult> {
    const runtime = new RuntimeOptions({ autoretry: false, readTimeout, connectTimeout });
    return await withRetry(
      async (attempt) => {
        const started = Date.now();
        try {
          const response = await clientFor(options.credentials()).callApi(
            invokeParams(functionName),
            invokeRequest(payload, invocationType, invokeOptions),
            runtime,
          );
          const result = {
            requestId: headerOf(response.headers, REQUEST_ID_HEADER) ?? '',
            statusCode: Number(response.statusCode),
            // Always read: an unread body would hold the socket open.
            body: await readAll(response.body),
            errorType: headerOf(response.headers, ERROR_TYPE_HEADER),
          };
          logger?.debug('fc invoke succeeded', { functionName, invocationType, attempt, fcRequestId: result.requestId, latencyMs: Date.now() - started });
          return result;
        } catch (raw) {
          const error = classifyFcError(raw);
          logger?.warn('fc invoke failed', {
            functionName,
            invocationType,
            attempt,
            code: error.code,
            statusCode: error.statusCode,
            fcRequestId: error.requestId,
            outcome: error.outcome,
            retryable: error.retryable,
            latencyMs: Date.now() - started,
          });
          throw error;
        }
      },
      options.retry ?? DEFAULT_FC_RETRY,
      { sleep: options.sleep, random: options.random, onRetry: options.onRetry },
    );
  }

  return {
    async invokeAsync(functionName, payload, invokeOptions = {}) {
      const delay = invokeOptions.asyncDelaySeconds;
      if (delay !== undefined && !(Number.isInteger(delay) && delay >= 1 && delay <= MAX_ASYNC_DELAY_SECONDS)) {
        throw new YikeError('FC_INVALID_DELAY', `asyncDelaySeconds must be a whole number of seconds from 1 to ${MAX_ASYNC_DELAY_SECONDS}, got ${delay}`);
      }
      const { requestId } = await invoke(functionName, payload, 'Async', invokeOptions);
      return { requestId };
    },
    invokeSync: (functionName, payload, invokeOptions = {}) => invoke(functionName, payload, 'Sync', invokeOptions),
  };
}
