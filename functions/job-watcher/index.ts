import { ConfigError, describeError } from '../../shared/runtime/errors';
import { parseTimerEvent } from '../../shared/triggers/events/timer';
import { createFunctionInvoker, type FunctionInvoker } from '../../shared/adapters/fc/invoke';
import { runWatcher, type WatcherSummary } from '../../shared/domain/lifecycle/watcher';
import type { LogSink } from '../../shared/runtime/logger';
import { createServicesOrReport, recordStoresFor, remainingTimeFrom, type InvocationContext, type Services } from '../../shared/composition/services';

/**
 * FC 3.0 handler for the job watcher's timer trigger (every minute in s.yaml): follows in-flight jobs to their
 * outcome and notifies (shared/domain/lifecycle/watcher.ts). The timer event itself carries nothing we need; it is
 * still validated so a mis-wired trigger is reported. `now` is for tests and `npm start` only.
 */
export const createHandler =
  (options: { env?: NodeJS.ProcessEnv; sink?: LogSink; now?: () => Date; reserveMs?: number } = {}) =>
  async (event: unknown, context: InvocationContext): Promise<WatcherSummary> => {
    const startedAtMs = Date.now();
    const services = createServicesOrReport({ context, env: options.env, sink: options.sink });
    const { logger, config } = services;
    try {
      const timer = parseTimerEvent(event);
      logger.debug('timer fired', { triggerName: timer.triggerName, triggerTime: timer.triggerTime });
    } catch (error) {
      logger.error('event rejected', { error: describeError(error) });
      throw error;
    }
    const buckets = config.lifecycle.watchBuckets;
    if (buckets.length === 0) {
      const error = new ConfigError('Invalid configuration: RECORDS_BUCKET: the job watcher needs RECORDS_BUCKET, WATCH_BUCKETS or ALLOWED_BUCKETS', [
        { variable: 'RECORDS_BUCKET', message: 'required by the job watcher (or WATCH_BUCKETS / ALLOWED_BUCKETS)' },
      ]);
      logger.error('configuration invalid', { error: describeError(error) });
      throw error;
    }

    const summary = await runWatcher(buckets, {
      config,
      ice: services.ice,
      recordStore: recordStoresFor(services),
      invoker: config.lifecycle.nextFunction ? nextFunctionInvoker(services, context) : undefined,
      logger,
      remainingTimeMs: remainingTimeFrom(context, startedAtMs),
      reserveMs: options.reserveMs,
      now: options.now,
    });
    logger[summary.bucketErrors > 0 ? 'error' : summary.jobErrors > 0 || summary.iceErrors > 0 ? 'warn' : 'info']('watcher run finished', { ...summary });
    return summary;
  };

export const handler = createHandler();

/** FC_ENDPOINT / FC_ACCOUNT_ID, else the account FC names in the context: the function's own account and region. */
function nextFunctionInvoker(services: Services, context: InvocationContext): FunctionInvoker | undefined {
  const fc = services.config.fc;
  const endpoint = fc.endpoint ?? (context?.accountId ? `${context.accountId}.${fc.region}.fc.aliyuncs.com` : undefined);
  if (!endpoint) {
    services.logger.error('JOB_NEXT_FUNCTION is set but there is no FC endpoint: set FC_ACCOUNT_ID or FC_ENDPOINT');
    return undefined;
  }
  // Short, so one delivery fits the watcher's reserve (NEXT_FUNCTION_BUDGET_MS); a failure is retried next tick.
  return createFunctionInvoker({
    config: { ...fc, endpoint },
    credentials: services.credentials,
    logger: services.logger,
    readTimeoutMs: 5_000,
    connectTimeoutMs: 2_000,
    retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 1_000 },
  });
}
