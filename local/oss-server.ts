/**
 * A local stand-in for Alibaba Cloud OSS: a real HTTP server on 127.0.0.1 that speaks the REST subset this project
 * uses (PutObject, CopyObject, GetObject, HeadObject, DeleteObject, ListObjects V1 and V2, PostObject browser forms
 * in oss-post-object.ts, bucket CORS and preflights in oss-cors.ts), verifies V1 signatures the way OSS does (see
 * oss-signature.ts), stores objects on disk and reports created objects as FC OSS trigger events.
 *
 * Addressing. ali-oss 6.x with an IP endpoint (`endpoint: server.url`) sends the key as the whole path and names
 * the bucket only in the Host header, "<bucket>.oss-<region>.aliyuncs.com" (lib/common/utils/createRequest.js:108-112,
 * lib/common/client/getReqUrl.js:18). So a request whose host is a name is virtual-hosted (bucket = first label),
 * and a request to an IP or "localhost" is path-style, "/<bucket>/<key>" (plain fetch of `objectUrl`, and ali-oss
 * with `endpoint: server.localhostUrl, sldEnable: true`, which is also the only way to use `signatureUrl` locally:
 * ali-oss refuses IP endpoints there, lib/common/object/signatureUrl.js:17).
 *
 * Sources:
 * - [API]      OSS API reference pages PutObject, CopyObject, GetObject, HeadObject, DeleteObject, ListObjects
 *              (GetBucket), ListObjectsV2 (GetBucketV2): headers, status codes and the ListBucketResult layout.
 * - [ERRORS]   OSS error response format (<Error><Code/><Message/><RequestId/><HostId/>...</Error>) and the
 *              "HTTP 403 status code" error list.
 * - [EC]       OSS error centre pages: 0015-00000402 (max-keys outside 1..1000), 0017-00000502 / 0017-00000503
 *              (Content-MD5 malformed / not matching the body).
 * - [ALIOSS]   ali-oss 6.23.0: errors are parsed from the XML body, and for HEAD (no body) from the base64 XML in
 *              the x-oss-err header (lib/client.js requestError); list() needs Owner in every Contents entry.
 * - [EVENT]    FC "Trigger event format" for OSS, /work/shared/reference/events/oss-trigger-put.json.
 * Anything marked "unverified" is our best guess where no document was found.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { validateHeaderValue, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import {
  SIGNED_SUBRESOURCES,
  verifyOssHeaderSignature,
  verifyOssSignedUrl,
  type LocalCredential,
  type OssAuthFailure,
  type QueryParams,
} from './oss-signature';
import { LOCAL_STS_CREDENTIALS } from './dev-fixtures';
import { listenOnLoopback, LOOPBACK_HOST, readBody } from './http';
import { createOssFaults, type OssFaults } from './oss-faults';
import { BucketCorsStore, type OssCorsConfiguration, type OssCorsRule } from './oss-cors';
import { isPostObjectRequest, readPostObject } from './oss-post-object';
import { OssRequestError } from './oss-request-error';

export type { LocalCredential } from './oss-signature';

export interface OssServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Objects are stored here (created if missing); objects already there are served again after a restart. */
  dataDir: string;
  /** Buckets that exist; any other answers 404 NoSuchBucket. */
  buckets: string[];
  /** Default DEFAULT_OSS_CREDENTIALS. */
  credentials?: LocalCredential[];
  /** Buckets whose objects anonymous GET/HEAD may read (ACL public-read), so a plain object URL works. */
  publicReadBuckets?: string[];
  /** Default 'cn-shanghai'; used in event ARNs and error HostIds. */
  region?: string;
  /** Default '1234567890123456' (the made-up account of the reference samples); bucket owner and event principal. */
  accountId?: string;
  /** Called after an object is stored, asynchronously, like an OSS event notification: it never blocks or fails the PUT. */
  onObjectCreated?: (event: OssNotification) => void;
  /** One structured line per request; never carries secrets, tokens or signatures. */
  log?: (line: Record<string, unknown>) => void;
  /** CORS rules per bucket from the start (local/oss-cors.ts); PutBucketCors through ali-oss is the usual way. */
  cors?: Record<string, OssCorsRule[] | OssCorsConfiguration>;
}

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
  auth: 'header' | 'url' | 'form' | 'anonymous';
}

export interface LocalOssServer {
  /** http://127.0.0.1:PORT: pass as ali-oss `endpoint` (requests then name the bucket in the Host header). */
  readonly url: string;
  /** http://localhost:PORT: pass as ali-oss `endpoint` together with `sldEnable: true` to use signatureUrl. */
  readonly localhostUrl: string;
  readonly port: number;
  /** The plain path-style URL of an object on this server, the key percent-encoded per segment as OSS URLs encode it. */
  objectUrl(bucket: string, key: string): string;
  requests(): RecordedOssRequest[];
  /** Keys of a bucket in OSS list order (UTF-8 byte order). */
  listKeys(bucket: string): string[];
  /** Injected failures (local/oss-faults.ts), applied to authenticated requests before they are processed. */
  faults: OssFaults;
  /** Clears the request log (objects stay). */
  reset(): void;
  close(): Promise<void>;
}

