import { mapWithConcurrency } from '../../runtime/concurrency';
import { describeError } from '../../runtime/errors';
import type { IceJob } from '../ports';
import { createJobRecordStore, isTerminal, recordFromMarker, type JobRecord } from './job-record';
import { createChannels } from './notify';
import { reconcileIfDue } from './reconcile';
import { keepErasures } from './retention';
import { recentlyErased } from './erasure';
import { nextAskAt, nextWorkAt } from './schedule';
import { cursorKey, type RunContext } from './watch-context';
import { watchJob, type JobContext, type KnownJob } from './watch-job';

/**
 * One round of the watcher in one records bucket: list the in-flight markers, then, ICE_CONCURRENCY chunks of
 * `ice.maxJobIdsPerBatchGet` at a time, the jobs that are due (schedule.ts). The records of jobs it has not seen yet are
 * read; those it read in an earlier round of this run are used as they were to decide whether ICE needs asking
 * (most answers change nothing), and read again before anything is written or claimed (watch-job.ts).
 */
export interface BucketState {
  known: Map<string, KnownJob>;
  round: number;
}

export function newBucketState(): BucketState {
  return { known: new Map(), round: 0 };
}

/** BatchGetYikeAIAppJob calls in flight at once (ICE documents no QPS for it; its submit-side siblings allow 30). */
const ICE_CONCURRENCY = 4;
/** A marker whose record is missing this long after its submit lost its record write: the record is written from the marker. */
const REBUILD_GRACE_MS = 2 * 60_000;

/** `stoppedEarly` when time ran out (a cursor is saved); `wakeAt`: when a known job next has something due (Infinity: none). */
export async function watchBucketRound(bucket: string, state: BucketState, run: RunContext): Promise<{ stoppedEarly: boolean; wakeAt: number }> {
  const { config, logger, summary } = run;
  const prefix = config.records.prefix;
  const store = run.recordStore(bucket);
  const jobs = createJobRecordStore(store, prefix);
  const channels = createChannels({
    config: config.lifecycle,
    resultsPrefix: config.records.resultsPrefix,
    recordsBucket: bucket,
    recordStore: run.recordStore,
    invoker: run.invoker,
    sendWebhook: run.sendWebhook,
    sendJobWebhook: run.sendJobWebhook,
  });
  const outOfTime = () => run.remainingTimeMs() < run.reserveMs;
  state.round++;
  const firstRound = state.round === 1;

  let listed: string[];
  try {
    listed = await jobs.listInflight();
  } catch (error) {
    // After the first round the run already knows what is in flight: a failed listing only misses new jobs this round.
    if (firstRound) throw error;
    logger.warn('in-flight markers could not be listed; this round goes on with the jobs already known', { bucket, error: describeError(error) });
    listed = [...state.known.keys()].sort();
  }
  const present = new Set(listed);
  // Jobs it gives a marker are watched from this round on.
  if (firstRound) for (const jobId of await reconcileIfDue(bucket, { store, jobs, listed: present, run })) present.add(jobId);
  if (present.size > listed.length) listed.splice(0, listed.length, ...[...present].sort());
  for (const jobId of state.known.keys()) if (!present.has(jobId)) state.known.delete(jobId);
  summary.inflight += listed.filter((jobId) => !state.known.has(jobId)).length;

  const cursor = firstRound ? await store.get<{ after: string }>(cursorKey(prefix)) : undefined;
  const now = run.clock.now();
  // Due within half a round counts as due now: a job asked last round is asked again this round.
  const due = rotateAfter(listed, cursor?.after).filter((jobId) => (state.known.get(jobId)?.dueAt ?? 0) <= now + run.roundMs / 2);
  const perCall = run.ice.maxJobIdsPerBatchGet;
  const chunks: string[][] = [];
  for (let index = 0; index < due.length; index += perCall) chunks.push(due.slice(index, index + perCall));

  const context: JobContext = { ...run, jobs, store, channels, bucket, outOfTime, round: state.round };
  let firstSkipped: number | undefined;
  await mapWithConcurrency(chunks, ICE_CONCURRENCY, async (chunk, index) => {
    if (firstSkipped !== undefined || outOfTime()) {
      firstSkipped = Math.min(firstSkipped ?? index, index);
      return;
    }
    await watchChunk(chunk, state, context);
  });

  // Once a timer tick (not in the rounds it schedules), after the jobs: erasures swept again, and the jobs past
  // RETENTION_DAYS erased (retention.ts). A tick that leaves the polling to a pending round does it too (watcher.ts).
  if (firstRound && run.scheduledFor === undefined && firstSkipped === undefined && !outOfTime()) await housekeep(bucket, run, outOfTime);

  const wakeAt = Math.min(...[...state.known.values()].map((known) => known.dueAt), Number.POSITIVE_INFINITY);
  if (firstSkipped !== undefined) {
    const after = firstSkipped > 0 ? chunks[firstSkipped - 1]!.at(-1)! : cursor?.after;
    if (after !== undefined) await store.put(cursorKey(prefix), { after, savedAt: run.now().toISOString() });
    logger.warn('watcher stopped before its timeout; the next tick continues', {
      bucket,
      remaining: (chunks.length - firstSkipped) * perCall,
      after,
    });
    return { stoppedEarly: true, wakeAt };
  }
  if (cursor) await store.delete(cursorKey(prefix));
  return { stoppedEarly: false, wakeAt };
}

