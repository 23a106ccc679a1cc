import { envSchema, type ImageUrlMode } from './env';
import { ConfigError } from './errors';

/**
 * The configuration the code works with, parsed once per instance from the environment variables (shared/runtime/env.ts,
 * documented in docs/configuration.md). An invalid value fails fast with the variable's name.
 */

export interface Config {
  ice: {
    region: string;
    /** host[:port] as openapi-client's Config.endpoint takes it. */
    endpoint: string;
    protocol: 'http' | 'https';
    apiVersion: string;
    readTimeoutMs: number;
    connectTimeoutMs: number;
    /** KEEP_ALIVE=reads: read calls reuse pooled connections (writes never do). */
    keepAliveReads: boolean;
    retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
    /** PRECHECK=on: PrecheckYikeAIAppJob before each submit. */
    precheck: boolean;
  };
  defaults: { productionId?: string; folderId?: string; app?: string };
  apps: Record<string, string>;
  oss: {
    region: string;
    /** Set only when overridden (local OSS endpoint); otherwise the region's public endpoint is used. */
    endpoint?: string;
    imageUrlMode: ImageUrlMode;
    cdnBaseUrl?: string;
    signedUrlExpiresSeconds: number;
    keyEncoding: 'plain' | 'url';
    timeoutMs: number;
  };
  records: { prefix: string; bucket?: string; resultsPrefix: string };
  uploads: {
    appRoutes: Record<string, string>;
    imageSuffixes: string[];
    eventNames: string[];
    maxImageBytes: number;
    /** Browser uploads (POST /uploads): the bucket, and the form URL when overridden. */
    bucket?: string;
    formUrl?: string;
  };
  http: {
    authMode: 'token' | 'none';
    /** Every AUTH_TOKENS entry's token (plain or `sha256:<hex>`), in order. */
    authTokens: string[];
    /** The name of each entry of authTokens (JSON form only; undefined for the plain list). */
    tokenNames: (string | undefined)[];
    allowImageUrlQuery: boolean;
    allowedBuckets: string[];
    allowedImageHosts: string[];
    maxBodyBytes: number;
    idempotencyTtlSeconds: number;
  };
  fc: {
    region: string;
    accountId?: string;
    /** host[:port]; undefined until FC_ENDPOINT or FC_ACCOUNT_ID is set. */
    endpoint?: string;
    protocol: 'http' | 'https';
    submitFunctionName: string;
  };
  lifecycle: {
    /** Write `<RESULTS_PREFIX>…json` result objects (JOB_RESULT_OBJECTS, default true). */
    resultObjects: boolean;
    jobTimeoutSeconds: number;
    webhook?: { url: string; secret: string; maxAttempts: number; timeoutMs: number };
    nextFunction?: string;
    /** Buckets the watcher reads records from: RECORDS_BUCKET + WATCH_BUCKETS, else ALLOWED_BUCKETS. */
    watchBuckets: string[];
    /** WATCH_ROUND_SECONDS: the pace of one run's rounds. */
    roundSeconds: number;
    /** RECONCILE_MINUTES. */
    reconcileMinutes: number;
    /** RESULT_COPY=on: where and how outputs are copied; undefined when off. */
    resultCopy?: { bucket?: string; maxBytes: number; maxWaitSeconds: number };
    /** RESULT_URL_EXPIRES_SECONDS: life of a signed playUrl. */
    resultUrlExpiresSeconds: number;
  };
  /** The spending limit (shared/domain/budget/, docs/budget.md). */
  budget: {
    /** JOB_BUDGET_PER_DAY; undefined: no daily limit. */
    perDay?: number;
    timeZone: string;
    warnPercent: number;
    /** Daily quotas by token name (AUTH_TOKENS entries with jobsPerDay). */
    tokenQuotas: Record<string, number>;
    price?: { perJob: number; currency: string };
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

function splitEndpoint(value: string | undefined, fallbackHost: string): { endpoint: string; protocol: 'http' | 'https' } {
  if (!value) return { endpoint: fallbackHost, protocol: 'https' };
  const match = /^(https?):\/\/(.+?)\/?$/.exec(value);
  if (!match) return { endpoint: value.replace(/\/$/, ''), protocol: 'https' };
  return { endpoint: match[2]!, protocol: match[1] as 'http' | 'https' };
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? ''), message: issue.message }));
    const summary = issues.map((issue) => `${issue.variable}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${summary}`, issues);
  }
  const e = result.data;
  if (e.IMAGE_URL_MODE === 'cdn' && !e.CDN_BASE_URL) {
    throw new ConfigError('Invalid configuration: CDN_BASE_URL: required when IMAGE_URL_MODE is "cdn"', [
      { variable: 'CDN_BASE_URL', message: 'required when IMAGE_URL_MODE is "cdn"' },
    ]);
  }
  // Result objects under RECORDS_PREFIX or under an upload prefix would be taken for records or never submitted.
  const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  const clash = [e.RECORDS_PREFIX, ...Object.keys(e.APP_ROUTES)].find((prefix) => prefix !== '' && overlaps(e.RESULTS_PREFIX, prefix));
  if (clash !== undefined) {
    const message = `must not overlap ${clash === e.RECORDS_PREFIX ? 'RECORDS_PREFIX' : 'an APP_ROUTES prefix'} ("${clash}")`;
    throw new ConfigError(`Invalid configuration: RESULTS_PREFIX: ${message}`, [{ variable: 'RESULTS_PREFIX', message }]);
  }
  if (e.JOB_WEBHOOK_URL && !e.JOB_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid configuration: JOB_WEBHOOK_SECRET: required when JOB_WEBHOOK_URL is set (deliveries are signed)', [
      { variable: 'JOB_WEBHOOK_SECRET', message: 'required when JOB_WEBHOOK_URL is set' },
    ]);
  }
  // The page follows its uploads through GET /jobs/by-object, which only answers for allowed buckets.
  if (e.UPLOAD_BUCKET && !e.ALLOWED_BUCKETS.includes(e.UPLOAD_BUCKET)) {
    throw new ConfigError('Invalid configuration: UPLOAD_BUCKET: must be one of ALLOWED_BUCKETS', [
      { variable: 'UPLOAD_BUCKET', message: 'must be one of ALLOWED_BUCKETS' },
    ]);
  }
  const tokens = e.AUTH_TOKENS.map((entry) => (typeof entry === 'string' ? { token: entry } : entry));
  const tokenQuotas: Record<string, number> = {};
  for (const entry of tokens) if ('name' in entry && entry.jobsPerDay !== undefined) tokenQuotas[entry.name] = entry.jobsPerDay;
  const watchBuckets = [...new Set([...(e.RECORDS_BUCKET ? [e.RECORDS_BUCKET] : []), ...e.WATCH_BUCKETS])];
  const iceEndpoint = splitEndpoint(e.ICE_ENDPOINT, `ice.${e.ICE_REGION}.aliyuncs.com`);
  const fcRegion = e.FC_REGION ?? e.ICE_REGION;
  const fcEndpoint = e.FC_ENDPOINT || e.FC_ACCOUNT_ID ? splitEndpoint(e.FC_ENDPOINT, `${e.FC_ACCOUNT_ID}.${fcRegion}.fc.aliyuncs.com`) : undefined;
  return {
    ice: {
      region: e.ICE_REGION,
      ...iceEndpoint,
      apiVersion: e.ICE_API_VERSION,
      readTimeoutMs: e.ICE_READ_TIMEOUT_MS,
      connectTimeoutMs: e.ICE_CONNECT_TIMEOUT_MS,
      keepAliveReads: e.KEEP_ALIVE === 'reads',
      retry: { maxAttempts: e.ICE_MAX_ATTEMPTS, baseDelayMs: e.ICE_RETRY_BASE_MS, maxDelayMs: e.ICE_RETRY_MAX_MS },
      precheck: e.PRECHECK === 'on',
    },
    defaults: { productionId: e.PRODUCTION_ID, folderId: e.FOLDER_ID, app: e.DEFAULT_APP },
    apps: e.YIKE_APPS,
    oss: {
      region: e.OSS_REGION ?? e.ICE_REGION,
      endpoint: e.OSS_ENDPOINT ? (/^https?:\/\//.test(e.OSS_ENDPOINT) ? e.OSS_ENDPOINT : `https://${e.OSS_ENDPOINT}`).replace(/\/$/, '') : undefined,
      imageUrlMode: e.IMAGE_URL_MODE,
      cdnBaseUrl: e.CDN_BASE_URL?.replace(/\/$/, ''),
      signedUrlExpiresSeconds: e.SIGNED_URL_EXPIRES_SECONDS,
      keyEncoding: e.OSS_KEY_ENCODING,
      timeoutMs: e.OSS_TIMEOUT_MS,
    },
    records: { prefix: e.RECORDS_PREFIX, bucket: e.RECORDS_BUCKET, resultsPrefix: e.RESULTS_PREFIX },
    uploads: {
      appRoutes: e.APP_ROUTES,
      imageSuffixes: e.IMAGE_SUFFIXES,
      eventNames: e.EVENT_NAMES,
      maxImageBytes: e.MAX_IMAGE_BYTES,
      bucket: e.UPLOAD_BUCKET ?? e.ALLOWED_BUCKETS[0],
      formUrl: e.UPLOAD_FORM_URL?.replace(/\/$/, ''),
    },
    http: {
      authMode: e.HTTP_AUTH,
      authTokens: tokens.map((entry) => entry.token),
      tokenNames: tokens.map((entry) => ('name' in entry ? entry.name : undefined)),
      allowImageUrlQuery: e.ALLOW_IMAGE_URL_QUERY,
      allowedBuckets: e.ALLOWED_BUCKETS,
      allowedImageHosts: e.ALLOWED_IMAGE_HOSTS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    },
    fc: {
      region: fcRegion,
      accountId: e.FC_ACCOUNT_ID,
      endpoint: fcEndpoint?.endpoint,
      protocol: fcEndpoint?.protocol ?? 'https',
      submitFunctionName: e.SUBMIT_FUNCTION_NAME,
    },
    lifecycle: {
      resultObjects: e.JOB_RESULT_OBJECTS === 'true',
      jobTimeoutSeconds: e.JOB_TIMEOUT_SECONDS,
      webhook: e.JOB_WEBHOOK_URL
        ? { url: e.JOB_WEBHOOK_URL, secret: e.JOB_WEBHOOK_SECRET!, maxAttempts: e.JOB_WEBHOOK_MAX_ATTEMPTS, timeoutMs: e.JOB_WEBHOOK_TIMEOUT_MS }
        : undefined,
      nextFunction: e.JOB_NEXT_FUNCTION,
      watchBuckets: watchBuckets.length > 0 ? watchBuckets : e.ALLOWED_BUCKETS,
      roundSeconds: e.WATCH_ROUND_SECONDS,
      reconcileMinutes: e.RECONCILE_MINUTES,
      resultCopy:
        e.RESULT_COPY === 'on' ? { bucket: e.RESULTS_BUCKET, maxBytes: e.RESULT_MAX_BYTES, maxWaitSeconds: e.RESULT_COPY_MAX_WAIT_SECONDS } : undefined,
      resultUrlExpiresSeconds: e.RESULT_URL_EXPIRES_SECONDS,
    },
    budget: {
      perDay: e.JOB_BUDGET_PER_DAY,
      timeZone: e.BUDGET_TIMEZONE,
      warnPercent: e.BUDGET_WARN_PERCENT,
      tokenQuotas,
      price: e.JOB_PRICE === undefined ? undefined : { perJob: e.JOB_PRICE, currency: e.JOB_PRICE_CURRENCY },
    },
    logLevel: e.LOG_LEVEL,
  };
}

const parsedByEnv = new WeakMap<NodeJS.ProcessEnv, Config>();

/** Parsed once per environment object (once per FC instance for process.env). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let config = parsedByEnv.get(env);
  if (!config) {
    config = parseConfig(env);
    parsedByEnv.set(env, config);
  }
  return config;
}
