import { createHash } from 'node:crypto';
import type { Config } from '../../runtime/config';
import type { ObjectCreated } from './work-items';

/**
 * The records bucket of what has no bucket of its own: RECORDS_BUCKET, else the first ALLOWED_BUCKETS bucket. `POST /jobs`
 * keeps its Idempotency-Key and job records there (and GET /jobs/{jobId} reads them), the budget its counters and line.
 */
export function sharedRecordsBucket(config: Pick<Config, 'records' | 'http'>): string | undefined {
  return config.records.bucket ?? config.http.allowedBuckets[0];
}

/** OSS keys are at most 1023 bytes; longer record keys fall back to a hash of the object key. */
const MAX_OSS_KEY_BYTES = 1023;

/** Where the job record of one upload (bucket + key + eTag) lives. */
export function objectRecordKey(prefix: string, object: Pick<ObjectCreated, 'bucket' | 'key' | 'eTag'>): string {
  const direct = `${prefix}objects/${object.bucket}/${object.key}@${object.eTag}.json`;
  if (Buffer.byteLength(direct) <= MAX_OSS_KEY_BYTES) return direct;
  return `${prefix}objects/${object.bucket}/sha256-${sha256(object.key)}@${object.eTag}.json`;
}

export function objectRecordPrefix(prefix: string, bucket: string, key: string): string {
  const direct = `${prefix}objects/${bucket}/${key}@`;
  return Buffer.byteLength(direct) + 64 <= MAX_OSS_KEY_BYTES ? direct : `${prefix}objects/${bucket}/sha256-${sha256(key)}@`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
