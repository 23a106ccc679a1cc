import type { RecordStore } from '../ports';

/**
 * The job index: small create-only objects beside the job records whose keys sort newest first, so a page of
 * `GET /jobs` is one OSS ListObjects call (`marker` + `max-keys`) and one read per job on it, however many jobs were
 * ever made. Each entry is named `<13 digits: 9999999999999 − the submit time in ms>-<jobId>` and holds
 * `{jobId, appId, submittedAt}`:
 *
 *   <RECORDS_PREFIX>index/jobs/<entry>                          every job, written with its record
 *   <RECORDS_PREFIX>index/apps/<appId>/<entry>                  the same per app (an app never changes)
 *   <RECORDS_PREFIX>index/status/<status>/<entry>               per final status (Finished, Failed, TimedOut),
 *   <RECORDS_PREFIX>index/app-status/<appId>/<status>/<entry>   written once, when the job settles (a final status
 *                                                               never changes; the statuses before it are read from
 *                                                               the in-flight markers instead, see job-list.ts)
 *
 * `appId` is percent-encoded in keys. Entries are removed only when the job is erased (erasure.ts).
 */
const MAX_TIME_MS = 9_999_999_999_999;
const TIME_DIGITS = 13;

/** What an entry names, and holds. */
export interface IndexedJob {
  jobId: string;
  appId: string;
  submittedAt: string;
}

/** Which index a listing reads: every job, one app's, one final status's, or both. */
export interface IndexFilter {
  appId?: string;
  /** A final status only (Finished, Failed, TimedOut). */
  finalStatus?: string;
}

/** The entry's name: the submit time counted down (so keys sort newest first), then the jobId. */
export function indexEntryName(job: Pick<IndexedJob, 'jobId' | 'submittedAt'>): string {
  const ms = Date.parse(job.submittedAt);
  return `${String(MAX_TIME_MS - (Number.isFinite(ms) ? ms : 0)).padStart(TIME_DIGITS, '0')}-${job.jobId}`;
}

/** The entry name of a job submitted at `at`, sorting before every job submitted at or before it (retention's cut). */
export function indexCutAt(at: Date): string {
  return String(MAX_TIME_MS - at.getTime()).padStart(TIME_DIGITS, '0');
}

export function indexFolder(recordsPrefix: string, filter: IndexFilter): string {
  const app = filter.appId === undefined ? undefined : encodeURIComponent(filter.appId);
  if (filter.finalStatus !== undefined) {
    return app === undefined ? `${recordsPrefix}index/status/${filter.finalStatus}/` : `${recordsPrefix}index/app-status/${app}/${filter.finalStatus}/`;
  }
  return app === undefined ? `${recordsPrefix}index/jobs/` : `${recordsPrefix}index/apps/${app}/`;
}

/** The jobId an index key names. */
export function jobIdOfIndexKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1 + TIME_DIGITS + 1);
}

/** The keys of a job's entries: every job's and its app's; with `finalStatus`, that status's and its app's status's instead. */
export function jobIndexKeys(recordsPrefix: string, job: IndexedJob, finalStatus?: string): string[] {
  const name = indexEntryName(job);
  const filters: IndexFilter[] =
    finalStatus === undefined
      ? [{}, { appId: job.appId }]
      : [
          { finalStatus, appId: undefined },
          { finalStatus, appId: job.appId },
        ];
  return filters.map((filter) => `${indexFolder(recordsPrefix, filter)}${name}`);
}

/** Writes a job's entries (create-only: an entry already there is left as it is). */
export async function writeJobIndex(store: Pick<RecordStore, 'createIfAbsent'>, recordsPrefix: string, job: IndexedJob, finalStatus?: string): Promise<void> {
  const body: IndexedJob = { jobId: job.jobId, appId: job.appId, submittedAt: job.submittedAt };
  await Promise.all(jobIndexKeys(recordsPrefix, job, finalStatus).map((key) => store.createIfAbsent(key, body)));
}
