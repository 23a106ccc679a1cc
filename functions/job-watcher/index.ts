import { createServicesOrReport } from '../../shared/composition/services';
import { watcherDependencies, type JobWebhookNetwork } from '../../shared/composition/watcher';
import { runWatcher, type WatcherSummary } from '../../shared/domain/lifecycle/watcher';
import { ConfigError, describeError } from '../../shared/runtime/errors';
import { remainingTimeFrom, type InvocationContext } from '../../shared/runtime/invocation';
import type { LogSink } from '../../shared/runtime/logger';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { withDoctor } from '../../shared/triggers/events/doctor';
import { parseTimerEvent } from '../../shared/triggers/events/timer';

/**
 * FC 3.0 handler for the job watcher's timer trigger (every minute in s.yaml): follows in-flight jobs to their
 * outcome and notifies (shared/domain/lifecycle/watcher.ts). The timer event itself carries nothing we need; it is
 * still validated so a mis-wired trigger is reported. `now` and `tuning` are for tests, the bench and `npm start` only;
 * `sleep` with `now` runs the rounds on that clock (a simulated one: the tests and the bench); `jobWebhookNetwork` is the
 * resolver and the allowed addresses of jobs' own webhooks (tests only). {"yike":"doctor"} (a synchronous
 * InvokeFunction from npx yike-doctor) is answered with the doctor's report instead.
 */
export const createHandler = (
  options: {
    env?: NodeJS.ProcessEnv;
    tuning?: TuningOverrides;
    sink?: LogSink;
    now?: () => Date;
    sleep?: (ms: number) => Promise<void>;
    reserveMs?: number;
    jobWebhookNetwork?: JobWebhookNetwork;
  } = {},
) =>
  withDoctor('job-watcher', options, async (event: unknown, context: InvocationContext): Promise<WatcherSummary> => {
    const clock = options.sleep && options.now ? { now: () => options.now!().getTime(), sleep: options.sleep } : undefined;
    const startedAtMs = clock?.now() ?? Date.now();
    const services = createServicesOrReport({ context, env: options.env, tuning: options.tuning, sink: options.sink });
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
      const error = new ConfigError('Invalid configuration: RECORDS_BUCKET: the job watcher needs RECORDS_BUCKET or ALLOWED_BUCKETS', [
        { variable: 'RECORDS_BUCKET', message: 'required by the job watcher (or ALLOWED_BUCKETS)' },
      ]);
      logger.error('configuration invalid', { error: describeError(error) });
      throw error;
    }

    const summary = await runWatcher(
      buckets,
      watcherDependencies(
        services,
        context,
        {
          remainingTimeMs: remainingTimeFrom(context, startedAtMs, clock?.now),
          reserveMs: options.reserveMs,
          now: options.now,
          clock,
        },
        options.jobWebhookNetwork,
      ),
    );
    logger[summary.bucketErrors > 0 ? 'error' : summary.jobErrors > 0 || summary.iceErrors > 0 ? 'warn' : 'info']('watcher run finished', { ...summary });
    return summary;
  });

export const handler = createHandler();
