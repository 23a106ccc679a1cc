/**
 * A local stand-in for the ICE (Intelligent Media Services, API 2020-11-09) RPC endpoint, limited to the Yike AI app
 * job APIs this project calls. It is a real HTTP server on 127.0.0.1 that checks what ICE checks: the ACS3-HMAC-SHA256
 * signature (local/acs3.ts), the STS token, version, action and the request fields.
 *
 * This file routes requests, checks signature, version and action, and runs the job and media actions; the concerns
 * it uses live beside it: request-fields.ts (reading and checking request fields), answers.ts (error and JSON
 * answers), job-views.ts (jobs and media as the Get actions show them), faults.ts (injected failures),
 * inspection.ts (the /__local/ routes), yike-assets.ts, job-clock.ts and outputs.ts.
 *
 * Sources:
 * - [REF]     /work/shared/reference/README.md (ICE API, how @alicloud/openapi-client 0.4.15 sends requests, error codes).
 * - [GETJOB]  GetYikeAIAppJob API reference, https://help.aliyun.com/zh/ims/developer-reference/api-ice-2020-11-09-getyikeaiappjob,
 *             and GetYikeAIAppJobResponseBody of the ice20201109 SDKs: the job fields sit at the TOP LEVEL of the answer,
 *             next to RequestId (no wrapper object, unlike GetMediaProducingJob's "MediaProducingJob").
 * - [BATCH]   BatchGetYikeAIAppJobResponseBody (ice20201109 SDKs; API reference api-ice-2020-11-09-batchgetyikeaiappjob):
 *             {RequestId, JobList[]}, each item with AppInputConfig where GetYikeAIAppJob says AppParams. No field for
 *             ids that were not found, so unknown ids are left out of JobList.
 * - [IMSERR]  ICE/IMS error code table, https://help.aliyun.com/document_detail/197855.html: MissingParameter and
 *             InvalidParameter (400) with their messages, ResourceNotFound (404), InternalError (500).
 * - [COMMON]  Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438; developer.aliyun.com/ask/278265):
 *             InvalidApi.NotFound (404), Invalid{ParameterName} / Missing{ParameterName} (400), Throttling.User (400),
 *             UnsupportedHTTPMethod.
 * - [ERRBODY] Error body {RequestId, HostId, Code, Message, Recommend} as IMM documents it ("Error handling").
 * Anything marked "local assumption" is not documented anywhere we found.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { NonceCache, verifyAcs3Request, type Acs3Secret } from '../acs3';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';
import { createJobClock, imageFails } from './job-clock';
import { listenOnLoopback, LOOPBACK_HOST, readBody } from '../http';
import { createLocalYikeAssets, type LocalImageSource, type RegisteredYikeAsset } from './yike-assets';
import { OUTPUTS_PATH, serveOutput } from './outputs';
import { apiNotFound, errorAnswer, IceApiError, invalidParameter, missingParameter, sendHtml, sendJson, type Answer } from './answers';
import { createIceFaults, type IceFault } from './faults';
import { createInspectionRoutes, INSPECTION_PREFIX } from './inspection';
import { copyCall, copyJob, jobView, mediaView } from './job-views';
import { firstHeader, optionalId, parseAppParams, queryRecord, rawPath, readFields, RPC_PATH, safeFields, type Fields } from './request-fields';

export type { IceFault } from './faults';
export { MAX_ID_FIELD_LENGTH } from './request-fields';

export interface LocalCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiresAt?: Date;
}

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
   * Output URLs point at this server (`/__local/outputs/<jobId>.mp4`, a real playable MP4: outputs.ts) instead
   * of a made-up OSS URL. npm start turns it on so the page's <video> plays.
   */
  serveOutputs?: boolean;
}

export interface AcceptedJob {
  jobId: string;
  requestId: string;
  appId: string;
  /** AppParams parsed; {} when the request had none. */
  appParams: Record<string, unknown>;
  /** AppParams exactly as received; '' when the request had none. */
  appParamsRaw: string;
  productionId?: string;
  folderId?: string;
  accessKeyId: string;
  /** Where AppId came from (the other fields may come from either place). */
  fieldsFrom: 'body' | 'query';
  receivedAt: string;
}

