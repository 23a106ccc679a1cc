/**
 * A local stand-in for the ICE (Intelligent Media Services, API 2020-11-09) RPC endpoint, limited to the Yike AI app
 * job APIs this project calls. It is a real HTTP server on 127.0.0.1 that checks what ICE checks: the ACS3-HMAC-SHA256
 * signature (local/acs3.ts), the STS token, version, action and the request fields.
 *
 * This file routes requests, checks signature, version and action, acts out injected faults and records the calls;
 * the actions and concerns it uses live beside it: jobs.ts (submit, get and batch-get jobs), media-library.ts
 * (RegisterMediaInfo, GetMediaInfo), yike-assets.ts (Yike assets and the precheck), request-fields.ts (reading and
 * checking request fields), answers.ts (error and JSON answers), job-views.ts (jobs as the Get actions show them),
 * job-clock.ts, faults.ts (injected failures), inspection.ts (the /__local/ routes), outputs.ts and types.ts (the
 * records and controls they share).
 *
 * Sources:
 * - [FACTS]   docs/platform-facts.md: "ICE Yike AI app jobs", "Where each field travels", "Errors", "Function Compute 3.0".
 * - [COMMON]  Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438; developer.aliyun.com/ask/278265):
 *             InvalidApi.NotFound (404), Invalid{ParameterName} / Missing{ParameterName} (400), Throttling.User (400),
 *             UnsupportedHTTPMethod.
 * The job, media and Yike actions and the error answers cite their own sources ([GETJOB], [BATCH], [IMSERR], [ERRBODY]).
 * Anything marked "local assumption" is not documented anywhere we found.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NonceCache, verifyAcs3Request, type Acs3Secret } from '../acs3';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';
import { listenOnLoopback, LOOPBACK_HOST, queryRecord, rawPath, readBody } from '../http';
import { createIceAcceptance, referenceForm, type AcceptedForm } from './acceptance';
import { apiNotFound, errorAnswer, IceApiError, invalidParameter, missingParameter, sendHtml, sendJson, type Answer } from './answers';
import { createIceFaults } from './faults';
import { createInspectionRoutes, INSPECTION_PREFIX } from './inspection';
import { createJobClock } from './job-clock';
import { copyCall } from './job-views';
import { createIceJobs, type SeededJob } from './jobs';
import { createMediaLibrary } from './media-library';
import { createLocalOutputs, OUTPUTS_PATH } from './outputs';
import { firstHeader, readFields, receivedFields, requiredAppParams, RPC_PATH } from './request-fields';
import type { AcceptedJob, IceFaultControls, LocalCredential, ReceivedCall, RegisteredMedia } from './types';
import { createLocalYikeAssets, type LocalImageSource, type RegisteredYikeAsset } from './yike-assets';

export type { AcceptedJob, IceFault, LocalCredential, ReceivedCall } from './types';
export { MAX_ID_FIELD_LENGTH } from './request-fields';

export interface IceServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default DEFAULT_LOCAL_CREDENTIALS. */
  credentials?: readonly LocalCredential[];
  /** Known AppIds and the AppParams key that must hold the image. Default DEFAULT_LOCAL_APPS. */
  apps?: Record<string, { imageKey: string }>;
  /** A job runs this long (Created → Queuing → Executing → Finished/Failed, see job-clock.ts). Default 3000. */
  finishAfterMs?: number;
  /** The job clock (epoch ms) that jobs age by; tests move it forward. Signatures use the real time. Default Date.now. */
  now?: () => number;
  /** Longest AppParams accepted, in characters. Default DEFAULT_MAX_APP_PARAMS_LENGTH (a local assumption). */
  maxAppParamsLength?: number;
  /** One structured line per request. Never receives secrets, tokens or Authorization headers. Default: silent. */
  log?: (line: Record<string, unknown>) => void;
  /**
   * Where PrecheckYikeAIAppJob reads images (the local OSS server). Unset: no image can be read, so every precheck
   * answers ImageCheckFailed, as ICE does for an image it cannot fetch.
   */
  images?: LocalImageSource;
  /**
   * Finished jobs' outputs are served by this server at `/__local/outputs/<jobId>.mp4` like OSS objects (outputs.ts:
   * a playable MP4 of `outputBytes`, default 3 MiB; `largeOutputBytes`, default 1 GiB, for image keys with
   * `large-output`), over https (this server answers http and https on one port, the local CA: local/tls.ts).
   */
  outputBytes?: number;
  largeOutputBytes?: number;
  /**
   * The image form the apps take (acceptance.ts). Default 'any'; the local cloud passes LOCAL_ICE_ACCEPTS, whose default
   * is 'yike-asset', as ICE's documented examples.
   */
  accepts?: AcceptedForm;
  /** Actions the caller's role may not call: answered 403 Forbidden.RAM (LOCAL_ICE_FORBIDDEN_ACTIONS). Default none. */
  forbiddenActions?: readonly string[];
}