/** One STS triple, like the credentials FC hands a function with a role. */
export const DEFAULT_OSS_CREDENTIALS: readonly LocalCredential[] = Object.freeze([LOCAL_STS_CREDENTIALS]);

/** A local safety limit (OSS itself accepts up to 5 GB in one PutObject and answers EntityTooLarge above that). */
export const MAX_PUT_BODY_BYTES = 50 * 1024 * 1024;

const LOCALHOST = 'localhost';
const DEFAULT_REGION = 'cn-shanghai';
const DEFAULT_ACCOUNT_ID = '1234567890123456';
/** [API] bucket naming: 3-63 characters, lower-case letters, digits and hyphens, not starting or ending with a hyphen. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** [API] object naming: 1-1023 bytes of UTF-8, not starting with "/" or "\". */
const MAX_KEY_BYTES = 1023;
const DEFAULT_MAX_KEYS = 100;
const MAX_MAX_KEYS = 1000;
const DECIMAL = /^\d+$/;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const XML_CONTENT_TYPE = 'application/xml';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const USER_META_PREFIX = 'x-oss-meta-';
const COPY_SOURCE_HEADER = 'x-oss-copy-source';
const FORBID_OVERWRITE_HEADER = 'x-oss-forbid-overwrite';
const METADATA_DIRECTIVE_HEADER = 'x-oss-metadata-directive';
const REQUEST_ID_HEADER = 'x-oss-request-id';
/** [ALIOSS]: a HEAD answer has no body, so OSS puts the error XML, base64-encoded, in this header. */
const HEAD_ERROR_HEADER = 'x-oss-err';
/** Parameters that make a request URL-signed rather than anonymous (V1, and V4's marker). */
const URL_AUTH_PARAMS = ['OSSAccessKeyId', 'Expires', 'Signature', 'x-oss-signature-version'];
/** GetObject's response-* parameters and the header each one overrides [API]. */
const RESPONSE_OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];
/** Sub-resources this server implements; any other signed sub-resource selects an operation it lacks. */
const SUPPORTED_SUBRESOURCES = new Set(['cors', 'security-token', 'continuation-token', ...RESPONSE_OVERRIDES.map(([param]) => param)]);
const LIST_TYPE_V2 = '2';
/** Request ids look like "58F9FF2D3DF792092E12044C" [EVENT]: epoch seconds in hex, then 8 random bytes, upper case. */
const REQUEST_ID_SECONDS_HEX_DIGITS = 8;
const REQUEST_ID_RANDOM_BYTES = 8;
const MS_PER_SECOND = 1000;
const TEMP_PREFIX = '.tmp-';
const TEMP_RANDOM_BYTES = 12;
const DATA_SUFFIX = '.data';
const META_SUFFIX = '.json';
const EVENT_SOURCE = 'acs:oss';
const EVENT_VERSION = '1.0';
const OSS_SCHEMA_VERSION = '1.0';
/** Node reports IPv4 clients of a dual-stack socket as IPv4-mapped IPv6 addresses. */
const IPV4_MAPPED_PREFIX = '::ffff:';
/** A request target in absolute form ("http://host/path"), which a proxy-style client may send. */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

type AuthMode = RecordedOssRequest['auth'];
type EventName = 'ObjectCreated:PutObject' | 'ObjectCreated:PostObject' | 'ObjectCreated:CopyObject';

/** What is kept beside each object's bytes. */
interface StoredObject {
  key: string;
  /** MD5 of the bytes, upper-case hex, without quotes. */
  etag: string;
  size: number;
  contentType: string;
  /** ISO time, whole seconds (OSS reports Last-Modified to the second). */
  lastModified: string;
  /** x-oss-meta-* headers, lower-case names, values as the wire bytes (one character per byte). */
  userMeta: Record<string, string>;
}

/** An upload written to a temporary file, not yet visible. */
interface StagedBody {
  tempPath: string;
  size: number;
  md5: Buffer;
}

/** An OSS error answer [ERRORS] (one class for the server and its helper modules). */
class OssError extends OssRequestError {
  static from(failure: OssAuthFailure | OssRequestError): OssError {
    return new OssError(failure.status, failure.code, failure.message, failure.details);
  }
}

const notImplemented = (what: string) =>
  new OssError(501, 'NotImplemented', `The local OSS server does not implement ${what}.`);
const invalidArgument = (message: string, details: Record<string, string> = {}) => new OssError(400, 'InvalidArgument', message, details);
const noSuchKey = (key: string) => new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
const noSuchBucket = (bucket: string) => new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });
const entityTooLarge = () =>
  new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', { MaxSizeAllowed: String(MAX_PUT_BODY_BYTES) });

