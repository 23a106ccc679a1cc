import type { ApiRequest, ApiResponse } from '../events/fc-http';
import { postJobBodySchema } from '../events/schemas';
import type { HttpServices } from '../../composition/http';
import { sha256 } from '../../domain/submissions/record-keys';
import { submitYikeJob } from '../../domain/submissions/submit-yike-job';
import { findObjectSubmission } from '../../domain/lifecycle/job-lookup';
import { authorize } from './auth';
import { httpError, invalidBody, toHttpError, type HttpError, type RouteAnswer } from './errors';
import { deleteJobRoute, jobContentRoute, listJobsRoute } from './job-data-routes';
import { getJobLifecycle } from './jobs-routes';
import { doctorQuerySchema, idempotencyKeySchema, invalidJobId, jobIdSchema, objectQuerySchema, parseQuery } from './requests';
import type { DoctorReportBody, HealthBody, ObjectSubmissionBody, SubmittedJobBody } from './responses';
import { isOpen, routeFor, TICKET_ROUTES, type Route } from './routes';
import { createUploadForm, listUploadableApps } from './uploads-route';
import { getUsage, uploadQuotaRefusal } from './usage-route';
import { sharePage } from './share/share-page';
import type { Ticket } from '../../domain/tickets/ticket';
import { postShare, postTicket, ticketBearer, ticketMaySee, ticketMaySeeObject, ticketOf, ticketScopeRefusal, ticketUploadForm } from './tickets/ticket-routes';

/** The page: its HTML and script load on the first GET / only (scripts/build.mjs LAZY_LOCAL makes this ./page.js). */
const page = (): typeof import('./page/page') => require('./page/page') as typeof import('./page/page');
/** The OpenAPI document, made from the schemas on the first GET /openapi.json only (LAZY_LOCAL makes this ./openapi.js). */
const openApi = (): typeof import('./openapi/document') => require('./openapi/document') as typeof import('./openapi/document');

export interface ApiDependencies {
  services: HttpServices;
  remainingTimeMs: () => number;
  /** GET /doctor: the doctor's report for this function (shared/triggers/events/doctor.ts answerDoctor). */
  doctor?: (request: { image?: string }) => Promise<DoctorReportBody>;
  /** The budget's clock (tests and npm start only). */
  now?: () => Date;
  /** The clock `GET /jobs/{jobId}?wait=N` waits on (tests only). Default the real clock. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

export interface ApiResult {
  response: ApiResponse;
  /** For the one log line per request. */
  route: string;
  jobId?: string;
  replayed?: boolean;
  /** The error behind an error response, for the log (never put in the body). */
  error?: unknown;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export async function handleApiRequest(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const { route: matched, onPath, allow } = routeFor(request.method, request.path);
  if (onPath.length === 0) return result('unmatched', httpError(404, 'NOT_FOUND', `No route for ${request.path}`));
  if (!matched) {
    return result(
      onPath[0]!.name,
      httpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}`, undefined, { Allow: allow.join(', ') }),
    );
  }
  // The open routes hold no secret and no data: the page asks for the token, and every call it makes is authenticated.
  if (isOpen(matched)) {
    if (matched.name === 'GET /v/{token}') {
      const token = matched.pattern.exec(request.path)![1]!;
      return { route: matched.name, response: await sharePage(token, deps.services, now(deps)) };
    }
    return { route: matched.name, response: openRoute(matched.name, deps) };
  }

  const auth = await authenticate(request, deps);
  if ('error' in auth) return result(matched.name, auth.error, auth.cause);
  const { caller, ticket } = auth;
  // A ticket (docs/page.md) uploads, and reads, shares and deletes its own jobs: nothing else.
  if (ticket && !TICKET_ROUTES.has(matched.name)) return result(matched.name, ticketScopeRefusal(matched.name));

  try {
    switch (matched.name) {
      case 'POST /jobs':
        return await postJob(request, deps, caller);
      case 'GET /usage':
        return answered(matched.name, await getUsage(caller, deps.services, deps.now));
      case 'GET /jobs/by-object':
        return await getJobByObject(request, deps, ticket);
      case 'GET /apps':
        return answered(matched.name, listUploadableApps(deps.services));
      case 'POST /uploads': {
        const body = readJsonBody(request, deps.services.config.http.maxBodyBytes);
        if ('error' in body) return result(matched.name, body.error);
        if (ticket) return answered(matched.name, await ticketUploadForm(body.value, ticket, deps.services, now(deps)));
        const overQuota = await uploadQuotaRefusal(caller, deps.services, deps.now);
        return overQuota ? result(matched.name, overQuota) : answered(matched.name, createUploadForm(body.value, deps.services, caller));
      }
      case 'POST /tickets': {
        const body = readJsonBody(request, deps.services.config.http.maxBodyBytes);
        if ('error' in body) return result(matched.name, body.error);
        return answered(matched.name, await postTicket(request, body.value, caller, deps.services, now(deps)));
      }
      case 'GET /jobs': {
        return answered(matched.name, await listJobsRoute(request, deps.services));
      }
    }
    // The routes on one job: a ticket sees only its own jobs, and any other as a job that does not exist.
    const jobId = matched.pattern.exec(request.path)![1]!;
    if (ticket && jobIdSchema.safeParse(jobId).success && !(await ticketMaySee(ticket, jobId, deps.services))) {
      return result(matched.name, httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId}`));
    }
    switch (matched.name) {
      case 'GET /jobs/{jobId}':
        // requestContext.http.path is already decoded by FC.
        return answered(matched.name, await getJobLifecycle(jobId, request, deps), jobId);
      case 'GET /jobs/{jobId}/content':
        return answered(matched.name, await jobContentRoute(jobId, request, deps.services), jobId);
      case 'DELETE /jobs/{jobId}':
        return answered(matched.name, await deleteJobRoute(jobId, deps.services), jobId);
      case 'POST /jobs/{jobId}/share':
        if (!jobIdSchema.safeParse(jobId).success) return result(matched.name, invalidJobId());
        return answered(matched.name, await postShare(jobId, ticket, deps.services, now(deps)), jobId);
      case 'GET /doctor':
        return await getDoctor(request, deps);
    }
  } catch (error) {
    return result(matched.name, toHttpError(error), error);
  }
}

