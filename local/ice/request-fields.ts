/**
 * Reading a request to the local ICE endpoint: its fields (query and form body merged, as RPC endpoints accept
 * both [FACTS]), the checks on the fields several actions share (AppParams, optional ids), the redacted copy that
 * calls() and the log keep, and the path and query exactly as the ACS3 signature covers them.
 *
 * Sources:
 * - [FACTS]   docs/platform-facts.md, "Where each field travels" (query or form body, per the ice-20201109 SDK) and
 *             "How @alicloud/openapi-client 0.4.15 sends and reads" (the form body's content type).
 * - [IMSERR]  ICE/IMS error code table, https://help.aliyun.com/document_detail/197855.html: InvalidParameter (400).
 * Anything marked "local assumption" is not documented anywhere we found.
 */
import type { IncomingMessage } from 'node:http';
import { invalidParameter, missingParameter } from './answers';

/** Local assumption: ICE documents no limit for ProductionId / FolderId; real ids are far shorter. */
export const MAX_ID_FIELD_LENGTH = 128;
export const RPC_PATH = '/';
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
/** Field names whose values never go into calls() or the log. */
const SECRET_FIELD_NAME = /secret|token|signature|password|authorization/i;
const REDACTED = '[redacted]';

/** A request field and where it was read from. */
interface Field {
  value: string;
  from: 'body' | 'query';
}
export type Fields = Map<string, Field>;
/** What the checks below read: Fields, or anything else that looks a field up by name (yike-assets.ts). */
export interface FieldLookup {
  get(name: string): { value: string } | undefined;
}

/**
 * Query and form-body fields merged [FACTS: RPC endpoints accept both]. A name given more than once with different
 * values (in one place or across both) is refused: local choice, since which one ICE would use is unverified and
 * either way the client is confused. An empty value counts as absent, as Alibaba gateways treat it.
 */
export function readFields(query: URLSearchParams, body: Buffer, contentType: string | undefined): Fields {
  const fields: Fields = new Map();
  const add = (params: URLSearchParams, from: Field['from']): void => {
    for (const [name, value] of params) {
      if (value === '') continue;
      const existing = fields.get(name);
      if (existing && existing.value !== value) throw invalidParameter(name, 'It was given more than once with different values.');
      if (!existing) fields.set(name, { value, from });
    }
  };
  add(formBody(body, contentType), 'body');
  add(query, 'query');
  return fields;
}

/** Only a form-urlencoded body carries fields; any other body is ignored, as an RPC gateway ignores it. */
function formBody(body: Buffer, contentType: string | undefined): URLSearchParams {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return mediaType === FORM_MEDIA_TYPE ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
}

/**
 * The fields for calls(): first value of each name, secrets redacted, and where each was read from (the form body is
 * read first, as readFields does), so a test can pin which fields a client sends in the query.
 */
export function receivedFields(
  query: URLSearchParams,
  body: Buffer,
  contentType: string | undefined,
): { fields: Record<string, string>; placement: Record<string, Field['from']> } {
  const fields: Record<string, string> = {};
  const placement: Record<string, Field['from']> = {};
  for (const [params, from] of [
    [formBody(body, contentType), 'body'],
    [query, 'query'],
  ] as const) {
    for (const [name, value] of params) {
      if (name in fields) continue;
      fields[name] = SECRET_FIELD_NAME.test(name) ? REDACTED : value;
      placement[name] = from;
    }
  }
  return { fields, placement };
}

/** AppParams as received, parsed, and the image it holds under the app's key. */
export interface AppParams {
  raw: string;
  parsed: Record<string, unknown>;
  image: string;
}

/**
 * AppParams as an app needs it, the one check SubmitYikeAIAppJob and PrecheckYikeAIAppJob share: MissingParameter
 * when it is absent or empty, InvalidParameter when it is not a JSON object serialised as a string, is too long, or
 * does not hold the image under the app's key. The SDK marks AppParams optional, but no AOSmith job can run without
 * its image, and the precheck refuses the same request: a submit that dropped the image must not pass locally.
 */
export function requiredAppParams(fields: FieldLookup, imageKey: string, maxLength: number): AppParams {
  const raw = fields.get('AppParams')?.value;
  if (!raw) throw missingParameter('AppParams');
  const length = [...raw].length;
  if (length > maxLength) throw invalidParameter('AppParams', `It is ${length} characters long; at most ${maxLength} are accepted.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter('AppParams', 'It must be a JSON object serialised as a string.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidParameter('AppParams', 'It must be a JSON object serialised as a string.');
  }
  const image = (parsed as Record<string, unknown>)[imageKey];
  if (typeof image !== 'string' || image.trim() === '') {
    throw invalidParameter('AppParams', `"${imageKey}" must hold the image (a media id or an OSS URL) as a non-empty string.`);
  }
  return { raw, parsed: parsed as Record<string, unknown>, image };
}

export function optionalId(fields: Fields, name: string): string | undefined {
  const value = fields.get(name)?.value;
  if (value !== undefined && value.length > MAX_ID_FIELD_LENGTH) {
    throw invalidParameter(name, `It is ${value.length} characters long; at most ${MAX_ID_FIELD_LENGTH} are accepted.`);
  }
  return value;
}

export function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
