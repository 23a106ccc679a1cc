import * as z from '../../runtime/zod';
import { decodePayload } from './parse';

/** FC 3.0 HTTP trigger request struct (events/fc3-http-post-jobs.json); arrives as a Buffer of JSON. */
const fcHttpEventSchema = z.looseObject({
  version: z.optional(z.string()),
  rawPath: z.string().check(z.minLength(1)),
  body: z._default(z.optional(z.string()), ''),
  isBase64Encoded: z._default(z.optional(z.boolean()), false),
  headers: z._default(z.optional(z.record(z.string(), z.string())), {}),
  queryParameters: z._default(z.optional(z.record(z.string(), z.union([z.string(), z.array(z.string())]))), {}),
  requestContext: z.looseObject({
    requestId: z.optional(z.string()),
    http: z.looseObject({ method: z.string().check(z.minLength(1)), path: z.string().check(z.minLength(1)), sourceIp: z.optional(z.string()) }),
  }),
});

/** The transport-neutral request the HTTP API works on. Header names are lower-case. */
export interface ApiRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Buffer;
  sourceIp?: string;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function toApiRequest(payload: unknown): ApiRequest {
  const event = fcHttpEventSchema.parse(decodePayload(payload));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) headers[name.toLowerCase()] = value;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryParameters)) query[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.requestContext.http.path,
    headers,
    query,
    body: Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    sourceIp: event.requestContext.http.sourceIp,
  };
}

/** The FC response struct. */
export function toFcHttpResponse(response: ApiResponse): { statusCode: number; headers: Record<string, string>; isBase64Encoded: false; body: string } {
  return { statusCode: response.statusCode, headers: response.headers, isBase64Encoded: false, body: response.body };
}
