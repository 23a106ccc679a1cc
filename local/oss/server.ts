/**
 * A local stand-in for Alibaba Cloud OSS: a real HTTP server on 127.0.0.1 that speaks the REST subset this project
 * uses (PutObject, CopyObject, GetObject, HeadObject, DeleteObject, ListObjects V1 and V2, PostObject browser forms
 * in post-object.ts, bucket CORS and preflights in cors.ts, GetBucketLocation), verifies V1 signatures the way OSS does (see
 * signature.ts), stores objects on disk and reports created objects as FC OSS trigger events.
 *
 * This file routes requests, authenticates them, applies CORS and injected faults, records each request and sends
 * the trigger notifications; the concerns it uses live beside it: object-operations.ts (each object operation),
 * authentication.ts (header, signed-URL and anonymous access), request-target.ts (bucket and key from path or Host),
 * object-store.ts (objects on disk), object-headers.ts (request and response headers of objects), listing.ts
 * (ListObjects V1/V2), errors.ts and xml.ts (error and XML answers), trigger-event.ts (the FC OSS trigger event),
 * faults.ts (injected failures) and types.ts (the notification and request records).
 *
 * Sources:
 * - [API]      OSS API reference pages PutObject, CopyObject, GetObject, HeadObject, DeleteObject, ListObjects
 *              (GetBucket), ListObjectsV2 (GetBucketV2): headers and status codes.
 * - [EVENT]    FC "Trigger event format" for OSS, https://www.alibabacloud.com/help/en/functioncompute/fc/formats-of-event-for-different-triggers-1
 *              (sample: test/fixtures/events/oss-trigger-put.json).
 * - [LOCATION] OSS "GetBucketLocation": GET /?location answers <LocationConstraint>oss-cn-hangzhou</LocationConstraint>.
 * - [POST]     OSS "PostObject" (https://www.alibabacloud.com/help/en/oss/developer-reference/postobject); the form
 *              itself is checked in post-object.ts, the upload stored in object-operations.ts.
 * Anything marked "unverified" is our best guess where no document was found.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';
import { listenOnLoopback, LOOPBACK_HOST, readBody } from '../http';
import { authModeOf, createAuthenticator, credentialMap } from './authentication';
import { BucketCorsStore, type OssCorsConfiguration, type OssCorsRule } from './cors';
import { hostIdOf, noSuchBucket, notImplemented, OssError, sendError } from './errors';
import { sendXml, xmlDocument } from './xml';
import { createOssFaults, type OssFaults } from './faults';
import { COPY_SOURCE_HEADER, headerText, RESPONSE_OVERRIDE_PARAMS } from './object-headers';
import { createObjectOperations, encodeKeyForUrl } from './object-operations';
import { ObjectStore, type StoredObject } from './object-store';
import { isPostObjectRequest } from './post-object';
import { OssRequestError } from './request-error';
import { LOCALHOST, parseTarget, type Target } from './request-target';
import { SIGNED_SUBRESOURCES, type LocalCredential } from './signature';
import { ossTriggerEvent, type OssEventName } from './trigger-event';
import type { AuthMode, OssNotification, RecordedOssRequest, SignedOssRequest } from './types';

export type { LocalCredential } from './signature';
export type { OssNotification } from './types';
export { MAX_PUT_BODY_BYTES } from './object-operations';

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
  /** Buckets in another region than `region` (GetBucketLocation answers it): the doctor's "bucket in another region". */
  bucketRegions?: Record<string, string>;
  /** Default '1234567890123456' (the made-up account of the sample events in test/fixtures/events); bucket owner and event principal. */
  accountId?: string;
  /** Called after an object is stored, asynchronously, like an OSS event notification: it never blocks or fails the PUT. */
  onObjectCreated?: (event: OssNotification) => void;
  /** One structured line per request; never carries secrets, tokens or signatures. */
  log?: (line: Record<string, unknown>) => void;
  /** CORS rules per bucket from the start (local/oss/cors.ts); PutBucketCors through ali-oss is the usual way. */
  cors?: Record<string, OssCorsRule[] | OssCorsConfiguration>;
  /** Largest PutObject body; default MAX_PUT_BODY_BYTES (OSS's own limit is 5 GB). */
  maxPutBytes?: number;
}

