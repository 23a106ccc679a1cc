import { describeError, isNotFound, YikeError } from '../../runtime/errors';
import type { ApiRequest } from '../events/fc-http';
import type { RecordStore } from '../../domain/ports';
import { followJob } from '../../domain/lifecycle/follow';
import { createJobRecordStore, isTerminal, type JobRecord, type JobRecordStore } from '../../domain/lifecycle/job-record';
import { iceJobView, jobRecordsBucket, jobViewWithCopy, refreshJobRecord, toJobView, type JobView } from '../../domain/lifecycle/job-view';
import type { Services } from '../../composition/services';
import { httpError, type HttpError, type RouteAnswer } from './errors';

/**
 * `GET /jobs/{jobId}`: the job's lifecycle from its job record (no ICE call), with `playUrl` once the watcher copied
 * its output (RESULT_COPY) and `copy: "pending" | "failed"` before that; `?refresh=1` asks ICE first and
 * saves what changed; `?wait=N` (0-25 s) keeps asking ICE until the job ends or N seconds (or the invocation)
 * run out. Without a record: 404 JOB_NOT_FOUND, unless `refresh=1`, which answers ICE's view of the job
 * (`recorded: false`) and writes nothing (we do not know where it came from).
 */
const MAX_WAIT_SECONDS = 25;
/** Pauses between ICE polls while waiting: 1 s, 2 s, then every 3 s (at most ~10 ICE calls per 25 s wait). */
const WAIT_POLL_MS = (pollCount: number) => Math.min(pollCount, 3) * 1000;
/** Time kept back from the invocation for the poll in flight and the answer. */
const WAIT_MARGIN_MS = 1000;

const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
const WAIT = /^\d{1,2}$/;
const FLAG_VALUES: Record<string, boolean> = { '1': true, true: true, '0': false, false: false };

export interface JobRoutesDependencies {
  services: Services;
  remainingTimeMs: () => number;
  /** The clock `?wait=N` waits on (tests: a simulated one). Default the real clock. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

interface JobQuery {
  refresh: boolean;
  waitSeconds: number;
}

function parseJobQuery(query: ApiRequest['query']): JobQuery | HttpError {
  const issues: { path: string; message: string }[] = [];
  let refresh = false;
  if (query.refresh !== undefined) {
    const value = FLAG_VALUES[query.refresh];
    if (value === undefined) issues.push({ path: 'refresh', message: 'must be 1, true, 0 or false' });
    else refresh = value;
  }
  let waitSeconds = 0;
  if (query.wait !== undefined) {
    waitSeconds = WAIT.test(query.wait) ? Number(query.wait) : NaN;
    if (!(waitSeconds <= MAX_WAIT_SECONDS)) issues.push({ path: 'wait', message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` });
  }
  if (issues.length > 0) {
    return httpError(400, 'INVALID_REQUEST', `Invalid query: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
  }
  return { refresh, waitSeconds };
}

export async function getJobLifecycle(jobId: string, request: ApiRequest, deps: JobRoutesDependencies): Promise<RouteAnswer> {
  if (!JOB_ID.test(jobId)) return { ok: false, error: httpError(400, 'INVALID_JOB_ID', 'jobId must be 1-128 letters, digits, "-" or "_"') };
  const query = parseJobQuery(request.query);
  if ('statusCode' in query) return { ok: false, error: query };
  const { config, ice } = deps.services;
  const bucket = jobRecordsBucket(config);
  if (!bucket) throw new YikeError('RECORDS_BUCKET_REQUIRED', 'GET /jobs/{jobId} needs RECORDS_BUCKET or ALLOWED_BUCKETS to find job records');
  const jobs = createJobRecordStore(deps.services.recordStore(bucket), config.records.prefix);

  let record = await jobs.get(jobId);
  if (!record) {
    if (!query.refresh) return { ok: false, error: notFound(jobId) };
    try {
      return { ok: true, status: 200, body: { ...iceJobView(await ice.getYikeAIAppJob(jobId)), recorded: false } };
    } catch (error) {
      if (isNotFound(error)) return { ok: false, error: notFound(jobId) };
      throw error;
    }
  }
  // A wait starts with an ICE poll of its own, so refresh=1 adds nothing to it.
  if (query.waitSeconds > 0 && !isTerminal(record.status)) record = await waitForJob(record, query.waitSeconds, jobs, deps);
  else if (query.refresh) record = await refreshJobRecord(record, { ice, jobs });
  return { ok: true, status: 200, body: { ...jobViewWithCopy(record, deps.services), recorded: true } };
}

/** Polls ICE (saving each change) until the job ends, the wait runs out, or the invocation nearly does. */
async function waitForJob(record: JobRecord, waitSeconds: number, jobs: JobRecordStore, deps: JobRoutesDependencies): Promise<JobRecord> {
  const { ice, logger, config } = deps.services;
  // A poll may take up to the ICE read timeout: never start one that could outlive the invocation.
  const budgetMs = deps.remainingTimeMs() - config.ice.readTimeoutMs - WAIT_MARGIN_MS;
  let current = record;
  const outcome = await followJob({
    // A poll ICE keeps failing is retried inside the ICE client (ICE_MAX_ATTEMPTS): it is cut at the invocation's
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

/** The lifecycle of the job an upload's idempotency record points to (null when that job has no record yet). */
export async function lifecycleOfJob(store: RecordStore, recordsPrefix: string, jobId: string | undefined): Promise<JobView | null> {
  if (!jobId) return null;
  const record = await createJobRecordStore(store, recordsPrefix).get(jobId);
  return record ? toJobView(record) : null;
}

function notFound(jobId: string): HttpError {
  return httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId} (add ?refresh=1 to ask ICE)`);
}
