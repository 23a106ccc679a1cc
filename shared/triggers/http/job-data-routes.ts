import * as z from '../../runtime/zod';
import type { ApiRequest } from '../events/fc-http';
import type { HttpServices } from '../../composition/http';
import { eraseJob } from '../../domain/lifecycle/erasure';
import { JOB_STATUSES } from '../../domain/lifecycle/job-record';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/lifecycle/job-list';
import { findJobContent, jobsBucket, listJobViews } from '../../domain/lifecycle/job-lookup';
import { httpError, type HttpError, type RouteAnswer } from './errors';
import { invalidJobId, JOB_ID } from './jobs-routes';

/**
 * The routes over a caller's jobs beyond one job's lifecycle (jobs-routes.ts):
 * - `GET /jobs?limit=&after=&status=&app=`: newest first, `{data: [job…], hasMore, lastId}` (job-list.ts);
 * - `GET /jobs/{jobId}/content[?index=N]`: 302 to the own copy, signed; 409 while it is not there yet; 404 when there
 *   will be none;
 * - `DELETE /jobs/{jobId}`: the job and everything it left erased (erasure.ts): 204, then 404.
 */
const wholeNumber = (name: string, min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`)),
    z.pipe(z.transform(Number), z.number().check(z.gte(min, `must be a whole number from ${min} to ${max}`), z.lte(max, `${name} is at most ${max}`))),
  );

const listQuerySchema = z.object({
  limit: z.optional(wholeNumber('limit', 1, MAX_PAGE_SIZE)),
  after: z.optional(z.string().check(z.regex(JOB_ID, 'must be a jobId (the lastId of the page before)'))),
  status: z.optional(z.enum(JOB_STATUSES)),
  app: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

/** The largest output index a job could have (ICE lists a handful of outputs per job). */
const MAX_OUTPUT_INDEX = 999;
const contentQuerySchema = z.object({ index: z.optional(wholeNumber('index', 0, MAX_OUTPUT_INDEX)) });

/** 400 INVALID_REQUEST naming each query parameter that is wrong, as GET /jobs/{jobId} does. */
function invalidQuery(issues: readonly { path: readonly PropertyKey[]; message: string }[]): HttpError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  return httpError(400, 'INVALID_REQUEST', `Invalid query: ${details.map((detail) => `${detail.path}: ${detail.message}`).join('; ')}`, details);
}

export async function listJobsRoute(request: ApiRequest, services: HttpServices): Promise<RouteAnswer> {
  const query = listQuerySchema.safeParse(request.query);
  if (!query.success) return { ok: false, error: invalidQuery(query.error.issues) };
  const { limit = DEFAULT_PAGE_SIZE, after, status, app } = query.data;
  const appId = app === undefined ? undefined : services.apps.resolve(app, 'app').appId;
  return { ok: true, status: 200, body: await listJobViews({ limit, after, status, appId }, services) };
}

export async function jobContentRoute(jobId: string, request: ApiRequest, services: HttpServices): Promise<RouteAnswer> {
  if (!JOB_ID.test(jobId)) return { ok: false, error: invalidJobId() };
  const query = contentQuerySchema.safeParse(request.query);
  if (!query.success) return { ok: false, error: invalidQuery(query.error.issues) };
  const content = await findJobContent(jobId, query.data.index, services);
  if (!content) return { ok: false, error: jobNotFound(jobId) };
  if (content.status === 'ready') return { ok: true, status: 302, headers: { Location: content.url } };
  if (content.status === 'pending') return { ok: false, error: httpError(409, 'CONTENT_PENDING', content.message, undefined, { 'Retry-After': '10' }) };
  return { ok: false, error: httpError(404, 'CONTENT_NOT_FOUND', content.message) };
}

export async function deleteJobRoute(jobId: string, services: HttpServices): Promise<RouteAnswer> {
  if (!JOB_ID.test(jobId)) return { ok: false, error: invalidJobId() };
  const outcome = await eraseJob(jobId, jobsBucket(services.config), services, 'DELETE /jobs/{jobId}');
  return outcome.status === 'erased' ? { ok: true, status: 204 } : { ok: false, error: jobNotFound(jobId) };
}

const jobNotFound = (jobId: string) => httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId}`);
