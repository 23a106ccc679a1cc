import type { IceJob, JobOutput, RecordStore } from '../ports';
import { jobIndexKeys, writeJobIndex, type IndexedJob } from './job-index';
import type { JobMetadata } from '../jobs/metadata';
import type { JobConsent } from '../tickets/ticket';

/**
 * The job record: what we know about one submitted Yike AI app job, from the submit to its outcome.
 * One JSON object per job at `<RECORDS_PREFIX>jobs/<jobId>.json` in the records bucket, written at submit time
 * by every entry point, updated by the job watcher (and by `GET /jobs/{jobId}?refresh=1`). Unfinished jobs also
 * have a small in-flight marker under `<RECORDS_PREFIX>inflight/` so the watcher finds them with one OSS list
 * page per 1,000 jobs instead of scanning every record.
 *
 * Statuses: ICE's own (`Created | Queuing | Executing | Finished | Failed`, passed through as ICE spells them)
 * or ours: `Submitted` (ICE accepted the submit, no status read yet) and `TimedOut` (still unfinished after
 * lifecycle.jobTimeoutSeconds, 6 h). Times are ISO-8601 strings; ICE's execution times are kept as ICE wrote them.
 */
const ICE_JOB_STATUSES = ['Created', 'Queuing', 'Executing', 'Finished', 'Failed'] as const;
export const JOB_STATUSES = ['Submitted', ...ICE_JOB_STATUSES, 'TimedOut'] as const;
type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which nothing changes any more: each is notified exactly once. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set<JobStatus>(['Finished', 'Failed', 'TimedOut']);

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Which entry point submitted the job. */
export type EntryPoint = 'upload' | 'http' | 'pipeline' | 'cli';

/**
 * One output of the job (ICE's VideoResult / ImageResult / AudioResult entries) and, once the watcher copied it (JOB_RESULTS `copy`), where
 * its own copy is: `oss://<ownBucket>/<ownKey>`.
 */
type JobResult = JobOutput & { ownBucket?: string; ownKey?: string };

export interface JobRecord {
  schemaVersion: 1;
  jobId: string;
  appId: string;
  /** `oss://bucket/key` for OSS images, the image URL otherwise. */
  source: string;
  status: JobStatus | (string & {});
  submittedAt: string;
  updatedAt: string;
  executionStartTime?: string;
  executionFinishTime?: string;
  results: JobResult[];
  error?: { code: string; message: string };
  entryPoint: EntryPoint;
  /** The uploaded object, when the job came from an OSS upload (result objects are written beside it). */
  upload?: { bucket: string; key: string; eTag?: string };
  productionId?: string;
  folderId?: string;
  /** ICE's RequestId of the submit, for support tickets. */
  iceRequestId?: string;
  /** The submit (idempotency) record that holds the job's JobId (`objects/…`, `http/…`, `pipeline/…`): erased with the job. */
  submitRecordKey?: string;
  /**
   * The caller's own keys and values (`POST /jobs` / `POST /uploads` `metadata`, jobs/metadata.ts), given back wherever the
   * job is shown or notified.
   */
  metadata?: JobMetadata;
  /** The consent the person gave with a ticketed upload (CONSENT_VERSION, tickets/ticket.ts): shown and notified with the job. */
  consent?: JobConsent;
  /** `POST /jobs` `webhookUrl`: this job's own webhook (channel `job-webhook`); never shown or notified, it may hold a token. */
  webhookUrl?: string;
  /** Delivery state per notification channel; owned by the watcher. */
  notifications?: Record<string, NotificationState>;
  /** When a terminal status was first recorded (the notification's `time`). */
  settledAt?: string;
  /** Notification rounds claimed so far (the watcher's create-only claim `<RECORDS_PREFIX>claims/<jobId>/<round>`). */
  notifyRound?: number;
  /**
   * JOB_RESULTS `copy`: `pending` while a Finished job's outputs are still being copied, `failed` once the copy was given up;
   * absent once every output has its own copy (`results[].ownKey`), and for jobs with nothing to copy.
   */
  copy?: 'pending' | 'failed';
  /** The watcher's copy bookkeeping; owned by the watcher, never in notifications. */
  copying?: CopyState;
  /** Delivery state of `yike.job.result-copied` (a copy that succeeded after the job was notified without it). */
  copyNotifications?: Record<string, NotificationState>;
}

interface CopyState {
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  /** When every output had its copy: the `time` of yike.job.result-copied. */
  copiedAt?: string;
}

