import { createServicesOrReport } from '../../shared/composition/services';
import { selfInvoker, watcherDependencies, type JobWebhookNetwork } from '../../shared/composition/watcher';
import { recordDelayProbeArrival, type DelayProbe } from '../../shared/domain/lifecycle/delay-probe';
import { runWatcher, type WatcherSummary } from '../../shared/domain/lifecycle/watcher';
import { ConfigError, describeError } from '../../shared/runtime/errors';
import { remainingTimeFrom, type InvocationContext } from '../../shared/runtime/invocation';
import type { LogSink } from '../../shared/runtime/logger';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { withDoctor, type WithDoctor } from '../../shared/triggers/events/doctor';
import { parseWatcherEvent, type WatcherEvent } from '../../shared/triggers/events/watcher';

/** What the run a delay probe starts answers (FC's onSuccess destination would get it; nobody waits for it). */
interface DelayProbeAnswer {
  yike: 'delay-probe';
  id: string;
  arrivedAt: string;
  /** False when the probe had arrived before (a redelivery). */
  recorded: boolean;
}

/** A probe event is answered with its arrival; every other event with the run's summary (and the doctor's with its report). */
type WatcherHandler = ((event: DelayProbe, context: InvocationContext) => Promise<DelayProbeAnswer>) & WithDoctor<WatcherSummary>;

/**
 * FC 3.0 handler of the job watcher: its timer trigger (every minute in s.yaml, the floor) and the rounds it schedules
 * itself (async InvokeFunction with x-fc-async-delay) follow in-flight jobs to their outcome and notify
 * (shared/domain/lifecycle/watcher.ts); the doctor's delay probe only records its arrival. The timer event carries
 * nothing we need; it is still validated so a mis-wired trigger is reported. `now` and `tuning` are for tests, the
 * bench and `npm start` only; `sleep` with `now` runs the rounds on that clock (a simulated one: the tests and the
 * bench); `jobWebhookNetwork` is the resolver and the allowed addresses of jobs' own webhooks (tests only).
 * {"yike":"doctor"} (a synchronous InvokeFunction from npx yike-doctor) is answered with the doctor's report.
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
): WatcherHandler =>
  withDoctor('job-watcher', options, async (event: unknown, context: InvocationContext): Promise<WatcherSummary | DelayProbeAnswer> => {
    const clock = options.sleep && options.now ? { now: () => options.now!().getTime(), sleep: options.sleep } : undefined;
    const startedAtMs = clock?.now() ?? Date.now();
    const services = createServicesOrReport({ context, env: options.env, tuning: options.tuning, sink: options.sink });
    const { logger, config } = services;
    let parsed: WatcherEvent;
    try {
      parsed = parseWatcherEvent(event);
      if (parsed.kind === 'tick') logger.debug('timer fired', { triggerName: parsed.timer.triggerName, triggerTime: parsed.timer.triggerTime });
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
    if (parsed.kind === 'delay-probe') {
      const arrivedAt = options.now?.() ?? new Date();
      const recorded = await recordDelayProbeArrival(services.recordStore(buckets[0]!), config.records.prefix, parsed.probe, arrivedAt);
      logger.info('delay probe arrived', { id: parsed.probe.id, sentAt: parsed.probe.sentAt, delaySeconds: parsed.probe.delaySeconds, recorded });
      return { yike: 'delay-probe', id: parsed.probe.id, arrivedAt: arrivedAt.toISOString(), recorded };
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
          self: selfInvoker(services, context),
          scheduledFor: parsed.kind === 'round' ? parsed.notBefore : undefined,
          requestId: context?.requestId,
        },
        options.jobWebhookNetwork,
      ),
    );
    logger[summary.bucketErrors > 0 ? 'error' : summary.jobErrors > 0 || summary.iceErrors > 0 ? 'warn' : 'info']('watcher run finished', { ...summary });
    return summary;
  }) as WatcherHandler;

export const handler = createHandler();
