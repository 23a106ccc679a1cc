import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../../runtime/concurrency';
import type { Config } from '../../runtime/config';
import { describeError } from '../../runtime/errors';
import { JOB_IDS_PER_BATCH_GET, type FunctionInvoker, type Ice, type IceJob, type RecordStore, type WebhookSender } from '../ports';
import type { Logger } from '../../runtime/logger';
import {
  applyIceJob,
  createJobRecordStore,
  inflightKey,
  isTerminal,
  markTimedOut,
  type JobRecord,
  type JobRecordStore,
  type NotificationState,
} from './job-record';
import { createChannels, isDue, isSettled, nextAttemptDelayMs, notificationFor, type Channel } from './notify';

/**
 * The job watcher's run (one timer tick): for each watched records bucket, list the in-flight markers (one OSS list
 * page per 1,000 jobs), read their job records, ask ICE about the unfinished ones with BatchGetYikeAIAppJob
 * (JOB_IDS_PER_BATCH_GET a call), write every change into the record, and for a terminal status notify, then drop
 * the marker. It stops while `reserveMs` of the invocation is left and the next tick starts where it stopped
 * (a cursor object), so a backlog larger than one run is still worked through in turn.
 *
 * Two runs at once never notify a job twice: delivering is done under a create-only claim
 * `<RECORDS_PREFIX>claims/<jobId>/<round>` (x-oss-forbid-overwrite); the loser leaves the job alone. A winner that
 * dies mid-round leaves a claim older than CLAIM_LEASE_MS: the next run claims round + 1 and delivers again
 * (at least once; receivers dedupe by the notification id).
 */
export interface WatcherDependencies {
  config: Pick<Config, 'records' | 'lifecycle'>;
  ice: Pick<Ice, 'batchGetYikeAIAppJobs'>;
  recordStore: (bucket: string) => RecordStore;
  /** FC InvokeFunction client for JOB_NEXT_FUNCTION. */
  invoker?: FunctionInvoker;
  /** Delivers JOB_WEBHOOK_URL notifications (required when a webhook is configured). */
  sendWebhook?: WebhookSender;
  logger: Logger;
  /** Milliseconds left in this invocation. */
  remainingTimeMs: () => number;
  /** Stop starting new work when less than this is left. Default: webhook timeout + 5 s. */
  reserveMs?: number;
  now?: () => Date;
  random?: () => number;
}

export interface WatcherSummary {
  buckets: string[];
  inflight: number;
  checked: number;
  changed: number;
  settled: number;
  timedOut: number;
  delivered: number;
  deliveryFailures: number;
  claimedElsewhere: number;
  iceCalls: number;
  iceErrors: number;
  jobErrors: number;
  /** Buckets whose markers could not be listed (logged; the others are still watched). */
  bucketErrors: number;
  stoppedEarly: boolean;
  durationMs: number;
}

/** BatchGetYikeAIAppJob calls in flight at once (ICE documents no QPS for it; its submit-side siblings allow 30). */
const ICE_CONCURRENCY = 4;
/** A claim younger than this belongs to a run still delivering (webhook ≤ 30 s, FC invoke retries, OSS writes). */
const CLAIM_LEASE_MS = 5 * 60_000;
/**
 * Rounds skipped over stale claims in one run. Each stale claim is a run that died mid-delivery without saving its
 * round, so several can pile up; the bound only keeps one run's OSS calls finite (an error names the job past it).
 */
const MAX_STALE_CLAIMS = 50;
/** A marker whose record is missing this long after its submit is an orphan (a failed record write) and is dropped. */
const ORPHAN_GRACE_MS = 10 * 60_000;

/** Long enough for one chunk's slowest delivery: a webhook attempt, or the next-function invoke (NEXT_FUNCTION_BUDGET_MS). */
function defaultReserveMs(lifecycle: Config['lifecycle']): number {
  return Math.max(lifecycle.webhook?.timeoutMs ?? 0, lifecycle.nextFunction ? NEXT_FUNCTION_BUDGET_MS : 0) + 5_000;
}

