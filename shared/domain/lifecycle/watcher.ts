import type { Config } from '../../runtime/config';
import { describeError } from '../../runtime/errors';
import { sleep } from '../../runtime/retry';
import type { WatcherClock, WatcherDependencies, WatcherSummary } from './watch-context';
import { newBucketState, watchBucketRound, type BucketState } from './watch-round';

export { claimKey, cursorKey, type WatcherDependencies, type WatcherSummary } from './watch-context';

/**
 * The job watcher's run (one timer tick), in rounds. Each round, for each watched records bucket: list the in-flight
 * markers (one OSS list page per 1,000 jobs), read the records of jobs it does not know yet, ask ICE with
 * BatchGetYikeAIAppJob (`ice.maxJobIdsPerBatchGet` a call) about the unfinished jobs that are due (schedule.ts: every round
 * at first, less often for long-running jobs), write each change, and for a terminal job copy its outputs
 * (JOB_RESULTS `copy`, result-copy.ts), notify, then drop the marker. While any job is in flight the run sleeps until its next
 * round (lifecycle.roundSeconds after the last one began, or later when nothing is due sooner) and goes on until too little
 * of the invocation is left to notify what a round finds (`reserveMs`); with nothing in flight it ends at once. The
 * first round of a run also reconciles now and then (reconcile.ts: jobs whose record or marker was never written).
 *
 * A round that runs out of time saves a cursor, and the next tick starts where it stopped, so a backlog larger than
 * one run is still worked through in turn.
 *
 * Two runs at once never notify a job twice: delivering is done under a create-only claim
 * `<RECORDS_PREFIX>claims/<jobId>/<round>` (x-oss-forbid-overwrite), after reading the record again; the loser leaves
 * the job alone. A winner that dies mid-round leaves a claim older than CLAIM_LEASE_MS: the next run claims round + 1
 * and delivers again (at least once; receivers dedupe by the notification id).
 */
/**
 * Long enough for one chunk's slowest delivery: a webhook attempt (JOB_WEBHOOK_URL's, or a job's own when
 * WEBHOOK_ALLOWED_HOSTS allows them), or the next-function invoke (NEXT_FUNCTION_BUDGET_MS).
 */
function defaultReserveMs(lifecycle: Config['lifecycle']): number {
  const jobWebhookMs = lifecycle.jobWebhooks.allowedHosts.length > 0 ? lifecycle.jobWebhooks.timeoutMs : 0;
  return Math.max(lifecycle.webhook?.timeoutMs ?? 0, jobWebhookMs, lifecycle.nextFunction ? NEXT_FUNCTION_BUDGET_MS : 0) + 5_000;
}

/** Two InvokeFunction attempts of at most 5 s each (see the job-watcher handler's invoker). */
const NEXT_FUNCTION_BUDGET_MS = 11_000;

const REAL_CLOCK: WatcherClock = { now: () => Date.now(), sleep };

export async function runWatcher(buckets: readonly string[], deps: WatcherDependencies): Promise<WatcherSummary> {
  const clock = deps.clock ?? REAL_CLOCK;
  const started = clock.now();
  const summary: WatcherSummary = {
    buckets: [...buckets],
    rounds: 0,
    inflight: 0,
    checked: 0,
    changed: 0,
    settled: 0,
    timedOut: 0,
    delivered: 0,
    deliveryFailures: 0,
    claimedElsewhere: 0,
    copied: 0,
    copyFailures: 0,
    rebuilt: 0,
    reconciled: 0,
    iceCalls: 0,
    iceErrors: 0,
    jobErrors: 0,
    bucketErrors: 0,
    stoppedEarly: false,
    durationMs: 0,
  };
  const roundMs = deps.config.lifecycle.roundSeconds * 1000;
  const reserveMs = deps.reserveMs ?? defaultReserveMs(deps.config.lifecycle as Config['lifecycle']);
  const run = { ...deps, clock, now: deps.now ?? (() => new Date(clock.now())), reserveMs, roundMs, summary };
  const states = new Map<string, BucketState>(buckets.map((bucket) => [bucket, newBucketState()]));
  for (;;) {
    const roundStartedAt = clock.now();
    summary.rounds++;
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const [bucket, state] of states) {
      try {
        const outcome = await watchBucketRound(bucket, state, run);
        if (outcome.stoppedEarly) summary.stoppedEarly = true;
        wakeAt = Math.min(wakeAt, outcome.wakeAt);
      } catch (error) {
        // One unreadable bucket (permissions, a typo in ALLOWED_BUCKETS) must not stop the others; it is left for this run.
        summary.bucketErrors++;
        states.delete(bucket);
        deps.logger.error('records bucket could not be watched', { bucket, error: describeError(error) });
      }
      if (summary.stoppedEarly) break;
    }
    // Nothing in flight (or a round cut short, whose cursor the next tick starts from): the run ends now.
    if (summary.stoppedEarly || wakeAt === Number.POSITIVE_INFINITY) break;
    const nextRoundAt = Math.max(roundStartedAt + roundMs, wakeAt);
    // A round starts only with the time to notify what it finds, like the first one.
    if (deps.remainingTimeMs() - (nextRoundAt - clock.now()) < reserveMs) break;
    await clock.sleep(Math.max(0, nextRoundAt - clock.now()));
  }
  summary.durationMs = clock.now() - started;
  return summary;
}
