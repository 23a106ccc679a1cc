import type { Config } from '../../runtime/config';
import { describeError } from '../../runtime/errors';
import { sleep } from '../../runtime/retry';
import type { RunContext, WatcherClock, WatcherDependencies, WatcherSummary } from './watch-context';
import { pendingRound, roundDone, scheduleNextRound, type NextRoundDependencies } from './next-round';
import { housekeep, newBucketState, watchBucketRound, type BucketState } from './watch-round';

export { claimKey, cursorKey, type WatcherDependencies, type WatcherSummary } from './watch-context';

/**
 * The job watcher's run (a timer tick, or a round it scheduled itself), in rounds. Each round, for each watched records
 * bucket: list the in-flight markers (one OSS list page per 1,000 jobs), read the records of jobs it does not know
 * yet, ask ICE with BatchGetYikeAIAppJob (`ice.maxJobIdsPerBatchGet` a call) about the unfinished jobs that are due
 * (schedule.ts: every round at first, less often for long-running jobs), write each change, and for a terminal job
 * copy its outputs (JOB_RESULTS `copy`, result-copy.ts), notify, then drop the marker. The first round of a run also
 * reconciles now and then (reconcile.ts: jobs whose record or marker was never written). A timer tick, and only a
 * tick (once a minute, not in each round it schedules), then keeps up the erasures: work lists swept again and the
 * jobs past RETENTION_DAYS erased (retention.ts), even when it leaves the polling to a pending round.
 *
 * While any job is in flight the next round is due lifecycle.roundSeconds after this one began (or later when nothing
 * is due sooner). The run does not sleep until then (FC bills a sleep as work): it invokes itself with that delay
 * (next-round.ts, at most one round pending) and ends; with nothing in flight it ends at once. A scheduled round that
 * FC delivers early (it ignored the delay) waits for its due time, capped by the invocation's time left, and then
 * polls in rounds within the run, sleeping between them, as every run did before, scheduling nothing: at worst it costs
 * what sleeping rounds cost, and it never loops. Without a self invoker (or with lifecycle.delayedRounds off) a run
 * sleeps between its rounds too, until too little of the invocation is left to notify what a round finds (`reserveMs`).
 *
 * A round that runs out of time saves a cursor, and the next run starts where it stopped, so a backlog larger than
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
/** FC delivers a delayed invocation about when it is due; one this much sooner was not delayed. */
const EARLY_TOLERANCE_MS = 1_000;

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
    erased: 0,
    reswept: 0,
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
  // The scheduled rounds' markers live in the first records bucket.
  const markers = { store: deps.recordStore(buckets[0]!), recordsPrefix: deps.config.records.prefix, logger: deps.logger };
  try {
    await runRounds(buckets, run, markers);
  } finally {
    if (deps.scheduledFor !== undefined) await roundDone(markers, deps.scheduledFor);
  }
  summary.durationMs = clock.now() - started;
  return summary;
}

/** The rounds of one run: until nothing is in flight, the next round is scheduled, or the time left is the reserve. */
async function runRounds(buckets: readonly string[], deps: RunContext, markers: Omit<NextRoundDependencies, 'self'>): Promise<void> {
  const { clock, roundMs, reserveMs, summary } = deps;
  const states = new Map<string, BucketState>(buckets.map((bucket) => [bucket, newBucketState()]));
  const early = deps.scheduledFor === undefined ? 0 : deps.scheduledFor - clock.now();
  // Sleeping rounds: without a way to schedule the next round, or in a round the platform delivered early.
  const sleeping = !(deps.config.lifecycle.delayedRounds && deps.self) || early > EARLY_TOLERANCE_MS;
  if (early > EARLY_TOLERANCE_MS) {
    summary.earlyByMs = early;
    deps.logger.warn('scheduled round arrived early: FC ignored x-fc-async-delay; it waits for its time, then polls in sleeping rounds', {
      notBefore: new Date(deps.scheduledFor!).toISOString(),
      earlyByMs: early,
    });
    // Capped as every round is: it waits only when the round can still notify what it finds.
    if (deps.remainingTimeMs() - early < reserveMs) return;
    await clock.sleep(early);
  }
  // The timer's tick, with a scheduled round due within a round: that round polls (a listing that fails: this one does).
  if (!sleeping && deps.scheduledFor === undefined) {
    const pending = await pendingRound(markers, clock.now()).catch(() => undefined);
    if (pending !== undefined && pending <= clock.now() + roundMs) {
      summary.nextRound = { outcome: 'pending', dueAt: new Date(pending).toISOString() };
      // The erasures and RETENTION_DAYS are the tick's work, not the rounds': done here, or never while jobs are in flight.
      const outOfTime = () => deps.remainingTimeMs() < reserveMs;
      for (const bucket of buckets) if (!outOfTime()) await housekeep(bucket, deps, outOfTime);
      return;
    }
  }
  for (;;) {
    const roundStartedAt = clock.now();
    summary.rounds++;
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const [bucket, state] of states) {
      try {
        const outcome = await watchBucketRound(bucket, state, deps);
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
    // A round cut short goes on from its cursor in the next run (the next round, or the next tick).
    if (summary.stoppedEarly) wakeAt = clock.now();
    // Nothing in flight: the run ends now.
    if (wakeAt === Number.POSITIVE_INFINITY || (summary.stoppedEarly && sleeping)) break;
    const nextRoundAt = summary.stoppedEarly ? wakeAt : Math.max(roundStartedAt + roundMs, wakeAt);
    if (!sleeping && deps.self) {
      summary.nextRound = await scheduleNextRound(
        { ...markers, self: deps.self, requestId: deps.requestId },
        { wantedAt: nextRoundAt, now: clock.now(), ownDueAt: deps.scheduledFor },
      );
      return;
    }
    // A round starts only with the time to notify what it finds, like the first one.
    if (deps.remainingTimeMs() - (nextRoundAt - clock.now()) < reserveMs) break;
    await clock.sleep(Math.max(0, nextRoundAt - clock.now()));
  }
}
