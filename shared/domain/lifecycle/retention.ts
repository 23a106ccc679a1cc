import { describeError } from '../../runtime/errors';
import type { RecordStore } from '../ports';
import type { IdempotencyRecord } from '../idempotency/idempotent';
import { eraseJob, eraseUploadSubmission, erasuresPrefix, sweep, type ErasureDependencies, type ErasureWork } from './erasure';
import { indexCutAt, indexFolder, type IndexedJob } from './job-index';
import { everyIndexKey, tombstoneKey } from './job-record';

/**
 * What the watcher does about erasures on its tick (the first round of a run, in each records bucket), in bounded
 * batches so a tick never runs long:
 *
 * 1. Sweeps again each erasure's work list older than RESWEEP_AFTER_MS (erasure.ts: a run that held the job when it
 *    was erased may have written some of it back), then deletes the list: at most RESWEEPS_PER_TICK a tick.
 * 2. With RETENTION_DAYS, erases the jobs submitted longer ago than that, newest of them first: one ListObjects call on
 *    the index from the cut (`marker` = the cut's entry name: older jobs sort after it) and one erasure per job, at
 *    most EXPIRED_PER_TICK a tick, so a backlog is worked through over the following ticks.
 * 3. With RETENTION_DAYS, the uploads that made no job (refused, skipped, deferred, their outcome unknown) are found
 *    from their submit records (`objects/…`, one per upload that reached oss-submit): a cursor walks them
 *    UPLOAD_RECORDS_PER_TICK a tick (one ListObjects call, their Last-Modified times in it), round and round, and
 *    those older than the cut go with their upload (with step 2, EXPIRED_PER_TICK erasures a tick in all). The cursor is in
 *    `<RECORDS_PREFIX>watcher/retention.json`.
 */
const RESWEEP_AFTER_MS = 10 * 60_000;
const RESWEEPS_PER_TICK = 20;
const EXPIRED_PER_TICK = 20;
const UPLOAD_RECORDS_PER_TICK = 200;
const DAY_MS = 24 * 3_600_000;

export interface HousekeepingDependencies extends ErasureDependencies {
  /** RETENTION_DAYS; undefined: jobs are kept until erased. */
  retentionDays?: number;
  /** True once the run has no time left for more. */
  outOfTime: () => boolean;
}

export async function keepErasures(bucket: string, deps: HousekeepingDependencies): Promise<{ reswept: number; expired: number }> {
  const store = deps.recordStore(bucket);
  const now = (deps.now?.() ?? new Date()).getTime();
  const reswept = await resweep(bucket, store, now, deps);
  if (deps.retentionDays === undefined) return { reswept, expired: 0 };
  const cutMs = now - deps.retentionDays * DAY_MS;
  const jobs = await eraseExpired(bucket, store, cutMs, deps);
  // One budget for both: at most EXPIRED_PER_TICK erasures a tick.
  const uploads = jobs < EXPIRED_PER_TICK ? await eraseExpiredUploads(bucket, store, cutMs, EXPIRED_PER_TICK - jobs, deps) : 0;
  return { reswept, expired: jobs + uploads };
}

async function resweep(bucket: string, store: RecordStore, now: number, deps: HousekeepingDependencies): Promise<number> {
  const prefix = deps.config.records.prefix;
  let count = 0;
  for (const key of await store.list(erasuresPrefix(prefix), { limit: RESWEEPS_PER_TICK })) {
    if (deps.outOfTime()) break;
    const work = await store.get<ErasureWork>(key);
    if (!work) continue;
    // Keys sort by erasure time: the rest are younger still.
    if (now - Date.parse(work.erasedAt) < RESWEEP_AFTER_MS) break;
    // An erase stopped between its work list and its tombstone: the tombstone is written now.
    await store.createIfAbsent(tombstoneKey(prefix, work.jobId), { jobId: work.jobId, erasedAt: work.erasedAt });
    await sweep(work.targets, deps);
    await store.delete(key);
    count++;
  }
  if (count > 0) deps.logger.info('erasures swept again', { bucket, count });
  return count;
}

