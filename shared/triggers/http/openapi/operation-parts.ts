import * as z from '../../../runtime/zod';

/** The shapes operations.ts (and ticket-operations.ts) describe routes in, and the answers' common parts. */
type Schema = z.core.$ZodType;
type ObjectSchema = z.ZodMiniObject;

/** A schema the document names (`#/components/schemas/<id>`). */
export interface Named {
  id: string;
  schema: Schema;
}

interface ResponseHeader {
  description: string;
  schema: Schema;
  /** Always sent with this answer. */
  required?: boolean;
}

export interface Answer {
  description: string;
  /** A JSON body (or `contentType`'s). */
  body?: Named;
  contentType?: string;
  /** An error answer: `{"error": {code, …}}` with one of these codes. */
  errors?: readonly string[];
  /** Codes ICE chose also pass through in this answer (its own, e.g. InvalidParameter, Throttling.User). */
  iceCodes?: boolean;
  headers?: Record<string, ResponseHeader>;
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tag: 'jobs' | 'uploads' | 'tickets' | 'service';
  path?: ObjectSchema;
  query?: ObjectSchema;
  /** Request headers the route reads (names as sent, e.g. Idempotency-Key). */
  headers?: ObjectSchema;
  body?: Named & { description: string };
  responses: Record<number, Answer>;
}

export const named = (id: string, schema: Schema): Named => ({ id, schema });
export const noStore = { 'Cache-Control': { description: 'no-store: the answer is this moment only', schema: z.literal('no-store'), required: true } };
export const retryAfter = (description: string) => ({ 'Retry-After': { description, schema: z.string().check(z.regex(/^\d+$/)), required: true } });
