import { ICE_ERROR_CODES, IceError } from '../errors';

/** Error codes that mean "ICE did not do it, ask again later" (Alibaba Cloud common codes). */
const THROTTLING_CODE = /^Throttling(\.|$)/;
/** The client could not connect at all: the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** The connection broke after the request may have been written. */
const BROKEN_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

interface RawClientError {
  name?: string;
  code?: unknown;
  message?: string;
  statusCode?: unknown;
  data?: { RequestId?: unknown; Message?: unknown; Code?: unknown; statusCode?: unknown };
}

/**
 * Turns whatever `@alicloud/openapi-client` threw into an IceError that says what is known about the
 * outcome and whether this call may be sent again. Branches on `code`, never on status: the same code has
 * different statuses across products.
 *
 * `idempotent` is false for SubmitYikeAIAppJob: then only errors proving ICE did not act are retryable.
 */
export function classifyIceError(raw: unknown, idempotent: boolean): IceError {
  if (raw instanceof IceError) return raw;
  const error = (raw ?? {}) as RawClientError;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const cause = raw;

  // An HTTP answer from ICE with its JSON error body: ICE decided, nothing was created.
  if (error.data && typeof error.data === 'object' && code && !NOT_SENT_CODES.has(code) && !BROKEN_CONNECTION_CODES.has(code)) {
    const statusCode = Number(error.statusCode ?? error.data.statusCode) || undefined;
    const requestId = typeof error.data.RequestId === 'string' ? error.data.RequestId : undefined;
    const message = typeof error.data.Message === 'string' ? error.data.Message : (error.message ?? code);
    const retryable = THROTTLING_CODE.test(code) || (statusCode !== undefined && statusCode >= 500);
    return new IceError(code, message, 'rejected', { statusCode, requestId, retryable, cause });
  }

  if (error.name === 'RequestTimeoutError') {
    // httpx's "ConnectTimeout" is a socket idle timeout that can fire after the request was written,
    // so no timeout proves the request was not sent.
    return new IceError(ICE_ERROR_CODES.timeout, `ICE did not answer in time (${firstLine(error.message)})`, 'unknown', {
      retryable: idempotent,
      cause,
    });
  }
  if (code && NOT_SENT_CODES.has(code)) {
    return new IceError(ICE_ERROR_CODES.connectionFailed, `Could not connect to ICE (${code})`, 'not-sent', { retryable: true, cause });
  }
  if ((code && BROKEN_CONNECTION_CODES.has(code)) || /socket hang up/i.test(error.message ?? '')) {
    return new IceError(ICE_ERROR_CODES.connectionReset, `The connection to ICE broke before an answer (${code ?? 'socket hang up'})`, 'unknown', {
      retryable: idempotent,
      cause,
    });
  }
  // e.g. SyntaxError: a non-JSON body (the HTTP status is lost by the client). The call may have succeeded.
  return new IceError(ICE_ERROR_CODES.badResponse, `ICE answered with an unreadable response (${error.name ?? 'Error'}: ${firstLine(error.message)})`, 'unknown', {
    retryable: idempotent,
    cause,
  });
}

function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0]!.slice(0, 200);
}
