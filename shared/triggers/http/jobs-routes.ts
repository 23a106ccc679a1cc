import type { ApiRequest } from '../events/fc-http';
import { lookUpJob } from '../../domain/lifecycle/job-lookup';
import type { Services } from '../../composition/services';
import { httpError, type HttpError, type RouteAnswer } from './errors';

/**
 * `GET /jobs/{jobId}`: the job's lifecycle from its job record (no ICE call), with `playUrl` once the watcher copied
 * its output (JOB_RESULTS `copy`) and `copy: "pending" | "failed"` before that; `?refresh=1` asks ICE first and
 * saves what changed; `?wait=N` (0-25 s) keeps asking ICE until the job ends or N seconds (or the invocation)
 * run out. Without a record: 404 JOB_NOT_FOUND, unless `refresh=1`, which answers ICE's view of the job
 * (`recorded: false`) and writes nothing (we do not know where it came from).
 */
const MAX_WAIT_SECONDS = 25;

export const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
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

export const invalidJobId = (): HttpError => httpError(400, 'INVALID_JOB_ID', 'jobId must be 1-128 letters, digits, "-" or "_"');

export async function getJobLifecycle(jobId: string, request: ApiRequest, deps: JobRoutesDependencies): Promise<RouteAnswer> {
  if (!JOB_ID.test(jobId)) return { ok: false, error: invalidJobId() };
  const query = parseJobQuery(request.query);
  if ('statusCode' in query) return { ok: false, error: query };
  const job = await lookUpJob(jobId, query, { ...deps.services, remainingTimeMs: deps.remainingTimeMs, clock: deps.clock });
  return job
    ? { ok: true, status: 200, body: job }
    : { ok: false, error: httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId} (add ?refresh=1 to ask ICE)`) };
}