/** Starts the server on 127.0.0.1. */
export async function startOssServer(options: OssServerOptions): Promise<LocalOssServer> {
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const log = options.log ?? (() => undefined);
  const buckets = new Set(options.buckets);
  const publicRead = new Set(options.publicReadBuckets ?? []);
  const credentials = credentialMap(options.credentials ?? DEFAULT_OSS_CREDENTIALS);
  for (const bucket of buckets) {
    if (!BUCKET_NAME.test(bucket)) throw new TypeError(`Invalid OSS bucket name: ${JSON.stringify(bucket)}`);
  }
  for (const bucket of publicRead) {
    if (!buckets.has(bucket)) throw new TypeError(`publicReadBuckets names ${JSON.stringify(bucket)}, which is not in buckets`);
  }
  for (const bucket of Object.keys(options.cors ?? {})) {
    if (!buckets.has(bucket)) throw new TypeError(`cors names ${JSON.stringify(bucket)}, which is not in buckets`);
  }
  const cors = new BucketCorsStore(options.cors);
  const store = await ObjectStore.open(options.dataDir, [...buckets]);
  const recorded: RecordedOssRequest[] = [];
  const faults = createOssFaults();

  const notify = (eventName: EventName, bucket: string, stored: StoredObject, previousSize: number, requestId: string, sourceIp: string) => {
    const onObjectCreated = options.onObjectCreated;
    if (!onObjectCreated) return;
    const event = ossTriggerEvent({ eventName, bucket, stored, previousSize, requestId, sourceIp, region, accountId });
    const notification: OssNotification = { bucket, key: stored.key, eventName, payload: Buffer.from(JSON.stringify(event)) };
    // After the answer is on its way, and isolated from it: OSS delivers notifications out of band.
    setImmediate(() => {
      Promise.resolve()
        .then(() => onObjectCreated(notification))
        .catch((error: unknown) => log({ level: 'warn', message: 'onObjectCreated failed', bucket, key: stored.key, error: errorMessage(error) }));
    });
  };

  const authenticate = (req: IncomingMessage, auth: AuthMode, target: Target & { bucket: string }): void => {
    const method = req.method ?? 'GET';
    if (auth === 'anonymous') {
      if ((method === 'GET' || method === 'HEAD') && publicRead.has(target.bucket)) return;
      // Unverified: OSS words this differently for buckets and objects; one message serves both here.
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    const request = {
      method,
      bucket: target.bucket,
      key: target.key,
      query: target.query,
      headers: req.headers,
      lookupSecret: (accessKeyId: string) => credentials.get(accessKeyId),
    };
    const result = auth === 'header' ? verifyOssHeaderSignature(request) : verifyOssSignedUrl(request);
    if (!result.ok) throw OssError.from(result.failure);
  };

  const putObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, requestId: string) => {
    if (Number(req.headers['content-length']) > MAX_PUT_BODY_BYTES) throw entityTooLarge();
    const staged = await store.stageUpload(bucket, req, MAX_PUT_BODY_BYTES);
    if (staged === undefined) throw entityTooLarge();
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
    sendXml(res, xmlDocument(['CopyObjectResult', [['ETag', quoted(stored.etag)], ['LastModified', stored.lastModified]]]));
    notify('ObjectCreated:CopyObject', bucket, stored, previous?.size ?? 0, requestId, clientIp(req));
  };

  /** PostObject (local/oss-post-object.ts checks the form, its signature and policy); the form is its own authorization. */
  const postObject = async (req: IncomingMessage, res: ServerResponse, target: Target & { bucket: string }, requestId: string, onAuth: (auth: AuthMode) => void) => {
    const { bucket } = target;
    const upload = await readPostObject(req, {
      bucket,
      maxFileBytes: MAX_PUT_BODY_BYTES,
      lookupSecret: (accessKeyId) => credentials.get(accessKeyId),
      anonymousWrite: false,
      onAuthMode: onAuth,
    }).catch((error: unknown) => {
      throw error instanceof OssRequestError ? OssError.from(error) : error;
    });
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
      const xml = xmlDocument(['PostResponse', [['Bucket', bucket], ['Location', `http://${host}${path}`], ['Key', stored.key], ['ETag', etag]]]);
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
    try {
      const headers = objectHeaders(stored);
      applyResponseOverrides(headers, query);
      res.writeHead(200, headers);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return;
    }
    // Range requests are not implemented: the whole object comes back with 200, which HTTP allows a server to do.
    await pipeline(handle.createReadStream(), res);
  };

  const deleteObject = async (res: ServerResponse, bucket: string, key: string) => {
    // [API]: deleting a key that does not exist succeeds too.
    await store.delete(bucket, key);
    res.writeHead(204);
    res.end();
  };

  const listObjects = (res: ServerResponse, bucket: string, query: QueryParams) => {
    if (query['encoding-type'] !== undefined) throw notImplemented('encoding-type in ListObjects');
    sendXml(res, query['list-type'] === LIST_TYPE_V2 ? listV2Xml(store, bucket, query, accountId) : listV1Xml(store, bucket, query, accountId));
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse, target: Target & { bucket: string }, requestId: string) => {
    const { bucket, key, query } = target;
    const method = req.method ?? 'GET';
    if (key === '') {
      if ('cors' in query) {
        return cors.handleApi(method, bucket, (limit) => readBody(req, limit), res).catch((error: unknown) => {
          throw error instanceof OssRequestError ? OssError.from(error) : error;
        });
      }
      if (method === 'GET') return listObjects(res, bucket, query);
      throw notImplemented(`${method} on a bucket (only ListObjects)`);
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return getObject(req, res, bucket, key, query);
      case 'PUT':
        return req.headers[COPY_SOURCE_HEADER] === undefined ? putObject(req, res, bucket, key, requestId) : copyObject(req, res, bucket, key, requestId);
      case 'DELETE':
        return deleteObject(res, bucket, key);
      case 'POST':
        throw notImplemented('POST (PostObject, AppendObject, multipart uploads)');
      default:
        throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method });
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAtMs = Date.now();
    const requestId = newOssRequestId(new Date(startedAtMs));
    const method = req.method ?? 'GET';
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('Server', 'AliyunOSS');
    let target: Target | undefined;
    let auth: AuthMode = 'anonymous';
    let status: number;
    let code: string | undefined;
    try {
      target = parseTarget(req.url ?? '/', headerText(req.headers.host));
      auth = authModeOf(req.headers, target.query);
      if (target.bucket === undefined) throw notImplemented('service-level requests (ListBuckets)');
      if (!buckets.has(target.bucket)) throw noSuchBucket(target.bucket);
      const located = { ...target, bucket: target.bucket };
      // Preflights are never signed, and a PostObject form carries its own authorization (oss-cors.ts, oss-post-object.ts).
      const isPreflight = method === 'OPTIONS';
      const isPostObject = method === 'POST' && located.key === '' && isPostObjectRequest(headerText(req.headers['content-type']));
      if (isPreflight) {
        try {
          cors.preflight(located.bucket, req.headers, res);
        } catch (error) {
          throw error instanceof OssRequestError ? OssError.from(error) : error;
        }
      } else {
        cors.applyToActualRequest(located.bucket, method, req.headers, res);
        if (!isPostObject) authenticate(req, auth, located);
        const unsupported = Object.keys(target.query).find((name) => SIGNED_SUBRESOURCES.has(name) && !SUPPORTED_SUBRESOURCES.has(name));
        if (unsupported !== undefined) throw notImplemented(`the "${unsupported}" sub-resource`);
        const injected = await faults.apply(req, res, { method, bucket: located.bucket, key: located.key });
        if (injected.error) throw new OssError(injected.error.status, injected.error.code, injected.error.message);
        if (isPostObject) {
          await postObject(req, res, located, requestId, (mode) => {
            auth = mode;
          });
        } else {
          await dispatch(req, res, located, requestId);
        }
      }
      status = res.statusCode;
    } catch (thrown) {
      const error = thrown instanceof OssError ? thrown : new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (!(thrown instanceof OssError)) log({ level: 'error', requestId, message: 'request failed', error: errorMessage(thrown) });
      status = error.status;
      code = error.code;
      sendError(res, method, requestId, hostIdOf(target?.bucket, region), error);
    }
    const bucket = target?.bucket;
    const key = target?.key || undefined;
    recorded.push({ method, bucket, key, status, code, auth });
    log({ requestId, method, bucket, key, status, code, auth, latencyMs: Date.now() - startedAtMs });
  };

  const { port, close } = await listenOnLoopback(serve, {
    port: options.port,
    onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
  });
  const url = `http://${LOOPBACK_HOST}:${port}`;

  return {
    url,
    localhostUrl: `http://${LOCALHOST}:${port}`,
    port,
    objectUrl: (bucket, key) => `${url}/${bucket}/${encodeKeyForUrl(key)}`,
    requests: () => recorded.map((entry) => ({ ...entry })),
    faults,
    listKeys: (bucket) => {
      if (!buckets.has(bucket)) throw new TypeError(`Unknown bucket ${JSON.stringify(bucket)}`);
      return store.sortedObjects(bucket).map((stored) => stored.key);
    },
    reset: () => {
      recorded.length = 0;
    },
    close,
  };
}

