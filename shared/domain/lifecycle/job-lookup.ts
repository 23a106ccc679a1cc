import type { Config } from '../../runtime/config';
import { describeError, isNotFound, YikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { IdempotencyRecord } from '../idempotency/idempotent';
import { assertImageAllowed, type ImagePolicy } from '../images/image-policy';
import type { SubmittedJob } from '../jobs/submit-job';
import type { Ice, ObjectUrlSigner, RecordStore, RecordStoreFor } from '../ports';
import { objectRecordPrefix, sharedRecordsBucket } from '../submissions/record-keys';
import { followJob } from './follow';
import { listJobs, type JobListQuery } from './job-list';
import { createJobRecordStore, isTerminal, type JobRecord, type JobRecordStore } from './job-record';
import { iceJobView, jobViewWithCopy, refreshJobRecord, toJobView, type JobView } from './job-view';

/**
 * The reads behind `GET /jobs/{jobId}` and `GET /jobs/by-object` (and `yike-jobs show`): a job from its job record,
 * and an upload's submit record with its job. The routes only parse the query and answer in HTTP's shape.
 */
export interface JobLookupDependencies {
  config: Pick<Config, 'records' | 'http' | 'lifecycle' | 'ice' | 'oss'>;
  recordStore: RecordStoreFor;
  ice: Pick<Ice, 'getYikeAIAppJob'>;
  logger: Logger;
  signUrl?: ObjectUrlSigner;
  /** Milliseconds left in this invocation: a wait ends before it does. */
  remainingTimeMs: () => number;
  /** The clock `?wait=N` waits on (tests: a simulated one). Default the real clock. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

/** Pauses between ICE polls while waiting: 1 s, 2 s, then every 3 s (at most ~10 ICE calls per 25 s wait). */
const WAIT_POLL_MS = (pollCount: number) => Math.min(pollCount, 3) * 1000;
/** Time kept back from the invocation for the poll in flight and the answer. */
const WAIT_MARGIN_MS = 1000;

/**
 * The job's lifecycle from its job record (no ICE call), with `playUrl` once the watcher copied its output; `refresh`
 * asks ICE first and saves what changed; `waitSeconds` keeps asking ICE until the job ends or the time (or the
 * invocation) runs out. Without a record: undefined, unless `refresh`, which answers ICE's view of the job
 * (`recorded: false`) and writes nothing (we do not know where it came from).
 */
export async function lookUpJob(
  jobId: string,
  query: { refresh: boolean; waitSeconds: number },
  deps: JobLookupDependencies,
): Promise<(JobView & { recorded: boolean }) | undefined> {
  const { config, ice } = deps;
  const bucket = sharedRecordsBucket(config);
  if (!bucket) throw new YikeError('RECORDS_BUCKET_REQUIRED', 'GET /jobs/{jobId} needs RECORDS_BUCKET or ALLOWED_BUCKETS to find job records');
  const jobs = createJobRecordStore(deps.recordStore(bucket), config.records.prefix);

  const [found, erasedAt] = await Promise.all([jobs.get(jobId), jobs.erasedAt(jobId)]);
  // Erased (erasure.ts): gone, even if a run that held it wrote its record back before the watcher swept it again.
  if (erasedAt !== undefined) return undefined;
  let record = found;
  if (!record) {
    if (!query.refresh) return undefined;
    try {
      return { ...iceJobView(await ice.getYikeAIAppJob(jobId)), recorded: false };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  // A wait starts with an ICE poll of its own, so refresh adds nothing to it.
  if (query.waitSeconds > 0 && !isTerminal(record.status)) record = await waitForJob(record, query.waitSeconds, jobs, deps);
  else if (query.refresh) record = await refreshJobRecord(record, { ice, jobs });
  return { ...jobViewWithCopy(record, deps), recorded: true };
}

/** Polls ICE (saving each change) until the job ends, the wait runs out, or the invocation nearly does. */
async function waitForJob(record: JobRecord, waitSeconds: number, jobs: JobRecordStore, deps: JobLookupDependencies): Promise<JobRecord> {
  const { ice, logger, config } = deps;
  // A poll may take up to the ICE read timeout: never start one that could outlive the invocation.
  const budgetMs = deps.remainingTimeMs() - config.ice.readTimeoutMs - WAIT_MARGIN_MS;
  let current = record;
  const outcome = await followJob({
    // A poll ICE keeps failing is retried inside the ICE client (its retry policy): it is cut at the invocation's
    // end, so the caller gets our answer with the last known status rather than FC's timeout.
    poll: async () => (current = await withinMs(refreshJobRecord(current, { ice, jobs }), deps.remainingTimeMs() - WAIT_MARGIN_MS)),
    timeoutMs: Math.max(0, Math.min(waitSeconds * 1000, budgetMs)),
    intervalMs: WAIT_POLL_MS,
    now: deps.clock?.now,
    sleep: deps.clock?.sleep,
    onTransientError: (error) => logger.warn('job wait: ICE poll failed, polling again', { jobId: record.jobId, error: describeError(error) }),
  });
  return outcome.job ?? current;
}

/** The promise's answer, or a retryable WAIT_POLL_CUT once `ms` have passed (the promise itself runs on: it is a read). */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new YikeError('WAIT_POLL_CUT', 'The ICE poll did not end before the invocation does', { retryable: true })),
      Math.max(0, ms),
    );
  });
  return Promise.race([promise, cut]).finally(() => clearTimeout(timer));
}

