import type * as z from '../../runtime/zod';
import { InputError, type InputIssue } from '../../runtime/errors';
import type { WorkItem } from '../../domain/submissions/work-items';
import { jobRequestBodySchema, ossCloudEventSchema, ossRecordSchema, ossTriggerEventSchema, type OssRecord } from './schemas';

export type EventSourceKind = 'oss-trigger' | 'eventbridge' | 'pipeline' | 'batch';

/**
 * What parseInvocation throws for any event it cannot turn into work items: one stable code for
 * callers (MALFORMED_EVENT), with the specific `reason` (NOT_JSON, EMPTY_BATCH, UNKNOWN_EVENT_SHAPE,
 * INVALID_EVENT) kept for logs and tests. Batch elements that fail stay `invalid` items with the reason as code.
 */
class MalformedEventError extends InputError {
  readonly reason: string;
  constructor(reason: string, message: string, issues: InputIssue[] = []) {
    super('MALFORMED_EVENT', message, issues);
    this.name = 'MalformedEventError';
    this.reason = reason;
  }
}

function malformed(error: InputError): MalformedEventError {
  return new MalformedEventError(error.code, error.message, error.details);
}

/** FC delivers non-HTTP events as a Buffer of JSON; tests and other callers may pass a string or object. */
export function decodePayload(payload: unknown): unknown {
  if (Buffer.isBuffer(payload) || typeof payload === 'string') {
    const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new MalformedEventError('NOT_JSON', `The event is not valid JSON (${text.length} characters starting ${JSON.stringify(text.slice(0, 40))})`);
    }
  }
  return payload;
}

/**
 * Detects the source explicitly from its distinguishing fields and parses it with that source's schema.
 * An unknown shape is an error, never a guess. In a batch, each element stands alone: a bad element
 * becomes an `invalid` item (reported as failed) and the others are still processed.
 */
export function parseInvocation(payload: unknown): { source: EventSourceKind; items: WorkItem[] } {
  const event = decodePayload(payload);
  if (Array.isArray(event)) {
    if (event.length === 0) throw new MalformedEventError('EMPTY_BATCH', 'The batch is an empty array');
    return { source: 'batch', items: event.flatMap((element, index) => parseElement(element, `[${index}]`, true)) };
  }
  const kind = detect(event);
  if (!kind) throw malformed(unknownShape(event, ''));
  return { source: kind, items: parseElement(event, '', false) };
}

function detect(event: unknown): Exclude<EventSourceKind, 'batch'> | undefined {
  if (!event || typeof event !== 'object') return undefined;
  if ('events' in event) return 'oss-trigger';
  if ('specversion' in event) return 'eventbridge';
  if ('image' in event || 'imageUrl' in event) return 'pipeline';
  return undefined;
}

function parseElement(event: unknown, path: string, inBatch: boolean): WorkItem[] {
  const kind = detect(event);
  const label = path === '' ? 'event' : `event${path}`;
  switch (kind) {
    case 'oss-trigger': {
      const parsed = ossTriggerEventSchema.safeParse(event);
      if (!parsed.success) return fail(label, parsed.error, path, inBatch);
      return parsed.data.events.map((record, index) => parseOssRecord(record, `${path}${path ? '.' : ''}events[${index}]`));
    }
    case 'eventbridge': {
      const parsed = ossCloudEventSchema.safeParse(event);
      if (!parsed.success) return fail(label, parsed.error, path, inBatch);
      return [toObjectItem(parsed.data.data)];
    }
    case 'pipeline': {
      const parsed = jobRequestBodySchema.safeParse(event);
      if (!parsed.success) return fail(label, parsed.error, path, inBatch);
      const request = parsed.data;
      const source = request.image ? `oss://${request.image.bucket}/${request.image.key}` : request.imageUrl!;
      return [{ kind: 'request', source, request }];
    }
    default: {
      const error = unknownShape(event, path);
      if (!inBatch) throw malformed(error);
      return [{ kind: 'invalid', source: label, error }];
    }
  }
}

function parseOssRecord(record: unknown, path: string): WorkItem {
  const parsed = ossRecordSchema.safeParse(record);
  if (!parsed.success) {
    return { kind: 'invalid', source: `event.${path}`, error: toInputError(`event.${path}`, parsed.error, path) };
  }
  return toObjectItem(parsed.data);
}

/**
 * The key as delivered: FC's OSS trigger events carry plain keys ("Trigger event format", OSS triggers:
 * https://www.alibabacloud.com/help/en/functioncompute/fc/formats-of-event-for-different-triggers-1, whose sample reads
 * `"key": "image/a.jpg"`): taken as is, with no S3-style decoding ("+" for a space).
 */
function toObjectItem(record: OssRecord): WorkItem {
  const bucket = record.oss.bucket.name;
  const key = record.oss.object.key;
  return {
    kind: 'object',
    source: `oss://${bucket}/${key}`,
    object: {
      bucket,
      key,
      eTag: record.oss.object.eTag.replace(/"/g, ''),
      size: record.oss.object.size,
      eventName: record.eventName.replace(/^(oss:)?ObjectCreated:/, ''),
      region: record.region,
      eventTime: record.eventTime,
    },
  };
}

function joinPath(prefix: string, path: string): string {
  return prefix ? `${prefix}.${path}` : path;
}

function issuesOf(error: z.core.$ZodError, prefix: string): InputIssue[] {
  return error.issues.map((issue) => ({
    path:
      joinPath(
        prefix,
        issue.path
          .map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))
          .join('.')
          .replace(/\.\[/g, '['),
      ) || '(root)',
    message: issue.message,
  }));
}

function toInputError(label: string, error: z.core.$ZodError, prefix: string): InputError {
  const issues = issuesOf(error, prefix);
  return new InputError('INVALID_EVENT', `${label} is invalid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
}

function fail(label: string, error: z.core.$ZodError, path: string, inBatch: boolean): WorkItem[] {
  const inputError = toInputError(label, error, path);
  if (!inBatch) throw malformed(inputError);
  return [{ kind: 'invalid', source: label, error: inputError }];
}

function unknownShape(event: unknown, path: string): InputError {
  const keys = event && typeof event === 'object' && !Array.isArray(event) ? Object.keys(event).slice(0, 8).join(', ') : typeof event;
  return new InputError(
    'UNKNOWN_EVENT_SHAPE',
    `event${path} is not an OSS trigger event ({"events":[...]}), an EventBridge OSS CloudEvent ({"specversion":...}) ` +
      `or a pipeline event ({"image"|"imageUrl":...}); it has: ${keys || 'no fields'}`,
    [{ path: path || '(root)', message: 'unknown event shape' }],
  );
}
