import * as z from './zod';
import { ConfigError } from './errors';

/**
 * Every environment variable the functions and tools read, parsed once with zod.
 * An invalid value fails fast with the variable's name; README.md documents each one.
 */

const DEFAULT_REGION = 'cn-shanghai';
const ICE_API_VERSION = '2020-11-09';

const optionalString = z.optional(
  z.pipe(
    z.string().check(z.trim()),
    z.transform((value: string) => (value === '' ? undefined : value)),
  ),
);

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(max)), fallback);

const commaList = z.pipe(
  z._default(z.string(), ''),
  z.transform((value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
);

const jsonText = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.pipe(
      z._default(z.string(), '{}'),
      z.transform((text: string, ctx) => {
        try {
          return JSON.parse(text === '' ? '{}' : text) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
          return z.NEVER;
        }
      }),
    ),
    schema,
  );

const region = z._default(z.string().check(z.regex(/^[a-z]{2,}-[a-z0-9-]+$/, 'must be a region id like cn-shanghai')), DEFAULT_REGION);

/** `http://127.0.0.1:9100`, `https://ice-vpc.cn-shanghai.aliyuncs.com` or a bare host (HTTPS). */
const endpointUrl = z.optional(z.string().check(z.trim(), z.regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, 'must be a host or http(s)://host[:port]')));

const imageKeyName = z.string().check(z.minLength(1), z.maxLength(128));

export const IMAGE_URL_MODES = ['public', 'signed', 'cdn', 'media-id', 'yike-asset'] as const;
export type ImageUrlMode = (typeof IMAGE_URL_MODES)[number];
/** No image size limit for Yike AI app inputs was found in ICE's docs: 20 MiB is our assumption (README). */
const DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024;

const prefixSetting = (fallback: string) =>
  z
    ._default(z.string(), fallback)
    .check(z.refine((value: string) => value.length > 0 && value.endsWith('/') && !value.startsWith('/'), 'must be a non-empty prefix ending in "/"'));

const LOOPBACK_URL = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?(\/|$)/;