/** Where a request points: bucket (undefined at service level), unescaped key ("" for the bucket) and query. */
interface Target {
  bucket: string | undefined;
  key: string;
  query: QueryParams;
  /** Whether the bucket was named in the path ("/<bucket>/<key>") rather than the Host. */
  pathStyle: boolean;
}

/** Virtual-hosted for host names, path-style for IPs and localhost (see the module comment). */
function parseTarget(requestTarget: string, host: string): Target {
  const originForm = requestTarget.replace(ABSOLUTE_FORM_PREFIX, '');
  const queryStart = originForm.indexOf('?');
  const rawPath = queryStart === -1 ? originForm : originForm.slice(0, queryStart);
  const query = parseQuery(queryStart === -1 ? '' : originForm.slice(queryStart + 1));
  const hostname = host.replace(/:\d*$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();

  let bucket: string | undefined;
  let rawKey: string;
  if (hostname === '' || hostname === LOCALHOST || isIP(hostname) !== 0) {
    const [, first = '', rest] = /^\/([^/]*)(?:\/(.*))?$/s.exec(rawPath) ?? [];
    bucket = first === '' ? undefined : first;
    rawKey = rest ?? '';
  } else {
    bucket = hostname.split('.')[0];
    rawKey = rawPath.slice(1);
  }
  let key: string;
  try {
    key = decodeURIComponent(rawKey);
  } catch {
    throw new OssError(400, 'InvalidObjectName', 'The object name is not valid percent-encoded UTF-8.');
  }
  if (key !== '' && (Buffer.byteLength(key) > MAX_KEY_BYTES || key.startsWith('/') || key.startsWith('\\'))) {
    throw new OssError(400, 'InvalidObjectName', 'The specified object is not valid.', { ObjectName: key });
  }
  return { bucket, key, query, pathStyle: hostname === '' || hostname === LOCALHOST || isIP(hostname) !== 0 };
}

/**
 * RFC 3986 decoding: "+" stays "+" (unverified for OSS; SDKs send spaces as %20 and "+" as %2B, so either reading
 * agrees for them). The first value of a repeated parameter wins.
 */
function parseQuery(rawQuery: string): QueryParams {
  const params: Record<string, string> = Object.create(null);
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    try {
      const name = decodeURIComponent(equals === -1 ? part : part.slice(0, equals));
      if (!(name in params)) params[name] = equals === -1 ? '' : decodeURIComponent(part.slice(equals + 1));
    } catch {
      throw invalidArgument('The query string is not valid percent-encoded UTF-8.');
    }
  }
  return params;
}