/**
 * The jobs erased lately (erasure.ts), asked once per chunk that has a job to copy or notify, after its ICE call: a job
 * erased since this round read its record is then neither copied nor notified. A listing that fails leaves them to the
 * erasures' second sweep (retention.ts).
 */
async function erasedLately(context: JobContext): Promise<Set<string>> {
  try {
    return await recentlyErased(context.store, context.config.records.prefix);
  } catch (error) {
    context.logger.warn('erasures could not be listed; this chunk goes on without them', { bucket: context.bucket, error: describeError(error) });
    return new Set();
  }
}

/** The timer tick's erasure work in one records bucket (retention.ts); a failure is logged and left for the next tick. */
export async function housekeep(bucket: string, run: RunContext, outOfTime: () => boolean): Promise<void> {
  try {
    const { reswept, expired } = await keepErasures(bucket, { ...run, retentionDays: run.config.lifecycle.retentionDays, outOfTime });
    run.summary.erased += expired;
    run.summary.reswept += reswept;
  } catch (error) {
    run.logger.warn('erasures could not be kept up this tick; tried again next tick', { bucket, error: describeError(error) });
  }
}

async function watchChunk(chunk: string[], state: BucketState, context: JobContext): Promise<void> {
  const { jobs, summary, bucket, logger } = context;
  const entries = await Promise.all(
    chunk.map(async (jobId): Promise<KnownJob | null> => {
      const known = state.known.get(jobId);
      if (known?.record) return known;
      try {
        const record = await jobs.get(jobId);
        const entry: KnownJob = { jobId, record, readInRound: context.round, dueAt: 0 };
        state.known.set(jobId, entry);
        return entry;
      } catch (error) {
        summary.jobErrors++;
        // Still in flight: read again next round.
        state.known.set(jobId, { jobId, readInRound: -1, dueAt: context.clock.now() + context.roundMs });
        logger.error('job record could not be read', { bucket, jobId, error: describeError(error) });
        return null;
      }
    }),
  );
  const unfinished = entries.filter((entry): entry is KnownJob & { record: JobRecord } => Boolean(entry?.record && !isTerminal(entry.record.status)));
  let iceJobs: Map<string, IceJob> | undefined;
  // With an unreadable entry in the answer, a job missing from it may be that entry: it counts as not answered.
  let missingAnswered = true;
  if (unfinished.length > 0) {
    try {
      summary.iceCalls++;
      const answer = await context.ice.batchGetYikeAIAppJobs(unfinished.map((entry) => entry.jobId));
      iceJobs = new Map(answer.jobs.map((job) => [job.jobId, job]));
      missingAnswered = answer.unreadable === 0;
    } catch (error) {
      // Time-outs and pending notifications still go ahead; the statuses are asked again next round.
      summary.iceErrors++;
      logger.warn('BatchGetYikeAIAppJob failed; those jobs are asked again next round', { bucket, jobIds: unfinished.length, error: describeError(error) });
    }
    const askedAt = context.clock.now();
    for (const entry of unfinished) entry.dueAt = nextAskAt(entry.record, askedAt, context.roundMs);
  }
  // Only a chunk with a job that has ended (or ends now, or times out now) has anything to copy or notify.
  const timedOutBefore = context.now().getTime() - context.config.lifecycle.jobTimeoutSeconds * 1000;
  const endsNow = entries.some(
    (entry) =>
      entry?.record !== undefined &&
      (isTerminal(entry.record.status) || isTerminal(iceJobs?.get(entry.jobId)?.status ?? '') || Date.parse(entry.record.submittedAt) <= timedOutBefore),
  );
  const erased = endsNow ? await erasedLately(context) : new Set<string>();
  await Promise.all(
    entries.map(async (entry) => {
      if (entry === null) return;
      if (erased.has(entry.jobId)) {
        state.known.delete(entry.jobId);
        return;
      }
      try {
        summary.checked++;
        if (entry.record === undefined) await followOrphanMarker(entry, state, context);
        else {
          const job = iceJobs?.get(entry.jobId);
          await watchJob(entry, job ? { answered: true, job } : { answered: iceJobs !== undefined && missingAnswered }, context);
        }
      } catch (error) {
        summary.jobErrors++;
        entry.dueAt = context.clock.now() + context.roundMs;
        logger.error('job could not be updated; tried again next round', { bucket, jobId: entry.jobId, error: describeError(error) });
      }
      if (entry.record && isTerminal(entry.record.status) && entry.dueAt <= context.clock.now()) {
        entry.dueAt = nextWorkAt(entry.record, context.config.lifecycle.resultCopy?.maxWaitSeconds, context.clock.now());
      }
    }),
  );
}

