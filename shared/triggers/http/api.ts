import { describeError, IceError, InputError } from '../../runtime/errors';
import type { ApiRequest, ApiResponse } from '../events/fc-http';
import { jobRequestBodySchema } from '../events/schemas';
import { runIdempotent, type IdempotencyRecord } from '../../domain/idempotency/idempotent';
import { allowedImage, assertImageAllowed } from '../../domain/images/image-policy';
import type { ImageSource } from '../../domain/images/image-reference';
import { inspectImageObject } from '../../domain/images/image-object';
import { jobTracking } from '../../domain/lifecycle/record-submission';
import { isIceInputRefusal, resolveApp, submitJobThenRecord, type SubmittedJob } from '../../domain/jobs/submit-job';
import type { HttpServices } from '../../composition/http';
import { objectRecordPrefix, sha256 } from '../../domain/submissions/record-keys';
import { authorize } from './auth';
import { httpError, invalidBody, toHttpError, type HttpError, type RouteAnswer } from './errors';
import { getJobLifecycle, lifecycleOfJob } from './jobs-routes';
import { pageResponse } from './page/page';
import { createUploadForm, listUploadableApps } from './uploads-route';
import { getUsage, uploadQuotaRefusal } from './usage-route';

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

const ROUTES = [
  { name: 'GET /', pattern: /^\/(?:index\.html)?$/, methods: ['GET'] },
  { name: 'GET /healthz', pattern: /^\/healthz$/, methods: ['GET'] },
  { name: 'GET /apps', pattern: /^\/apps$/, methods: ['GET'] },
  { name: 'GET /usage', pattern: /^\/usage$/, methods: ['GET'] },
  { name: 'POST /uploads', pattern: /^\/uploads\/?$/, methods: ['POST'] },
  { name: 'POST /jobs', pattern: /^\/jobs\/?$/, methods: ['POST'] },
  { name: 'GET /jobs/by-object', pattern: /^\/jobs\/by-object$/, methods: ['GET'] },
  { name: 'GET /jobs/{jobId}', pattern: /^\/jobs\/([^/]+)$/, methods: ['GET'] },
  { name: 'GET /doctor', pattern: /^\/doctor$/, methods: ['GET'] },
] as const;

