import { hasSpendingLimit } from '../../shared/composition/budget';
import { runBudgetTick, type BudgetTickSummary } from '../../shared/composition/renewal';
import { createSubmissionServicesOrReport } from '../../shared/composition/submissions';
import { describeError } from '../../shared/runtime/errors';
import { remainingTimeFrom, type InvocationContext } from '../../shared/runtime/invocation';
import type { LogSink } from '../../shared/runtime/logger';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { withDoctor } from '../../shared/triggers/events/doctor';
import { parseTimerEvent } from '../../shared/triggers/events/timer';

/**
 * FC 3.0 handler for the budget's timer trigger (every minute in s.yaml): when the day's budget renews, the deferred
 * items are submitted first, oldest first, within it; then the day's budget alerts (shared/composition/renewal.ts,
 * docs/budget.md). Without JOB_BUDGET_PER_DAY or a token quota it does nothing. `now` is for tests and npm start only.
 * {"yike":"doctor"} (a synchronous InvokeFunction from npx yike-doctor) is answered with the doctor's report instead.
 */
export const createHandler = (options: { env?: NodeJS.ProcessEnv; tuning?: TuningOverrides; sink?: LogSink; now?: () => Date; reserveMs?: number } = {}) =>
  withDoctor('budget-renewal', options, async (event: unknown, context: InvocationContext): Promise<BudgetTickSummary> => {
    const startedAtMs = Date.now();
    const services = createSubmissionServicesOrReport({ context, env: options.env, tuning: options.tuning, sink: options.sink, now: options.now });
    const { logger, config } = services;
    try {
      parseTimerEvent(event);
    } catch (error) {
      logger.error('event rejected', { error: describeError(error) });
      throw error;
    }
    if (!hasSpendingLimit(config)) {
      logger.debug('no JOB_BUDGET_PER_DAY and no token quota: nothing to renew');
      return { errors: 0 };
    }
    const summary = await runBudgetTick(services, { remainingTimeMs: remainingTimeFrom(context, startedAtMs), now: options.now, reserveMs: options.reserveMs });
    logger[summary.errors > 0 || (summary.renewal?.failed ?? 0) > 0 ? 'error' : 'info']('budget renewal finished', { ...summary });
    return summary;
  });

export const handler = createHandler();