/** Two InvokeFunction attempts of at most 5 s each (see the job-watcher handler's invoker). */
const NEXT_FUNCTION_BUDGET_MS = 11_000;

export function claimKey(recordsPrefix: string, jobId: string, round: number): string {
  return `${recordsPrefix}claims/${jobId}/${round}`;
}

export function cursorKey(recordsPrefix: string): string {
  return `${recordsPrefix}watcher/cursor.json`;
}

export async function runWatcher(buckets: readonly string[], deps: WatcherDependencies): Promise<WatcherSummary> {
  const started = Date.now();
  const summary: WatcherSummary = {
    buckets: [...buckets],
    inflight: 0,
    checked: 0,
    changed: 0,
    settled: 0,
    timedOut: 0,
    delivered: 0,
    deliveryFailures: 0,
    claimedElsewhere: 0,
    iceCalls: 0,
    iceErrors: 0,
    jobErrors: 0,
    bucketErrors: 0,
    stoppedEarly: false,
    durationMs: 0,
  };
  for (const bucket of buckets) {
    try {
      if (!(await watchBucket(bucket, deps, summary))) break;
    } catch (error) {
      // One unreadable bucket (permissions, a typo in WATCH_BUCKETS) must not stop the others.
      summary.bucketErrors++;
      deps.logger.error('records bucket could not be watched', { bucket, error: describeError(error) });
    }
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

/** False when the run ran out of time. */
async function watchBucket(bucket: string, deps: WatcherDependencies, summary: WatcherSummary): Promise<boolean> {
  const { config, logger } = deps;
  const prefix = config.records.prefix;
  const store = deps.recordStore(bucket);
  const jobs = createJobRecordStore(store, prefix);
  const channels = createChannels({
    config: config.lifecycle,
    resultsPrefix: config.records.resultsPrefix,
    recordsBucket: bucket,
    recordStore: deps.recordStore,
    invoker: deps.invoker,
    sendWebhook: deps.sendWebhook,
  });
  const reserveMs = deps.reserveMs ?? defaultReserveMs(config.lifecycle);
  const outOfTime = () => deps.remainingTimeMs() < reserveMs;

  const listed = await jobs.listInflight();
  summary.inflight += listed.length;
  const cursor = await store.get<{ after: string }>(cursorKey(prefix));
  const ids = rotateAfter(listed, cursor?.after);
  const chunks: string[][] = [];
  for (let index = 0; index < ids.length; index += JOB_IDS_PER_BATCH_GET) chunks.push(ids.slice(index, index + JOB_IDS_PER_BATCH_GET));

  let firstSkipped: number | undefined;
  await mapWithConcurrency(chunks, ICE_CONCURRENCY, async (chunk, index) => {
    if (firstSkipped !== undefined || outOfTime()) {
      firstSkipped = Math.min(firstSkipped ?? index, index);
      return;
    }
    await watchChunk(chunk, { deps, jobs, store, channels, summary, bucket, outOfTime });
  });

  if (firstSkipped !== undefined) {
    summary.stoppedEarly = true;
    const after = firstSkipped > 0 ? chunks[firstSkipped - 1]!.at(-1)! : cursor?.after;
    if (after !== undefined) await store.put(cursorKey(prefix), { after, savedAt: (deps.now?.() ?? new Date()).toISOString() });
    logger.warn('watcher stopped before its timeout; the next tick continues', {
      bucket,
      remaining: (chunks.length - firstSkipped) * JOB_IDS_PER_BATCH_GET,
      after,
    });
    return false;
  }
  if (cursor) await store.delete(cursorKey(prefix));
  return true;
}

interface ChunkContext {
  deps: WatcherDependencies;
  jobs: JobRecordStore;
  store: RecordStore;
  channels: Channel[];
  summary: WatcherSummary;
  bucket: string;
  /** Checked again before notifying: a chunk whose ICE call ran long saves its statuses and leaves claims to the next tick. */
  outOfTime: () => boolean;
}

async function watchChunk(chunk: string[], context: ChunkContext): Promise<void> {
  const { deps, jobs, summary, bucket } = context;
  const records = await Promise.all(
    chunk.map(async (jobId) => {
      try {
        return await jobs.get(jobId);
      } catch (error) {
        summary.jobErrors++;
        deps.logger.error('job record could not be read', { bucket, jobId, error: describeError(error) });
        return null;
      }
    }),
  );
  const unfinished = chunk.filter((_, index) => records[index] && !isTerminal(records[index]!.status));
  let iceJobs: Map<string, IceJob> | undefined;
  // With an unreadable entry in the answer, a job missing from it may be that entry: it counts as not answered.
  let missingAnswered = true;
  if (unfinished.length > 0) {
    try {
      summary.iceCalls++;
      const answer = await deps.ice.batchGetYikeAIAppJobs(unfinished);
      iceJobs = new Map(answer.jobs.map((job) => [job.jobId, job]));
      missingAnswered = answer.unreadable === 0;
    } catch (error) {
      // Time-outs and pending notifications still go ahead; the statuses are asked again next tick.
      summary.iceErrors++;
      deps.logger.warn('BatchGetYikeAIAppJob failed; those jobs are asked again next tick', { bucket, jobIds: unfinished.length, error: describeError(error) });
    }
  }
  await Promise.all(
    chunk.map(async (jobId, index) => {
      const record = records[index];
      if (record === null) return;
      try {
        summary.checked++;
        if (record === undefined) await dropOrphanMarker(jobId, context);
        else {
          const job = iceJobs?.get(jobId);
          await watchJob(record, job ? { answered: true, job } : { answered: iceJobs !== undefined && missingAnswered }, context);
        }
      } catch (error) {
        summary.jobErrors++;
        deps.logger.error('job could not be updated; tried again next tick', { bucket, jobId, error: describeError(error) });
      }
    }),
  );
}

async function watchJob(record: JobRecord, ice: { answered: boolean; job?: IceJob }, context: ChunkContext): Promise<void> {
  const { deps, summary } = context;
  const now = deps.now?.() ?? new Date();
  let next = record;
  let changed = false;
  if (!isTerminal(record.status)) {
    if (ice.job) ({ record: next, changed } = applyIceJob(record, ice.job, now));
    else if (ice.answered) deps.logger.warn('ICE does not know this job', { bucket: context.bucket, jobId: record.jobId });
    const timeoutSeconds = deps.config.lifecycle.jobTimeoutSeconds;
    // Only when ICE answered this tick: a job ICE could not be asked about (throttling, an outage) may have finished.
    if (ice.answered && !isTerminal(next.status) && now.getTime() - Date.parse(record.submittedAt) >= timeoutSeconds * 1000) {
      next = markTimedOut(next, timeoutSeconds, now);
      changed = true;
      summary.timedOut++;
    }
  }
  // Also a record made terminal elsewhere (GET /jobs/{jobId}?refresh=1) and not yet notified: it has no notifications.
  if (isTerminal(next.status) && !next.notifications) {
    const notifications: Record<string, NotificationState> = {};
    for (const channel of context.channels) notifications[channel.name] = { status: 'pending', attempts: 0 };
    next = { ...next, settledAt: next.settledAt ?? now.toISOString(), notifications };
    changed = true;
    deps.logger.info('job settled', { jobId: next.jobId, status: next.status, outputUrl: next.results[0]?.outputUrl });
  }
  if (changed) summary.changed++;
  if (!isTerminal(next.status) || context.outOfTime()) {
    // Never claim a notification without the time to deliver it and save the round: a run killed in between
    // leaves a stale claim and a second delivery.
    if (changed) await context.jobs.save(next);
    return;
  }
  await notifyAndSettle(next, changed, now, context);
}

async function notifyAndSettle(record: JobRecord, changed: boolean, now: Date, context: ChunkContext): Promise<void> {
  const { deps, summary } = context;
  const states = { ...(record.notifications ?? {}) };
  const due = context.channels.filter((channel) => isDue(states[channel.name], now));
  if (due.length === 0) {
    if (changed) await context.jobs.save(record);
    if (Object.values(states).every(isSettled)) await finish(record, context);
    return;
  }

  const round = await claimRound(record.jobId, record.notifyRound ?? 0, now, context);
  if (round === undefined) {
    summary.claimedElsewhere++;
    return;
  }
  const payload = notificationFor(record);
  const body = JSON.stringify(payload);
  const outcomes = await Promise.all(due.map(async (channel) => [channel, await channel.deliver(payload, body, record)] as const));
  const at = now.toISOString();
  for (const [channel, outcome] of outcomes) {
    const attempts = (states[channel.name]?.attempts ?? 0) + 1;
    if (outcome.ok) {
      summary.delivered++;
      states[channel.name] = { status: 'delivered', attempts, lastAttemptAt: at, deliveryId: payload.id };
      deps.logger.info('notification delivered', { jobId: record.jobId, channel: channel.name, type: payload.type, attempts, detail: outcome.detail });
      continue;
    }
    summary.deliveryFailures++;
    if (attempts >= channel.maxAttempts) {
      states[channel.name] = { status: 'undelivered', attempts, lastAttemptAt: at, lastError: outcome.error, deliveryId: payload.id };
      deps.logger.error('notification undelivered after its last attempt', {
        jobId: record.jobId,
        channel: channel.name,
        type: payload.type,
        attempts,
        error: outcome.error,
      });
    } else {
      const nextAttemptAt = new Date(now.getTime() + nextAttemptDelayMs(attempts, deps.random)).toISOString();
      states[channel.name] = { status: 'pending', attempts, lastAttemptAt: at, nextAttemptAt, lastError: outcome.error, deliveryId: payload.id };
      deps.logger.warn('notification failed; retried on a later tick', {
        jobId: record.jobId,
        channel: channel.name,
        attempts,
        nextAttemptAt,
        error: outcome.error,
      });
    }
  }
  const saved: JobRecord = { ...record, notifications: states, notifyRound: round + 1, updatedAt: at };
  await context.jobs.save(saved);
  if (Object.values(states).every(isSettled)) await finish(saved, context);
}

async function finish(record: JobRecord, context: ChunkContext): Promise<void> {
  await context.jobs.removeInflight(record.jobId);
  context.summary.settled++;
}

/** The round this run may deliver, or undefined when another run holds a fresh claim. */
async function claimRound(jobId: string, fromRound: number, now: Date, context: ChunkContext): Promise<number | undefined> {
  const prefix = context.deps.config.records.prefix;
  for (let round = fromRound; round < fromRound + MAX_STALE_CLAIMS; round++) {
    const key = claimKey(prefix, jobId, round);
    if (await context.store.createIfAbsent(key, { owner: randomUUID(), claimedAt: now.toISOString() })) return round;
    const existing = await context.store.get<{ claimedAt?: string }>(key);
    if (existing && now.getTime() - Date.parse(existing.claimedAt ?? '') < CLAIM_LEASE_MS) return undefined;
    context.deps.logger.warn('stale notification claim: its run stopped mid-delivery; delivering again', { jobId, round });
  }
  context.deps.logger.error('notification claims all stale: runs keep dying mid-delivery; the job waits for the next tick', {
    jobId,
    fromRound,
    rounds: MAX_STALE_CLAIMS,
  });
  return undefined;
}

async function dropOrphanMarker(jobId: string, context: ChunkContext): Promise<void> {
  const { deps } = context;
  const key = inflightKey(deps.config.records.prefix, jobId);
  const marker = await context.store.get<{ submittedAt?: string }>(key);
  const now = deps.now?.() ?? new Date();
  // The marker is written before the record: a young marker without a record is a submit in progress.
  if (!marker || now.getTime() - Date.parse(marker.submittedAt ?? '') < ORPHAN_GRACE_MS) return;
  await context.jobs.removeInflight(jobId);
  deps.logger.error('in-flight marker without a job record dropped (its record write failed at submit)', { bucket: context.bucket, jobId });
}

/** The ids after `after` first, then the rest: a run that stopped early is resumed where it stopped. */
function rotateAfter(ids: string[], after: string | undefined): string[] {
  if (after === undefined) return ids;
  const start = ids.findIndex((id) => id > after);
  return start <= 0 ? ids : [...ids.slice(start), ...ids.slice(0, start)];
}
