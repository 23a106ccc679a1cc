import { describeError } from '../../runtime/errors';
import type { RecordStore } from '../ports';
import { eraseJob, erasuresPrefix, sweep, type ErasureDependencies, type ErasureWork } from './erasure';
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
 */
const RESWEEP_AFTER_MS = 10 * 60_000;
const RESWEEPS_PER_TICK = 20;
const EXPIRED_PER_TICK = 20;
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
  const expired = deps.retentionDays === undefined ? 0 : await eraseExpired(bucket, store, now - deps.retentionDays * DAY_MS, deps);
  return { reswept, expired };
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
