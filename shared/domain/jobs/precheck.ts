import { YikeError } from '../../runtime/errors';
import type { PrecheckAnswer } from '../ports';

/**
 * What PrecheckYikeAIAppJob's answer means for a job: `Failed` refuses it (each input key's ErrorCode says why);
 * any other status passes.
 */
export function precheckRefused(answer: PrecheckAnswer): boolean {
  return answer.status === 'Failed';
}

/** The refusal's error codes, e.g. ["ImageCheckFailed"] (an unnamed one reads "(no code)"). */
export function precheckErrorCodes(answer: PrecheckAnswer): string[] {
  return answer.issues.map((issue) => issue.errorCode);
}

/** A precheck that says Failed is PRECHECK_FAILED (422, not retryable), listing each {key, errorCode}; any other status passes. */
export function assertPrecheckPassed(answer: PrecheckAnswer): void {
  if (!precheckRefused(answer)) return;
  const listed = answer.issues.length > 0 ? answer.issues.map((issue) => `${issue.key}: ${issue.errorCode}`).join(', ') : 'no reason given';
  throw new YikeError('PRECHECK_FAILED', `ICE's precheck refused the job's inputs (${listed})`, {
    statusCode: 422,
    requestId: answer.requestId,
    details: answer.issues,
  });
}
