import { OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import type { Config } from '../../runtime/config';
import type { CredentialsProvider } from '../openapi/credentials';
import { IceError, isNotFound } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import { connectionFor, openApiClientCache } from '../openapi/client';
import { parseBody } from './answers';
import { classifyIceError } from './classify';
import { getYikeAssetAudit, precheckYikeAIAppJob, registerYikeAsset } from './yike-assets';
import { withRetry, type RetryHooks } from '../../runtime/retry';
import {
  batchGetJobsResponseSchema,
  batchJobEntrySchema,
  getJobResponseSchema,
  getMediaResponseSchema,
  registerMediaResponseSchema,
  submitResponseSchema,
  type GetJobResponse,
} from './schemas';

interface SubmitYikeAIAppJobInput {
  appId: string;
  /** The AppParams JSON string (see buildAppParams) or an object that is serialised with JSON.stringify. */
  appParams?: string | Record<string, unknown>;
  productionId?: string;
  folderId?: string;
}

interface SubmitYikeAIAppJobResult {
  requestId: string;
  jobId: string;
}

/** One job as ICE answers it (GetYikeAIAppJob, or an entry of BatchGetYikeAIAppJob's JobList): what toJob makes of it. */
type YikeAIAppJob = ReturnType<typeof toJob>;

export interface IceClient {
  submitYikeAIAppJob(input: SubmitYikeAIAppJobInput): Promise<SubmitYikeAIAppJobResult>;
  getYikeAIAppJob(jobId: string): Promise<YikeAIAppJob>;
  /**
   * Several jobs in one BatchGetYikeAIAppJob call (at most BATCH_GET_MAX_JOB_IDS ids). Ids ICE does not know are
   * absent from the answer. Each job's `requestId` is the batch call's. `unreadable` counts entries that did not
   * parse: then an id missing from `jobs` may be one of them, not a job ICE forgot.
   */
  batchGetYikeAIAppJobs(jobIds: readonly string[]): Promise<{ requestId: string; jobs: YikeAIAppJob[]; unreadable: number }>;
  /** BATCH_GET_MAX_JOB_IDS: the most JobIds batchGetYikeAIAppJobs takes (the watcher chunks its jobs by it). */
  readonly maxJobIdsPerBatchGet: number;
  /**
   * The ICE media id of an image (OSS URL or oss://bucket/key): looked up with GetMediaInfo, else registered
   * with RegisterMediaInfo (MediaType image). Registration refuses a URL that is already registered, so a
   * resend cannot create a second asset; a refusal is followed by one more lookup (a concurrent register won).
   */
  resolveMediaId(inputUrl: string): Promise<string>;
  /** PrecheckYikeAIAppJob: Status Success|Failed and each refused key's ErrorCode (shared/adapters/ice/yike-assets.ts). */
  precheckYikeAIAppJob(input: { appId: string; appParams: string }): ReturnType<typeof precheckYikeAIAppJob>;
  registerYikeAsset(input: { inputUrl: string; productionId?: string; folderId?: string }): ReturnType<typeof registerYikeAsset>;
  getYikeAssetAudit(mediaId: string): ReturnType<typeof getYikeAssetAudit>;
  /**
   * Any other ICE action (shared/adapters/ice/yike-assets.ts builds on it): fields in the query or the form body, as the
   * official SDK sends that action; same signing, retries and error classification as the calls above.
   */
  invoke(action: string, fields: { query?: Record<string, string>; body?: Record<string, string> }, idempotent: boolean): Promise<unknown>;
}

/**
 * JobIds per BatchGetYikeAIAppJob call. ICE documents no maximum (API reference and ice-20201109 SDKs, 2026): 10 is
 * our conservative choice, so 1,000 in-flight jobs cost 100 calls. The watcher reads it as `maxJobIdsPerBatchGet`.
 */
const BATCH_GET_MAX_JOB_IDS = 10;

export interface IceClientOptions extends RetryHooks {
  config: Config['ice'];
  credentials: CredentialsProvider;
  logger?: Logger;
}

/**
 * The calls that only read (nothing changes at ICE however often they are sent): they reuse pooled connections, and
 * a pooled connection the server had already closed (ECONNRESET on a reused socket) is simply sent again. Every other
 * call (SubmitYikeAIAppJob, the registrations) opens a connection of its own.
 */
const READ_ACTIONS: ReadonlySet<string> = new Set(['GetYikeAIAppJob', 'BatchGetYikeAIAppJob', 'PrecheckYikeAIAppJob', 'GetMediaInfo', 'GetYikeAssetMediaInfo']);

/** The security token expired mid-flight: fetch credentials again and resend once. */
const EXPIRED_TOKEN_CODE = 'InvalidSecurityToken.Expired';

/** The ICE API whose Yike AI app actions we call (SubmitYikeAIAppJob, ICE 2020-11-09). */
const ICE_API_VERSION = '2020-11-09';

function apiParams(action: string, version: string): Params {
  // Same shape as the official ice-20201109 SDK (src/client.ts): RPC, POST /, a form body when there is one, JSON answer.
  // Each call puts its fields where that SDK does: the form body for SubmitYikeAIAppJob, the query for every other.
  return new Params({
    action,
    version,
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}

export function createIceClient(options: IceClientOptions): IceClient {
  const { config, logger } = options;
  const clientFor = openApiClientCache(config);

  async function call(action: string, request: OpenApiRequest, idempotent: boolean): Promise<unknown> {
    // Reads reuse pooled connections; a submit (any write) gets a fresh one of its own (openapi/client.ts).
    const connection = connectionFor(READ_ACTIONS.has(action) && config.keepAliveReads);
    request.headers = { ...request.headers, ...connection.headers };
    const runtime = new RuntimeOptions({
      autoretry: false,
      readTimeout: config.readTimeoutMs,
      connectTimeout: config.connectTimeoutMs,
      ...connection.runtime,
    });
    let refreshedCredentials = false;
    return await withRetry(
      async (attempt) => {
        // Outside the try: missing credentials are a CredentialsError, not an ICE failure.
        const client = clientFor(options.credentials());
        const started = Date.now();
        try {
          const response = await client.callApi(apiParams(action, ICE_API_VERSION), request, runtime);
          logger?.debug('ice call succeeded', { action, attempt, latencyMs: Date.now() - started });
          return (response as { body?: unknown }).body;
        } catch (raw) {
          const error = classifyIceError(raw, idempotent);
          logger?.warn('ice call failed', {
            action,
            attempt,
            code: error.code,
            statusCode: error.statusCode,
            iceRequestId: error.requestId,
            outcome: error.outcome,
            retryable: error.retryable,
            latencyMs: Date.now() - started,
          });
          if (error.code === EXPIRED_TOKEN_CODE && !refreshedCredentials) {
            refreshedCredentials = true;
            // ICE rejected the request, so resending it with fresh credentials cannot duplicate a job.
            throw new IceError(error.code, error.message, 'rejected', {
              statusCode: error.statusCode,
              requestId: error.requestId,
              retryable: true,
              cause: raw,
            });
          }
          throw error;
        }
      },
      config.retry,
      {
        sleep: options.sleep,
        random: options.random,
        onRetry: (info) => {
          logger?.info('ice call retrying', { action, attempt: info.attempt, delayMs: info.delayMs, code: info.error.code });
          options.onRetry?.(info);
        },
      },
    );
  }

  const invoke: IceClient['invoke'] = (action, fields, idempotent) => call(action, new OpenApiRequest({ ...fields }), idempotent);

  return {
    invoke,
    maxJobIdsPerBatchGet: BATCH_GET_MAX_JOB_IDS,
    precheckYikeAIAppJob: (input) => precheckYikeAIAppJob(invoke, input),
    registerYikeAsset: (input) => registerYikeAsset(invoke, input),
    getYikeAssetAudit: (mediaId) => getYikeAssetAudit(invoke, mediaId),

    async submitYikeAIAppJob(input) {
      const body: Record<string, string> = { AppId: input.appId };
      if (input.appParams !== undefined) {
        body.AppParams = typeof input.appParams === 'string' ? input.appParams : JSON.stringify(input.appParams);
      }
      if (input.productionId) body.ProductionId = input.productionId;
      if (input.folderId) body.FolderId = input.folderId;
      const response = parseBody(submitResponseSchema, await call('SubmitYikeAIAppJob', new OpenApiRequest({ body }), false), 'SubmitYikeAIAppJob');
      return { requestId: response.RequestId, jobId: response.JobId };
    },

    async resolveMediaId(inputUrl) {
      const lookUp = async (): Promise<string | undefined> => {
        try {
          const body = await call('GetMediaInfo', new OpenApiRequest({ query: { InputURL: inputUrl } }), true);
          return parseBody(getMediaResponseSchema, body, 'GetMediaInfo').MediaInfo.MediaId;
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      };
      const known = await lookUp();
      if (known) return known;
      try {
        // Query fields, as the official SDK sends them (ice-20201109/src/client.ts, registerMediaInfoWithOptions).
        const body = await call('RegisterMediaInfo', new OpenApiRequest({ query: { InputURL: inputUrl, MediaType: 'image' } }), true);
        return parseBody(registerMediaResponseSchema, body, 'RegisterMediaInfo').MediaId;
      } catch (error) {
        const registeredMeanwhile = error instanceof IceError && error.outcome === 'rejected' ? await lookUp() : undefined;
        if (registeredMeanwhile) return registeredMeanwhile;
        throw error;
      }
    },

    async getYikeAIAppJob(jobId) {
      const body = await call('GetYikeAIAppJob', new OpenApiRequest({ query: { JobId: jobId } }), true);
      return toJob(parseBody(getJobResponseSchema, body, 'GetYikeAIAppJob'));
    },

    async batchGetYikeAIAppJobs(jobIds) {
      if (jobIds.length === 0) return { requestId: '', jobs: [], unreadable: 0 };
      if (jobIds.length > BATCH_GET_MAX_JOB_IDS)
        throw new RangeError(`BatchGetYikeAIAppJob takes at most ${BATCH_GET_MAX_JOB_IDS} JobIds, got ${jobIds.length}`);
      // JobIds travels in the query, as the SDKs send it (@Query NameInMap("JobIds")), comma-separated.
      const body = await call('BatchGetYikeAIAppJob', new OpenApiRequest({ query: { JobIds: jobIds.join(',') } }), true);
      const response = parseBody(batchGetJobsResponseSchema, body, 'BatchGetYikeAIAppJob');
      const jobs: YikeAIAppJob[] = [];
      let unreadable = 0;
      for (const entry of response.JobList) {
        const parsed = batchJobEntrySchema.safeParse(entry);
        if (!parsed.success) {
          unreadable++;
          const jobId = (entry as { JobId?: unknown } | null)?.JobId;
          logger?.warn('BatchGetYikeAIAppJob: a JobList entry is unreadable', {
            requestId: response.RequestId,
            jobId: typeof jobId === 'string' ? jobId : undefined,
            fields: parsed.error.issues.map((issue) => issue.path.join('.') || '(entry)').join(', '),
          });
          continue;
        }
        const { AppInputConfig, ...job } = parsed.data;
        jobs.push(toJob({ ...job, RequestId: response.RequestId, AppParams: AppInputConfig }));
      }
      return { requestId: response.RequestId, jobs, unreadable };
    },
  };
}

function toJob(response: GetJobResponse) {
  const groups = [
    ['video', response.Result?.VideoResult],
    ['image', response.Result?.ImageResult],
    ['audio', response.Result?.AudioResult],
  ] as const;
  const results = groups.flatMap(([kind, items]) => (items ?? []).map((item) => ({ kind, mediaId: item.MediaId, outputUrl: item.OutputUrl })));
  return {
    requestId: response.RequestId,
    jobId: response.JobId,
    appId: response.AppId,
    appParams: response.AppParams,
    productionId: response.ProductionId,
    folderId: response.FolderId,
    status: response.Status,
    executionStartTime: response.ExecutionStartTime,
    executionFinishTime: response.ExecutionFinishTime,
    results,
  };
}