export interface LocalOssServer {
  /** http://127.0.0.1:PORT: pass as ali-oss `endpoint` (requests then name the bucket in the Host header). */
  readonly url: string;
  /** http://localhost:PORT: pass as ali-oss `endpoint` together with `sldEnable: true` to use signatureUrl. */
  readonly localhostUrl: string;
  /** https://localhost:PORT, the same port over TLS (the local CA, local/tls.ts; trusted through NODE_EXTRA_CA_CERTS). */
  readonly httpsLocalhostUrl: string;
  /** TCP connections accepted so far, and how many were TLS handshakes. */
  connections(): { total: number; tls: number };
  readonly port: number;
  /** The plain path-style URL of an object on this server, the key percent-encoded per segment as OSS URLs encode it. */
  objectUrl(bucket: string, key: string): string;
  requests(): RecordedOssRequest[];
  /** The signed requests (header, URL or form), with who signed them and what RAM sees of them (local/ram/calls.ts). */
  signedRequests(): SignedOssRequest[];
  /** Keys of a bucket in OSS list order (UTF-8 byte order). */
  listKeys(bucket: string): string[];
  /** Injected failures (local/oss/faults.ts), applied to authenticated requests before they are processed. */
  faults: OssFaults;
  /** Resolves once no request is being served (a held one included): what was sent has been acted on. */
  idle(): Promise<void>;
  /** Clears the request log (objects stay). */
  reset(): void;
  close(): Promise<void>;
}

/** One STS triple, like the credentials FC hands a function with a role. */
export const DEFAULT_OSS_CREDENTIALS: readonly LocalCredential[] = Object.freeze([LOCAL_STS_CREDENTIALS]);

