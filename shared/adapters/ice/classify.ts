import { ICE_ERROR_CODES, IceError } from '../../runtime/errors';
import { classifyOpenApiError, type ServiceProfile } from '../openapi/client';

/** Error codes that mean "ICE did not do it, ask again later" (Alibaba Cloud common codes). */
const THROTTLING_CODE = /^Throttling(\.|$)/;
const HTTP_SERVER_ERROR = 500;

const ICE_PROFILE: ServiceProfile<IceError> = {
  name: 'ICE',
  codes: ICE_ERROR_CODES,
  // Throttling and 5xx answers are retried, as the policy says; everything else ICE rejected stays rejected.
  retryableAnswer: (code, statusCode) => THROTTLING_CODE.test(code) || (statusCode !== undefined && statusCode >= HTTP_SERVER_ERROR),
  create: (code, message, outcome, options) => new IceError(code, message, outcome, options),
};

/**
 * Turns whatever `@alicloud/openapi-client` threw at an ICE call into an IceError. `idempotent` is false for
 * SubmitYikeAIAppJob: then only errors proving ICE did not act are retryable.
 */
export function classifyIceError(raw: unknown, idempotent: boolean): IceError {
  if (raw instanceof IceError) return raw;
  return classifyOpenApiError(raw, idempotent, ICE_PROFILE);
}