export async function handleApiRequest(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const matched = ROUTES.find((route) => route.pattern.test(request.path));
  if (!matched) return result('unmatched', httpError(404, 'NOT_FOUND', `No route for ${request.path}`));
  if (!(matched.methods as readonly string[]).includes(request.method)) {
    const allow = ROUTES.filter((route) => route.pattern.test(request.path))
      .flatMap((route) => route.methods)
      .join(', ');
    return result(matched.name, httpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}`, undefined, { Allow: allow }));
  }
  if (matched.name === 'GET /healthz') return { route: matched.name, response: json(200, { status: 'ok' }) };
  // The page holds no secret and no data: it asks for the token, and every call it makes is authenticated.
  if (matched.name === 'GET /') return { route: matched.name, response: pageResponse(deps.services.config) };

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
  try {
    return { value: parseJsonBody(request, maxBodyBytes) };
  } catch (error) {
    const code = (error as InputError).code;
    const status = code === 'PAYLOAD_TOO_LARGE' ? 413 : code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
    return { error: httpError(status, code, (error as InputError).message) };
  }
}

function parseJsonBody(request: ApiRequest, maxBodyBytes: number): unknown {
  if (request.body.length > maxBodyBytes) {
    throw new InputError('PAYLOAD_TOO_LARGE', `The body is ${request.body.length} bytes; the limit is ${maxBodyBytes}`);
  }
  if (!JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) {
    throw new InputError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  try {
    return JSON.parse(request.body.toString('utf8')) as unknown;
  } catch {
    throw new InputError('INVALID_JSON', 'The body is not valid JSON');
  }
}

async function postJob(request: ApiRequest, deps: ApiDependencies, caller: string | undefined): Promise<ApiResult> {
  const route = 'POST /jobs';
  const { config, logger } = deps.services;
  const raw = readJsonBody(request, config.http.maxBodyBytes);
  if ('error' in raw) return result(route, raw.error);
  const parsed = jobRequestBodySchema.safeParse(raw.value);
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
  const requested: ImageSource = body.image ? { kind: 'oss', ...body.image } : { kind: 'url', url: body.imageUrl! };
  // Checked before anything is stored or sent: an off-list image never reaches ICE, and only its normalized form does.
  const allowed = allowedImage(requested, deps.services.imagePolicy);
  resolveApp(body, deps.services);
  // Job records (and Idempotency-Key records) live in RECORDS_BUCKET, else the first allowed bucket.
  const recordsBucket = config.records.bucket ?? config.http.allowedBuckets[0];
  if (!recordsBucket) logger.warn('no RECORDS_BUCKET or ALLOWED_BUCKETS: the job gets no job record and is not watched');
  const tracking = recordsBucket
    ? jobTracking({
        recordStore: deps.services.recordStore(recordsBucket),
        bucket: recordsBucket,
        recordsPrefix: config.records.prefix,
        entryPoint: 'http',
        logger,
      })
    : undefined;
  const submit = async () => {
    // Before any ICE call, but after an Idempotency-Key replay (which must answer as the first time did).
    // Every {bucket, key}, given as such or as a URL on its bucket's OSS domain, gets the HEAD.
    const image = allowed.kind === 'oss' ? await inspectImageObject(allowed, config, deps.services.imageObjects) : allowed;
    const payer = { token: caller, source: route };
    return submitJobThenRecord({ app: body.app, image, productionId: body.productionId, folderId: body.folderId, payer }, deps.services, tracking);
  };

  const idempotencyKey = request.headers['idempotency-key'];
  if (idempotencyKey === undefined) {
    const { job, recordJob } = await submit();
    await recordJob();
    return { route, jobId: job.jobId, response: json(202, job) };
  }
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return result(route, httpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 printable ASCII characters'));
  }
  if (!recordsBucket) throw new Error('Idempotency-Key needs RECORDS_BUCKET or ALLOWED_BUCKETS');
  // Scoped per bearer token, so two clients cannot collide on (or probe) each other's keys.
  const scope = sha256(`${request.headers.authorization ?? ''}\u0000${idempotencyKey}`);
  let recordJob: (() => Promise<void>) | undefined;
  const outcome = await runIdempotent<SubmittedJob>({
    store: deps.services.recordStore(recordsBucket),
    recordKey: `${config.records.prefix}http/${scope}.json`,
    idempotencyKey: scope,
    payloadHash: sha256(request.body.toString('utf8')),
    inProgressTtlMs: Math.max(1_000, deps.remainingTimeMs()),
    completedTtlMs: config.http.idempotencyTtlSeconds * 1000,
    execute: async () => {
      const submitted = await submit();
      recordJob = submitted.recordJob;
      return submitted.job;
    },
    isOutcomeUnknown: (error) => error instanceof IceError && error.outcome === 'unknown',
    isRejected: isIceInputRefusal,
    onRecordWriteFailed: (error, stage) =>
      logger.error(
        stage === 'completed'
          ? 'job submitted but its idempotency record could not be written'
          : 'submit failed and its idempotency record could not be updated',
        {
          error: describeError(error),
        },
      ),
  });
  if (outcome.status === 'in-progress') {
    return result(route, httpError(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly'));
  }
  // The job record only after the Idempotency-Key record says COMPLETED (see submitJobThenRecord).
  if (outcome.status === 'executed') await recordJob?.();
  const replayed = outcome.status === 'duplicate';
  if (replayed) logger.info('idempotent replay', { jobId: outcome.result.jobId });
  return { route, jobId: outcome.result.jobId, replayed, response: json(202, outcome.result, replayed ? { 'Idempotent-Replayed': 'true' } : {}) };
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

/** The job record the OSS upload function wrote for an object (latest eTag wins). */
async function getJobByObject(request: ApiRequest, deps: ApiDependencies): Promise<ApiResult> {
  const route = 'GET /jobs/by-object';
  const { bucket, key } = request.query;
  if (!bucket || !key) {
    const details = [!bucket && { path: 'bucket', message: 'required' }, !key && { path: 'key', message: 'required' }].filter(Boolean);
    return result(route, httpError(400, 'INVALID_REQUEST', 'Query parameters bucket and key are required', details));
  }
  assertImageAllowed({ kind: 'oss', bucket, key }, deps.services.imagePolicy);
  const { config } = deps.services;
  const store = deps.services.recordStore(config.records.bucket ?? bucket);
  const prefix = objectRecordPrefix(config.records.prefix, bucket, key);
  const candidates = (await store.list(prefix)).filter((name) => name.endsWith('.json') && !name.slice(prefix.length).includes('/'));
  const records = (await Promise.all(candidates.map((name) => store.get<IdempotencyRecord<SubmittedJob>>(name)))).filter(
    (record): record is IdempotencyRecord<SubmittedJob> => record !== undefined,
  );
  const latest = records.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  if (!latest) return result(route, httpError(404, 'JOB_NOT_FOUND', `No job record for oss://${bucket}/${key}`));
  const job = await lifecycleOfJob(store, config.records.prefix, latest.result?.jobId);
  return {
    route,
    jobId: latest.result?.jobId,
    response: json(
      200,
      {
        bucket,
        key,
        eTag: latest.context?.eTag,
        status: latest.status,
        ...latest.result,
        startedAt: latest.startedAt,
        completedAt: latest.completedAt,
        error: latest.error,
        // The job's lifecycle (status, results, error) from its job record; null before it has one.
        job,
      },
      { 'Cache-Control': 'no-store' },
    ),
  };
}