function authModeOf(headers: IncomingHttpHeaders, query: QueryParams): AuthMode {
  if (headers.authorization !== undefined) return 'header';
  return URL_AUTH_PARAMS.some((name) => name in query) ? 'url' : 'anonymous';
}

/** [API] CopyObject: "/<bucket>/<URL-encoded key>". */
function parseCopySource(value: string): { bucket: string; key: string } {
  const match = /^\/([^/]+)\/(.+)$/s.exec(value);
  if (!match) throw invalidArgument(`${COPY_SOURCE_HEADER} must look like /<bucket>/<key>`, { [COPY_SOURCE_HEADER]: value });
  const [, bucket = '', encodedKey = ''] = match;
  if (encodedKey.includes('?')) throw notImplemented('versioned copy sources');
  try {
    return { bucket, key: decodeURIComponent(encodedKey) };
  } catch {
    throw invalidArgument(`${COPY_SOURCE_HEADER} is not valid percent-encoded UTF-8`);
  }
}

/** [EC] 0017-00000502 (not 16 base64 bytes) and 0017-00000503 (does not match the body); both answer InvalidDigest. */
function checkContentMd5(headers: IncomingHttpHeaders, actual: Buffer): void {
  if (headers['content-md5'] === undefined) return;
  const header = headerText(headers['content-md5']);
  const declared = Buffer.from(header, 'base64');
  if (declared.length !== actual.length || declared.toString('base64') !== header) {
    throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.', { 'Content-MD5': header });
  }
  if (!declared.equals(actual)) {
    throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified did not match what we received.', {
      'Content-MD5': header,
      CalculatedMD5: actual.toString('base64'),
    });
  }
}

function userMetaOf(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(USER_META_PREFIX) && value !== undefined) meta[name] = headerText(value);
  }
  return meta;
}

function objectHeaders(stored: StoredObject): Record<string, string | number> {
  return {
    'Content-Type': stored.contentType,
    'Content-Length': stored.size,
    ETag: quoted(stored.etag),
    'Content-MD5': Buffer.from(stored.etag, 'hex').toString('base64'),
    'Last-Modified': new Date(stored.lastModified).toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
    ...stored.userMeta,
  };
}

/** The response-* parameters of GetObject [API]. Values go out as their UTF-8 bytes, as OSS echoes them. */
function applyResponseOverrides(headers: Record<string, string | number>, query: QueryParams): void {
  for (const [param, header] of RESPONSE_OVERRIDES) {
    const value = query[param];
    if (value === undefined) continue;
    const wire = Buffer.from(value, 'utf8').toString('latin1');
    try {
      validateHeaderValue(header, wire);
    } catch {
      throw invalidArgument(`${param} cannot be sent as a header value`, { [param]: value });
    }
    headers[header] = wire;
  }
}

interface ListPage {
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  last: string | undefined;
}

