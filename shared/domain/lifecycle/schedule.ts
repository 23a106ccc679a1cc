import { isTerminal, type JobRecord, type NotificationState } from './job-record';
import { copyWakeAt, waitsForCopy } from './result-copy';

/**
 * When the watcher next has something to do about a job, within one run of rounds (watcher.ts). ICE is asked about
 * an unfinished job at the round's pace (lifecycle.roundSeconds) for its first FAST_FOR_MS, since most jobs end within
 * minutes and a finished job is noticed at most one round late; after that every 30 s, and after an hour every
 * minute (the pace of one round per timer tick): a job that runs that long loses little by being asked less often,
 * and each BatchGetYikeAIAppJob covers ten jobs. A new job is asked in the first round after its marker appears.
 */
const FAST_FOR_MS = 10 * 60_000;
const SLOW_AFTER_MS = 60 * 60_000;
const MEDIUM_INTERVAL_MS = 30_000;
const SLOW_INTERVAL_MS = 60_000;

export function askIntervalMs(ageMs: number, roundMs: number): number {
  if (ageMs < FAST_FOR_MS) return roundMs;
  return Math.max(roundMs, ageMs < SLOW_AFTER_MS ? MEDIUM_INTERVAL_MS : SLOW_INTERVAL_MS);
}

/** When ICE should next be asked about `record`, having been asked at `askedAt` (epoch ms). */
export function nextAskAt(record: JobRecord, askedAt: number, roundMs: number): number {
  return askedAt + askIntervalMs(askedAt - Date.parse(record.submittedAt), roundMs);
}

/**
 * For a terminal job: the earliest time a notification retry is due, its copy is tried again, or the notification
 * stops waiting for the copy; `now` when something is due already, or when nothing is left but removing its marker.
 */
export function nextWorkAt(record: JobRecord, maxCopyWaitSeconds: number | undefined, now: number): number {
  if (!isTerminal(record.status) || !record.notifications) return now;
  // An outcome notification waiting for the copy is not due before the copy is tried again or the wait ends.
  const held = maxCopyWaitSeconds !== undefined && waitsForCopy(record, new Date(now), maxCopyWaitSeconds);
  const times = [
    ...(held ? [] : pendingTimes(record.notifications, now)),
    ...pendingTimes(record.copyNotifications, now),
    maxCopyWaitSeconds === undefined ? undefined : copyWakeAt(record, maxCopyWaitSeconds),
  ].filter((time): time is number => time !== undefined);
  return times.length === 0 ? now : Math.max(now, Math.min(...times));
}

function pendingTimes(states: Record<string, NotificationState> | undefined, now: number): number[] {
  return Object.values(states ?? {})
    .filter((state) => state.status === 'pending')
    .map((state) => (state.nextAttemptAt ? Date.parse(state.nextAttemptAt) : now));
}