export interface LocalIceServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** https://127.0.0.1:PORT (the same port; clients trust the local CA through NODE_EXTRA_CA_CERTS, local/tls.ts) */
  readonly httpsUrl: string;
  /** TCP connections accepted so far, and how many were TLS handshakes. */
  connections(): { total: number; tls: number };
  /** The requests for finished jobs' outputs (outputs.ts), and whether each came over TLS. */
  outputRequests(): { file: string; method: string; status: number; tls: boolean }[];
  /** 127.0.0.1:PORT, what openapi-client's Config.endpoint takes (with protocol 'http'). */
  readonly endpoint: string;
  readonly port: number;
  jobs(): AcceptedJob[];
  /** Adds jobs as if submitted (at `submittedAtMs` on the job clock, default now): large fixtures without N signed calls. */
  seedJobs(jobs: SeededJob[]): void;
  calls(): ReceivedCall[];
  /** Media assets registered with RegisterMediaInfo. */
  media(): RegisteredMedia[];
  /** Yike assets registered with RegisterYikeAssetMediaInfo (local/ice/yike-assets.ts). */
  yikeAssets(): RegisteredYikeAsset[];
  /** Injected failures for the next RPC requests (types.ts). */
  faults: IceFaultControls;
  /** Changes, while running, which image form the apps take (also POST /__local/settings {"accepts": ...}). */
  setAccepts(form: AcceptedForm): void;
  /** Changes, while running, which actions are answered Forbidden.RAM (also POST /__local/settings {"forbiddenActions": [...]}). */
  setForbiddenActions(actions: readonly string[]): void;
  /** Forgets jobs, calls, pending faults and seen nonces; the accepted form and forbidden actions go back to the options'. */
  reset(): void;
  close(): Promise<void>;
}

const ICE_API_VERSION = '2020-11-09';
const ICE_ACTIONS = {
  submit: 'SubmitYikeAIAppJob',
  get: 'GetYikeAIAppJob',
  batchGet: 'BatchGetYikeAIAppJob',
  registerMedia: 'RegisterMediaInfo',
  getMedia: 'GetMediaInfo',
} as const;

/** One STS triple, the shape FC hands a function in context.credentials [FACTS]. Values are made up. */
export const DEFAULT_LOCAL_CREDENTIALS: readonly LocalCredential[] = Object.freeze([LOCAL_STS_CREDENTIALS]);

/** Both AOSmith apps take {"LoadImage.1.TargetImage": "<image>"} [FACTS]. */
const DEFAULT_LOCAL_APPS: Readonly<Record<string, { imageKey: string }>> = Object.freeze({
  'sys-ao-smith-1': { imageKey: 'LoadImage.1.TargetImage' },
  'sys-ao-smith-2': { imageKey: 'LoadImage.1.TargetImage' },
});

const DEFAULT_FINISH_AFTER_MS = 3000;
/** Local assumption: ICE documents no limit for AppParams; 4096 characters is ample for one image reference. */
export const DEFAULT_MAX_APP_PARAMS_LENGTH = 4096;
/** Local assumption: larger request bodies are refused (the four fields fit in a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const SUPPORTED_METHODS = new Set(['GET', 'POST']);
const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;
/** [COMMON] lists UnsupportedHTTPMethod as 403 in one table and 400 in another; we follow the first. */
const HTTP_FORBIDDEN = 403;
const HTTP_PAYLOAD_TOO_LARGE = 413;
/** [COMMON] Throttling.User "Request was denied due to user flow control." is a 400. */
const THROTTLING_STATUS = 400;
/** Status for a dropped connection in calls(): no HTTP status was ever sent. */
const NO_ANSWER_STATUS = 0;

