import { mapWithConcurrency } from '../../runtime/concurrency';
import { describeError } from '../../runtime/errors';
import type { IdempotencyRecord } from '../idempotency/idempotent';
import type { SubmittedJob } from '../jobs/submit-job';
import type { RecordStore } from '../ports';
import { isTerminal, type JobRecordStore } from './job-record';
import { jobRecordFromSubmitRecord, SUBMIT_RECORD_FOLDERS } from './operator';
import type { RunContext } from './watch-context';
import { owesNothing } from './watch-job';

/**
 * No job left unfollowed. A submit writes its COMPLETED record first, then the job record and the in-flight marker;
 * if OSS refuses those two (or the instance stops in between), nothing the watcher lists names the job. Every
 * reconcileMinutes (10), in the first round of a run, the watcher lists the submit records (`objects/`, `http/`,
 * `pipeline/`) with their Last-Modified times, reads those COMPLETED since its last pass (and up to GRACE_MS ago:
 * younger ones may still be writing their job record), and for each whose job has no marker writes what is missing:
 * the job record from the submit record (source, upload, AppId) and its marker, or the marker of a job record that
 * is still owed something. A record it could not read is kept in a retry list and read again next time.
 *
 * The pass's place is `<RECORDS_PREFIX>watcher/reconcile.json` (`{at, through, retry}`); two runs reconciling at once
 * write the same objects. Cost: one OSS list page per 1,000 submit records (they are kept for the one-job rule), one
 * read per submit record completed since the last pass, one more per job without a marker.
 */
const GRACE_MS = 60_000;
/** Last-Modified has whole seconds, and clocks differ a little: each pass overlaps the one before by this much. */
const OVERLAP_MS = 60_000;
/** How far back the first pass looks. */
const FIRST_LOOKBACK_MS = 24 * 3_600_000;
const READ_CONCURRENCY = 8;
const MAX_RETRY_KEYS = 1_000;

interface ReconcileState {
  at: string;
  through: string;
  retry?: string[];
}

function reconcileStateKey(recordsPrefix: string): string {
  return `${recordsPrefix}watcher/reconcile.json`;
}

/** The jobs it gave a marker (to be watched this round). */
export async function reconcileIfDue(
  bucket: string,
  input: { store: RecordStore; jobs: JobRecordStore; listed: ReadonlySet<string>; run: RunContext },
): Promise<string[]> {
  const { store, jobs, listed, run } = input;
  const prefix = run.config.records.prefix;
  const now = run.now().getTime();
  const stateKey = reconcileStateKey(prefix);
  let state: ReconcileState | undefined;
  try {
    state = await store.get<ReconcileState>(stateKey);
  } catch (error) {
    run.logger.warn('reconcile state could not be read; reconciling next run', { bucket, error: describeError(error) });
    return [];
  }
  if (state && now - Date.parse(state.at) < run.config.lifecycle.reconcileMinutes * 60_000) return [];
  const since = state ? Date.parse(state.through) - OVERLAP_MS : now - FIRST_LOOKBACK_MS;
  const until = now - GRACE_MS;
  let listing: { key: string; lastModified: string }[];
  try {
    listing = (await Promise.all(SUBMIT_RECORD_FOLDERS.map((folder) => store.listWithTimes(`${prefix}${folder}`)))).flat();
  } catch (error) {
    run.logger.warn('submit records could not be listed; reconciling next run', { bucket, error: describeError(error) });
    return [];
  }
  const recent = listing
    .filter(({ key, lastModified }) => key.endsWith('.json') && Date.parse(lastModified) >= since && Date.parse(lastModified) <= until)
    .map(({ key }) => key);
  const keys = [...new Set([...(state?.retry ?? []), ...recent])];
  const retry: string[] = [];
  const marked: string[] = [];
  await mapWithConcurrency(keys, READ_CONCURRENCY, async (key) => {
    try {
      const record = await store.get<IdempotencyRecord<SubmittedJob>>(key);
      const seed = record && jobRecordFromSubmitRecord(prefix, key, record);
      if (!seed || listed.has(seed.jobId)) return;
      const existing = await jobs.get(seed.jobId);
      if (existing && isTerminal(existing.status) && existing.notifications && owesNothing(existing)) return;
      // An erased job is never brought back (erasure.ts).
      if ((await jobs.erasedAt(seed.jobId)) !== undefined) return;
      if (existing) await jobs.markInflight(existing);
      else await jobs.create(seed);
      marked.push(seed.jobId);
      run.summary.reconciled++;
      run.logger.warn(existing ? 'reconciled: in-flight marker written for a job that had none' : 'reconciled: job record written for a job that had none', {
        bucket,
        jobId: seed.jobId,
        recordKey: key,
      });
    } catch (error) {
      retry.push(key);
      run.logger.warn('reconcile: a submit record could not be checked; checked again next pass', { bucket, recordKey: key, error: describeError(error) });
    }
  });
  const next: ReconcileState = {
    at: new Date(now).toISOString(),
    through: new Date(until).toISOString(),
    ...(retry.length ? { retry: retry.slice(0, MAX_RETRY_KEYS) } : {}),
  };
  await store
    .put(stateKey, next)
    .catch((error: unknown) => run.logger.warn('reconcile state could not be saved; the pass is made again', { bucket, error: describeError(error) }));
  return marked;
}
