import type { ApiRequest } from '../events/fc-http';
import type { HttpServices } from '../../composition/http';
import { eraseJob } from '../../domain/lifecycle/erasure';
import { DEFAULT_PAGE_SIZE } from '../../domain/lifecycle/job-list';
import { findJobContent, jobsBucket, listJobViews } from '../../domain/lifecycle/job-lookup';
import { httpError, type RouteAnswer } from './errors';
import { contentQuerySchema, invalidJobId, jobIdSchema, listQuerySchema, parseQuery } from './requests';
import type { JobListBody } from './responses';

/**
 * The routes over a caller's jobs beyond one job's lifecycle (jobs-routes.ts):
 * - `GET /jobs?limit=&after=&status=&app=`: newest first, `{data: [job…], hasMore, lastId}` (job-list.ts);
 * - `GET /jobs/{jobId}/content[?index=N]`: 302 to the own copy, signed; 409 while it is not there yet; 404 when there
 *   will be none;
 * - `DELETE /jobs/{jobId}`: the job and everything it left erased (erasure.ts): 204, then 404.
 */
export async function listJobsRoute(request: ApiRequest, services: HttpServices): Promise<RouteAnswer<JobListBody>> {
  const query = parseQuery(listQuerySchema, request.query);
  if ('error' in query) return { ok: false, error: query.error };
  const { limit = DEFAULT_PAGE_SIZE, after, status, app } = query.value;
  const appId = app === undefined ? undefined : services.apps.resolve(app, 'app').appId;
  return { ok: true, status: 200, body: await listJobViews({ limit, after, status, appId }, services) };
}

/** A 302 (no body): its Location is the own copy, signed. */
export async function jobContentRoute(jobId: string, request: ApiRequest, services: HttpServices): Promise<RouteAnswer<undefined>> {
  if (!jobIdSchema.safeParse(jobId).success) return { ok: false, error: invalidJobId() };
  const query = parseQuery(contentQuerySchema, request.query);
  if ('error' in query) return { ok: false, error: query.error };
  const content = await findJobContent(jobId, query.value.index, services);
  if (!content) return { ok: false, error: jobNotFound(jobId) };
  if (content.status === 'ready') return { ok: true, status: 302, body: undefined, headers: { Location: content.url } };
  if (content.status === 'pending') return { ok: false, error: httpError(409, 'CONTENT_PENDING', content.message, undefined, { 'Retry-After': '10' }) };
  return { ok: false, error: httpError(404, 'CONTENT_NOT_FOUND', content.message) };
}

/** A 204 (no body) once erased; 404 for a job no record names, or one erased before. */
export async function deleteJobRoute(jobId: string, services: HttpServices): Promise<RouteAnswer<undefined>> {
  if (!jobIdSchema.safeParse(jobId).success) return { ok: false, error: invalidJobId() };
  const outcome = await eraseJob(jobId, jobsBucket(services.config), services, 'DELETE /jobs/{jobId}');
  return outcome.status === 'erased' ? { ok: true, status: 204, body: undefined } : { ok: false, error: jobNotFound(jobId) };
}

const jobNotFound = (jobId: string) => httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId}`);
