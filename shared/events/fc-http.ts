import { z } from 'zod';
import { decodePayload } from './parse';

/** FC 3.0 HTTP trigger request struct (events/fc3-http-post-jobs.json); arrives as a Buffer of JSON. */
export const fcHttpEventSchema = z.looseObject({
  version: z.string().optional(),
  rawPath: z.string().min(1),
  body: z.string().optional().default(''),
  isBase64Encoded: z.boolean().optional().default(false),
  headers: z.record(z.string(), z.string()).optional().default({}),
  queryParameters: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional().default({}),
  requestContext: z.looseObject({
    requestId: z.string().optional(),
    http: z.looseObject({ method: z.string().min(1), path: z.string().min(1), sourceIp: z.string().optional() }),
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