const now = (deps: ApiDependencies): Date => deps.now?.() ?? new Date();

/**
 * An operator token (AUTH_TOKENS; any caller with HTTP_AUTH=none), else an upload ticket (a JWS bearer no token
 * matched), else the refusal: 401 for a missing or wrong token, or an expired or altered ticket.
 */
async function authenticate(request: ApiRequest, deps: ApiDependencies): Promise<{ caller?: string; ticket?: Ticket } | { error: HttpError; cause?: unknown }> {
  const { config, logger } = deps.services;
  const auth = authorize(request, config.http, logger);
  if (!('error' in auth) && config.http.authMode === 'token') return auth;
  const bearer = ticketBearer(request);
  if (bearer === undefined) return auth;
  return await ticketOf(bearer, deps.services, now(deps));
}

function openRoute(name: Exclude<Extract<Route, { open: true }>['name'], 'GET /v/{token}'>, deps: ApiDependencies): ApiResponse {
  if (name === 'GET /') return page().pageResponse(deps.services.config);
  if (name === 'GET /openapi.json') return { statusCode: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: openApi().openApiJson() };
  return json(200, { status: 'ok' } satisfies HealthBody);
}

function result(route: string, error: HttpError, cause?: unknown): ApiResult {
  return { route, response: json(error.statusCode, error.body, error.headers), error: cause };
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

function answered<T>(route: string, answer: RouteAnswer<T>, jobId?: string): ApiResult {
  if (!answer.ok) return result(route, answer.error);
  const headers = { 'Cache-Control': 'no-store', ...answer.headers };
  return { route, jobId, response: answer.body === undefined ? { statusCode: answer.status, headers, body: '' } : json(answer.status, answer.body, headers) };
}

/** The JSON body, or the 400/413/415 that says why it cannot be read. */
function readJsonBody(request: ApiRequest, maxBodyBytes: number): { value: unknown } | { error: HttpError } {
  if (request.body.length > maxBodyBytes) {
    return { error: httpError(413, 'PAYLOAD_TOO_LARGE', `The body is ${request.body.length} bytes; the limit is ${maxBodyBytes}`) };
  }
  if (!JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? ''))
    return { error: httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json') };
  try {
    return { value: JSON.parse(request.body.toString('utf8')) as unknown };
  } catch {
    return { error: httpError(400, 'INVALID_JSON', 'The body is not valid JSON') };
  }
}

/**
 * `POST /jobs`: the body and the Idempotency-Key header in, the one submit's outcome out: 202 with the job (and
 * `Idempotent-Replayed: true` for a replay), 409 while another request with the key is in progress; refusals are
 * mapped by toHttpError (429 with Retry-After over the budget: nothing is stored for them).
 */
async function postJob(request: ApiRequest, deps: ApiDependencies, caller: string | undefined): Promise<ApiResult> {
  const route = 'POST /jobs';
  const { config, logger } = deps.services;
  const raw = readJsonBody(request, config.http.maxBodyBytes);
  if ('error' in raw) return result(route, raw.error);
  const parsed = postJobBodySchema.safeParse(raw.value);
  if (!parsed.success) return result(route, invalidBody(parsed.error.issues));
  const body = parsed.data;
  if (body.idempotencyKey !== undefined) {
    return result(
      route,
      httpError(400, 'INVALID_REQUEST', 'idempotencyKey: use the Idempotency-Key header over HTTP', [
        { path: 'idempotencyKey', message: 'not allowed in the body' },
      ]),
    );
  }
  const idempotencyKey = request.headers['idempotency-key'];
  if (idempotencyKey !== undefined && !idempotencyKeySchema.safeParse(idempotencyKey).success) {
    return result(route, httpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 printable ASCII characters'));
  }
  // Scoped per bearer token, so two clients cannot collide on (or probe) each other's keys.
  const scope = idempotencyKey === undefined ? undefined : sha256(`${request.headers.authorization ?? ''}\u0000${idempotencyKey}`);
  const outcome = await submitYikeJob(
    {
      source: route,
      job: { app: body.app, productionId: body.productionId, folderId: body.folderId, payer: { token: caller, source: route } },
      image: { named: body.image ? { kind: 'oss', ...body.image } : { kind: 'url', url: body.imageUrl! }, allowlist: 'always' },
      once:
        scope === undefined
          ? undefined
          : {
              recordKey: `${config.records.prefix}http/${scope}.json`,
              idempotencyKey: scope,
              payloadHash: sha256(request.body.toString('utf8')),
              completedTtlMs: config.http.idempotencyTtlSeconds * 1000,
            },
      overBudget: 'refuse',
      // Job records (and Idempotency-Key records) live in RECORDS_BUCKET, else the first allowed bucket.
      entryPoint: 'http',
      metadata: body.metadata,
      webhookUrl: body.webhookUrl,
    },
    { ...deps.services, remainingTimeMs: deps.remainingTimeMs, now: deps.now },
  );
  if (outcome.status === 'in-progress') {
    return result(route, httpError(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly'));
  }
  const replayed = scope === undefined ? undefined : outcome.status === 'duplicate';
  const job = outcome.result;
  if (replayed) logger.info('idempotent replay', { jobId: job.jobId });
  return { route, jobId: job.jobId, replayed, response: json(202, job satisfies SubmittedJobBody, replayed ? { 'Idempotent-Replayed': 'true' } : {}) };
}

/** The doctor's report (the same as for {"yike":"doctor"}); `?image=oss://bucket/key` picks the image it checks. */
async function getDoctor(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const route = 'GET /doctor';
  const query = parseQuery(doctorQuerySchema, request.query);
  if ('error' in query) return result(route, query.error);
  if (!deps.doctor) return result(route, httpError(404, 'NOT_FOUND', `No route for ${request.path}`));
  return { route, response: json(200, await deps.doctor({ image: query.value.image }), { 'Cache-Control': 'no-store' }) };
}

/** The submit record the OSS upload function wrote for an object (latest eTag wins), with its job's lifecycle. */
async function getJobByObject(request: ApiRequest, deps: ApiDependencies, ticket: Ticket | undefined): Promise<ApiResult> {
  const route = 'GET /jobs/by-object';
  const query = parseQuery(objectQuerySchema, request.query);
  if ('error' in query) return result(route, query.error);
  const { bucket, key } = query.value;
  if (ticket && !ticketMaySeeObject(ticket, key)) return result(route, httpError(404, 'JOB_NOT_FOUND', `No job record for oss://${bucket}/${key}`));
  const submission = await findObjectSubmission({ bucket, key }, deps.services);
  if (!submission) return result(route, httpError(404, 'JOB_NOT_FOUND', `No job record for oss://${bucket}/${key}`));
  return { route, jobId: submission.jobId, response: json(200, submission satisfies ObjectSubmissionBody, { 'Cache-Control': 'no-store' }) };
}
