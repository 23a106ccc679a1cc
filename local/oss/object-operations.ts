/**
 * The local OSS server's object operations (server.ts routes requests to them once they are authenticated):
 * PutObject, CopyObject, PostObject (the form, its signature and policy are checked in post-object.ts), GetObject and
 * HeadObject, DeleteObject and ListObjects V1/V2 (listing.ts). Objects are staged and committed through
 * object-store.ts; every created object is reported through `notify` (server.ts sends the FC OSS trigger event).
 *
 * Sources:
 * - [API]      OSS API reference pages PutObject, CopyObject, GetObject, HeadObject, DeleteObject, ListObjects
 *              (GetBucket), ListObjectsV2 (GetBucketV2): headers and status codes.
 * - [POST]     OSS "PostObject" (https://www.alibabacloud.com/help/en/oss/developer-reference/postobject).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, noSuchBucket, noSuchKey, OssError } from './errors';
import { listObjectsXml } from './listing';
import { applyResponseOverrides, checkContentMd5, COPY_SOURCE_HEADER, headerText, objectHeaders, parseCopySource, quoted, userMetaOf } from './object-headers';
import type { ObjectStore, StagedBody, StoredObject } from './object-store';
import { readPostObject } from './post-object';
import { OssRequestError } from './request-error';
import type { Target } from './request-target';
import type { CredentialLookup, QueryParams } from './signature';
import type { OssEventName } from './trigger-event';
import type { AuthMode } from './types';
import { sendXml, xmlDocument, XML_CONTENT_TYPE } from './xml';

/**
 * A local safety limit by default (OSS itself accepts up to 5 GB in one PutObject and answers EntityTooLarge above
 * that): startOssServer's `maxPutBytes` raises it (the bench copies a 1 GiB output). PostObject forms keep this one.
 */
export const MAX_PUT_BODY_BYTES = 50 * 1024 * 1024;
/** [API] GetObject: "Range: bytes=<start>-<end>", one range. */
const RANGE = /^bytes=(\d*)-(\d*)$/;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const FORBID_OVERWRITE_HEADER = 'x-oss-forbid-overwrite';
const METADATA_DIRECTIVE_HEADER = 'x-oss-metadata-directive';
/** Node reports IPv4 clients of a dual-stack socket as IPv4-mapped IPv6 addresses. */
const IPV4_MAPPED_PREFIX = '::ffff:';

export interface ObjectOperationsOptions {
  store: ObjectStore;
  /** Buckets that exist: a CopyObject source must name one. */
  buckets: ReadonlySet<string>;
  /** The keys a PostObject form may be signed with. */
  lookupSecret: CredentialLookup;
  /** The bucket owner in list answers. */
  accountId: string;
  /** Largest PutObject body (default MAX_PUT_BODY_BYTES). */
  maxPutBytes?: number;
  /** Called once an object is stored and answered; never awaited. */
  notify(eventName: OssEventName, bucket: string, stored: StoredObject, previousSize: number, requestId: string, sourceIp: string): void;
}

const entityTooLarge = (limit: number) =>
  new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', { MaxSizeAllowed: String(limit) });

