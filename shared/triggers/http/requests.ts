import * as z from '../../runtime/zod';
import { invalidQuery, type HttpError } from './errors';

/**
 * The parts of a request the routes read besides a JSON body (those have their schemas beside their use cases:
 * jobRequestBodySchema, uploadRequestSchema): path parameters, query strings and headers. The routes parse them with
 * these schemas and the OpenAPI document (openapi/operations.ts) is made from the same ones.
 */
export const MAX_WAIT_SECONDS = 25;

export const jobIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));

/** `GET /jobs/{jobId}`: `?refresh=1` asks ICE first, `?wait=N` long-polls (0-25 s). */
export const jobQuerySchema = z.object({
  refresh: z.optional(z.enum(['1', 'true', '0', 'false'], { error: 'must be 1, true, 0 or false' })),
  // One or two digits, at most 25.
  wait: z.optional(z.string().check(z.regex(/^(?:[01]?\d|2[0-5])$/, `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`))),
});

const required = z.string({ error: 'required' }).check(z.minLength(1, 'required'));

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
