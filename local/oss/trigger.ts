import type { OssNotification } from './types';

/** An OSS trigger rule as s.yaml declares it (events with the `oss:` prefix, one key prefix and suffix). */
export interface OssTriggerRule {
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** The rule of the `oss-submit` trigger in s.yaml. */
export const UPLOAD_TRIGGER: OssTriggerRule = {
  events: ['oss:ObjectCreated:PutObject', 'oss:ObjectCreated:PostObject', 'oss:ObjectCreated:CompleteMultipartUpload', 'oss:ObjectCreated:CopyObject'],
  prefix: 'uploads/',
};

/** Whether OSS would invoke the function for this notification (filtering is OSS's job, not the function's). */
export function matchesOssTrigger(notification: Pick<OssNotification, 'eventName' | 'key'>, rule: OssTriggerRule): boolean {
  const eventName = `oss:${notification.eventName}`;
  const eventMatches = rule.events.some((pattern) => (pattern.endsWith(':*') ? eventName.startsWith(pattern.slice(0, -1)) : pattern === eventName));
  return eventMatches && notification.key.startsWith(rule.prefix ?? '') && notification.key.endsWith(rule.suffix ?? '');
}
