import * as z from '../../../runtime/zod';
import { ticketUploadRequestSchema, uploadRequestSchema } from '../../../domain/uploads/upload-plan';
import { consentRequestSchema, ticketRequestSchema } from '../../../domain/tickets/ticket';
import { postJobFields } from '../../events/schemas';
import {
  contentQuerySchema,
  doctorQuerySchema,
  idempotencyKeySchema,
  jobIdSchema,
  jobQuerySchema,
  listQuerySchema,
  MAX_WAIT_SECONDS,
  objectQuerySchema,
} from '../requests';
import * as bodies from '../responses';
import type { RouteName } from '../routes';
import { documented, representedAs } from '../../../runtime/schema-docs';
import { named, noStore, retryAfter, type Answer, type Operation } from './operation-parts';
import { TICKET_OPERATIONS } from './ticket-operations';
import { metadataSchema } from '../../../domain/jobs/metadata';

/**
 * THE place a route is described for the OpenAPI document (document.ts builds it from this): one operation per route
 * of routes.ts, keyed by the route's name so a route without one does not compile. Each part is a zod schema the
 * route itself uses (requests.ts, responses.ts, the body schemas beside their use cases); `named` ones become
 * components. Error answers list their codes: the document's error schema allows exactly those, and the tests check
 * every answer of the suite against it (test/helpers/openapi-check.ts).
 *
 * To add a route: add it to routes.ts, then its entry here (its `query`/`path`/`headers` schemas from requests.ts,
 * its `body`, and each status it answers with its response schema or error codes).
 */
export type { Answer, Named, Operation } from './operation-parts';

documented(jobIdSchema, 'The job id ICE gave the submit');
documented(jobQuerySchema.shape.refresh, 'Ask ICE (GetYikeAIAppJob) first and save what changed; answers a job no record holds from ICE alone');
documented(jobQuerySchema.shape.wait, `Long-poll: keep asking ICE until the job ends or this many seconds (0-${MAX_WAIT_SECONDS}) run out`);
documented(listQuerySchema.shape.limit, 'How many jobs the page holds at most: 1-100, default 20');
documented(listQuerySchema.shape.after, 'The lastId of the page before: this page starts after that job');
documented(listQuerySchema.shape.status, 'Only jobs with this status');
documented(listQuerySchema.shape.app, 'Only jobs of this app: female, male or an AppId');
documented(contentQuerySchema.shape.index, "Which output's own copy (default: the one playUrl plays, the first video)");
documented(objectQuerySchema.shape.bucket, 'The bucket of the uploaded object');
documented(objectQuerySchema.shape.key, 'The key of the uploaded object');
documented(doctorQuerySchema.shape.image, 'The image the doctor checks (default: one it finds)');
representedAs(metadataSchema, {
  type: 'object',
  maxProperties: 16,
  propertyNames: { type: 'string', minLength: 1, maxLength: 64, not: { const: '__proto__' } },
  additionalProperties: { type: 'string', maxLength: 512 },
});
documented(
  metadataSchema,
  "Your own keys and values for the job: they come back wherever the job is (GET /jobs/{jobId}, the webhooks, the result object, the next function's event)",
);
documented(postJobFields.app, 'Required: female, male or an AppId (without it: 400 APP_REQUIRED; there is no default app)');
documented(
  postJobFields.webhookUrl,
  "An https URL this job's notifications are also posted to (signed like JOB_WEBHOOK_URL's); its host must be in WEBHOOK_ALLOWED_HOSTS",
);
documented(ticketRequestSchema.shape.app, 'The app every upload of the ticket is for: female, male or an AppId');
documented(ticketRequestSchema.shape.uploads, 'How many uploads (forms) the ticket allows: 1-5, default 1');
documented(ticketRequestSchema.shape.expiresInSeconds, 'How long the ticket works: 1-86400 seconds, default 3600');
documented(consentRequestSchema, 'Required with a ticket when CONSENT_VERSION is set: the version of the consent text the person accepted');
documented(idempotencyKeySchema, 'The same key with the same body within 24 hours answers the first 202 again and submits nothing new');

