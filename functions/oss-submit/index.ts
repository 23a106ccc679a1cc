import { createSubmissionServicesOrReport } from '../../shared/composition/submissions';
import { processWorkItems, type SubmissionResult } from '../../shared/domain/submissions/submissions';
import { describeError, YikeError } from '../../shared/runtime/errors';
import { remainingTimeFrom, type InvocationContext } from '../../shared/runtime/invocation';
import type { LogSink } from '../../shared/runtime/logger';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { withDoctor } from '../../shared/triggers/events/doctor';
import { parseInvocation } from '../../shared/triggers/events/parse';

/**
 * FC 3.0 handler for OSS triggers, EventBridge OSS events (single or batch) and pipeline events.
 * Every item is processed; the invocation then fails if any item failed, so FC retries it or sends it to
 * the onFailure destination. Retries are safe: each upload has a job record that makes it run once.
 * {"yike":"doctor"} (a synchronous InvokeFunction from npx yike-doctor) is answered with the doctor's report instead.
 */
export const createHandler = (options: { env?: NodeJS.ProcessEnv; tuning?: TuningOverrides; sink?: LogSink; now?: () => Date } = {}) =>
  withDoctor('oss-submit', options, async (event: unknown, context: InvocationContext): Promise<SubmissionResult> => {
    const startedAtMs = Date.now();
    // `now` (tests, the local cloud): the clock the budget's day and the records' times are read from.
    const services = createSubmissionServicesOrReport({ context, env: options.env, tuning: options.tuning, sink: options.sink, now: options.now });
    const { logger } = services;

    let parsed: ReturnType<typeof parseInvocation>;
    try {
      parsed = parseInvocation(event);
    } catch (error) {
      // Reported, never dropped: the invocation fails and FC's retry/onFailure sees it.
      logger.error('event rejected', { error: describeError(error) });
      throw error;
    }

    const result = await processWorkItems(parsed.items, { ...services, remainingTimeMs: remainingTimeFrom(context, startedAtMs), now: options.now });
    logger.info('invocation finished', {
      eventSource: parsed.source,
      retryCount: context?.retryCount,
      submitted: result.submitted.length,
      skipped: result.skipped.length,
      ...(result.deferred ? { deferred: result.deferred.length } : {}),
      failed: result.failed.length,
      latencyMs: Date.now() - startedAtMs,
    });
    if (result.failed.length > 0) throw new PartialFailureError(result);
    return result;
  });

export const handler = createHandler();

/** Names every failed item, so FC's error report and the onFailure destination say which ones. */
export class PartialFailureError extends YikeError {
  readonly result: SubmissionResult;
  constructor(result: SubmissionResult) {
    const total = result.submitted.length + result.skipped.length + result.failed.length;
    const failures = result.failed.map((item) => `${item.source} (${item.code}: ${item.message})`).join('; ');
    super('PARTIAL_FAILURE', `${result.failed.length} of ${total} items failed: ${failures}`, {
      retryable: result.failed.some((item) => item.retryable),
      details: result,
    });
    this.name = 'PartialFailureError';
    this.result = result;
  }
}
