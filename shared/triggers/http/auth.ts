import { createHash, timingSafeEqual } from 'node:crypto';
import { YikeError } from '../../runtime/errors';
import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import type { ApiRequest } from '../events/fc-http';
import { httpError, type HttpError } from './errors';

/**
 * Who may spend money through http-submit. Secure by default: HTTP_AUTH=token needs AUTH_TOKENS, and
 * without any configured token every route but /healthz is refused (503) instead of being open.
 * HTTP_AUTH=none is the explicit opt-out for a trigger with authType function or a gateway in front.
 */
export type HttpAuthConfig = Pick<Config['http'], 'authMode' | 'authTokens' | 'tokenNames'>;

/** Refused (with the reason for the log), or let through with the caller's token name (AUTH_TOKENS' JSON form). */
export type AuthOutcome = { error: HttpError; cause: YikeError } | { caller?: string };

const SHA256_ENTRY = /^sha256:([0-9a-fA-F]{64})$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer' };

/** Digests of the configured tokens, computed once per configuration (once per FC instance). */
const digestsByConfig = new WeakMap<HttpAuthConfig, Buffer[]>();
/** Configurations already warned about HTTP_AUTH=none: one warning per instance, not per request. */
const warnedOpen = new WeakSet<HttpAuthConfig>();

function sha256Digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** `sha256:<hex>` entries are digests already; plain entries are hashed here. */
function tokenDigests(config: HttpAuthConfig): Buffer[] {
  let digests = digestsByConfig.get(config);
  if (!digests) {
    digests = config.authTokens.map((entry) => {
      const hashed = SHA256_ENTRY.exec(entry);
      return hashed ? Buffer.from(hashed[1]!, 'hex') : sha256Digest(entry);
    });
    digestsByConfig.set(config, digests);
  }
  return digests;
}

/** Why a request is refused before any work, with the reason for the log; else who called (a token name, if it has one). */
export function authorize(request: ApiRequest, config: HttpAuthConfig, logger: Logger): AuthOutcome {
  if (config.authMode === 'none') {
    if (!warnedOpen.has(config)) {
      warnedOpen.add(config);
      logger.warn('HTTP_AUTH=none: http-submit does not check callers itself; the trigger (authType function) or a gateway must', { httpAuth: 'none' });
    }
    return {};
  }
  const digests = tokenDigests(config);
  if (digests.length === 0) {
    const cause = new YikeError('AUTH_NOT_CONFIGURED', 'HTTP_AUTH=token but AUTH_TOKENS is empty: set AUTH_TOKENS, or HTTP_AUTH=none behind authType function');
    return { cause, error: httpError(503, 'AUTH_NOT_CONFIGURED', 'This endpoint has no authentication configured; it refuses every request until it has') };
  }
  const match = BEARER.exec(request.headers.authorization ?? '');
  if (!match)
    return {
      cause: new YikeError('UNAUTHORIZED', 'Missing bearer token'),
      error: httpError(401, 'UNAUTHORIZED', 'Missing bearer token', undefined, CHALLENGE),
    };
  // Compared as SHA-256 digests in constant time, every entry checked, so neither length nor position leaks.
  const presented = sha256Digest(match[1]!);
  let matched = -1;
  digests.forEach((digest, index) => {
    if (timingSafeEqual(presented, digest)) matched = index;
  });
  if (matched >= 0) return { caller: config.tokenNames[matched] };
  return { cause: new YikeError('UNAUTHORIZED', 'Invalid bearer token'), error: httpError(401, 'UNAUTHORIZED', 'Invalid bearer token', undefined, CHALLENGE) };
}
