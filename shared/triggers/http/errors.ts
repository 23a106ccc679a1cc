import { IceError, isNotFound, isYikeError } from '../../runtime/errors';
import type { ErrorBody } from './responses';

type ErrorDetails = ErrorBody['error']['details'];

export interface HttpError {
  statusCode: number;
  headers?: Record<string, string>;
  body: ErrorBody;
}

/** Seconds a throttled or unavailable caller is told to wait. */
const RETRY_AFTER_SECONDS = '5';
/** ICE codes that mean our role's credentials or permissions are wrong: a deployment problem, not the caller's. */
const UPSTREAM_AUTH_CODE =
  /^(SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId|InvalidSecurityToken|MissingSecurityToken|Forbidden|NoPermission|InvalidTimeStamp|SignatureNonceUsed)/;
const THROTTLING_CODE = /^Throttling/;

/**
 * What a route module answers: a status and body (typed by the route's response schema, responses.ts; none for 204
 * and 302, whose `headers` say the rest: `RouteAnswer<undefined>`), or the HTTP error to send (api.ts turns either into
 * a response).
 */
export type RouteAnswer<T> = { ok: true; status: number; body: T; headers?: Record<string, string> } | { ok: false; error: HttpError };

export function httpError(statusCode: number, code: string, message: string, details?: ErrorDetails, headers?: Record<string, string>): HttpError {
  return { statusCode, headers, body: { error: details === undefined ? { code, message } : { code, message, details } } };
}

/** 400 INVALID_REQUEST for a body its schema refused: every issue named by its path, in the message and in `details`. */
export function invalidBody(issues: readonly Issue[]): HttpError {
  return invalidInput('Invalid request body', issues);
}

/** 400 INVALID_REQUEST for a query its schema refused (requests.ts), in the same shape. */
export function invalidQuery(issues: readonly Issue[]): HttpError {
  return invalidInput('Invalid query', issues);
}

type Issue = { path: readonly PropertyKey[]; message: string };

function invalidInput(what: string, issues: readonly Issue[]): HttpError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
  return httpError(400, 'INVALID_REQUEST', `${what}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

/**
 * Maps any error to a response. Messages are exposed only for caller errors (4xx) and for ICE's own
 * parameter errors; everything else gets a fixed message (details are in the log, never in the body).
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof IceError) return iceToHttpError(error);
  if (isYikeError(error)) {
    switch (error.code) {
      case 'OUTCOME_UNKNOWN':
        return httpError(
          409,
          error.code,
          'An earlier request with this Idempotency-Key got no answer from ICE and may have created a job; it is not submitted again',
        );
      case 'OSS_AUTH_FAILED':
        return httpError(502, 'UPSTREAM_AUTH_FAILED', "OSS rejected the function's credentials");
      case 'OSS_UNAVAILABLE':
        return httpError(503, error.code, 'OSS could not be asked about the image; try again', undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
      case 'UPLOADS_NOT_CONFIGURED':
        return httpError(503, error.code, error.message);
      case 'CREDENTIALS_EXPIRING':
        return httpError(503, error.code, error.message, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
      case 'BUDGET_EXHAUSTED':
      case 'QUOTA_EXHAUSTED': {
        // Nothing was submitted or stored; Retry-After says when the budget (or the token's quota) renews.
        const details = error.details as { retryAfterSeconds?: number; alreadyDeferred?: boolean } | undefined;
        const { alreadyDeferred: _internal, ...shown } = details ?? {};
        return httpError(429, error.code, error.message, shown as ErrorDetails, { 'Retry-After': String(details?.retryAfterSeconds ?? RETRY_AFTER_SECONDS) });
      }
      case 'RECORD_STORE_FAILED':
      case 'IDEMPOTENCY_RACE':
        return httpError(503, 'SERVICE_UNAVAILABLE', 'The job record store is unavailable; try again', undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // A refusal's details are one of the shapes responses.ts lists (the tests check every answer against the document).
      return httpError(error.statusCode, error.code, error.message, error.details as ErrorDetails);
    }
  }
  return httpError(500, 'INTERNAL', 'Internal error');
}

function iceToHttpError(error: IceError): HttpError {
  const details = error.requestId ? { iceRequestId: error.requestId } : undefined;
  if (error.outcome === 'rejected') {
    if (THROTTLING_CODE.test(error.code)) {
      return httpError(429, error.code, 'ICE is throttling requests; try again later', details, { 'Retry-After': RETRY_AFTER_SECONDS });
    }
    if (UPSTREAM_AUTH_CODE.test(error.code)) {
      return httpError(502, 'UPSTREAM_AUTH_FAILED', "ICE rejected the function's credentials", details);
    }
    if (isNotFound(error)) {
      return httpError(404, 'JOB_NOT_FOUND', 'No such job', details);
    }
    if (error.statusCode !== undefined && error.statusCode >= 500) {
      return httpError(503, 'ICE_UNAVAILABLE', 'ICE is unavailable; try again later', details, { 'Retry-After': RETRY_AFTER_SECONDS });
    }
    // ICE's parameter errors are about what the caller sent: pass ICE's code and message through.
    return httpError(422, error.code, error.message, details);
  }
  if (error.outcome === 'not-sent') {
    return httpError(503, 'ICE_UNAVAILABLE', 'ICE could not be reached; try again later', undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
  }
  return httpError(
    502,
    error.code,
    'ICE did not answer clearly; the job may have been created. A retry with the same Idempotency-Key will not submit it again',
    details,
  );
}
