/**
 * What the local OSS server reports, shared by its modules and its users: the notification of a created object
 * (what an OSS trigger delivers, trigger.ts filters it) and the record of a request. Types only, importing nothing
 * local.
 */

export interface OssNotification {
  bucket: string;
  key: string;
  /** 'ObjectCreated:PutObject', 'ObjectCreated:PostObject' or 'ObjectCreated:CopyObject'. */
  eventName: string;
  /** The FC OSS trigger event, {"events":[...]}, as JSON bytes: what the function receives. */
  payload: Buffer;
}

export interface RecordedOssRequest {
  method: string;
  bucket?: string;
  key?: string;
  status: number;
  code?: string;
  /** 'form': a PostObject whose form carried OSSAccessKeyId, policy and Signature. */
  auth: AuthMode;
}

/** A signed request as RAM authorizes it: whose key signed it (header, URL or form), and what it touched. */
export interface SignedOssRequest {
  method: string;
  bucket?: string;
  /** The object (a PostObject's from its form). */
  key?: string;
  status: number;
  code?: string;
  accessKeyId: string;
  /** A bucket request's sub-resource (cors, location). */
  subresource?: string;
  /** A listing's prefix: RAM's oss:Prefix condition key. */
  prefix?: string;
}

/** How a request authenticated itself: Authorization header, signed URL, PostObject form, or not at all. */
export type AuthMode = 'header' | 'url' | 'form' | 'anonymous';
