import * as z from '../../runtime/zod';
import { MAX_PAGE_SIZE } from '../../domain/lifecycle/job-list';
import { JOB_STATUSES } from '../../domain/lifecycle/job-record';
import { httpError, invalidQuery, type HttpError } from './errors';

/**
 * The parts of a request the routes read besides a JSON body (those have their schemas beside their use cases:
 * jobRequestBodySchema, uploadRequestSchema): path parameters, query strings and headers. The routes parse them with
 * these schemas and the OpenAPI document (openapi/operations.ts) is made from the same ones.
 */
export const MAX_WAIT_SECONDS = 25;

const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const jobIdSchema = z.string().check(z.regex(JOB_ID));

/** 400 INVALID_JOB_ID: a path's jobId that jobIdSchema refuses. */
export const invalidJobId = (): HttpError => httpError(400, 'INVALID_JOB_ID', 'jobId must be 1-128 letters, digits, "-" or "_"');

/** `GET /jobs/{jobId}`: `?refresh=1` asks ICE first, `?wait=N` long-polls (0-25 s). */
export const jobQuerySchema = z.object({
  refresh: z.optional(z.enum(['1', 'true', '0', 'false'], { error: 'must be 1, true, 0 or false' })),
  // One or two digits, at most 25.
  wait: z.optional(z.string().check(z.regex(/^(?:[01]?\d|2[0-5])$/, `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`))),
});

const required = z.string({ error: 'required' }).check(z.minLength(1, 'required'));

/** A whole number in a query string, from min to max (the parsed value is the number). */
const wholeNumber = (name: string, min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`)),
    z.pipe(z.transform(Number), z.number().check(z.gte(min, `must be a whole number from ${min} to ${max}`), z.lte(max, `${name} is at most ${max}`))),
  );

/** `GET /jobs?limit=&after=&status=&app=`: a page of jobs, newest first (shared/domain/lifecycle/job-list.ts). */
export const listQuerySchema = z.object({
  limit: z.optional(wholeNumber('limit', 1, MAX_PAGE_SIZE)),
  after: z.optional(z.string().check(z.regex(JOB_ID, 'must be a jobId (the lastId of the page before)'))),
  status: z.optional(z.enum(JOB_STATUSES)),
  app: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

/** The largest output index a job could have (ICE lists a handful of outputs per job). */
const MAX_OUTPUT_INDEX = 999;

/** `GET /jobs/{jobId}/content[?index=N]`. */
export const contentQuerySchema = z.object({ index: z.optional(wholeNumber('index', 0, MAX_OUTPUT_INDEX)) });

/** `GET /jobs/by-object?bucket=&key=`. */
export const objectQuerySchema = z.object({ bucket: required, key: required });

/** `GET /doctor[?image=oss://bucket/key]`. */
export const doctorQuerySchema = z.object({
  image: z.optional(z.string().check(z.regex(/^oss:\/\/[^/]+\/.+$/, 'must be oss://bucket/key'))),
});

/** `Idempotency-Key` on `POST /jobs`: 1-255 printable ASCII characters. */
export const idempotencyKeySchema = z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/));

/** The query as its schema reads it, or the 400 INVALID_REQUEST whose `details` name each parameter it refused. */
export function parseQuery<S extends z.ZodMiniType>(schema: S, query: Record<string, string>): { value: z.output<S> } | { error: HttpError } {
  const parsed = schema.safeParse(query);
  return parsed.success ? { value: parsed.data } : { error: invalidQuery(parsed.error.issues) };
}