export interface ReceivedCall {
  action: string | undefined;
  version: string | undefined;
  method: string;
  /** Query and form fields merged; values of secret-looking names are redacted. */
  fields: Record<string, string>;
  /** 0 when the connection was dropped without an answer (dropNext). */
  status: number;
  code?: string;
  requestId: string;
}

export interface LocalIceServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, what openapi-client's Config.endpoint takes (with protocol 'http'). */
  readonly endpoint: string;
  readonly port: number;
  jobs(): AcceptedJob[];
  /** Adds jobs as if submitted (at `submittedAtMs` on the job clock, default now): large fixtures without N signed calls. */
  seedJobs(jobs: Array<{ jobId: string; appId: string; appParamsRaw: string; submittedAtMs?: number }>): void;
  calls(): ReceivedCall[];
  /** Media assets registered with RegisterMediaInfo. */
  media(): RegisteredMedia[];
  /** Yike assets registered with RegisterYikeAssetMediaInfo (local/ice/yike-assets.ts). */
  yikeAssets(): RegisteredYikeAsset[];
  /**
   * Injected failures for the next RPC requests (inspection routes do not count). Each call queues `count` one-request
   * faults behind those already queued, so throttleNext(1) then failNext(1, ...) throttles one request and fails the next.
   */
  faults: {
    /** Answer 400 with `code` (default Throttling.User, 400 per [COMMON]) and create nothing. */
    throttleNext(count: number, code?: string): void;
    /** Answer `status` with `code` (or with an HTML body when nonJsonBody) and create nothing. */
    failNext(count: number, status: number, code: string, opts?: { nonJsonBody?: boolean }): void;
    /** Process the request normally (a submit DOES create its job) and answer `ms` later. */
    delayNext(count: number, ms: number): void;
    /** Read the request, then destroy the connection without answering or processing (no job). */
    dropNext(count: number): void;
    /** Consulted for every RPC request no queued fault claims (seeded random faults); undefined lets it through. */
    pickWith(picker: ((action: string) => IceFault | undefined) | undefined): void;
  };
  /** Forgets jobs, calls, pending faults and seen nonces. */
  reset(): void;
  close(): Promise<void>;
}

export const ICE_API_VERSION = '2020-11-09';
export const ICE_ACTIONS = {
  submit: 'SubmitYikeAIAppJob',
  get: 'GetYikeAIAppJob',
  batchGet: 'BatchGetYikeAIAppJob',
  registerMedia: 'RegisterMediaInfo',
  getMedia: 'GetMediaInfo',
} as const;

/** A media asset registered with RegisterMediaInfo. */
export interface RegisteredMedia {
  mediaId: string;
  inputUrl: string;
  mediaType: string;
  registeredAt: string;
}

/** RegisterMediaInfo's InputURL forms (ICE docs): an OSS object URL or oss://bucket/key. */
const MEDIA_INPUT_URL = /^(https?:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\.oss-[a-z0-9-]+\.aliyuncs\.com\/.+|oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+)$/;
const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'text']);

/** One STS triple, the shape FC hands a function in context.credentials [REF]. Values are made up. */
export const DEFAULT_LOCAL_CREDENTIALS: readonly LocalCredential[] = Object.freeze([LOCAL_STS_CREDENTIALS]);

/** Both AOSmith apps take {"LoadImage.1.TargetImage": "<image>"} [REF]. */
export const DEFAULT_LOCAL_APPS: Readonly<Record<string, { imageKey: string }>> = Object.freeze({
  'sys-ao-smith-1': { imageKey: 'LoadImage.1.TargetImage' },
  'sys-ao-smith-2': { imageKey: 'LoadImage.1.TargetImage' },
});