/** The caller's refusals of POST /jobs: also replayed as 422 with their own code for a key that was refused before. */
const JOB_REFUSALS = {
  400: [
    'INVALID_JSON',
    'INVALID_REQUEST',
    'INVALID_IDEMPOTENCY_KEY',
    'APP_REQUIRED',
    'UNKNOWN_APP',
    'IMAGE_NOT_ALLOWED',
    'IMAGE_KEY_INVALID',
    'WEBHOOK_URL_NOT_ALLOWED',
  ],
  403: ['IMAGE_ACCESS_DENIED'],
  404: ['IMAGE_NOT_FOUND'],
  413: ['PAYLOAD_TOO_LARGE', 'IMAGE_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'NOT_AN_IMAGE'],
} as const;
const ICE_ANSWERS = {
  429: { description: 'ICE still throttles after our retries', errors: [], iceCodes: true, headers: retryAfter('Seconds to wait') },
  502: {
    description: "ICE rejected the function's credentials, or did not answer clearly",
    errors: ['UPSTREAM_AUTH_FAILED', 'ICE_TIMEOUT', 'ICE_CONNECTION_RESET', 'ICE_BAD_RESPONSE'],
    iceCodes: true,
  },
} as const;
const UNAVAILABLE = 'ICE, OSS or the record store is unavailable; nothing was submitted';

export const OPERATIONS: Record<RouteName, Operation> = {
  'GET /': {
    operationId: 'getPage',
    summary: 'The page to try the apps in a browser',
    description: 'It holds no secret and no data: it asks for the token, and every call it makes is authenticated.',
    tag: 'service',
    responses: { 200: { description: 'The page (also at /index.html)', contentType: 'text/html', body: named('Page', documented(z.string(), 'HTML')) } },
  },
  'GET /healthz': {
    operationId: 'getHealth',
    summary: 'Liveness: no ICE call, no token',
    tag: 'service',
    responses: { 200: { description: 'Up', body: named('Health', bodies.healthSchema) } },
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    tag: 'service',
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document of this API',
        body: named('OpenApiDocument', documented(z.record(z.string(), z.unknown()), 'OpenAPI 3.1')),
      },
    },
  },
  'GET /apps': {
    operationId: 'listApps',
    summary: 'The apps a browser can upload for',
    tag: 'uploads',
    responses: { 200: { description: 'The apps, the size limit and the suffixes an upload may have', body: named('Apps', bodies.appsSchema) } },
  },
  'GET /usage': {
    operationId: 'getUsage',
    summary: "Today's count against JOB_BUDGET_PER_DAY and the caller's token quota",
    tag: 'service',
    responses: {
      200: { description: 'The usage (nulls without a budget); no ICE call', body: named('Usage', bodies.usageSchema), headers: noStore },
      503: { description: 'The record store is unavailable', errors: ['SERVICE_UNAVAILABLE'], headers: retryAfter('Seconds to wait') },
    },
  },
  'POST /uploads': {
    operationId: 'createUpload',
    summary: 'A signed OSS PostObject form for one fresh key in the upload bucket',
    tag: 'uploads',
    description:
      "The job is submitted by the OSS trigger once the upload lands; this call reaches neither ICE nor OSS. With an upload ticket: the body without `app` (the ticket names it) and with `consent` when CONSENT_VERSION is set (TicketUploadRequest); each call takes one of the ticket's uploads.",
    body: {
      ...named('UploadRequest', z.union([uploadRequestSchema, ticketUploadRequestSchema])),
      description: 'The file the browser will send: UploadRequest with an operator token, TicketUploadRequest with a ticket',
    },
    responses: {
      201: { description: 'The form: post `fields`, then the file, to `url`', body: named('UploadForm', bodies.uploadFormSchema), headers: noStore },
      400: {
        description:
          'Invalid JSON or body, an unknown app, one whose uploads APP_ROUTES sends elsewhere, metadata over what OSS keeps with an object, or (a ticket) no consent to CONSENT_VERSION',
        errors: ['INVALID_JSON', 'INVALID_REQUEST', 'UNKNOWN_APP', 'APP_NOT_UPLOADABLE', 'METADATA_TOO_LARGE', 'CONSENT_REQUIRED'],
      },
      403: { description: "The ticket's uploads are all used", errors: ['TICKET_USED_UP'] },
      413: { description: 'A body over 16 KiB, or a file over the size limit', errors: ['PAYLOAD_TOO_LARGE', 'IMAGE_TOO_LARGE'] },
      415: { description: 'The body is not JSON, or the file is not an image', errors: ['UNSUPPORTED_MEDIA_TYPE', 'NOT_AN_IMAGE'] },
      429: { description: "The caller's token has used its quota", errors: ['QUOTA_EXHAUSTED'], headers: retryAfter('Seconds until the quota renews') },
      503: {
        description: 'No upload bucket, credentials about to expire, or the record store is unavailable',
        errors: ['UPLOADS_NOT_CONFIGURED', 'CREDENTIALS_EXPIRING', 'SERVICE_UNAVAILABLE'],
      },
    },
  },
  'POST /jobs': {
    operationId: 'createJob',
    summary: 'Submit a Yike AI app job (SubmitYikeAIAppJob): it costs money',
    description: 'The image is checked (allowlist, HeadObject, the precheck) before the paid submit; refusals reach no submit.',
    tag: 'jobs',
    headers: z.object({ 'Idempotency-Key': z.optional(idempotencyKeySchema) }),
    body: {
      ...named('JobRequest', z.strictObject(postJobFields)),
      description: 'Exactly one of `image` ({bucket, key} in ALLOWED_BUCKETS) or `imageUrl` (https, on ALLOWED_IMAGE_HOSTS); at most 16 KiB',
    },
    responses: {
      202: {
        description: 'Submitted (or, for a replayed Idempotency-Key, the first answer again)',
        body: named('SubmittedJob', bodies.submittedJobSchema),
        headers: { 'Idempotent-Replayed': { description: 'true when this is the first answer to this Idempotency-Key again', schema: z.literal('true') } },
      },
      400: { description: 'Invalid JSON, body, app, image, webhookUrl or Idempotency-Key', errors: JOB_REFUSALS[400] },
      403: { description: "The function's role may not read the image", errors: JOB_REFUSALS[403] },
      404: { description: 'The image names no object', errors: JOB_REFUSALS[404] },
      409: {
        description: 'The Idempotency-Key is still in progress, or an earlier attempt got no clear answer',
        errors: ['IDEMPOTENCY_IN_PROGRESS', 'OUTCOME_UNKNOWN'],
      },
      413: { description: 'The body is over 16 KiB, or the image over 20 MiB', errors: JOB_REFUSALS[413] },
      415: { description: 'The body is not JSON, or the image is not one', errors: JOB_REFUSALS[415] },
      422: {
        description:
          "ICE's precheck or the Yike asset's audit refused the image, ICE refused the parameters (its code), the Idempotency-Key was used with another body, or a refusal replayed for that key (its code)",
        errors: ['PRECHECK_FAILED', 'IMAGE_BLOCKED', 'IDEMPOTENCY_KEY_REUSED', ...Object.values(JOB_REFUSALS).flat()],
        iceCodes: true,
      },
      429: {
        description: "The day's budget or the token's quota is spent (nothing stored or submitted), or ICE still throttles",
        errors: ['BUDGET_EXHAUSTED', 'QUOTA_EXHAUSTED'],
        iceCodes: true,
        headers: retryAfter('Seconds until the budget renews (or to wait for ICE)'),
      },
      502: ICE_ANSWERS[502],
      503: { description: UNAVAILABLE, errors: ['ICE_UNAVAILABLE', 'OSS_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'CREDENTIALS_EXPIRING'] },
    },
  },
  'GET /jobs/by-object': {
    operationId: 'getJobByObject',
    summary: 'The submit record the upload function wrote for an object (latest eTag), with its job',
    tag: 'jobs',
    query: objectQuerySchema,
    responses: {
      200: { description: 'The submit record and its job', body: named('ObjectSubmission', bodies.objectSubmissionSchema), headers: noStore },
      400: { description: 'A missing parameter, or an object no caller may name', errors: ['INVALID_REQUEST', 'IMAGE_NOT_ALLOWED', 'IMAGE_KEY_INVALID'] },
      404: { description: 'No submit record for the object', errors: ['JOB_NOT_FOUND'] },
      503: { description: 'The record store is unavailable', errors: ['SERVICE_UNAVAILABLE'] },
    },
  },
  'GET /jobs/{jobId}': {
    operationId: 'getJob',
    summary: "The job's lifecycle from its job record (no ICE call unless refresh or wait)",
    tag: 'jobs',
    path: z.object({ jobId: jobIdSchema }),
    query: jobQuerySchema,
    responses: {
      200: { description: 'The job; check `terminal`', body: named('Job', bodies.jobSchema), headers: noStore },
      400: { description: 'A malformed job id, or a bad refresh or wait', errors: ['INVALID_JOB_ID', 'INVALID_REQUEST'] },
      404: { description: 'No job record holds it (and, with refresh, ICE does not know it)', errors: ['JOB_NOT_FOUND'] },
      422: { description: 'ICE refused the parameters (its code)', errors: [], iceCodes: true },
      ...ICE_ANSWERS,
      503: { description: 'ICE or the record store is unavailable', errors: ['ICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE'] },
    },
  },
  'GET /jobs': {
    operationId: 'listJobs',
    summary: 'The jobs, newest first, a page at a time (no ICE call)',
    description: 'A page costs one OSS listing of the job index and one read per job, however many jobs were ever made.',
    tag: 'jobs',
    query: listQuerySchema,
    responses: {
      200: { description: 'A page of jobs; `after=lastId` gives the next one while `hasMore`', body: named('JobList', bodies.jobListSchema), headers: noStore },
      400: {
        description: 'A bad limit, after or status, an unknown app, or an `after` naming no job (erased since that page: list again from the start)',
        errors: ['INVALID_REQUEST', 'INVALID_CURSOR', 'UNKNOWN_APP'],
      },
      503: { description: 'The record store is unavailable', errors: ['SERVICE_UNAVAILABLE'] },
    },
  },
  'DELETE /jobs/{jobId}': {
    operationId: 'deleteJob',
    summary: 'Erase the job: its upload, own copies, result object and records; a tombstone stays',
    description: 'A job still running in ICE is erased too: its output is never copied and nobody is notified. ICE keeps its own copy of the job.',
    tag: 'jobs',
    path: z.object({ jobId: jobIdSchema }),
    responses: {
      204: { description: 'Erased', headers: noStore },
      400: { description: 'A malformed job id', errors: ['INVALID_JOB_ID'] },
      404: { description: 'No job record holds it, or it was erased before', errors: ['JOB_NOT_FOUND'] },
      503: { description: 'OSS failed part-way (or the record store is unavailable): call again to finish the erasure', errors: ['SERVICE_UNAVAILABLE'] },
    },
  },
  'GET /jobs/{jobId}/content': {
    operationId: 'getJobContent',
    summary: "A redirect to the job's own copy of an output, signed like playUrl",
    tag: 'jobs',
    path: z.object({ jobId: jobIdSchema }),
    query: contentQuerySchema,
    responses: {
      302: {
        description: 'The own copy',
        headers: {
          Location: { description: 'The own copy, signed for at most SIGNED_URL_EXPIRES_SECONDS', schema: z.string(), required: true },
          ...noStore,
        },
      },
      400: { description: 'A malformed job id, or a bad index', errors: ['INVALID_JOB_ID', 'INVALID_REQUEST'] },
      404: {
        description: 'No job record holds it (or it was erased), or it has no own copy of that output and will have none',
        errors: ['JOB_NOT_FOUND', 'CONTENT_NOT_FOUND'],
      },
      409: { description: 'The job is still running, or its copy is being made', errors: ['CONTENT_PENDING'], headers: retryAfter('Seconds to wait') },
      503: { description: 'The record store is unavailable', errors: ['SERVICE_UNAVAILABLE'] },
    },
  },
  'GET /doctor': {
    operationId: 'getDoctorReport',
    summary: "This function's doctor report: its checks with its own role, free calls only, never a submit",
    tag: 'service',
    query: doctorQuerySchema,
    responses: {
      200: { description: 'The report', body: named('DoctorReport', bodies.doctorReportSchema), headers: noStore },
      400: { description: 'An image that is not oss://bucket/key', errors: ['INVALID_REQUEST'] },
    },
  },
  ...TICKET_OPERATIONS,
};

/** Answers any route may give, and those of paths and methods no route takes. */
export const COMMON_ANSWERS = {
  unauthorized: {
    description: 'The bearer token is missing or not one of AUTH_TOKENS, or an upload ticket that has expired or is not valid',
    errors: ['UNAUTHORIZED', 'TICKET_EXPIRED', 'TICKET_INVALID'],
    headers: { 'WWW-Authenticate': { description: 'Bearer', schema: z.literal('Bearer'), required: true } },
  },
  ticketScope: { description: 'An upload ticket may not call this route', errors: ['TICKET_SCOPE'] },
  authNotConfigured: { description: 'HTTP_AUTH=token without AUTH_TOKENS: every route but the open ones is refused', errors: ['AUTH_NOT_CONFIGURED'] },
  internal: { description: 'The function is misconfigured, or failed (the log says why; the body never does)', errors: ['INTERNAL'] },
  notFound: { description: 'No route takes this path', errors: ['NOT_FOUND'] },
  methodNotAllowed: {
    description: 'The path takes other methods',
    errors: ['METHOD_NOT_ALLOWED'],
    headers: { Allow: { description: 'The methods the path takes', schema: z.string(), required: true } },
  },
} satisfies Record<string, Answer>;
