import { randomUUID } from 'node:crypto';
import { isYikeError } from '../../runtime/errors';
import { sleep, withAttempts } from '../../runtime/retry';
import type { IceJob, RecordStore } from '../ports';
import { applyIceJob, isTerminal, markTimedOut, type JobRecord, type JobRecordStore, type NotificationState } from './job-record';
import { channelsFor, isDue, isSettled, nextAttemptDelayMs, notificationFor, type Channel, type NotificationEvent } from './notify';
import { copyDue, copyOutputs, playUrlOf, startCopy, waitsForCopy } from './result-copy';
import { CLAIM_LEASE_MS, claimKey, type RunContext } from './watch-context';

/**
 * One job in one round (watch-round.ts): what ICE said merged into its record, a time-out after lifecycle.jobTimeoutSeconds,
 * and for a terminal job its copy (JOB_RESULTS `copy`) and its notifications under a create-only claim, then its marker
 * dropped once nothing is owed any more.
 */
export interface KnownJob {
  jobId: string;
  /** As read (or last written) by this run; undefined while the job has a marker but no record. */
  record?: JobRecord;
  /** The round of this run in which `record` was read or written. */
  readInRound: number;
  /** When the job next has something due (epoch ms on the run's clock). */
  dueAt: number;
}

export interface JobContext extends RunContext {
  jobs: JobRecordStore;
  store: RecordStore;
  channels: Channel[];
  bucket: string;
  round: number;
  /** Checked again before copying and notifying: a chunk whose ICE call ran long saves its statuses and leaves the rest to the next round. */
  outOfTime: () => boolean;
}

/**
 * Rounds skipped over stale claims in one run. Each stale claim is a run that died mid-delivery without saving its
 * round, so several can pile up; the bound only keeps one run's OSS calls finite (an error names the job past it).
 */
const MAX_STALE_CLAIMS = 50;
/** A copy starts only with at least this long left beyond the reserve (it streams until then, and is retried if cut). */
const MIN_COPY_MS = 5_000;

export async function watchJob(entry: KnownJob, ice: { answered: boolean; job?: IceJob }, context: JobContext): Promise<void> {
  const { summary, logger, config } = context;
  const now = context.now();
  let next = entry.record!;
  let changed = false;
  const merge = (record: JobRecord) => {
    let merged = record;
    let differs = false;
    if (isTerminal(record.status)) return { merged, differs };
    if (ice.job) ({ record: merged, changed: differs } = applyIceJob(record, ice.job, now));
    const timeoutSeconds = config.lifecycle.jobTimeoutSeconds;
    // Only when ICE answered this round: a job ICE could not be asked about (throttling, an outage) may have finished.
    if (ice.answered && !isTerminal(merged.status) && now.getTime() - Date.parse(record.submittedAt) >= timeoutSeconds * 1000) {
      merged = markTimedOut(merged, timeoutSeconds, now);
      differs = true;
    }
    return { merged, differs };
  };
  if (!isTerminal(next.status) && ice.answered && !ice.job) logger.warn('ICE does not know this job', { bucket: context.bucket, jobId: entry.jobId });
  ({ merged: next, differs: changed } = merge(next));
  // About to write or deliver with a record read in an earlier round: read it again (another run or reader may have
  // moved it on), and merge ICE's answer into that.
  if ((changed || isTerminal(next.status)) && entry.readInRound !== context.round) {
    const cached = entry.record!;
    const latest = await context.jobs.get(entry.jobId);
    if (!latest) return;
    // Statuses only move forward: a stored record behind what this run knew is one whose save failed; go on from ours.
    const base = isTerminal(cached.status) && !isTerminal(latest.status) ? cached : latest;
    entry.record = base;
    entry.readInRound = context.round;
    ({ merged: next, differs: changed } = merge(base));
    if (base === cached) changed = true;
  }
  if (next.status === 'TimedOut' && entry.record?.status !== 'TimedOut') summary.timedOut++;
  // Also a record made terminal elsewhere (GET /jobs/{jobId}?refresh=1) and not yet notified: it has no notifications.
  let indexing: Promise<{ ok: true } | { ok: false; error: unknown }> | undefined;
  if (isTerminal(next.status) && !next.notifications) {
    // Listed under its final status (job-index.ts) before the settled record is saved or anyone is told of it; the
    // entries are written while the outputs are copied, with a save's attempts (a failure redoes the copy next round).
    const settled = next;
    indexing = persisted(() => context.jobs.indexFinalStatus(settled)).then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, error }) as const,
    );
    const notifications: Record<string, NotificationState> = {};
    for (const channel of channelsFor(context.channels, next)) notifications[channel.name] = { status: 'pending', attempts: 0 };
    next = startCopy({ ...next, settledAt: next.settledAt ?? now.toISOString(), notifications }, config.lifecycle.resultCopy !== undefined);
    changed = true;
    logger.info('job settled', { jobId: next.jobId, status: next.status, outputUrl: next.results[0]?.outputUrl, copy: next.copy });
  }
  if (isTerminal(next.status) && copyDue(next, now) && context.copier && !context.outOfTime()) {
    const budgetMs = context.remainingTimeMs() - context.reserveMs;
    if (budgetMs >= MIN_COPY_MS) {
      const notifiedBefore = Object.values(next.notifications ?? {}).some((state) => state.attempts > 0);
      const copyContext = {
        config: config.lifecycle,
        copier: context.copier,
        logger,
        random: context.random,
        resultsPrefix: config.records.resultsPrefix,
        recordsBucket: context.bucket,
      };
      next = await copyOutputs(next, copyContext, now, budgetMs);
      changed = true;
      if (next.copy === undefined) {
        summary.copied += next.results.filter((result) => result.ownKey).length;
        // Notified with ICE's URL before the copy was there: now the copy gets its own notification.
        if (notifiedBefore)
          next = {
            ...next,
            copyNotifications: Object.fromEntries(channelsFor(context.channels, next).map((channel) => [channel.name, { status: 'pending', attempts: 0 }])),
          };
      } else summary.copyFailures++;
    }
  }
  const indexed = await indexing;
  if (indexed && !indexed.ok) throw indexed.error;
  if (changed) summary.changed++;
  entry.record = next;
  if (!isTerminal(next.status) || context.outOfTime()) {
    // Never claim a notification without the time to deliver it and save the round: a run killed in between
    // leaves a stale claim and a second delivery.
    if (changed) await save(next, context);
    return;
  }
  await notifyAndSettle(entry, next, changed, now, context);
}

