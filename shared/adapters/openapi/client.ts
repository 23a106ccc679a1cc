import OpenApiClient, { Config as OpenApiConfig } from '@alicloud/openapi-client';
import type { Credentials } from './credentials';
import type { RemoteCallError, CallOutcome, YikeErrorOptions } from '../../runtime/errors';
import { releaseReadTimersOnClose } from './read-timers';

releaseReadTimersOnClose();

/**
 * What ICE's and FC's clients share: an `@alicloud/openapi-client` per set of credentials, and one reading of
 * what the client throws. Branches on `code`, never on status alone: the same code has different statuses
 * across products.
 */
export interface OpenApiTarget {
  /** host[:port] */
  endpoint: string;
  protocol: 'http' | 'https';
  region: string;
  readTimeoutMs: number;
  connectTimeoutMs: number;
}

/** Clients are cheap but not free: reuse one until the credentials change (FC rotates them). */
export function openApiClientCache(target: OpenApiTarget): (credentials: Credentials) => OpenApiClient {
  let cached: { key: string; client: OpenApiClient } | undefined;
  return (credentials) => {
    const key = `${credentials.accessKeyId}\u0000${credentials.accessKeySecret}\u0000${credentials.securityToken ?? ''}`;
    if (cached?.key !== key) {
      const client = new OpenApiClient(
        new OpenApiConfig({
          accessKeyId: credentials.accessKeyId,
          accessKeySecret: credentials.accessKeySecret,
          securityToken: credentials.securityToken,
          endpoint: target.endpoint,
          protocol: target.protocol,
          regionId: target.region,
          // The client's own default is 3000 ms for both.
          readTimeout: target.readTimeoutMs,
          connectTimeout: target.connectTimeoutMs,
        }),
      );
      cached = { key, client };
    }
    return cached.client;
  };
}

/**
 * No keep-alive: a pooled socket that the server (or its load balancer) closed while the FC instance was frozen
 * fails with ECONNRESET when reused, and for a submit that is an unknown outcome we must not resend. A fresh
 * connection per call costs a handshake and removes that ambiguity. (openapi-client 0.4.x does not pass
 * `runtime.keepAlive` down to its HTTP layer, so the header is the way to say it; it is not signed.)
 */
export const NO_KEEP_ALIVE: Readonly<Record<string, string>> = { connection: 'close' };

/**
 * How one call uses connections. openapi-client sends every call through httpx's one keep-alive agent per protocol
 * (module-level, `new https.Agent({ keepAlive: true })`), and a `Connection: close` header only closes the socket
 * AFTER the call: the call itself may still be handed a pooled socket, a stale one included.
 *
 * - `reuse` (idempotent reads): no header; the agent reuses an idle connection. If the server closed it meanwhile
 *   the call fails with ECONNRESET and, being a read, is retried (classifyOpenApiError: unknown but idempotent).
 * - otherwise (a submit, any write): `Connection: close`, and `ignoreSSL: false`, which openapi-client passes on as
 *   `rejectUnauthorized: true` (Node's default, so nothing about certificate checks changes). Node's https agent
 *   names its pools by TLS options, rejectUnauthorized included (`Agent.prototype.getName`), so these calls get a
 *   pool of their own that never holds an idle socket: every one connects afresh, as before. Over plain http (the
 *   local cloud only) the agent's pool name has no such part, and a write may reuse a read's idle connection.
 */
export function connectionFor(reuse: boolean): { headers: Record<string, string>; runtime: { ignoreSSL?: boolean } } {
  return reuse ? { headers: {}, runtime: {} } : { headers: { ...NO_KEEP_ALIVE }, runtime: { ignoreSSL: false } };
}

/** The client could not connect at all: the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** The connection broke after the request may have been written. */
const BROKEN_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** How one service names its failures. */
export interface ServiceProfile<E extends RemoteCallError> {
  name: string;
  codes: { timeout: string; connectionFailed: string; connectionReset: string; badResponse: string };
  /** Whether an error answer (the service decided; nothing was done) is worth asking again. */
  retryableAnswer(code: string, statusCode: number | undefined): boolean;
  create(code: string, message: string, outcome: CallOutcome, options: YikeErrorOptions): E;
}

interface RawClientError {
  name?: string;
  code?: unknown;
  message?: string;
  statusCode?: unknown;
  data?: { RequestId?: unknown; Message?: unknown; statusCode?: unknown };
}

/**
 * Turns whatever the client threw into an error that says what is known about the outcome and whether the
 * call may be sent again. `idempotent` is false for calls a resend could duplicate (SubmitYikeAIAppJob): then
 * only errors proving the service did not act are retryable.
 */
export function classifyOpenApiError<E extends RemoteCallError>(raw: unknown, idempotent: boolean, profile: ServiceProfile<E>): E {
  const error = (raw ?? {}) as RawClientError;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const cause = raw;
  const { codes, name } = profile;

  // An HTTP answer with the service's JSON error body: it decided, nothing was done.
  if (error.data && typeof error.data === 'object' && code && !NOT_SENT_CODES.has(code) && !BROKEN_CONNECTION_CODES.has(code)) {
    const statusCode = Number(error.statusCode ?? error.data.statusCode) || undefined;
    const requestId = typeof error.data.RequestId === 'string' ? error.data.RequestId : undefined;
    const message = typeof error.data.Message === 'string' ? error.data.Message : (error.message ?? code);
    return profile.create(code, message, 'rejected', { statusCode, requestId, retryable: profile.retryableAnswer(code, statusCode), cause });
  }
  if (error.name === 'RequestTimeoutError') {
    // httpx's "ConnectTimeout" is a socket idle timeout that can fire after the request was written,
    // so no timeout proves the request was not sent.
    return profile.create(codes.timeout, `${name} did not answer in time (${firstLine(error.message)})`, 'unknown', { retryable: idempotent, cause });
  }
  if (code && NOT_SENT_CODES.has(code)) {
    return profile.create(codes.connectionFailed, `Could not connect to ${name} (${code})`, 'not-sent', { retryable: true, cause });
  }
  if ((code && BROKEN_CONNECTION_CODES.has(code)) || /socket hang up/i.test(error.message ?? '')) {
    return profile.create(codes.connectionReset, `The connection to ${name} broke before an answer (${code ?? 'socket hang up'})`, 'unknown', {
      retryable: idempotent,
      cause,
    });
  }
  // e.g. SyntaxError: a non-JSON body (the HTTP status is lost by the client). The call may have succeeded.
  return profile.create(codes.badResponse, `${name} answered with an unreadable response (${error.name ?? 'Error'}: ${firstLine(error.message)})`, 'unknown', {
    retryable: idempotent,
    cause,
  });
}

function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0]!.slice(0, 200);
}