export const DEFAULT_FINISH_AFTER_MS = 3000;
/** Local assumption: ICE documents no limit for AppParams; 4096 characters is ample for one image reference. */
export const DEFAULT_MAX_APP_PARAMS_LENGTH = 4096;
/** Local assumption: larger request bodies are refused (the four fields fit in a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const SUPPORTED_METHODS = new Set(['GET', 'POST']);
const JOB_ID_BYTES = 16;
const HTTP_OK = 200;
const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;
/** [COMMON] lists UnsupportedHTTPMethod as 403 in one table and 400 in another; we follow the first. */
const HTTP_FORBIDDEN = 403;
const HTTP_PAYLOAD_TOO_LARGE = 413;
/** [COMMON] Throttling.User "Request was denied due to user flow control." is a 400. */
const THROTTLING_STATUS = 400;
/** Status for a dropped connection in calls(): no HTTP status was ever sent. */
const NO_ANSWER_STATUS = 0;
/** Where the made-up result video of a finished job lives. */
const OUTPUT_URL_PREFIX = 'https://local-ice-output.oss-cn-shanghai.aliyuncs.com/yike';
const JOB_ID_SEPARATOR = ',';

export async function startIceServer(options: IceServerOptions = {}): Promise<LocalIceServer> {
  const credentials = new Map((options.credentials ?? DEFAULT_LOCAL_CREDENTIALS).map((credential) => [credential.accessKeyId, credential]));
  const apps = options.apps ?? DEFAULT_LOCAL_APPS;
  const finishAfterMs = options.finishAfterMs ?? DEFAULT_FINISH_AFTER_MS;
  const maxAppParamsLength = options.maxAppParamsLength ?? DEFAULT_MAX_APP_PARAMS_LENGTH;
  const log = options.log ?? (() => undefined);
  const clock = createJobClock({ finishAfterMs, now: options.now });

  const jobs: AcceptedJob[] = [];
  const calls: ReceivedCall[] = [];
  let outputUrlPrefix = OUTPUT_URL_PREFIX;
  const media = new Map<string, RegisteredMedia>();
  const yike = createLocalYikeAssets({
    images: options.images,
    apps,
    parseAppParams: (raw, imageKey) => parseAppParams(raw, imageKey, maxAppParamsLength),
    mediaLibraryUrl: (mediaId) => media.get(mediaId)?.inputUrl,
    errors: {
      missingParameter,
      invalidParameter,
      notFound: (message) => new IceApiError(HTTP_NOT_FOUND, 'ResourceNotFound', message),
    },
  });
  /** Per job: when it was submitted on the job clock, and whether it ends Failed. */
  const jobClockEntries = new Map<string, { submittedAtMs: number; fails: boolean }>();
  const jobsById = new Map<string, AcceptedJob>();
  const addJob = (job: AcceptedJob, submittedAtMs: number, image: unknown): void => {
    jobs.push(job);
    jobsById.set(job.jobId, job);
    jobClockEntries.set(job.jobId, { submittedAtMs, fails: imageFails(image, (mediaId) => media.get(mediaId)?.inputUrl ?? yike.inputUrl(mediaId)) });
  };
  const injected = createIceFaults();
  const faults = injected.faults;
  const seenNonces = new NonceCache();
  const delayedAnswers = new Set<NodeJS.Timeout>();

  const lookupSecret = (accessKeyId: string): Acs3Secret | undefined => credentials.get(accessKeyId);
  const reset = (): void => {
    jobs.length = 0;
    jobsById.clear();
    jobClockEntries.clear();
    calls.length = 0;
    media.clear();
    yike.reset();
    injected.clear();
    seenNonces.clear();
  };

  /** Status and result of a job at `now`, derived from the time since it was submitted. */
  const jobViewAt = (job: AcceptedJob, now: number, inputFieldName: 'AppParams' | 'AppInputConfig'): Record<string, unknown> => {
    const entry = jobClockEntries.get(job.jobId) ?? { submittedAtMs: Date.parse(job.receivedAt), fails: false };
    return jobView(job, clock.phaseAt(entry.submittedAtMs, entry.fails, now), outputUrlPrefix, inputFieldName);
  };

  const submit = (fields: Fields, requestId: string, accessKeyId: string, receivedAt: Date): Answer => {
    const appId = fields.get('AppId');
    if (!appId) throw missingParameter('AppId');
    const app = apps[appId.value];
    if (!app) throw invalidParameter('AppId', `No Yike AI app "${appId.value}" exists.`);
    const appParamsRaw = fields.get('AppParams')?.value ?? '';
    const appParams = appParamsRaw === '' ? {} : parseAppParams(appParamsRaw, app.imageKey, maxAppParamsLength);
    const image = appParams[app.imageKey];
    // A value that is not a URL is a media id, and must name a registered asset (a local assumption: ICE's own check is unverified).
    if (typeof image === 'string' && !image.includes('://') && !media.has(image) && !yike.has(image)) {
      throw invalidParameter('AppParams', `"${app.imageKey}" names media "${image}", which is not registered.`);
    }
    const productionId = optionalId(fields, 'ProductionId');
    const folderId = optionalId(fields, 'FolderId');
    const job: AcceptedJob = {
      jobId: randomBytes(JOB_ID_BYTES).toString('hex'),
      requestId,
      appId: appId.value,
      appParams,
      appParamsRaw,
      ...(productionId === undefined ? {} : { productionId }),
      ...(folderId === undefined ? {} : { folderId }),
      accessKeyId,
      fieldsFrom: appId.from,
      receivedAt: receivedAt.toISOString(),
    };
    addJob(job, clock.now(), image);
    return { status: HTTP_OK, body: { RequestId: requestId, JobId: job.jobId } };
  };

  const getJob = (fields: Fields, requestId: string, now: Date): Answer => {
    const jobId = fields.get('JobId');
    if (!jobId) throw missingParameter('JobId');
    const job = jobsById.get(jobId.value);
    // [IMSERR] ResourceNotFound (404) "Resource not found"; which code ICE uses for an unknown Yike job is unverified.
    if (!job) throw new IceApiError(HTTP_NOT_FOUND, 'ResourceNotFound', `Resource not found: no job with JobId "${jobId.value}".`);
    return { status: HTTP_OK, body: { RequestId: requestId, ...jobViewAt(job, clock.now(), 'AppParams') } };
  };

  /** RegisterMediaInfo: InputURL required; a URL already registered is refused unless Overwrite=true (ICE docs). */
  const registerMedia = (fields: Fields, requestId: string, receivedAt: Date): Answer => {
    const inputUrl = fields.get('InputURL')?.value;
    if (!inputUrl) throw missingParameter('InputURL');
    if (!MEDIA_INPUT_URL.test(inputUrl)) throw invalidParameter('InputURL', 'It must be an OSS object URL or oss://bucket/key.');
    const mediaType = fields.get('MediaType')?.value ?? 'video';
    if (!MEDIA_TYPES.has(mediaType)) throw invalidParameter('MediaType', 'It must be image, video, audio or text.');
    const existing = [...media.values()].find((asset) => asset.inputUrl === inputUrl);
    if (existing && fields.get('Overwrite')?.value !== 'true') {
      // The refusal's code is unverified; clients should look the URL up with GetMediaInfo.
      throw invalidParameter('InputURL', 'The media asset with this InputURL is already registered.');
    }
    if (existing) media.delete(existing.mediaId);
    const asset: RegisteredMedia = { mediaId: randomBytes(JOB_ID_BYTES).toString('hex'), inputUrl, mediaType, registeredAt: receivedAt.toISOString() };
    media.set(asset.mediaId, asset);
    return { status: HTTP_OK, body: { RequestId: requestId, MediaId: asset.mediaId } };
  };

  /** GetMediaInfo: by MediaId, or else by InputURL. */
  const getMedia = (fields: Fields, requestId: string): Answer => {
    const mediaId = fields.get('MediaId')?.value;
    const inputUrl = fields.get('InputURL')?.value;
    if (!mediaId && !inputUrl) throw missingParameter('MediaId');
    const asset = mediaId ? media.get(mediaId) : [...media.values()].find((candidate) => candidate.inputUrl === inputUrl);
    if (!asset)
      throw new IceApiError(
        HTTP_NOT_FOUND,
        'ResourceNotFound',
        `Resource not found: no media for ${mediaId ? `MediaId "${mediaId}"` : `InputURL "${inputUrl}"`}.`,
      );
    return { status: HTTP_OK, body: { RequestId: requestId, MediaInfo: mediaView(asset) } };
  };

  const batchGetJobs = (fields: Fields, requestId: string, now: Date): Answer => {
    const wanted = (fields.get('JobIds')?.value ?? '')
      .split(JOB_ID_SEPARATOR)
      .map((id) => id.trim())
      .filter(Boolean);
    const found = wanted.flatMap((id) => jobsById.get(id) ?? []);
    return { status: HTTP_OK, body: { RequestId: requestId, JobList: found.map((job) => jobViewAt(job, clock.now(), 'AppInputConfig')) } };
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

    const fields = readFields(url.searchParams, body, firstHeader(req, 'content-type'));
    if (yike.handles(action)) return yike.handle(action, fields, requestId, receivedAt);
    switch (action) {
      case ICE_ACTIONS.submit:
        return submit(fields, requestId, verdict.accessKeyId, receivedAt);
      case ICE_ACTIONS.get:
        return getJob(fields, requestId, receivedAt);
      case ICE_ACTIONS.batchGet:
        return batchGetJobs(fields, requestId, receivedAt);
      case ICE_ACTIONS.registerMedia:
        return registerMedia(fields, requestId, receivedAt);
      case ICE_ACTIONS.getMedia:
        return getMedia(fields, requestId);
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
        fields: body === undefined ? {} : safeFields(url.searchParams, body, firstHeader(req, 'content-type')),
        status,
        ...(code === undefined ? {} : { code }),
        requestId,
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
      delayedAnswers.add(timer);
      return;
    }
    sendJson(res, requestId, answer);
  };

  const serveInspection = createInspectionRoutes({
    jobs: () => jobs.map(copyJob),
    calls: () => calls.map(copyCall),
    reset,
    faults,
    pendingFaults: injected.pendingCount,
    maxBodyBytes: MAX_BODY_BYTES,
  });

  const { port, close } = await listenOnLoopback(
    (req, res) => {
      const url = new URL(req.url ?? RPC_PATH, `http://${LOOPBACK_HOST}`);
      if (options.serveOutputs && url.pathname.startsWith(OUTPUTS_PATH)) return Promise.resolve(serveOutput(req, res, url.pathname));
      return (url.pathname.startsWith(INSPECTION_PREFIX) ? serveInspection : serveRpc)(req, res, url);
    },
    {
      port: options.port,
      onAbandoned: (error) => log({ level: 'warn', message: 'request abandoned', error: error instanceof Error ? error.message : String(error) }),
    },
  );

  if (options.serveOutputs) outputUrlPrefix = `http://${LOOPBACK_HOST}:${port}${OUTPUTS_PATH.slice(0, -1)}`;
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    endpoint: `${LOOPBACK_HOST}:${port}`,
    port,
    jobs: () => jobs.map(copyJob),
    seedJobs: (seeded) => {
      for (const { submittedAtMs = clock.now(), ...fields } of seeded) {
        const appParams = fields.appParamsRaw === '' ? {} : (JSON.parse(fields.appParamsRaw) as Record<string, unknown>);
        const job: AcceptedJob = {
          ...fields,
          requestId: randomUUID().toUpperCase(),
          appParams,
          accessKeyId: 'seeded',
          fieldsFrom: 'body',
          receivedAt: new Date(submittedAtMs).toISOString(),
        };
        addJob(job, submittedAtMs, apps[job.appId] ? appParams[apps[job.appId]!.imageKey] : undefined);
      }
    },
    media: () => [...media.values()].map((asset) => ({ ...asset })),
    yikeAssets: () => yike.assets(),
    calls: () => calls.map(copyCall),
    faults,
    reset,
    close,
  };
}