/** Which notification is due this round: the outcome (unless it still waits for the copy), else the copy's own. */
function dueEvent(record: JobRecord, now: Date, context: JobContext): { event: NotificationEvent; channels: Channel[] } | undefined {
  const outcome = context.channels.filter((channel) => isDue(record.notifications?.[channel.name], now));
  const maxWait = context.config.lifecycle.resultCopy?.maxWaitSeconds;
  if (outcome.length > 0) return maxWait !== undefined && waitsForCopy(record, now, maxWait) ? undefined : { event: 'outcome', channels: outcome };
  // A channel's result-copied goes only after its outcome notification.
  const copied = context.channels.filter((channel) => isDue(record.copyNotifications?.[channel.name], now) && isSettled(record.notifications?.[channel.name]));
  return copied.length > 0 ? { event: 'result-copied', channels: copied } : undefined;
}

/** Nothing owed any more: every notification settled and no copy still being tried. */
export function owesNothing(record: JobRecord): boolean {
  return (
    Object.values(record.notifications ?? {}).every(isSettled) && record.copy !== 'pending' && Object.values(record.copyNotifications ?? {}).every(isSettled)
  );
}

async function notifyAndSettle(entry: KnownJob, record: JobRecord, changed: boolean, now: Date, context: JobContext): Promise<void> {
  const { summary, logger } = context;
  const due = dueEvent(record, now, context);
  if (!due) {
    if (changed) await save(record, context);
    if (owesNothing(record)) await finish(entry, record, context);
    return;
  }

  const round = await claimRound(record.jobId, record.notifyRound ?? 0, now, context);
  if (round === undefined) {
    summary.claimedElsewhere++;
    // Another run delivers it: look again once its claim would be stale (its marker is gone by then, normally).
    entry.dueAt = context.clock.now() + CLAIM_LEASE_MS;
    entry.readInRound = -1;
    return;
  }
  const field = due.event === 'outcome' ? 'notifications' : 'copyNotifications';
  const states = { ...(record[field] ?? {}) };
  // Every channel gets the same JSON; playUrl is signed again for each delivery round (a retry hours later still works).
  const payload = notificationFor(record, due.event, playUrlOf(record, context.signUrl, context.config.oss.signedUrlExpiresSeconds, now));
  const body = JSON.stringify(payload);
  const outcomes = await Promise.all(due.channels.map(async (channel) => [channel, await channel.deliver(payload, body, record)] as const));
  const at = now.toISOString();
  for (const [channel, outcome] of outcomes) {
    const attempts = (states[channel.name]?.attempts ?? 0) + 1;
    if (outcome.ok) {
      summary.delivered++;
      states[channel.name] = { status: 'delivered', attempts, lastAttemptAt: at, deliveryId: payload.id };
      logger.info('notification delivered', { jobId: record.jobId, channel: channel.name, type: payload.type, attempts, detail: outcome.detail });
      continue;
    }
    summary.deliveryFailures++;
    if (attempts >= channel.maxAttempts || outcome.final) {
      states[channel.name] = { status: 'undelivered', attempts, lastAttemptAt: at, lastError: outcome.error, deliveryId: payload.id };
      logger.error(outcome.final ? 'notification refused; not tried again' : 'notification undelivered after its last attempt', {
        jobId: record.jobId,
        channel: channel.name,
        type: payload.type,
        attempts,
        error: outcome.error,
      });
    } else {
      const nextAttemptAt = new Date(now.getTime() + nextAttemptDelayMs(attempts, context.random)).toISOString();
      states[channel.name] = { status: 'pending', attempts, lastAttemptAt: at, nextAttemptAt, lastError: outcome.error, deliveryId: payload.id };
      logger.warn('notification failed; retried later', {
        jobId: record.jobId,
        channel: channel.name,
        type: payload.type,
        attempts,
        nextAttemptAt,
        error: outcome.error,
      });
    }
  }
  const saved: JobRecord = { ...record, [field]: states, notifyRound: round + 1, updatedAt: at };
  // Delivered: a lost save would mean a second delivery once the claim goes stale, so it is tried harder.
  await save(saved, context);
  entry.record = saved;
  if (owesNothing(saved)) await finish(entry, saved, context);
}

