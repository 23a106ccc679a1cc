/**
 * The FC OSS trigger event the local OSS server sends for a created object, {"events":[...]}, field for field as the
 * documented sample (test/fixtures/events/oss-trigger-put.json), so functions are tested with what FC
 * delivers. Which notifications reach a function is trigger.ts's concern.
 *
 * Sources:
 * - [EVENT]    FC "Trigger event format" for OSS, https://www.alibabacloud.com/help/en/functioncompute/fc/formats-of-event-for-different-triggers-1.
 */
import { createHash } from 'node:crypto';
import type { StoredObject } from './object-store';

export type OssEventName = 'ObjectCreated:PutObject' | 'ObjectCreated:PostObject' | 'ObjectCreated:CopyObject';

const EVENT_SOURCE = 'acs:oss';
const EVENT_VERSION = '1.0';
const OSS_SCHEMA_VERSION = '1.0';

/** The FC OSS trigger event [EVENT]: the documented sample's fields, in its order. */
export function ossTriggerEvent(input: {
  eventName: OssEventName;
  bucket: string;
  stored: StoredObject;
  previousSize: number;
  requestId: string;
  sourceIp: string;
  region: string;
  accountId: string;
}): { events: unknown[] } {
  const { eventName, bucket, stored, previousSize, requestId, sourceIp, region, accountId } = input;
  return {
    events: [
      {
        eventName,
        eventSource: EVENT_SOURCE,
        eventTime: stored.lastModified,
        eventVersion: EVENT_VERSION,
        oss: {
          bucket: { arn: `acs:oss:${region}:${accountId}:${bucket}`, name: bucket, ownerIdentity: accountId },
          // deltaSize is the change in stored bytes: the whole size for a new key, the difference for an overwrite.
          object: { deltaSize: stored.size - previousSize, eTag: stored.etag, key: stored.key, size: stored.size },
          ossSchemaVersion: OSS_SCHEMA_VERSION,
          // The id of the notification rule; what OSS derives it from is unknown, so it is a stable hash per bucket.
          ruleId: createHash('sha1').update(`${accountId}:${bucket}`).digest('hex'),
        },
        region,
        requestParameters: { sourceIPAddress: sourceIp },
        responseElements: { requestId },
        // Every local credential belongs to the account (no RAM users or roles are modelled).
        userIdentity: { principalId: accountId },
      },
    ],
  };
}
