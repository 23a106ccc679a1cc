/**
 * Typed errors with a stable `code`. Callers branch on `code` (or `name`), both of which survive bundling;
 * `instanceof` does not when two bundles meet.
 */
export interface YikeErrorOptions {
  retryable?: boolean;
  statusCode?: number;
  requestId?: string;
  details?: unknown;
  cause?: unknown;
}

export class YikeError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly statusCode?: number;
  readonly requestId?: string;
  readonly details?: unknown;

  constructor(code: string, message: string, options: YikeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'YikeError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.statusCode = options.statusCode;
    this.requestId = options.requestId;
    this.details = options.details;
  }
}

/** An environment variable is missing or invalid. Never retryable: the deployment must change. */
export class ConfigError extends YikeError {
  constructor(message: string, details?: unknown) {
    super('CONFIG_INVALID', message, { details });
    this.name = 'ConfigError';
  }
}

/** No usable credentials (no role on the function, or env variables missing outside FC). */
export class CredentialsError extends YikeError {
  constructor(message: string) {
    super('CREDENTIALS_MISSING', message);
    this.name = 'CredentialsError';
  }
}

export interface InputIssue {
  path: string;
  message: string;
}

/** Caller input (HTTP body, trigger event, CLI flags) failed validation; `details` lists field paths. */
export class InputError extends YikeError {
  declare readonly details: InputIssue[];
  constructor(code: string, message: string, issues: InputIssue[] = []) {
    super(code, message, { details: issues, statusCode: 400 });
    this.name = 'InputError';
  }
}

/**
 * What we know about whether a cloud service acted on a request when the call failed:
 * - `not-sent`: the connection failed before the request left (safe to resend);
 * - `rejected`: the service answered with an error (it did nothing);
 * - `unknown`: the request may have been processed (read timeout, reset, unreadable answer).
 */
export type CallOutcome = 'not-sent' | 'rejected' | 'unknown';

/** A failed call to a cloud API (ICE, FC): what withRetry decides on. */
export class RemoteCallError extends YikeError {
  readonly outcome: CallOutcome;
  readonly attempts: number;
  constructor(code: string, message: string, outcome: CallOutcome, options: YikeErrorOptions & { attempts?: number } = {}) {
    super(code, message, options);
    this.name = 'RemoteCallError';
    this.outcome = outcome;
    this.attempts = options.attempts ?? 1;
  }
}

/** A failed ICE call. `code` is ICE's own error code when ICE answered, otherwise one of ICE_* below. */
export class IceError extends RemoteCallError {
  constructor(code: string, message: string, outcome: CallOutcome, options: YikeErrorOptions & { attempts?: number } = {}) {
    super(code, message, outcome, options);
    this.name = 'IceError';
  }
}

export const ICE_ERROR_CODES = {
  /** No answer within the read timeout: the job may exist. Never blindly retried for submits. */
  timeout: 'ICE_TIMEOUT',
  /** Connection refused / DNS failure: the request never left. */
  connectionFailed: 'ICE_CONNECTION_FAILED',
  /** Connection reset or closed mid-request: the job may exist. */
  connectionReset: 'ICE_CONNECTION_RESET',
  /** ICE answered something that is not the documented JSON. */
  badResponse: 'ICE_BAD_RESPONSE',
} as const;

export function isYikeError(error: unknown): error is YikeError {
  return error instanceof Error && typeof (error as YikeError).code === 'string' && 'retryable' in error;
}

/**
 * urllib (under ali-oss) ends a failed request's message with its connection pool's state, e.g. `GET http://… -1
 * (connected: false, keepalive socket: false, agent status: {"createSocketCount":1,…}, …)` and `headers: {}`: noise
 * to a reader, never the reason. What is left says what failed and where (`connect ECONNREFUSED 127.0.0.1:9200, GET …`).
 */
const CONNECTION_DUMP = /\s+-?\d+\s+\(connected: [\s\S]*$|\s*\n?\s*headers: \{[\s\S]*$/;

/** A message without the HTTP client's connection dump (see CONNECTION_DUMP). */
export function plainMessage(message: string): string {
  return message.replace(CONNECTION_DUMP, '');
}

/** A safe one-line description for logs and for FC's error report (no stack, no secrets, no connection dump). */
export function describeError(error: unknown): { code: string; message: string; retryable: boolean; requestId?: string } {
  if (isYikeError(error)) {
    return { code: error.code, message: plainMessage(error.message), retryable: error.retryable, requestId: error.requestId };
  }
  return { code: 'INTERNAL', message: plainMessage(error instanceof Error ? error.message : String(error)), retryable: false };
}

const NOT_FOUND_CODE = /NotFound|NotExist/i;
const HTTP_NOT_FOUND = 404;

/** ICE answered that the job, media or asset does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof IceError && error.outcome === 'rejected' && (error.statusCode === HTTP_NOT_FOUND || NOT_FOUND_CODE.test(error.code));
}