/** What `GET /jobs/by-object` answers: the upload's submit record (latest eTag) and its job's lifecycle. */
export interface ObjectSubmission extends Partial<SubmittedJob> {
  bucket: string;
  key: string;
  eTag?: string;
  status: IdempotencyRecord['status'];
  startedAt: string;
  completedAt?: string;
  error?: IdempotencyRecord['error'];
  /** The job's lifecycle from its job record; null before it has one. */
  job: JobView | null;
}

/**
 * The submit record the upload function wrote for an object (the latest eTag wins) and its job, or undefined when the
 * object has none. The object must be one a caller may name (ALLOWED_BUCKETS, the reserved prefixes).
 */
export async function findObjectSubmission(
  object: { bucket: string; key: string },
  deps: { config: Pick<Config, 'records'>; recordStore: RecordStoreFor; imagePolicy: ImagePolicy },
): Promise<ObjectSubmission | undefined> {
  const { bucket, key } = object;
  assertImageAllowed({ kind: 'oss', bucket, key }, deps.imagePolicy);
  const { prefix: recordsPrefix, bucket: recordsBucket } = deps.config.records;
  const store = deps.recordStore(recordsBucket ?? bucket);
  const prefix = objectRecordPrefix(recordsPrefix, bucket, key);
  const candidates = (await store.list(prefix)).filter((name) => name.endsWith('.json') && !name.slice(prefix.length).includes('/'));
  const records = (await Promise.all(candidates.map((name) => store.get<IdempotencyRecord<SubmittedJob>>(name)))).filter(
    (record): record is IdempotencyRecord<SubmittedJob> => record !== undefined,
  );
  const latest = records.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  if (!latest) return undefined;
  return {
    bucket,
    key,
    eTag: latest.context?.eTag as string | undefined,
    status: latest.status,
    ...latest.result,
    startedAt: latest.startedAt,
    completedAt: latest.completedAt,
    error: latest.error,
    job: await lifecycleOfJob(store, recordsPrefix, latest.result?.jobId),
  };
}

/** The lifecycle of the job an upload's submit record points to (null when that job has no record yet). */
async function lifecycleOfJob(store: RecordStore, recordsPrefix: string, jobId: string | undefined): Promise<JobView | null> {
  if (!jobId) return null;
  const record = await createJobRecordStore(store, recordsPrefix).get(jobId);
  return record ? toJobView(record) : null;
}