const SAVE_ATTEMPTS = 3;
const SAVE_PAUSE_MS = 100;

/** A record write after work that must not be redone (a copy, a delivery): a few attempts, then the error. */
async function save(record: JobRecord, context: JobContext): Promise<void> {
  await persisted(() => context.jobs.save(record));
}

function persisted(write: () => Promise<void>): Promise<void> {
  return withAttempts(
    write,
    SAVE_ATTEMPTS,
    (attempt) => SAVE_PAUSE_MS * attempt,
    (error) => !(isYikeError(error) && error.retryable),
  );
}

async function finish(entry: KnownJob, record: JobRecord, context: JobContext): Promise<void> {
  await context.jobs.removeInflight(record.jobId);
  context.summary.settled++;
  entry.dueAt = Number.POSITIVE_INFINITY;
}

/**
 * A create-only claim whose answer may be lost (a reset or a time-out after OSS stored it): read back, it is ours when
 * it carries our owner id (looked at twice, the second time a moment later, for a write that lands late). Without
 * that, every lost answer would leave a claim nobody delivers under until its lease runs out.
 */
async function createClaim(key: string, claim: { owner: string; claimedAt: string }, store: RecordStore): Promise<boolean> {
  try {
    return await store.createIfAbsent(key, claim);
  } catch (error) {
    for (const pauseMs of [0, CLAIM_READ_BACK_PAUSE_MS]) {
      await sleep(pauseMs);
      const stored = await store.get<{ owner?: string }>(key).catch(() => undefined);
      if (stored) {
        if (stored.owner === claim.owner) return true;
        return false;
      }
    }
    throw error;
  }
}

const CLAIM_READ_BACK_PAUSE_MS = 500;

/** The round this run may deliver, or undefined when another run holds a fresh claim. */
async function claimRound(jobId: string, fromRound: number, now: Date, context: JobContext): Promise<number | undefined> {
  const prefix = context.config.records.prefix;
  for (let round = fromRound; round < fromRound + MAX_STALE_CLAIMS; round++) {
    const key = claimKey(prefix, jobId, round);
    if (await createClaim(key, { owner: randomUUID(), claimedAt: now.toISOString() }, context.store)) return round;
    const existing = await context.store.get<{ claimedAt?: string }>(key);
    if (existing && now.getTime() - Date.parse(existing.claimedAt ?? '') < CLAIM_LEASE_MS) return undefined;
    context.logger.warn('stale notification claim: its run stopped mid-delivery; delivering again', { jobId, round });
  }
  context.logger.error('notification claims all stale: runs keep dying mid-delivery; the job waits for the next tick', {
    jobId,
    fromRound,
    rounds: MAX_STALE_CLAIMS,
  });
  return undefined;
}