export interface NotificationState {
  status: 'pending' | 'delivered' | 'undelivered';
  attempts: number;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  lastError?: string;
  /** The delivery id receivers deduplicate by (webhooks). */
  deliveryId?: string;
}

/** A job still unfinished lifecycle.jobTimeoutSeconds after its submit. */
export function markTimedOut(record: JobRecord, timeoutSeconds: number, now = new Date()): JobRecord {
  return {
    ...record,
    status: 'TimedOut',
    updatedAt: now.toISOString(),
    error: { code: 'JOB_TIMED_OUT', message: `The job was still ${record.status} ${timeoutSeconds} s after it was submitted` },
  };
}

export function jobRecordKey(recordsPrefix: string, jobId: string): string {
  return `${recordsPrefix}jobs/${jobId}.json`;
}

function inflightPrefix(recordsPrefix: string): string {
  return `${recordsPrefix}inflight/`;
}

/** The in-flight marker of a job: its key alone says which job (no read needed to list them). */
export function inflightKey(recordsPrefix: string, jobId: string): string {
  return `${inflightPrefix(recordsPrefix)}${jobId}`;
}

/** The jobId an in-flight marker key names. */
function jobIdFromInflightKey(recordsPrefix: string, key: string): string {
  return key.slice(inflightPrefix(recordsPrefix).length);
}

export interface NewJobRecordInput {
  jobId: string;
  appId: string;
  source: string;
  entryPoint: EntryPoint;
  iceRequestId?: string;
  upload?: JobRecord['upload'];
  productionId?: string;
  folderId?: string;
  submitRecordKey?: string;
  metadata?: JobMetadata;
  webhookUrl?: string;
  consent?: JobConsent;
  now?: Date;
}

export function newJobRecord(input: NewJobRecordInput): JobRecord {
  const at = (input.now ?? new Date()).toISOString();
  return {
    schemaVersion: 1,
    jobId: input.jobId,
    appId: input.appId,
    source: input.source,
    status: 'Submitted',
    submittedAt: at,
    updatedAt: at,
    results: [],
    entryPoint: input.entryPoint,
    ...(input.upload ? { upload: input.upload } : {}),
    ...(input.productionId ? { productionId: input.productionId } : {}),
    ...(input.folderId ? { folderId: input.folderId } : {}),
    ...(input.iceRequestId ? { iceRequestId: input.iceRequestId } : {}),
    ...(input.submitRecordKey ? { submitRecordKey: input.submitRecordKey } : {}),
    ...(input.metadata ? { metadata: input.metadata } : {}),
    ...(input.webhookUrl ? { webhookUrl: input.webhookUrl } : {}),
    ...(input.consent ? { consent: input.consent } : {}),
  };
}

/**
 * What ICE said about the job, merged into the record. `changed` is false when ICE said nothing new, so callers
 * write only real changes. A terminal record never goes back (ICE answers are not reordered, but a stale read
 * racing a newer one must not undo `Finished`).
 */
