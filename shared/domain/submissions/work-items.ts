import type { InputError } from '../../runtime/errors';

/**
 * What the submission domain consumes, whatever the platform event was: the triggers (shared/triggers/events/)
 * turn OSS trigger events, EventBridge CloudEvents, pipeline events and batches of them into these.
 */

/** An object that appeared in a bucket, however the news arrived (OSS trigger or EventBridge). */
export interface ObjectCreated {
  bucket: string;
  key: string;
  eTag: string;
  size: number;
  /** Without the "ObjectCreated:" prefix, e.g. "PutObject". */
  eventName: string;
  region: string;
  eventTime: string;
}

/** A job asked for by a caller (the HTTP body and pipeline events share it): exactly one of `image` or `imageUrl`. */
export interface JobRequestInput {
  /** Friendly name (female/male) or AppId: required (APP_REQUIRED without one; there is no default app). */
  app?: string;
  image?: { bucket: string; key: string };
  imageUrl?: string;
  productionId?: string;
  folderId?: string;
  /** Pipeline events only: a caller-chosen key that makes a redelivery submit nothing new. */
  idempotencyKey?: string;
}

/** One unit of work, named by its `source` in results and logs; `invalid` items are reported as failed. */
export type WorkItem =
  | { kind: 'object'; source: string; object: ObjectCreated }
  | { kind: 'request'; source: string; request: JobRequestInput }
  | { kind: 'invalid'; source: string; error: InputError };
