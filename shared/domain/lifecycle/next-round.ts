import { describeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { FunctionInvoker, RecordStore } from '../ports';

/**
 * The watcher's next round as a delayed invocation of itself (docs/lifecycle.md#rounds): instead of sleeping (FC
 * bills the sleep), a run with jobs in flight invokes its own function asynchronously with x-fc-async-delay, the
 * seconds until the next round is due, and ends. The minute timer stays the floor: it restarts the chain if a round
 * is lost, and a round further off than the next tick is left to it.
 *
 * At most one scheduled round is pending, whatever the number of overlapping runs: a round is scheduled under a
 * create-only marker `<RECORDS_PREFIX>watcher/rounds/<due time>` (x-oss-forbid-overwrite, as the notification claims
 * and the budget's slots are), due times are whole seconds (runs that want the same second share one marker), a run
 * that finds another round pending (a marker due later, or due less than ARRIVAL_GRACE_MS ago) schedules none, and
 * a scheduled round removes its own marker when it ends, after scheduling the next one.
 */
export const ROUND_EVENT = 'watch-round';

/** What a scheduled round receives: when it is due, so an early delivery (the delay ignored) can tell. */
interface RoundEvent {
  yike: typeof ROUND_EVENT;
  notBefore: string;
}

/** FC's delay is whole seconds, at least 1 (its documented range is (0, 3600)). */
const MIN_DELAY_SECONDS = 1;
/** The timer fires every minute: a round due this far off or later is the timer's, not worth an invocation. */
const TIMER_COVERS_MS = 60_000;
/** A round due this long ago that has not run is taken for lost (FC dropped it): the next run may schedule another. */
const ARRIVAL_GRACE_MS = 15_000;
/** The markers a run reads to see what is pending: its own and one more tell it all. */
const PENDING_LISTED = 2;

export type NextRound =
  | { outcome: 'scheduled'; dueAt: string; delaySeconds: number; requestId: string }
  | { outcome: 'pending'; dueAt: string }
  | { outcome: 'timer'; dueAt: string }
  | { outcome: 'failed'; dueAt: string; error: string };

export interface NextRoundDependencies {
  /** The records bucket's store (the first watched bucket): the round markers live there. */
  store: RecordStore;
  recordsPrefix: string;
  /** This very function and the InvokeFunction client that reaches it. */
  self: { functionName: string; invoker: FunctionInvoker };
  logger: Logger;
  /** The invocation that schedules (kept in the marker, for an operator reading it). */
  requestId?: string;
}

function roundsPrefix(recordsPrefix: string): string {
  return `${recordsPrefix}watcher/rounds/`;
}

/** ISO-8601 sorts as time does, so the markers list in due order. */
function roundMarkerKey(recordsPrefix: string, dueAtMs: number): string {
  return `${roundsPrefix(recordsPrefix)}${new Date(dueAtMs).toISOString()}`;
}

/**
 * Schedules the round wanted at `wantedAt` (epoch ms) unless one is pending or the timer comes first. `ownDueAt`: the
 * due time of the scheduled round this run is (its own marker is no longer pending).
 */
export async function scheduleNextRound(deps: NextRoundDependencies, input: { wantedAt: number; now: number; ownDueAt?: number }): Promise<NextRound> {
  const { now } = input;
  // Whole seconds: the round comes at most a second before it was wanted (a round asks what is due within half a round).
  const dueAtMs = Math.max(Math.floor(input.wantedAt / 1000) * 1000, Math.ceil((now + MIN_DELAY_SECONDS * 1000) / 1000) * 1000);
  const dueAt = new Date(dueAtMs).toISOString();
  if (dueAtMs - now >= TIMER_COVERS_MS) return { outcome: 'timer', dueAt };
  const key = roundMarkerKey(deps.recordsPrefix, dueAtMs);
  try {
    const pending = await pendingRound(deps, now, input.ownDueAt);
    if (pending !== undefined) return { outcome: 'pending', dueAt: new Date(pending).toISOString() };
    if (!(await deps.store.createIfAbsent(key, { dueAt, scheduledAt: new Date(now).toISOString(), requestId: deps.requestId }))) {
      return { outcome: 'pending', dueAt };
    }
  } catch (error) {
    deps.logger.warn('next round not scheduled: its marker could not be read or written; the timer goes on', { dueAt, error: describeError(error) });
    return { outcome: 'failed', dueAt, error: describeError(error).code };
  }
  const delaySeconds = Math.max(MIN_DELAY_SECONDS, Math.ceil((dueAtMs - now) / 1000));
  const event: RoundEvent = { yike: ROUND_EVENT, notBefore: dueAt };
  try {
    const { requestId } = await deps.self.invoker.invokeAsync(deps.self.functionName, Buffer.from(JSON.stringify(event)), { asyncDelaySeconds: delaySeconds });
    return { outcome: 'scheduled', dueAt, delaySeconds, requestId };
  } catch (error) {
    // Not scheduled: the marker goes, so the next run (the timer's at the latest) schedules again.
    await deps.store.delete(key).catch(() => undefined);
    deps.logger.warn('next round not scheduled: InvokeFunction failed; the timer goes on', { dueAt, error: describeError(error) });
    return { outcome: 'failed', dueAt, error: describeError(error).code };
  }
}

/**
 * The due time (epoch ms) of a round scheduled and not finished (due later, or less than ARRIVAL_GRACE_MS ago), other
 * than `ownDueAt`'s; undefined when there is none. A timer tick with one due within a round leaves the polling to it.
 */
export async function pendingRound(deps: Pick<NextRoundDependencies, 'store' | 'recordsPrefix'>, now: number, ownDueAt?: number): Promise<number | undefined> {
  const prefix = roundsPrefix(deps.recordsPrefix);
  const own = ownDueAt === undefined ? undefined : roundMarkerKey(deps.recordsPrefix, ownDueAt);
  const listed = await deps.store.list(prefix, { after: roundMarkerKey(deps.recordsPrefix, now - ARRIVAL_GRACE_MS), limit: PENDING_LISTED });
  const pending = listed.find((marker) => marker !== own);
  return pending === undefined ? undefined : Date.parse(pending.slice(prefix.length));
}

/** A scheduled round that has run (its next one scheduled, or none needed) is no longer pending. */
export async function roundDone(deps: Pick<NextRoundDependencies, 'store' | 'recordsPrefix' | 'logger'>, dueAt: number): Promise<void> {
  const key = roundMarkerKey(deps.recordsPrefix, dueAt);
  // Left behind, it only keeps other runs from scheduling for ARRIVAL_GRACE_MS.
  await deps.store.delete(key).catch((error: unknown) => deps.logger.warn('round marker not removed', { key, error: describeError(error) }));
}
