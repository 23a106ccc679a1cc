import { randomUUID } from 'node:crypto';
import type { Config } from '../../shared/runtime/config';
import { sha256 } from '../../shared/domain/submissions/record-keys';
import { skipReasonForObject, type SkipReason } from '../../shared/domain/submissions/submissions';
import type { ListedObject } from './types';

/** The events a backfill sends: what the OSS trigger would have sent for the object, or a pipeline event for one app. */

/** Backfilled objects are judged as if just uploaded with PutObject (one of UPLOAD_EVENT_NAMES). */
const BACKFILL_EVENT_NAME = 'PutObject';
const OSS_SCHEMA_VERSION = '1.0';
const EVENT_VERSION = '1.0';
/** Marks synthesized trigger events in the function's logs. */
const BACKFILL_RULE_ID = 'yike-backfill';
/** jobRequestBodySchema caps idempotencyKey at 256 characters; longer keys are replaced by their hash. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export function stripETagQuotes(etag: string): string {
  return etag.replace(/"/g, '');
}

/** The OSS trigger payload the function would have received for this upload: same field set as the FC sample. */
export function ossTriggerEventFor(bucket: string, object: ListedObject, config: Config): Buffer {
  const accountId = config.fc.accountId ?? '';
  const region = config.oss.region;
  const record = {
    eventName: `ObjectCreated:${BACKFILL_EVENT_NAME}`,
    eventSource: 'acs:oss',
    eventTime: new Date(object.lastModified).toISOString(),
    eventVersion: EVENT_VERSION,
    oss: {
      bucket: { arn: `acs:oss:${region}:${accountId}:${bucket}`, name: bucket, ownerIdentity: accountId },
      object: { deltaSize: object.size, eTag: stripETagQuotes(object.etag), key: object.name, size: object.size },
      ossSchemaVersion: OSS_SCHEMA_VERSION,
      ruleId: BACKFILL_RULE_ID,
    },
    region,
    requestParameters: { sourceIPAddress: '' },
    responseElements: { requestId: randomUUID() },
    userIdentity: { principalId: accountId },
  };
  return Buffer.from(JSON.stringify({ events: [record] }));
}

/** One key per object version and app: a re-run replays the first answer instead of submitting again. */
export function backfillIdempotencyKey(bucket: string, object: ListedObject, app: string): string {
  const key = `backfill:${bucket}/${object.name}@${stripETagQuotes(object.etag)}:${app}`;
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH ? key : `backfill:sha256:${sha256(key)}`;
}

export function pipelineEventFor(bucket: string, object: ListedObject, app: string): Buffer {
  return Buffer.from(JSON.stringify({ image: { bucket, key: object.name }, app, idempotencyKey: backfillIdempotencyKey(bucket, object, app) }));
}

/** Why the function would skip this object; such objects are never invoked. */
export function skipReasonForListed(bucket: string, object: ListedObject, config: Config): SkipReason | undefined {
  return skipReasonForObject(
    {
      bucket,
      key: object.name,
      eTag: stripETagQuotes(object.etag),
      size: object.size,
      eventName: BACKFILL_EVENT_NAME,
      region: config.oss.region,
      eventTime: object.lastModified,
    },
    config,
  );
}