export function createObjectOperations(options: ObjectOperationsOptions) {
  const { store, buckets, lookupSecret, accountId, notify } = options;
  const maxPutBytes = options.maxPutBytes ?? MAX_PUT_BODY_BYTES;

  const putObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, requestId: string) => {
    if (Number(req.headers['content-length']) > maxPutBytes) throw entityTooLarge(maxPutBytes);
    const staged = await store.stageUpload(bucket, req, maxPutBytes);
    if (staged === undefined) throw entityTooLarge(maxPutBytes);
    const { stored, previous } = await commitStaged(bucket, key, staged, req.headers, () => {
      checkContentMd5(req.headers, staged.md5);
      return { contentType: req.headers['content-type'] ?? DEFAULT_CONTENT_TYPE, userMeta: userMetaOf(req.headers) };
    });
    res.writeHead(200, { ETag: quoted(stored.etag), 'Content-MD5': staged.md5.toString('base64'), 'Content-Length': 0 });
    res.end();
    notify('ObjectCreated:PutObject', bucket, stored, previous?.size ?? 0, requestId, clientIp(req));
  };

  const copyObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, requestId: string) => {
    const source = parseCopySource(headerText(req.headers[COPY_SOURCE_HEADER]));
    if (!buckets.has(source.bucket)) throw noSuchBucket(source.bucket);
    const directive = (headerText(req.headers[METADATA_DIRECTIVE_HEADER]) || 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument(`Invalid ${METADATA_DIRECTIVE_HEADER}: ${directive}`);
    // A copy request has no body of its own; drain whatever came so the connection stays usable.
    req.resume();
    const copied = await store.stageCopy(source.bucket, source.key);
    if (copied === undefined) throw noSuchKey(source.key);
    const { stored, previous } = await commitStaged(bucket, key, copied.staged, req.headers, () =>
      directive === 'REPLACE'
        ? { contentType: req.headers['content-type'] ?? DEFAULT_CONTENT_TYPE, userMeta: userMetaOf(req.headers) }
        : { contentType: copied.source.contentType, userMeta: copied.source.userMeta },
    );
    sendXml(
      res,
      xmlDocument([
        'CopyObjectResult',
        [
          ['ETag', quoted(stored.etag)],
          ['LastModified', stored.lastModified],
        ],
      ]),
    );
    notify('ObjectCreated:CopyObject', bucket, stored, previous?.size ?? 0, requestId, clientIp(req));
  };

  /** PostObject (local/oss/post-object.ts checks the form, its signature and policy); the form is its own authorization. */
  const postObject = async (
    req: IncomingMessage,
    res: ServerResponse,
    target: Target & { bucket: string },
    requestId: string,
    onAuth: (auth: AuthMode, accessKeyId?: string) => void,
    /** Told the object's key once the form has given it (the request's own path names only the bucket). */
    onKey?: (key: string) => void,
  ) => {
    const { bucket } = target;
    const upload = await readPostObject(req, {
      bucket,
      maxFileBytes: MAX_PUT_BODY_BYTES,
      lookupSecret,
      anonymousWrite: false,
      onAuthMode: onAuth,
    }).catch((error: unknown) => {
      throw error instanceof OssRequestError ? OssError.from(error) : error;
    });
    onKey?.(upload.key);
    const staged = await store.stageBytes(bucket, upload.data);
    const { stored, previous } = await commitStaged(bucket, upload.key, staged, { [FORBID_OVERWRITE_HEADER]: String(upload.forbidOverwrite) }, () => ({
      contentType: upload.contentType ?? DEFAULT_CONTENT_TYPE,
      userMeta: upload.userMeta,
    }));
    const etag = quoted(stored.etag);
    if (upload.successActionStatus === 201) {
      // [POST]: Location is the object's URL on the host the form was posted to.
      const host = headerText(req.headers.host);
      const path = target.pathStyle ? `/${bucket}/${encodeKeyForUrl(stored.key)}` : `/${encodeKeyForUrl(stored.key)}`;
      const xml = xmlDocument([
        'PostResponse',
        [
          ['Bucket', bucket],
          ['Location', `http://${host}${path}`],
          ['Key', stored.key],
          ['ETag', etag],
        ],
      ]);
      res.writeHead(201, { ETag: etag, 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
      res.end(xml);
    } else {
      res.writeHead(upload.successActionStatus, { ETag: etag, 'Content-Length': 0 });
      res.end();
    }
    notify('ObjectCreated:PostObject', bucket, stored, previous?.size ?? 0, requestId, clientIp(req));
  };

  /** Validates with `attributes` (which may throw) and publishes the staged bytes; the temp file never outlives a failure. */
  const commitStaged = async (
    bucket: string,
    key: string,
    staged: StagedBody,
    headers: IncomingHttpHeaders,
    attributes: () => Pick<StoredObject, 'contentType' | 'userMeta'>,
  ) => {
    try {
      const forbidOverwrite = headerText(headers[FORBID_OVERWRITE_HEADER]).toLowerCase() === 'true';
      const committed = await store.commit(bucket, key, staged, attributes(), forbidOverwrite);
      if (committed === undefined) {
        throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.', { Key: key });
      }
      return committed;
    } finally {
      await store.discard(staged);
    }
  };

  const getObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: QueryParams) => {
    const opened = await store.openObject(bucket, key);
    if (opened === undefined) throw noSuchKey(key);
    const { stored, handle } = opened;
    let range: { start: number; end: number } | undefined;
    try {
      const headers = objectHeaders(stored);
      applyResponseOverrides(headers, query);
      range = byteRange(headerText(req.headers.range), stored.size);
      if (range) {
        headers['Content-Length'] = range.end - range.start + 1;
        headers['Content-Range'] = `bytes ${range.start}-${range.end}/${stored.size}`;
      }
      res.writeHead(range ? 206 : 200, headers);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return;
    }
    await pipeline(handle.createReadStream(range ?? {}), res);
  };

  const deleteObject = async (res: ServerResponse, bucket: string, key: string) => {
    // [API]: deleting a key that does not exist succeeds too.
    await store.delete(bucket, key);
    res.writeHead(204);
    res.end();
  };

  const listObjects = (res: ServerResponse, bucket: string, query: QueryParams) => {
    sendXml(res, listObjectsXml(store, bucket, query, accountId));
  };

  return { putObject, copyObject, postObject, getObject, deleteObject, listObjects };
}

/**
 * [API] GetObject with Range: one valid range answers 206 with Content-Range; a start past the object's end is 416
 * InvalidRange; anything else (no header, a malformed or multi-part range) is the whole object with 200.
 */
function byteRange(header: string, size: number): { start: number; end: number } | undefined {
  const match = RANGE.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const start = match[1] === '' ? Math.max(0, size - Number(match[2])) : Number(match[1]);
  const end = match[1] === '' || match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.');
  return start > end ? undefined : { start, end };
}

/** "uploads/女/a b.jpg" → "uploads/%E5%A5%B3/a%20b.jpg": each segment percent-encoded, as ali-oss and OSS URLs do. */
export function encodeKeyForUrl(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith(IPV4_MAPPED_PREFIX) ? address.slice(IPV4_MAPPED_PREFIX.length) : address;
}
