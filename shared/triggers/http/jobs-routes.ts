import type { ApiRequest } from '../events/fc-http';
import { lookUpJob } from '../../domain/lifecycle/job-lookup';
import type { Services } from '../../composition/services';
import { httpError, type RouteAnswer } from './errors';
import { invalidJobId, jobIdSchema, jobQuerySchema, parseQuery } from './requests';
import type { JobBody } from './responses';

/**
 * `GET /jobs/{jobId}`: the job's lifecycle from its job record (no ICE call), with `playUrl` once the watcher copied
 * its output (JOB_RESULTS `copy`) and `copy: "pending" | "failed"` before that; `?refresh=1` asks ICE first and
 * saves what changed; `?wait=N` (0-25 s) keeps asking ICE until the job ends or N seconds (or the invocation)
 * run out. Without a record: 404 JOB_NOT_FOUND, unless `refresh=1`, which answers ICE's view of the job
 * (`recorded: false`) and writes nothing (we do not know where it came from).
 */
export interface JobRoutesDependencies {
  services: Services;
  remainingTimeMs: () => number;
  /** The clock `?wait=N` waits on (tests: a simulated one). Default the real clock. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

export async function getJobLifecycle(jobId: string, request: ApiRequest, deps: JobRoutesDependencies): Promise<RouteAnswer<JobBody>> {
  if (!jobIdSchema.safeParse(jobId).success) return { ok: false, error: invalidJobId() };
  const parsed = parseQuery(jobQuerySchema, request.query);
  if ('error' in parsed) return { ok: false, error: parsed.error };
  const { refresh, wait } = parsed.value;
  const query = { refresh: refresh === '1' || refresh === 'true', waitSeconds: wait === undefined ? 0 : Number(wait) };
  const job = await lookUpJob(jobId, query, { ...deps.services, remainingTimeMs: deps.remainingTimeMs, clock: deps.clock });
  return job
    ? { ok: true, status: 200, body: job }
    : { ok: false, error: httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId} (add ?refresh=1 to ask ICE)`) };
}