/** Keys after `after` that start with `prefix`, rolled up at `delimiter`, at most maxKeys entries [API]. */
function listPage(store: ObjectStore, bucket: string, params: { prefix: string; after: string; delimiter: string; maxKeys: number }): ListPage {
  const { prefix, after, delimiter, maxKeys } = params;
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
  for (const stored of store.sortedObjects(bucket)) {
    const { key } = stored;
    if (!key.startsWith(prefix) || compareUtf8(key, after) <= 0) continue;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
    // A common prefix is listed once, and not again on the page that starts at it.
    if (commonPrefix !== undefined && (commonPrefix === page.last || compareUtf8(commonPrefix, after) <= 0)) continue;
    if (page.contents.length + page.commonPrefixes.length === maxKeys) {
      page.truncated = true;
      break;
    }
    if (commonPrefix === undefined) {
      page.contents.push(stored);
      page.last = key;
    } else {
      page.commonPrefixes.push(commonPrefix);
      page.last = commonPrefix;
    }
  }
  return page;
}

/** [EC] 0015-00000402: max-keys must be 1..1000 (the exact message is unverified). */
function maxKeysOf(query: QueryParams): number {
  const value = query['max-keys'];
  if (value === undefined) return DEFAULT_MAX_KEYS;
  const maxKeys = DECIMAL.test(value) ? Number(value) : NaN;
  if (!(maxKeys >= 1 && maxKeys <= MAX_MAX_KEYS)) {
    throw invalidArgument(`Argument max-keys must be an integer between 1 and ${MAX_MAX_KEYS}.`, { ArgumentName: 'max-keys', ArgumentValue: value });
  }
  return maxKeys;
}

/** ListObjects (GetBucket) [API]: element order as OSS answers, empty Prefix/Marker/Delimiter included. */
function listV1Xml(store: ObjectStore, bucket: string, query: QueryParams, accountId: string): string {
  const prefix = query.prefix ?? '';
  const marker = query.marker ?? '';
  const delimiter = query.delimiter ?? '';
  const maxKeys = maxKeysOf(query);
  const page = listPage(store, bucket, { prefix, after: marker, delimiter, maxKeys });
  return xmlDocument([
    'ListBucketResult',
    [
      ['Name', bucket],
      ['Prefix', prefix],
      ['Marker', marker],
      ['MaxKeys', String(maxKeys)],
      ['Delimiter', delimiter],
      ['IsTruncated', String(page.truncated)],
      ...(page.truncated ? [['NextMarker', page.last ?? ''] as const] : []),
      ...page.contents.map((stored) => contentsXml(stored, accountId)),
      ...page.commonPrefixes.map(commonPrefixXml),
    ],
  ]);
}

/** ListObjectsV2 (GetBucketV2) [API]: opaque continuation tokens, Owner only with fetch-owner=true, KeyCount last. */
function listV2Xml(store: ObjectStore, bucket: string, query: QueryParams, accountId: string): string {
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter ?? '';
  const startAfter = query['start-after'];
  const token = query['continuation-token'];
  const maxKeys = maxKeysOf(query);
  const after = token !== undefined ? decodeContinuationToken(token) : (startAfter ?? '');
  const page = listPage(store, bucket, { prefix, after, delimiter, maxKeys });
  const owner = query['fetch-owner'] === 'true' ? accountId : undefined;
  return xmlDocument([
    'ListBucketResult',
    [
      ['Name', bucket],
      ['Prefix', prefix],
      ...(startAfter !== undefined ? [['StartAfter', startAfter] as const] : []),
      ...(token !== undefined ? [['ContinuationToken', token] as const] : []),
      ['MaxKeys', String(maxKeys)],
      ['Delimiter', delimiter],
      ['IsTruncated', String(page.truncated)],
      ...(page.truncated ? [['NextContinuationToken', Buffer.from(page.last ?? '', 'utf8').toString('base64url')] as const] : []),
      ...page.contents.map((stored) => contentsXml(stored, owner)),
      ...page.commonPrefixes.map(commonPrefixXml),
      ['KeyCount', String(page.contents.length + page.commonPrefixes.length)],
    ],
  ]);
}