const DEFAULT_REGION = 'cn-shanghai';
const DEFAULT_ACCOUNT_ID = '1234567890123456';
/** [API] bucket naming: 3-63 characters, lower-case letters, digits and hyphens, not starting or ending with a hyphen. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const REQUEST_ID_HEADER = 'x-oss-request-id';
/** Sub-resources this server implements; any other signed sub-resource selects an operation it lacks. */
const SUPPORTED_SUBRESOURCES = new Set(['cors', 'location', 'security-token', 'continuation-token', ...RESPONSE_OVERRIDE_PARAMS]);
/** Request ids look like "58F9FF2D3DF792092E12044C" [EVENT]: epoch seconds in hex, then 8 random bytes, upper case. */
const REQUEST_ID_SECONDS_HEX_DIGITS = 8;
const REQUEST_ID_RANDOM_BYTES = 8;
const MS_PER_SECOND = 1000;

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
  const signed: SignedOssRequest[] = [];
  const faults = createOssFaults();

  const notify = (eventName: OssEventName, bucket: string, stored: StoredObject, previousSize: number, requestId: string, sourceIp: string) => {
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

  const lookupSecret = (accessKeyId: string) => credentials.get(accessKeyId);
  const authenticate = createAuthenticator({ publicRead, lookupSecret });
  const { putObject, copyObject, postObject, getObject, deleteObject, listObjects } = createObjectOperations({
    store,
    buckets,
    lookupSecret,
    accountId,
    notify,
    maxPutBytes: options.maxPutBytes,
  });

  const dispatch = async (req: IncomingMessage, res: ServerResponse, target: Target & { bucket: string }, requestId: string) => {
    const { bucket, key, query } = target;
    const method = req.method ?? 'GET';
    if (key === '') {
      if ('cors' in query) {
        return await cors
          .handleApi(method, bucket, (limit) => readBody(req, limit), res)
          .catch((error: unknown) => {
            throw error instanceof OssRequestError ? OssError.from(error) : error;
          });
      }
      if ('location' in query && method === 'GET') return sendXml(res, xmlDocument(['LocationConstraint', `oss-${options.bucketRegions?.[bucket] ?? region}`]));
      if (method === 'GET') return await listObjects(res, bucket, query);
      throw notImplemented(`${method} on a bucket (only ListObjects, ?cors and ?location)`);
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return await getObject(req, res, bucket, key, query);
      case 'PUT':
        return (await req.headers[COPY_SOURCE_HEADER]) === undefined
          ? putObject(req, res, bucket, key, requestId)
          : copyObject(req, res, bucket, key, requestId);
      case 'DELETE':
        return await deleteObject(res, bucket, key);
      case 'POST':
        throw notImplemented('POST (PostObject, AppendObject, multipart uploads)');
      default:
        throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method });
    }
  };

  let serving = 0;
  const idleWaiters: (() => void)[] = [];
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    serving++;
    try {
      await serveOne(req, res);
    } finally {
      serving--;
      if (serving === 0) for (const resolve of idleWaiters.splice(0)) resolve();
    }
  };

  const serveOne = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAtMs = Date.now();
    const requestId = newOssRequestId(new Date(startedAtMs));
    const method = req.method ?? 'GET';
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('Server', 'AliyunOSS');
    let target: Target | undefined;
    let auth: AuthMode = 'anonymous';
    let accessKeyId: string | undefined;
    let formKey: string | undefined;
    let code: string | undefined;
    let noted = false;
    const note = (status: number) => {
      if (noted) return;
      noted = true;
      const bucket = target?.bucket;
      const key = target?.key || undefined;
      recorded.push({ method, bucket, key, status, code, auth });
      if (accessKeyId !== undefined) {
        const object = key ?? formKey;
        const subresource = object ? undefined : ['cors', 'location'].find((name) => target?.query[name] !== undefined);
        const prefix = !object && !subresource && method === 'GET' ? (target?.query.prefix ?? '') : undefined;
        signed.push({
          method,
          bucket,
          key: object,
          status,
          code,
          accessKeyId,
          ...(subresource ? { subresource } : {}),
          ...(prefix === undefined ? {} : { prefix }),
        });
      }
      log({ requestId, method, bucket, key, status, code, auth, latencyMs: Date.now() - startedAtMs });
    };
    // Recorded as the answer ends, before its last bytes can reach the client: whoever has read an answer finds its
    // request in requests(), however slowly this server's own code runs on afterwards.
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      note(res.statusCode);
      return end(...args);
    }) as ServerResponse['end'];
    try {
      target = parseTarget(req.url ?? '/', headerText(req.headers.host));
      auth = authModeOf(req.headers, target.query);
      accessKeyId = auth === 'header' ? /^OSS\s+([^:]+):/.exec(headerText(req.headers.authorization))?.[1] : target.query.OSSAccessKeyId;
      if (target.bucket === undefined) throw notImplemented('service-level requests (ListBuckets)');
      if (!buckets.has(target.bucket)) throw noSuchBucket(target.bucket);
      const located = { ...target, bucket: target.bucket };
      // Preflights are never signed, and a PostObject form carries its own authorization (cors.ts, post-object.ts).
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
          await postObject(
            req,
            res,
            located,
            requestId,
            (mode, formKeyId) => {
              auth = mode;
              accessKeyId = formKeyId;
            },
            (key) => {
              formKey = key;
            },
          );
        } else {
          await dispatch(req, res, located, requestId);
        }
      }
    } catch (thrown) {
      const error = thrown instanceof OssError ? thrown : new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (!(thrown instanceof OssError)) log({ level: 'error', requestId, message: 'request failed', error: errorMessage(thrown) });
      code = error.code;
      note(error.status);
      sendError(res, method, requestId, hostIdOf(target?.bucket, region), error);
    }
    // A connection cut instead of answered (the reset fault) never ends its answer.
    note(res.statusCode);
  };

  const { port, close, connections } = await listenOnLoopback(serve, {
    port: options.port,
    tls: true,
    onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
  });
  const url = `http://${LOOPBACK_HOST}:${port}`;

  return {
    url,
    localhostUrl: `http://${LOCALHOST}:${port}`,
    httpsLocalhostUrl: `https://${LOCALHOST}:${port}`,
    connections,
    port,
    objectUrl: (bucket, key) => `${url}/${bucket}/${encodeKeyForUrl(key)}`,
    requests: () => recorded.map((entry) => ({ ...entry })),
    signedRequests: () => signed.map((entry) => ({ ...entry })),
    faults,
    listKeys: (bucket) => {
      if (!buckets.has(bucket)) throw new TypeError(`Unknown bucket ${JSON.stringify(bucket)}`);
      return store.sortedObjects(bucket).map((stored) => stored.key);
    },
    idle: () => (serving === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    reset: () => {
      recorded.length = 0;
      signed.length = 0;
    },
    close,
  };
}

/** An OSS-like request id for the given time [EVENT]. */
function newOssRequestId(now: Date): string {
  const seconds = Math.floor(now.getTime() / MS_PER_SECOND)
    .toString(16)
    .padStart(REQUEST_ID_SECONDS_HEX_DIGITS, '0');
  return `${seconds}${randomBytes(REQUEST_ID_RANDOM_BYTES).toString('hex')}`.toUpperCase();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
