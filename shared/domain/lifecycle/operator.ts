import { isNotFound, YikeError } from '../../runtime/errors';
import { mapWithConcurrency } from '../../runtime/concurrency';
import type { IdempotencyRecord, RecordStatus } from '../idempotency/idempotent';
import type { Ice, IceJob, RecordStore } from '../ports';
import type { SubmittedJob } from '../jobs/submit-job';
import { metadataSchema } from '../jobs/metadata';
import { jobConsentSchema } from '../tickets/ticket';
import { writeJobIndex } from './job-index';
import { applyIceJob, isTerminal, newJobRecord, type EntryPoint, type JobRecord, type JobRecordStore } from './job-record';
import { listJobs, MAX_PAGE_SIZE } from './job-list';
import { imageOf } from './job-view';

/**
 * Operator actions on the records (yike-jobs): find jobs and submit records by status, and settle a submit whose
 * outcome is unknown (ICE may or may not have created the job) without deleting objects by hand. Scans are fine
 * here (an operator runs them now and then); the watcher never scans.
 */

/** The three kinds of submit (idempotency) records, by the folder under RECORDS_PREFIX that holds them. */
export type SubmitRecordKind = 'upload' | 'http' | 'pipeline';
const KIND_FOLDERS: Record<SubmitRecordKind, string> = { upload: 'objects/', http: 'http/', pipeline: 'pipeline/' };
/** The folders under RECORDS_PREFIX that hold submit records. */
export const SUBMIT_RECORD_FOLDERS: readonly string[] = Object.values(KIND_FOLDERS);
export const SUBMIT_RECORD_STATUSES: readonly RecordStatus[] = ['IN_PROGRESS', 'COMPLETED', 'OUTCOME_UNKNOWN', 'REJECTED', 'DEFERRED', 'SKIPPED'];

/** Records read at once while listing. */
const READ_CONCURRENCY = 8;

export interface SubmitRecordSummary {
  recordKey: string;
  kind: SubmitRecordKind;
  status: RecordStatus;
  startedAt: string;
  /** `oss://bucket/key` (uploads), the pipeline source, or undefined (HTTP records keep no body). */
  source?: string;
  jobId?: string;
  error?: { code: string; message: string };
  /** IN_PROGRESS only: when another delivery may take the claim over. */
  inProgressExpiresAt?: string;
}

function submitRecordKind(recordsPrefix: string, recordKey: string): SubmitRecordKind | undefined {
  if (!recordKey.startsWith(recordsPrefix) || !recordKey.endsWith('.json')) return undefined;
  const rest = recordKey.slice(recordsPrefix.length);
  return (Object.keys(KIND_FOLDERS) as SubmitRecordKind[]).find((kind) => rest.startsWith(KIND_FOLDERS[kind]));
}

function sourceOf(kind: SubmitRecordKind, record: IdempotencyRecord): string | undefined {
  const context = record.context ?? {};
  if (kind === 'upload' && typeof context.bucket === 'string' && typeof context.key === 'string') return `oss://${context.bucket}/${context.key}`;
  return typeof context.source === 'string' ? context.source : undefined;
}

/** Submit records under the records prefix, optionally only those with `status` and started at or after `since`. */
export async function listSubmitRecords(
  store: RecordStore,
  recordsPrefix: string,
  filter: { status?: RecordStatus; since?: Date } = {},
): Promise<SubmitRecordSummary[]> {
  const keys: string[] = [];
  for (const folder of Object.values(KIND_FOLDERS)) {
    // Takeover locks (`<record>.json.takeover-<owner>`) end differently and are left out here.
    keys.push(...(await store.list(`${recordsPrefix}${folder}`)).filter((key) => key.endsWith('.json')));
  }
  const records = await mapWithConcurrency(keys, READ_CONCURRENCY, async (recordKey) => ({
    recordKey,
    record: await store.get<IdempotencyRecord<SubmittedJob>>(recordKey),
  }));
  const summaries: SubmitRecordSummary[] = [];
  for (const { recordKey, record } of records) {
    if (!record) continue; // deleted while listing
    if (filter.status && record.status !== filter.status) continue;
    if (filter.since && Date.parse(record.startedAt) < filter.since.getTime()) continue;
    const kind = submitRecordKind(recordsPrefix, recordKey)!;
    summaries.push(
      dropUndefined({
        recordKey,
        kind,
        status: record.status,
        startedAt: record.startedAt,
        source: sourceOf(kind, record),
        jobId: record.result?.jobId,
        error: record.error,
        inProgressExpiresAt: record.inProgressExpiresAt,
      }),
    );
  }
  return summaries;
}

