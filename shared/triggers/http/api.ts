import type { ApiRequest, ApiResponse } from '../events/fc-http';
import { postJobBodySchema } from '../events/schemas';
import type { HttpServices } from '../../composition/http';
import { sha256 } from '../../domain/submissions/record-keys';
import { submitYikeJob } from '../../domain/submissions/submit-yike-job';
import { findObjectSubmission } from '../../domain/lifecycle/job-lookup';
import { authorize } from './auth';
import { httpError, invalidBody, toHttpError, type HttpError, type RouteAnswer } from './errors';
import { getJobLifecycle } from './jobs-routes';
import { createUploadForm, listUploadableApps } from './uploads-route';
import { getUsage, uploadQuotaRefusal } from './usage-route';

/** The page: its HTML and script load on the first GET / only (scripts/build.mjs LAZY_LOCAL makes this ./page.js). */
const page = (): typeof import('./page/page') => require('./page/page') as typeof import('./page/page');

export interface ApiDependencies {
  services: HttpServices;
  remainingTimeMs: () => number;
  /** GET /doctor: the doctor's report for this function (shared/triggers/events/doctor.ts answerDoctor). */
  doctor?: (request: { image?: string }) => Promise<unknown>;
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
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Each route by its name, `<METHOD> <path>`: the method a request must use is the name's first word. */
const ROUTES = [
  { name: 'GET /', pattern: /^\/(?:index\.html)?$/ },
  { name: 'GET /healthz', pattern: /^\/healthz$/ },
  { name: 'GET /apps', pattern: /^\/apps$/ },
  { name: 'GET /usage', pattern: /^\/usage$/ },
  { name: 'POST /uploads', pattern: /^\/uploads\/?$/ },
  { name: 'POST /jobs', pattern: /^\/jobs\/?$/ },
  { name: 'GET /jobs/by-object', pattern: /^\/jobs\/by-object$/ },
  { name: 'GET /jobs/{jobId}', pattern: /^\/jobs\/([^/]+)$/ },
  { name: 'GET /doctor', pattern: /^\/doctor$/ },
] as const;
const methodOf = (route: (typeof ROUTES)[number]) => route.name.split(' ')[0];

export async function handleApiRequest(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const matched = ROUTES.find((route) => route.pattern.test(request.path));
  if (!matched) return result('unmatched', httpError(404, 'NOT_FOUND', `No route for ${request.path}`));
  if (methodOf(matched) !== request.method) {
    const allow = ROUTES.filter((route) => route.pattern.test(request.path))
      .map(methodOf)
      .join(', ');
    return result(matched.name, httpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}`, undefined, { Allow: allow }));
  }
  if (matched.name === 'GET /healthz') return { route: matched.name, response: json(200, { status: 'ok' }) };
  // The page holds no secret and no data: it asks for the token, and every call it makes is authenticated.
  if (matched.name === 'GET /') return { route: matched.name, response: page().pageResponse(deps.services.config) };

  const auth = authorize(request, deps.services.config.http, deps.services.logger);
  if ('error' in auth) return result(matched.name, auth.error, auth.cause);
  const { caller } = auth;

  try {
    switch (matched.name) {
      case 'POST /jobs':
        return await postJob(request, deps, caller);
      case 'GET /usage':
        return answered(matched.name, await getUsage(caller, deps.services, deps.now));
      case 'GET /jobs/by-object':
        return await getJobByObject(request, deps);
      case 'GET /apps':
        return answered(matched.name, listUploadableApps(deps.services));
      case 'POST /uploads': {
        const body = readJsonBody(request, deps.services.config.http.maxBodyBytes);
        if ('error' in body) return result(matched.name, body.error);
        const overQuota = await uploadQuotaRefusal(caller, deps.services, deps.now);
        return overQuota ? result(matched.name, overQuota) : answered(matched.name, createUploadForm(body.value, deps.services, caller));
      }
      case 'GET /jobs/{jobId}':
        // requestContext.http.path is already decoded by FC.
        return await getJob(matched.pattern.exec(request.path)![1]!, request, deps);
      case 'GET /doctor':
        return await getDoctor(request, deps);
    }
  } catch (error) {
    return result(matched.name, toHttpError(error), error);
  }
}

function result(route: string, error: HttpError, cause?: unknown): ApiResult {
  return { route, response: json(error.statusCode, error.body, error.headers), error: cause };
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

function answered(route: string, answer: RouteAnswer, jobId?: string): ApiResult {
  return answer.ok ? { route, jobId, response: json(answer.status, answer.body, { 'Cache-Control': 'no-store' }) } : result(route, answer.error);
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
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
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
  return { route, jobId: job.jobId, replayed, response: json(202, job, replayed ? { 'Idempotent-Replayed': 'true' } : {}) };
}

/** The doctor's report (the same as for {"yike":"doctor"}); `?image=oss://bucket/key` picks the image it checks. */
async function getDoctor(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const route = 'GET /doctor';
  const { image } = request.query;
  if (image !== undefined && !/^oss:\/\/[^/]+\/.+$/.test(image)) {
    return result(route, httpError(400, 'INVALID_REQUEST', 'image: must be oss://bucket/key', [{ path: 'image', message: 'must be oss://bucket/key' }]));
  }
  if (!deps.doctor) return result(route, httpError(404, 'NOT_FOUND', `No route for ${request.path}`));
  return { route, response: json(200, await deps.doctor({ image }), { 'Cache-Control': 'no-store' }) };
}

/** The job's lifecycle from its job record (see jobs-routes.ts for refresh and wait). */
async function getJob(jobId: string, request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  return answered('GET /jobs/{jobId}', await getJobLifecycle(jobId, request, deps), jobId);
}

/** The submit record the OSS upload function wrote for an object (latest eTag wins), with its job's lifecycle. */
async function getJobByObject(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const route = 'GET /jobs/by-object';
  const { bucket, key } = request.query;
  if (!bucket || !key) {
    const details = [!bucket && { path: 'bucket', message: 'required' }, !key && { path: 'key', message: 'required' }].filter(Boolean);
    return result(route, httpError(400, 'INVALID_REQUEST', 'Query parameters bucket and key are required', details));
  }
  const submission = await findObjectSubmission({ bucket, key }, deps.services);
  if (!submission) return result(route, httpError(404, 'JOB_NOT_FOUND', `No job record for oss://${bucket}/${key}`));
  return { route, jobId: submission.jobId, response: json(200, submission, { 'Cache-Control': 'no-store' }) };
}