export function applyIceJob(
  record: JobRecord,
  job: Pick<IceJob, 'status' | 'executionStartTime' | 'executionFinishTime' | 'results'>,
  now = new Date(),
): { record: JobRecord; changed: boolean } {
  if (isTerminal(record.status)) return { record, changed: false };
  const next: JobRecord = {
    ...record,
    status: job.status,
    executionStartTime: job.executionStartTime ?? record.executionStartTime,
    executionFinishTime: job.executionFinishTime ?? record.executionFinishTime,
    results: job.results.length > 0 ? job.results.map((result) => ({ ...result })) : record.results,
  };
  if (job.status === 'Failed' && !next.error) next.error = { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' };
  const changed =
    next.status !== record.status ||
    next.executionStartTime !== record.executionStartTime ||
    next.executionFinishTime !== record.executionFinishTime ||
    JSON.stringify(next.results) !== JSON.stringify(record.results);
  return changed ? { record: { ...next, updatedAt: now.toISOString() }, changed } : { record, changed };
}

/** Job records and in-flight markers in one records bucket. */
export interface JobRecordStore {
  /** Writes a new record (create-only) and its in-flight marker. False when a record for the job exists already. */
  create(record: JobRecord): Promise<boolean>;
  /** create()'s two writes one at a time (so each can be retried alone): the in-flight marker of an unfinished job... */
  markInflight(record: JobRecord): Promise<void>;
  /** ...then the record itself (create-only; false when it exists already), with its index entries (job-index.ts). */
  createRecord(record: JobRecord): Promise<boolean>;
  /** The index entries of the job's final status (written once, when the watcher settles it). */
  indexFinalStatus(record: JobRecord): Promise<void>;
  /** When the job was erased (its tombstone, erasure.ts), or undefined. */
  erasedAt(jobId: string): Promise<string | undefined>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Overwrites the record. The in-flight marker stays until the watcher has notified a terminal status. */
  save(record: JobRecord): Promise<void>;
  /** Drops the in-flight marker (the watcher, once a terminal job is notified). */
  removeInflight(jobId: string): Promise<void>;
  /** JobIds of unfinished jobs, in key order. */
  listInflight(): Promise<string[]>;
  /** A job's in-flight marker, if it has one. */
  getMarker(jobId: string): Promise<InflightMarker | undefined>;
}

/**
 * The body of an in-flight marker: the new job record's fields, so a job whose record write failed can be followed
 * from its marker alone (the watcher writes the record from it). Older markers hold only `{jobId, submittedAt}`.
 */
export type InflightMarker = Pick<JobRecord, 'jobId' | 'submittedAt'> & Partial<Omit<NewJobRecordInput, 'now' | 'jobId'>>;

function markerOf(record: JobRecord): InflightMarker {
  const { jobId, submittedAt, appId, source, entryPoint, upload, productionId, folderId, iceRequestId, submitRecordKey, metadata, webhookUrl, consent } =
    record;
  return { jobId, submittedAt, appId, source, entryPoint, upload, productionId, folderId, iceRequestId, submitRecordKey, metadata, webhookUrl, consent };
}

/** Every index entry a job may have (job-index.ts): under every job, its app, and each final status. */
export function everyIndexKey(recordsPrefix: string, job: IndexedJob): string[] {
  return [undefined, ...TERMINAL_STATUSES].flatMap((status) => jobIndexKeys(recordsPrefix, job, status));
}

/** A job's tombstone `{jobId, erasedAt}`: the job was erased and nothing may bring it back (erasure.ts). */
export function tombstoneKey(recordsPrefix: string, jobId: string): string {
  return `${recordsPrefix}erased/${jobId}.json`;
}

/** The job record a marker describes, or undefined for an old marker that carries no seed. */
export function recordFromMarker(marker: InflightMarker): JobRecord | undefined {
  if (!marker.appId || marker.source === undefined || !marker.entryPoint) return undefined;
  return newJobRecord({ ...marker, appId: marker.appId, source: marker.source, entryPoint: marker.entryPoint, now: new Date(marker.submittedAt) });
}

export function createJobRecordStore(store: RecordStore, recordsPrefix: string): JobRecordStore {
  // Also for a job recorded as already terminal (yike-jobs resolve --job-id): its notifications are still owed,
  // and the watcher only looks at marked jobs.
  const markInflight = (record: JobRecord) => store.put(inflightKey(recordsPrefix, record.jobId), markerOf(record));
  // The index entries at the same time (create-only, so a retry after either failed writes what is missing).
  const createRecord = async (record: JobRecord) => {
    const [created] = await Promise.all([
      store.createIfAbsent(jobRecordKey(recordsPrefix, record.jobId), record),
      writeJobIndex(store, recordsPrefix, record),
      // A record made final already (yike-jobs resolve --job-id, reconcile of an old job) is listed under its status too.
      isTerminal(record.status) ? writeJobIndex(store, recordsPrefix, record, record.status) : undefined,
    ]);
    return created;
  };
  return {
    async create(record) {
      // Marker first: a job with a record but no marker would never be watched; the reverse is harmless
      // (the watcher drops a marker whose record is missing after a grace period).
      await markInflight(record);
      return createRecord(record);
    },
    markInflight,
    createRecord,
    indexFinalStatus: (record) => writeJobIndex(store, recordsPrefix, record, record.status),
    erasedAt: async (jobId) => (await store.get<{ erasedAt?: string }>(tombstoneKey(recordsPrefix, jobId)))?.erasedAt,
    get: (jobId) => store.get<JobRecord>(jobRecordKey(recordsPrefix, jobId)),
    save: (record) => store.put(jobRecordKey(recordsPrefix, record.jobId), record),
    removeInflight: (jobId) => store.delete(inflightKey(recordsPrefix, jobId)),
    getMarker: (jobId) => store.get<InflightMarker>(inflightKey(recordsPrefix, jobId)),
    async listInflight() {
      return (await store.list(inflightPrefix(recordsPrefix))).map((key) => jobIdFromInflightKey(recordsPrefix, key));
    },
  };
}