/**
 * A marker without a record: its record write failed at submit (the marker and the record are written at the same
 * time, so a young one may still be on its way). Since markers carry the record's fields, the record is written
 * from the marker and the job is followed as any other; an old marker without them is dropped, with an error.
 */
async function followOrphanMarker(entry: KnownJob, state: BucketState, context: JobContext): Promise<void> {
  const { jobs, logger, bucket } = context;
  const marker = await jobs.getMarker(entry.jobId);
  const now = context.now();
  if (!marker) {
    state.known.delete(entry.jobId);
    return;
  }
  if (now.getTime() - Date.parse(marker.submittedAt ?? '') < REBUILD_GRACE_MS) {
    state.known.delete(entry.jobId);
    return;
  }
  const record = recordFromMarker(marker);
  if (record && (await jobs.erasedAt(entry.jobId)) !== undefined) {
    await jobs.removeInflight(entry.jobId);
    state.known.delete(entry.jobId);
    return;
  }
  if (!record) {
    await jobs.removeInflight(entry.jobId);
    state.known.delete(entry.jobId);
    logger.error('in-flight marker without a job record dropped (its record write failed at submit)', { bucket, jobId: entry.jobId });
    return;
  }
  if (!(await jobs.createRecord(record))) {
    state.known.delete(entry.jobId); // written meanwhile: read next round
    return;
  }
  context.summary.rebuilt++;
  logger.warn('job record written from its in-flight marker (its write failed at submit)', { bucket, jobId: entry.jobId });
  entry.record = record;
  entry.readInRound = context.round;
  entry.dueAt = 0;
}

/** The ids after `after` first, then the rest: a run that stopped early is resumed where it stopped. */
function rotateAfter(ids: string[], after: string | undefined): string[] {
  if (after === undefined) return ids;
  const start = ids.findIndex((id) => id > after);
  return start <= 0 ? ids : [...ids.slice(start), ...ids.slice(0, start)];
}
