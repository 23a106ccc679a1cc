import { mapWithConcurrency } from '../../runtime/concurrency';
import { YikeError } from '../../runtime/errors';
import type { RecordStore } from '../ports';
import { indexEntryName, indexFolder, jobIdOfIndexKey } from './job-index';
import { createJobRecordStore, isTerminal, type JobRecord, type JobRecordStore } from './job-record';

/**
 * The jobs of a records bucket, newest first, a page at a time (`GET /jobs`, `yike-jobs list`). A page costs the
 * same however many jobs were ever made:
 *
 * - no status, or a final one (Finished, Failed, TimedOut), with or without an app: one ListObjects call on the
 *   matching index (job-index.ts; `marker` = the entry of the job named by `after`, `max-keys` = limit + 1) and one
 *   read per job on the page (limit + 1: the extra one says whether there is more), plus one read for `after`;
 * - a status before the end (Submitted, Created, Queuing, Executing): those jobs all have an in-flight marker, so the
 *   markers are listed (one call per 1,000) and each marked job's record read: the cost grows with the jobs in flight
 *   at that moment, never with the jobs that ended.
 *
 * An index entry whose record is gone (erased meanwhile, or a record whose write is still on its way) is passed over.
 */
export interface JobListQuery {
  /** 1 to MAX_PAGE_SIZE. */
  limit: number;
  /** The lastId of the page before: this page starts after that job. */
  after?: string;
  status?: string;
  appId?: string;
}

export interface JobPage {
  jobs: JobRecord[];
  hasMore: boolean;
  /** The last job's id (the next page's `after`), or null for an empty page. */
  lastId: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const READ_CONCURRENCY = 8;

export async function listJobs(query: JobListQuery, records: { store: RecordStore; recordsPrefix: string }): Promise<JobPage> {
  const jobs = createJobRecordStore(records.store, records.recordsPrefix);
  const afterEntry = query.after === undefined ? undefined : await cursorEntry(query.after, jobs);
  const found =
    query.status !== undefined && !isTerminal(query.status)
      ? await inflightJobs(query, afterEntry, jobs)
      : await indexedJobs(query, afterEntry, records.store, indexFolder(records.recordsPrefix, { appId: query.appId, finalStatus: query.status }), jobs);
  const page = found.slice(0, query.limit);
  return { jobs: page, hasMore: found.length > query.limit, lastId: page.at(-1)?.jobId ?? null };
}

/** Where the page starts: the index entry name of the job `after` names. */
async function cursorEntry(after: string, jobs: JobRecordStore): Promise<string> {
  const record = await jobs.get(after);
  if (!record) {
    throw new YikeError('INVALID_CURSOR', `after: no job ${after} (erased since that page?): list again from the start`, {
      statusCode: 400,
      details: [{ path: 'after', message: 'names no job' }],
    });
  }
  return indexEntryName(record);
}

/** Up to limit + 1 jobs from one index, after the cursor's entry; entries without a record are passed over. */
async function indexedJobs(
  query: JobListQuery,
  afterEntry: string | undefined,
  store: RecordStore,
  folder: string,
  jobs: JobRecordStore,
): Promise<JobRecord[]> {
  const found: JobRecord[] = [];
  let marker = afterEntry === undefined ? undefined : `${folder}${afterEntry}`;
  for (;;) {
    const wanted = query.limit + 1 - found.length;
    const keys = await store.list(folder, { limit: wanted, after: marker });
    const read = await mapWithConcurrency(keys, READ_CONCURRENCY, (key) => jobs.get(jobIdOfIndexKey(key)));
    found.push(...read.filter((record): record is JobRecord => record !== undefined));
    if (keys.length < wanted || found.length > query.limit) return found;
    marker = keys.at(-1);
  }
}

/** Up to limit + 1 in-flight jobs with the status (and app), newest first, after the cursor's entry. */
async function inflightJobs(query: JobListQuery, afterEntry: string | undefined, jobs: JobRecordStore): Promise<JobRecord[]> {
  const read = await mapWithConcurrency(await jobs.listInflight(), READ_CONCURRENCY, (jobId) => jobs.get(jobId));
  return read
    .filter(
      (record): record is JobRecord => record !== undefined && record.status === query.status && (query.appId === undefined || record.appId === query.appId),
    )
    .map((record) => ({ record, entry: indexEntryName(record) }))
    .filter(({ entry }) => afterEntry === undefined || entry > afterEntry)
    .sort((a, b) => (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0))
    .slice(0, query.limit + 1)
    .map(({ record }) => record);
}