export const envSchema = z.object({
  ICE_REGION: region,
  ICE_ENDPOINT: endpointUrl,
  ICE_API_VERSION: z._default(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must look like 2020-11-09')), ICE_API_VERSION),
  ICE_READ_TIMEOUT_MS: positiveInt(10_000, 120_000),
  ICE_CONNECT_TIMEOUT_MS: positiveInt(5_000, 60_000),
  ICE_MAX_ATTEMPTS: positiveInt(4, 10),
  ICE_RETRY_BASE_MS: positiveInt(200, 10_000),
  ICE_RETRY_MAX_MS: positiveInt(5_000, 60_000),

  PRODUCTION_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  FOLDER_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  DEFAULT_APP: optionalString,
  /** Extra Yike apps: JSON object AppId -> image param key, e.g. {"my-app":"LoadImage.1.TargetImage"}. */
  YIKE_APPS: jsonText(z.record(z.string().check(z.minLength(1), z.maxLength(128)), imageKeyName)),

  OSS_REGION: z.pipe(optionalString, z.optional(region)),
  OSS_ENDPOINT: endpointUrl,
  IMAGE_URL_MODE: z._default(z.enum(IMAGE_URL_MODES), 'public'),
  CDN_BASE_URL: z.pipe(optionalString, z.optional(z.url({ protocol: /^https$/ }))),
  SIGNED_URL_EXPIRES_SECONDS: positiveInt(3_600, 7 * 24 * 3_600),
  /** Per-request timeout of the functions' own OSS calls (job records). */
  OSS_TIMEOUT_MS: positiveInt(10_000, 120_000),

  RECORDS_PREFIX: prefixSetting('.yike-jobs/'),
  /** Where the watcher writes result objects; keys under it are never submitted. */
  RESULTS_PREFIX: prefixSetting('.yike-results/'),
  /** PrecheckYikeAIAppJob right before every submit. */
  PRECHECK: z._default(z.enum(['on', 'off']), 'on'),
  MAX_IMAGE_BYTES: positiveInt(DEFAULT_MAX_IMAGE_BYTES, 5 * 1024 * 1024 * 1024),
  RECORDS_BUCKET: optionalString,
  /** The bucket `POST /uploads` (the page) sends browsers' images to; default: the first ALLOWED_BUCKETS entry. */
  UPLOAD_BUCKET: optionalString,
  /** Where browsers post the form; default https://<UPLOAD_BUCKET>.oss-<region>.aliyuncs.com (path-style on a local OSS). */
  // https: the form carries the STS token and the image (http only for a loopback stand-in).
  UPLOAD_FORM_URL: z.pipe(
    optionalString,
    z.optional(
      z
        .url({ protocol: /^https?$/ })
        .check(
          z.refine((value: string) => value.startsWith('https://') || LOOPBACK_URL.test(value), 'must be https (http only for 127.0.0.1, ::1 or localhost)'),
        ),
    ),
  ),
  APP_ROUTES: jsonText(z.record(z.string(), z.string().check(z.minLength(1)))),
  IMAGE_SUFFIXES: z.pipe(
    z.pipe(
      z._default(z.string(), '.jpg,.jpeg,.png,.webp'),
      z.transform((value: string) =>
        value
          .split(',')
          .map((item) => item.trim().toLowerCase())
          .filter(Boolean),
      ),
    ),
    z.array(z.string().check(z.startsWith('.', 'each suffix must start with "."'))).check(z.minLength(1)),
  ),
  EVENT_NAMES: z.pipe(
    z._default(z.string(), 'PutObject,PostObject,CompleteMultipartUpload,CopyObject'),
    z.transform((value: string) =>
      value
        .split(',')
        .map((item) => item.trim().replace(/^(oss:)?ObjectCreated:/, ''))
        .filter(Boolean),
    ),
  ),
  /** Whether OSS trigger keys arrive URL-encoded. Documented samples show plain keys; see README. */
  OSS_KEY_ENCODING: z._default(z.enum(['plain', 'url']), 'plain'),

  /** `token` (default): AUTH_TOKENS required, else every route but /healthz answers 503. `none`: opt-out behind authType function or a gateway. */
  HTTP_AUTH: z._default(z.enum(['token', 'none']), 'token'),
  /** Bearer tokens, plain or `sha256:<64 hex>` (the digest of the token, so the configuration holds no usable token). */
  AUTH_TOKENS: z.pipe(
    commaList,
    z.array(
      z
        .string()
        .check(z.refine((token: string) => !token.startsWith('sha256:') || /^sha256:[0-9a-fA-F]{64}$/.test(token), 'a sha256: entry must be 64 hex digits')),
    ),
  ),
  /** Image URLs with a query string are refused unless this is true (signed URLs, CDN parameters). */
  ALLOW_IMAGE_URL_QUERY: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((value: 'true' | 'false') => value === 'true'),
  ),
  ALLOWED_BUCKETS: commaList,
  ALLOWED_IMAGE_HOSTS: commaList,
  MAX_BODY_BYTES: positiveInt(16 * 1024, 1024 * 1024),
  IDEMPOTENCY_TTL_SECONDS: positiveInt(24 * 3_600, 30 * 24 * 3_600),

  /** Invoking deployed FC 3.0 functions (backfill): API 2023-03-30 at <account>.<region>.fc.aliyuncs.com. */
  FC_REGION: z.pipe(optionalString, z.optional(region)),
  FC_ACCOUNT_ID: z.pipe(optionalString, z.optional(z.string().check(z.regex(/^\d{6,32}$/, 'must be the numeric account id')))),
  FC_ENDPOINT: endpointUrl,
  SUBMIT_FUNCTION_NAME: z._default(z.string().check(z.minLength(1), z.maxLength(128)), 'yike-oss-submit'),

  /** Job lifecycle (job-watcher): see shared/lifecycle/ and README "Job lifecycle". */
  JOB_RESULT_OBJECTS: z._default(z.enum(['true', 'false']), 'true'),
  JOB_TIMEOUT_SECONDS: positiveInt(21_600, 30 * 24 * 3_600),
  JOB_WEBHOOK_URL: z.pipe(
    optionalString,
    z.optional(
      z.url({ protocol: /^https?$/ }).check(
        z.refine((value: string) => value.startsWith('https://') || LOOPBACK_URL.test(value), 'must be https (http only for 127.0.0.1, ::1 or localhost)'),
        // fetch refuses credentials in a URL, and a URL with them would end up in error texts and job records.
        z.refine((value: string) => !/^[a-z]+:\/\/[^/?#]*@/i.test(value), 'must not carry credentials (user:password@); authenticate with JOB_WEBHOOK_SECRET'),
      ),
    ),
  ),
  JOB_WEBHOOK_SECRET: z.pipe(optionalString, z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters')))),
  JOB_WEBHOOK_MAX_ATTEMPTS: positiveInt(10, 100),
  JOB_WEBHOOK_TIMEOUT_MS: positiveInt(5_000, 30_000),
  JOB_NEXT_FUNCTION: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  WATCH_BUCKETS: commaList,

  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  ice: {
    region: string;
    /** host[:port] as openapi-client's Config.endpoint takes it. */
    endpoint: string;
    protocol: 'http' | 'https';
    apiVersion: string;
    readTimeoutMs: number;
    connectTimeoutMs: number;
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
    authTokens: string[];
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
      authTokens: e.AUTH_TOKENS,
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