/** Tokens are this server's own: base64url of the last key listed. Anything else is refused (message unverified). */
function decodeContinuationToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url');
  if (token === '' || decoded.toString('base64url') !== token) {
    throw invalidArgument('The continuation token provided is incorrect.', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return decoded.toString('utf8');
}

function contentsXml(stored: StoredObject, ownerId: string | undefined): XmlNode {
  return [
    'Contents',
    [
      ['Key', stored.key],
      ['LastModified', stored.lastModified],
      ['ETag', quoted(stored.etag)],
      ['Type', 'Normal'],
      ['Size', String(stored.size)],
      ['StorageClass', 'Standard'],
      ...(ownerId !== undefined ? [['Owner', [['ID', ownerId], ['DisplayName', ownerId]]] as const] : []),
    ],
  ];
}

function commonPrefixXml(commonPrefix: string): XmlNode {
  return ['CommonPrefixes', [['Prefix', commonPrefix]]];
}

/** The FC OSS trigger event [EVENT]: the reference sample's fields, in its order. */
function ossTriggerEvent(input: {
  eventName: EventName;
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

function sendXml(res: ServerResponse, xml: string): void {
  res.writeHead(200, { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** [ERRORS] the XML body; [ALIOSS] for HEAD the same XML goes base64-encoded into x-oss-err. */
function sendError(res: ServerResponse, method: string, requestId: string, hostId: string, error: OssError): void {
  if (res.headersSent) {
    // The answer had already begun (a failed download): all that is left is to cut it short.
    res.destroy();
    return;
  }
  const xml = xmlDocument([
    'Error',
    [
      ['Code', error.code],
      ['Message', error.message],
      ['RequestId', requestId],
      ['HostId', hostId],
      ...Object.entries(error.details),
    ],
  ]);
  if (method === 'HEAD') {
    res.writeHead(error.status, { 'Content-Type': XML_CONTENT_TYPE, [HEAD_ERROR_HEADER]: Buffer.from(xml).toString('base64') });
    res.end();
    return;
  }
  res.writeHead(error.status, { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

function hostIdOf(bucket: string | undefined, region: string): string {
  return bucket === undefined ? `oss-${region}.aliyuncs.com` : `${bucket}.oss-${region}.aliyuncs.com`;
}

/** An element with text, or with child elements. */
type XmlNode = readonly [name: string, content: string | readonly XmlNode[]];

/** Two-space indentation as in OSS's answers; text is written as is (escaped), so multi-line text stays intact. */
function xmlDocument(root: XmlNode): string {
  return `${XML_DECLARATION}\n${renderXml(root, 0)}\n`;
}

function renderXml([name, content]: XmlNode, depth: number): string {
  const indent = '  '.repeat(depth);
  if (typeof content === 'string') return `${indent}<${name}>${escapeXml(content)}</${name}>`;
  return `${indent}<${name}>\n${content.map((child) => renderXml(child, depth + 1)).join('\n')}\n${indent}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function quoted(etag: string): string {
  return `"${etag}"`;
}

/** "uploads/女/a b.jpg" → "uploads/%E5%A5%B3/a%20b.jpg": each segment percent-encoded, as ali-oss and OSS URLs do. */
function encodeKeyForUrl(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** An OSS-like request id for the given time [EVENT]. */
function newOssRequestId(now: Date): string {
  const seconds = Math.floor(now.getTime() / MS_PER_SECOND).toString(16).padStart(REQUEST_ID_SECONDS_HEX_DIGITS, '0');
  return `${seconds}${randomBytes(REQUEST_ID_RANDOM_BYTES).toString('hex')}`.toUpperCase();
}

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith(IPV4_MAPPED_PREFIX) ? address.slice(IPV4_MAPPED_PREFIX.length) : address;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** OSS lists keys in the byte order of their UTF-8 encoding, which differs from JavaScript's UTF-16 order. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function credentialMap(credentials: readonly LocalCredential[]): Map<string, LocalCredential> {
  const map = new Map<string, LocalCredential>();
  for (const credential of credentials) {
    if (map.has(credential.accessKeyId)) throw new TypeError(`Duplicate accessKeyId ${credential.accessKeyId}`);
    map.set(credential.accessKeyId, credential);
  }
  return map;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Objects on disk: <dataDir>/<bucket>/<sha256(key)>.data and .json beside it. Hashing the key makes any key a safe
 * file name (no key can reach outside dataDir), and bucket names are checked against OSS's naming rules. Writes go
 * to a temporary file first and are renamed into place under a per-key lock, so readers never see half an object.
 */
class ObjectStore {
  private readonly locks = new KeyedLock();

  private constructor(
    private readonly dataDir: string,
    private readonly index: Map<string, Map<string, StoredObject>>,
  ) {}

  static async open(dataDir: string, buckets: string[]): Promise<ObjectStore> {
    const index = new Map<string, Map<string, StoredObject>>();
    for (const bucket of buckets) {
      const dir = join(dataDir, bucket);
      await mkdir(dir, { recursive: true });
      const objects = new Map<string, StoredObject>();
      for (const name of await readdir(dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          // Left behind by an upload that never finished.
          await rm(join(dir, name), { force: true });
        } else if (name.endsWith(META_SUFFIX)) {
          const stored = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredObject;
          if (`${fileStem(stored.key)}${META_SUFFIX}` === name) objects.set(stored.key, stored);
        }
      }
      index.set(bucket, objects);
    }
    return new ObjectStore(dataDir, index);
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.bucket(bucket).get(key);
  }

  /** Objects in OSS list order. */
  sortedObjects(bucket: string): StoredObject[] {
    return [...this.bucket(bucket).values()].sort((a, b) => compareUtf8(a.key, b.key));
  }

  /** Streams a request body to a temporary file, hashing it; undefined when it grows past `limit` (the rest is drained). */
  async stageUpload(bucket: string, req: IncomingMessage, limit: number): Promise<StagedBody | undefined> {
    const tempPath = this.tempPath(bucket);
    const file = createWriteStream(tempPath, { flags: 'wx' });
    try {
      const received = await receiveBody(req, file, limit);
      file.end();
      await finished(file);
      if (received === undefined) {
        await rm(tempPath, { force: true });
        return undefined;
      }
      return { tempPath, ...received };
    } catch (error) {
      file.destroy();
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  /** Writes bytes already in memory (a PostObject file) to a temporary file. */
  async stageBytes(bucket: string, bytes: Buffer): Promise<StagedBody> {
    const tempPath = this.tempPath(bucket);
    await writeFile(tempPath, bytes, { flag: 'wx' });
    return { tempPath, size: bytes.length, md5: createHash('md5').update(bytes).digest() };
  }

  /** Copies an object's bytes to a temporary file; undefined when the source does not exist. */
  async stageCopy(bucket: string, key: string): Promise<{ staged: StagedBody; source: StoredObject } | undefined> {
    return this.locks.run(lockId(bucket, key), async () => {
      const source = this.get(bucket, key);
      if (source === undefined) return undefined;
      const tempPath = this.tempPath(bucket);
      await copyFile(this.paths(bucket, key).data, tempPath);
      return { staged: { tempPath, size: source.size, md5: Buffer.from(source.etag, 'hex') }, source };
    });
  }

  /** Publishes staged bytes under `key`; undefined (and nothing changed) when forbidden to overwrite an existing key. */
  async commit(
    bucket: string,
    key: string,
    staged: StagedBody,
    attributes: Pick<StoredObject, 'contentType' | 'userMeta'>,
    forbidOverwrite: boolean,
  ): Promise<{ stored: StoredObject; previous: StoredObject | undefined } | undefined> {
    return this.locks.run(lockId(bucket, key), async () => {
      const previous = this.get(bucket, key);
      if (previous !== undefined && forbidOverwrite) return undefined;
      const stored: StoredObject = {
        key,
        etag: staged.md5.toString('hex').toUpperCase(),
        size: staged.size,
        contentType: attributes.contentType,
        lastModified: wholeSecondsIso(new Date()),
        userMeta: attributes.userMeta,
      };
      const paths = this.paths(bucket, key);
      const metaTemp = this.tempPath(bucket);
      await writeFile(metaTemp, JSON.stringify(stored), { flag: 'wx' });
      await rename(staged.tempPath, paths.data);
      await rename(metaTemp, paths.meta);
      this.bucket(bucket).set(key, stored);
      return { stored, previous };
    });
  }

  /** Removes a staged file that was not committed (a no-op after commit renamed it). */
  async discard(staged: StagedBody): Promise<void> {
    await rm(staged.tempPath, { force: true });
  }

  /** Opens an object for reading under the key's lock, so metadata and bytes belong to the same version. */
  async openObject(bucket: string, key: string): Promise<{ stored: StoredObject; handle: FileHandle } | undefined> {
    return this.locks.run(lockId(bucket, key), async () => {
      const stored = this.get(bucket, key);
      if (stored === undefined) return undefined;
      return { stored, handle: await open(this.paths(bucket, key).data, 'r') };
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.locks.run(lockId(bucket, key), async () => {
      const paths = this.paths(bucket, key);
      this.bucket(bucket).delete(key);
      await rm(paths.meta, { force: true });
      await rm(paths.data, { force: true });
    });
  }

  private bucket(bucket: string): Map<string, StoredObject> {
    const objects = this.index.get(bucket);
    if (objects === undefined) throw new TypeError(`Unknown bucket ${bucket}`);
    return objects;
  }

  private paths(bucket: string, key: string): { data: string; meta: string } {
    const stem = join(this.dataDir, bucket, fileStem(key));
    return { data: `${stem}${DATA_SUFFIX}`, meta: `${stem}${META_SUFFIX}` };
  }

  private tempPath(bucket: string): string {
    return join(this.dataDir, bucket, `${TEMP_PREFIX}${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}`);
  }
}

function fileStem(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Bucket names cannot contain "/", so this is unique per (bucket, key). */
function lockId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

function wholeSecondsIso(date: Date): string {
  return new Date(Math.floor(date.getTime() / MS_PER_SECOND) * MS_PER_SECOND).toISOString();
}

/**
 * Copies the request body into `file` with backpressure, hashing it with MD5. Past `limit` it stops writing and
 * keeps reading to discard the rest, so the client still gets to read the EntityTooLarge answer. Listening to
 * events rather than iterating matters: leaving a for-await loop early destroys the request, and with it the socket.
 */
function receiveBody(req: IncomingMessage, file: WriteStream, limit: number): Promise<{ size: number; md5: Buffer } | undefined> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      file.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        resolve(undefined);
        return;
      }
      hash.update(chunk);
      if (!file.write(chunk)) {
        req.pause();
        file.once('drain', () => req.resume());
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ size, md5: hash.digest() });
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(new Error('The client closed the connection before sending the whole body'));
    };
    const onError = (error: Error) => {
      cleanup();
      req.resume();
      reject(error);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    file.once('error', onError);
  });
}

/** Runs tasks for the same id one after another. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(id, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(id) === tail) this.tails.delete(id);
    }
  }
}