export async function startIceServer(options: IceServerOptions = {}): Promise<LocalIceServer> {
  const credentials = new Map((options.credentials ?? DEFAULT_LOCAL_CREDENTIALS).map((credential) => [credential.accessKeyId, credential]));
  const apps = options.apps ?? DEFAULT_LOCAL_APPS;
  const finishAfterMs = options.finishAfterMs ?? DEFAULT_FINISH_AFTER_MS;
  const maxAppParamsLength = options.maxAppParamsLength ?? DEFAULT_MAX_APP_PARAMS_LENGTH;
  const log = options.log ?? (() => undefined);
  const clock = createJobClock({ finishAfterMs, now: options.now });

  const calls: ReceivedCall[] = [];
  let origin = { http: `http://${LOOPBACK_HOST}`, https: `https://${LOOPBACK_HOST}` };
  const outputs = createLocalOutputs({ baseUrl: () => origin, outputBytes: options.outputBytes, largeOutputBytes: options.largeOutputBytes });
  const media = createMediaLibrary();
  const acceptance = createIceAcceptance({ accepts: options.accepts, forbiddenActions: options.forbiddenActions });
  const formOf = (reference: string) => referenceForm(reference, { isYikeAsset: (id) => yike.has(id), isMediaLibraryId: (id) => media.has(id) });
  const yike = createLocalYikeAssets({
    images: options.images,
    apps,
    imageOf: (fields, imageKey) => requiredAppParams(fields, imageKey, maxAppParamsLength).image,
    mediaLibraryUrl: (mediaId) => media.inputUrl(mediaId),
    takesReference: (reference) => acceptance.takes(formOf(reference)),
    errors: {
      missingParameter,
      invalidParameter,
      notFound: (message) => new IceApiError(HTTP_NOT_FOUND, 'ResourceNotFound', message),
    },
  });
  const jobs = createIceJobs({
    apps,
    clock,
    maxAppParamsLength,
    isRegisteredMedia: (mediaId) => media.has(mediaId) || yike.has(mediaId),
    mediaInputUrl: (mediaId) => media.inputUrl(mediaId) ?? yike.inputUrl(mediaId),
    outputsFor: outputs.forJob,
    refusalOf: (image, imageKey) => (acceptance.takes(formOf(image)) ? undefined : acceptance.submitRefusal(imageKey, formOf(image))),
  });
  const injected = createIceFaults();
  const faults = injected.faults;
  const seenNonces = new NonceCache();
  const connectionIds = new WeakMap<object, number>();
  let nextConnectionId = 1;
  const connectionOf = (req: IncomingMessage): number => {
    let id = connectionIds.get(req.socket);
    if (id === undefined) {
      id = nextConnectionId++;
      connectionIds.set(req.socket, id);
    }
    return id;
  };
  const delayedAnswers = new Set<NodeJS.Timeout>();

  const lookupSecret = (accessKeyId: string): Acs3Secret | undefined => credentials.get(accessKeyId);
  const reset = (): void => {
    jobs.reset();
    outputs.reset();
    calls.length = 0;
    media.reset();
    yike.reset();
    injected.clear();
    seenNonces.clear();
    acceptance.reset();
  };

  /** Signature, version, action, then the action itself. Throws IceApiError for every rejection. */
  const handleRpc = (req: IncomingMessage, url: URL, body: Buffer, requestId: string, receivedAt: Date): Answer | Promise<Answer> => {
    const method = req.method ?? '';
    if (!SUPPORTED_METHODS.has(method)) throw new IceApiError(HTTP_FORBIDDEN, 'UnsupportedHTTPMethod', 'This http method not supported.');
    if (url.pathname !== RPC_PATH) throw apiNotFound();
    const verdict = verifyAcs3Request({
      method,
      path: rawPath(req.url ?? RPC_PATH),
      query: queryRecord(url.searchParams),
      headers: req.headers,
      body,
      lookupSecret,
      now: receivedAt,
      seenNonces,
    });
    if (!verdict.ok) throw new IceApiError(verdict.status, verdict.code, verdict.message);

    const version = firstHeader(req, 'x-acs-version');
    // [COMMON] Missing{ParameterName} / Invalid{ParameterName} for the Version parameter.
    if (!version) throw new IceApiError(HTTP_BAD_REQUEST, 'MissingVersion', 'Version is mandatory for this action.');
    if (version !== ICE_API_VERSION)
      throw new IceApiError(HTTP_BAD_REQUEST, 'InvalidVersion', `Specified parameter Version is not valid: ICE speaks ${ICE_API_VERSION}.`);
    const action = firstHeader(req, 'x-acs-action');
    if (!action) throw new IceApiError(HTTP_BAD_REQUEST, 'MissingAction', 'Action is mandatory for this action.');

    acceptance.authorize(action);
    const fields = readFields(url.searchParams, body, firstHeader(req, 'content-type'));
    if (yike.handles(action)) return yike.handle(action, fields, requestId, receivedAt);
    switch (action) {
      case ICE_ACTIONS.submit:
        return jobs.submit(fields, requestId, verdict.accessKeyId, receivedAt);
      case ICE_ACTIONS.get:
        return jobs.get(fields, requestId);
      case ICE_ACTIONS.batchGet:
        return jobs.batchGet(fields, requestId);
      case ICE_ACTIONS.registerMedia:
        return media.register(fields, requestId, receivedAt);
      case ICE_ACTIONS.getMedia:
        return media.get(fields, requestId);
      default:
        throw apiNotFound();
    }
  };

  const serveRpc = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const receivedAt = new Date();
    const requestId = randomUUID().toUpperCase();
    const body = await readBody(req, MAX_BODY_BYTES);
    const fault = injected.next(firstHeader(req, 'x-acs-action') ?? '');
    const record = (status: number, code?: string): void => {
      calls.push({
        action: firstHeader(req, 'x-acs-action'),
        version: firstHeader(req, 'x-acs-version'),
        method: req.method ?? '',
        ...(body === undefined ? { fields: {}, placement: {} } : receivedFields(url.searchParams, body, firstHeader(req, 'content-type'))),
        status,
        ...(code === undefined ? {} : { code }),
        requestId,
        connection: connectionOf(req),
        tls: Boolean((req.socket as { encrypted?: boolean }).encrypted),
      });
      log({ requestId, action: firstHeader(req, 'x-acs-action'), status, code, fault: fault?.kind, latencyMs: Date.now() - receivedAt.getTime() });
    };

    if (fault?.kind === 'drop') {
      record(NO_ANSWER_STATUS);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'throttle') {
      record(THROTTLING_STATUS, fault.code);
      sendJson(res, requestId, errorAnswer(requestId, THROTTLING_STATUS, fault.code, 'Request was denied due to user flow control.'));
      return;
    }
    if (fault?.kind === 'fail') {
      record(fault.status, fault.code);
      if (fault.nonJsonBody) sendHtml(res, requestId, fault.status);
      else sendJson(res, requestId, errorAnswer(requestId, fault.status, fault.code, 'The request processing has failed due to some unknown error.'));
      return;
    }

    let answer: Answer;
    if (body === undefined) {
      answer = errorAnswer(requestId, HTTP_PAYLOAD_TOO_LARGE, 'RequestEntityTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    } else {
      try {
        answer = await handleRpc(req, url, body, requestId, receivedAt);
      } catch (error) {
        if (!(error instanceof IceApiError)) throw error;
        answer = errorAnswer(requestId, error.status, error.code, error.message);
      }
    }
    record(answer.status, answer.code);
    if (fault?.kind === 'delay') {
      const timer = setTimeout(() => {
        delayedAnswers.delete(timer);
        // The client may have given up (read timeout); there is nobody left to answer then.
        if (!res.destroyed) sendJson(res, requestId, answer);
      }, fault.ms);
      // A delay longer than any client waits (a test's "never answers") must not keep the process alive.
      timer.unref();
      delayedAnswers.add(timer);
      return;
    }
    sendJson(res, requestId, answer);
  };

  const serveInspection = createInspectionRoutes({
    jobs: jobs.jobs,
    calls: () => calls.map(copyCall),
    reset,
    faults,
    pendingFaults: injected.pendingCount,
    acceptance,
    maxBodyBytes: MAX_BODY_BYTES,
  });

  const { port, close, connections } = await listenOnLoopback(
    (req, res) => {
      const url = new URL(req.url ?? RPC_PATH, `http://${LOOPBACK_HOST}`);
      if (url.pathname.startsWith(OUTPUTS_PATH)) return outputs.serve(req, res, url.pathname);
      return (url.pathname.startsWith(INSPECTION_PREFIX) ? serveInspection : serveRpc)(req, res, url);
    },
    {
      port: options.port,
      tls: true,
      onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
    },
  );

  origin = { http: `http://${LOOPBACK_HOST}:${port}`, https: `https://${LOOPBACK_HOST}:${port}` };
  return {
    url: origin.http,
    httpsUrl: origin.https,
    connections,
    outputRequests: outputs.requests,
    endpoint: `${LOOPBACK_HOST}:${port}`,
    port,
    jobs: jobs.jobs,
    seedJobs: jobs.seed,
    media: media.assets,
    yikeAssets: () => yike.assets(),
    calls: () => calls.map(copyCall),
    faults,
    setAccepts: (form) => acceptance.setAccepts(form),
    setForbiddenActions: (actions) => acceptance.setForbiddenActions(actions),
    reset,
    close,
  };
}