/**
 * Job records, optionally only those with `status` (and `appId`) and submitted at or after `since`, oldest first: the
 * pages of `GET /jobs` (job-list.ts) read newest first until `since`, so only the jobs listed are read.
 */
export async function listJobRecords(
  records: { store: RecordStore; recordsPrefix: string },
  filter: { status?: string; appId?: string; since?: Date } = {},
): Promise<JobRecord[]> {
  const found: JobRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listJobs({ limit: MAX_PAGE_SIZE, after, status: filter.status, appId: filter.appId }, records);
    for (const record of page.jobs) {
      if (filter.since && Date.parse(record.submittedAt) < filter.since.getTime()) return found.reverse();
      found.push(record);
    }
    if (!page.hasMore || page.lastId === null) return found.reverse();
    after = page.lastId;
  }
}

/**
 * Writes the index entries (job-index.ts) of every job record under the prefix, a listing page at a time: how records
 * written before the index existed become listable (`yike-jobs reindex`). Entries already there are left as they are.
 */
export async function reindexJobRecords(jobs: JobRecordStore, store: RecordStore, recordsPrefix: string): Promise<{ records: number; indexed: number }> {
  const folder = `${recordsPrefix}jobs/`;
  let records = 0;
  let indexed = 0;
  let after: string | undefined;
  for (;;) {
    const keys = await store.list(folder, { limit: REINDEX_PAGE, after });
    const read = await mapWithConcurrency(keys, READ_CONCURRENCY, (key) => store.get<JobRecord>(key));
    await mapWithConcurrency(read, READ_CONCURRENCY, async (record) => {
      if (!record?.jobId || !record.appId || !record.submittedAt) return;
      await writeJobIndex(store, recordsPrefix, record);
      if (isTerminal(record.status)) await jobs.indexFinalStatus(record);
      indexed++;
    });
    records += keys.length;
    if (keys.length < REINDEX_PAGE) return { records, indexed };
    after = keys.at(-1);
  }
}

/** Job records read per listing page while reindexing (OSS's largest page). */
const REINDEX_PAGE = 1_000;

/** The OUTCOME_UNKNOWN record at `recordKey`, or a clear error saying why it cannot be settled. */
export async function readUnsettledRecord(
  store: RecordStore,
  recordsPrefix: string,
  recordKey: string,
): Promise<{ kind: SubmitRecordKind; record: IdempotencyRecord<SubmittedJob> }> {
  const kind = submitRecordKind(recordsPrefix, recordKey);
  if (!kind) {
    throw new YikeError('NOT_A_SUBMIT_RECORD', `${recordKey} is not a submit record (expected ${recordsPrefix}{objects,http,pipeline}/….json)`, {
      statusCode: 400,
    });
  }
  const record = await store.get<IdempotencyRecord<SubmittedJob>>(recordKey);
  if (!record) throw new YikeError('RECORD_NOT_FOUND', `No record at ${recordKey}`, { statusCode: 404 });
  if (record.status !== 'OUTCOME_UNKNOWN') {
    throw new YikeError('NOT_OUTCOME_UNKNOWN', `${recordKey} is ${record.status}; only OUTCOME_UNKNOWN records need settling`, { statusCode: 409 });
  }
  return { kind, record };
}

export interface ResolveWithJobIdOptions {
  store: RecordStore;
  jobs: JobRecordStore;
  ice: Pick<Ice, 'getYikeAIAppJob'>;
  recordsPrefix: string;
  recordKey: string;
  jobId: string;
  /** How long an HTTP / pipeline record replays its answer from now (http.idempotencyTtlSeconds, 24 h); uploads never expire. */
  replayTtlMs: number;
  now?: () => Date;
}

const ENTRY_POINTS: Record<SubmitRecordKind, EntryPoint> = { upload: 'upload', http: 'http', pipeline: 'pipeline' };

/**
 * The operator found the job at ICE: the record becomes COMPLETED with that JobId (after ICE confirms the job
 * exists), so duplicates and retries replay it, and the job gets its job record so the watcher follows it.
 */