/** The records bucket of `GET /jobs…` and `DELETE /jobs/{jobId}`: RECORDS_BUCKET, else the first ALLOWED_BUCKETS. */
export function jobsBucket(config: Pick<Config, 'records' | 'http'>): string {
  const bucket = sharedRecordsBucket(config);
  if (!bucket) throw new YikeError('RECORDS_BUCKET_REQUIRED', 'The job routes need RECORDS_BUCKET or ALLOWED_BUCKETS to find job records');
  return bucket;
}

/** `GET /jobs`: a page of jobs, newest first, each as GET /jobs/{jobId} answers it (job-list.ts). */
export async function listJobViews(
  query: JobListQuery,
  deps: Pick<JobLookupDependencies, 'config' | 'recordStore' | 'signUrl'> & { now?: Date },
): Promise<{ data: (JobView & { recorded: true })[]; hasMore: boolean; lastId: string | null }> {
  const page = await listJobs(query, { store: deps.recordStore(jobsBucket(deps.config)), recordsPrefix: deps.config.records.prefix });
  return { data: page.jobs.map((record) => ({ ...jobViewWithCopy(record, deps), recorded: true as const })), hasMore: page.hasMore, lastId: page.lastId };
}

/** What `GET /jobs/{jobId}/content` answers: the own copy's signed URL, or why there is none (yet). */
export type JobContent = { status: 'ready'; url: string; expiresAt: string } | { status: 'pending' | 'none'; message: string };

/**
 * The own copy of one output (`index`, else the one playUrl plays: the first video, else the first output), signed
 * for SIGNED_URL_EXPIRES_SECONDS; `pending` while the job runs or its copy is still being made; `none` when there will
 * be none (the job failed or timed out, the copy was given up, no such output, or JOB_RESULTS has no `copy`).
 * Undefined when no job record holds the job (or it was erased).
 */
export async function findJobContent(
  jobId: string,
  index: number | undefined,
  deps: Pick<JobLookupDependencies, 'config' | 'recordStore' | 'signUrl'> & { now?: Date },
): Promise<JobContent | undefined> {
  const jobs = createJobRecordStore(deps.recordStore(jobsBucket(deps.config)), deps.config.records.prefix);
  const [record, erasedAt] = await Promise.all([jobs.get(jobId), jobs.erasedAt(jobId)]);
  if (!record || erasedAt !== undefined) return undefined;
  const { results } = record;
  const copied = (result: JobRecord['results'][number]) => result.ownBucket !== undefined && result.ownKey !== undefined;
  const video = results.findIndex((result) => copied(result) && result.kind === 'video');
  const chosen = index ?? (video >= 0 ? video : Math.max(0, results.findIndex(copied)));
  const output = results[chosen];
  if (output && copied(output) && deps.signUrl) {
    const { url, expiresAt } = deps.signUrl(output.ownBucket!, output.ownKey!, deps.config.oss.signedUrlExpiresSeconds, deps.now ?? new Date());
    return { status: 'ready', url, expiresAt };
  }
  if (!isTerminal(record.status)) return { status: 'pending', message: `The job is ${record.status}: its outputs are not there yet` };
  const copying = deps.config.lifecycle.resultCopy !== undefined && record.status === 'Finished' && output?.outputUrl !== undefined && record.copy !== 'failed';
  if (copying) return { status: 'pending', message: `Output ${chosen} of the job is still being copied; try again shortly` };
  const why =
    record.status !== 'Finished'
      ? `the job ended ${record.status}`
      : !output
        ? `the job has ${results.length} output${results.length === 1 ? '' : 's'}`
        : record.copy === 'failed'
          ? 'its copy was given up (GET /jobs/{jobId} has ICE’s outputUrl)'
          : 'outputs are not copied here (JOB_RESULTS has no copy)';
  return { status: 'none', message: `No own copy of output ${chosen} of ${jobId}: ${why}` };
}