async function eraseExpired(bucket: string, store: RecordStore, cutMs: number, deps: HousekeepingDependencies): Promise<number> {
  const prefix = deps.config.records.prefix;
  const folder = indexFolder(prefix, {});
  const keys = await store.list(folder, { after: `${folder}${indexCutAt(new Date(cutMs))}`, limit: EXPIRED_PER_TICK });
  let count = 0;
  for (const key of keys) {
    if (deps.outOfTime()) break;
    const entry = await store.get<IndexedJob>(key);
    if (!entry) continue;
    try {
      const outcome = await eraseJob(entry.jobId, bucket, deps, 'retention');
      if (outcome.status === 'erased') count++;
      // An entry whose job is gone or already erased would be listed at every tick: its entries go.
      else await Promise.all(everyIndexKey(prefix, entry).map((indexKey) => store.delete(indexKey)));
    } catch (error) {
      deps.logger.warn('retention: a job could not be erased; tried again next tick', { bucket, jobId: entry.jobId, error: describeError(error) });
    }
  }
  if (count > 0) deps.logger.info('jobs past RETENTION_DAYS erased', { bucket, count, retentionDays: deps.retentionDays });
  return count;
}

interface RetentionState {
  /** The last upload submit record the walk has passed; absent: start from the first. */
  uploadsAfter?: string;
}

async function eraseExpiredUploads(bucket: string, store: RecordStore, cutMs: number, budget: number, deps: HousekeepingDependencies): Promise<number> {
  const prefix = deps.config.records.prefix;
  const stateKey = `${prefix}watcher/retention.json`;
  const state = (await store.get<RetentionState>(stateKey)) ?? {};
  const listed = await store.listWithTimes(`${prefix}objects/`, { after: state.uploadsAfter, limit: UPLOAD_RECORDS_PER_TICK });
  let count = 0;
  let passed = state.uploadsAfter;
  for (const { key, lastModified } of listed) {
    if (deps.outOfTime() || count >= budget) break;
    passed = key;
    // Takeover locks (`….json.takeover-<owner>`) go with their record.
    if (!key.endsWith('.json') || Date.parse(lastModified) >= cutMs) continue;
    const record = await store.get<IdempotencyRecord<{ jobId?: string }>>(key);
    const upload = uploadOf(record?.context);
    if (!record || !upload) continue;
    const jobId = record.status === 'COMPLETED' ? record.result?.jobId : undefined;
    try {
      // A job of its own (without an index entry: recorded before the index) is erased as a job.
      if (jobId === undefined || (await eraseJob(jobId, bucket, deps, 'retention')).status !== 'erased') await eraseUploadSubmission(bucket, key, upload, deps);
      count++;
    } catch (error) {
      deps.logger.warn('retention: an upload could not be erased; tried again on the next walk', { bucket, recordKey: key, error: describeError(error) });
    }
  }
  // The whole walk done: the next tick starts again from the first record.
  const walkedToTheEnd = listed.length < UPLOAD_RECORDS_PER_TICK && passed === (listed.at(-1)?.key ?? state.uploadsAfter);
  const next: RetentionState = walkedToTheEnd ? {} : { uploadsAfter: passed };
  if (next.uploadsAfter !== state.uploadsAfter) await store.put(stateKey, next);
  if (count > 0) deps.logger.info('uploads past RETENTION_DAYS erased', { bucket, count, retentionDays: deps.retentionDays });
  return count;
}

function uploadOf(context: Record<string, unknown> | undefined): { bucket: string; key: string; eTag?: string } | undefined {
  if (typeof context?.bucket !== 'string' || typeof context.key !== 'string') return undefined;
  return { bucket: context.bucket, key: context.key, ...(typeof context.eTag === 'string' ? { eTag: context.eTag } : {}) };
}