export async function resolveWithJobId(
  options: ResolveWithJobIdOptions,
): Promise<{ record: IdempotencyRecord<SubmittedJob>; job: JobRecord; jobRecordCreated: boolean }> {
  const now = options.now ?? (() => new Date());
  const { kind, record } = await readUnsettledRecord(options.store, options.recordsPrefix, options.recordKey);
  let iceJob: IceJob;
  try {
    iceJob = await options.ice.getYikeAIAppJob(options.jobId);
  } catch (error) {
    if (isNotFound(error)) throw new YikeError('JOB_NOT_FOUND', `ICE does not know job ${options.jobId}; the record is left as it was`, { statusCode: 404 });
    throw error;
  }
  const at = now();
  const appId = iceJob.appId ?? '';
  const { error: _unknownOutcome, inProgressExpiresAt: _expired, ...rest } = record;
  const completed: IdempotencyRecord<SubmittedJob> = {
    ...rest,
    status: 'COMPLETED',
    completedAt: at.toISOString(),
    expiresAt: kind === 'upload' ? undefined : new Date(at.getTime() + options.replayTtlMs).toISOString(),
    // ICE's RequestId of the submit was never received: the one of the GetYikeAIAppJob that confirmed the job stands in.
    result: { jobId: options.jobId, requestId: iceJob.requestId, appId },
    context: { ...record.context, resolvedBy: { tool: 'yike-jobs', how: 'job-id', at: at.toISOString(), previousError: record.error } },
  };
  await options.store.put(options.recordKey, completed);

  const context = record.context ?? {};
  const upload =
    kind === 'upload' && typeof context.bucket === 'string' && typeof context.key === 'string'
      ? { bucket: context.bucket, key: context.key, ...(typeof context.eTag === 'string' ? { eTag: context.eTag } : {}) }
      : undefined;
  const fresh = newJobRecord({
    jobId: options.jobId,
    appId,
    source: sourceOf(kind, record) ?? imageOf(iceJob.appParams) ?? '',
    entryPoint: ENTRY_POINTS[kind],
    upload,
    productionId: iceJob.productionId,
    folderId: iceJob.folderId,
    submitRecordKey: options.recordKey,
    now: new Date(record.startedAt),
  });
  const job = applyIceJob(fresh, iceJob, at).record;
  const jobRecordCreated = await options.jobs.create(job);
  return { record: completed, job: jobRecordCreated ? job : ((await options.jobs.get(options.jobId)) ?? job), jobRecordCreated };
}

/**
 * The operator decided no job was created: the record goes, so the one-job path can run again. Returns what the
 * caller needs to submit again (uploads: the object; HTTP / pipeline records keep no request body, so their next
 * submit is the caller's own retry with the same Idempotency-Key or event).
 */
export async function forgetUnsettledRecord(
  store: RecordStore,
  recordsPrefix: string,
  recordKey: string,
): Promise<{ kind: SubmitRecordKind; record: IdempotencyRecord<SubmittedJob> }> {
  const unsettled = await readUnsettledRecord(store, recordsPrefix, recordKey);
  await store.delete(recordKey);
  return unsettled;
}

/**
 * The job record a COMPLETED submit record stands for (watcher's reconcile: a job whose record and marker were never
 * written): what the submit record's context says of the image, the upload, the caller's metadata and its own webhook,
 * submitted when the record completed.
 */
export function jobRecordFromSubmitRecord(recordsPrefix: string, recordKey: string, record: IdempotencyRecord<SubmittedJob>): JobRecord | undefined {
  const kind = submitRecordKind(recordsPrefix, recordKey);
  if (!kind || record.status !== 'COMPLETED' || !record.result?.jobId) return undefined;
  const context = record.context ?? {};
  const upload =
    kind === 'upload' && typeof context.bucket === 'string' && typeof context.key === 'string'
      ? { bucket: context.bucket, key: context.key, ...(typeof context.eTag === 'string' ? { eTag: context.eTag } : {}) }
      : undefined;
  return newJobRecord({
    jobId: record.result.jobId,
    appId: record.result.appId,
    source: sourceOf(kind, record) ?? '',
    entryPoint: ENTRY_POINTS[kind],
    upload,
    iceRequestId: record.result.requestId,
    submitRecordKey: recordKey,
    metadata: context.metadata === undefined ? undefined : metadataSchema.safeParse(context.metadata).data,
    webhookUrl: typeof context.webhookUrl === 'string' ? context.webhookUrl : undefined,
    consent: context.consent === undefined ? undefined : jobConsentSchema.safeParse(context.consent).data,
    now: new Date(record.completedAt ?? record.startedAt),
  });
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
