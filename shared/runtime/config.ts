import { envSchema, type ImageUrlMode } from './env';
import { ConfigError } from './errors';
import { tuningWith, type Tuning, type TuningOverrides } from './tuning';

/**
 * The configuration the code works with, parsed once per instance from the environment variables (shared/runtime/env.ts,
 * documented in docs/configuration.md), beside the constants no deployer turns (tuning.ts). An invalid value fails fast
 * with the variable's name.
 */

export interface Config {
  ice: Tuning['ice'] & {
    region: string;
    /** host[:port] as openapi-client's Config.endpoint takes it. */
    endpoint: string;
    protocol: 'http' | 'https';
    /** PRECHECK=on: PrecheckYikeAIAppJob before each submit. */
    precheck: boolean;
  };
  defaults: { productionId?: string; folderId?: string };
  apps: Record<string, string>;
  oss: Tuning['oss'] & {
    /** ICE_REGION: ICE reads OSS only in its own region. */
    region: string;
    /** Set only when overridden (local OSS endpoint); otherwise the region's public endpoint is used. */
    endpoint?: string;
    imageUrlMode: ImageUrlMode;
    cdnBaseUrl?: string;
    /** SIGNED_URL_EXPIRES_SECONDS: every URL we sign (signed image URLs, the own copies' playUrl). */
    signedUrlExpiresSeconds: number;
  };
  records: Tuning['records'] & { bucket?: string; resultsPrefix: string };
  uploads: Tuning['uploads'] & {
    appRoutes: Record<string, string>;
    imageSuffixes: string[];
    /** The creation events that submit (UPLOAD_EVENT_NAMES); the trigger already filters, others are skipped. */
    eventNames: readonly string[];
    /** Browser uploads (POST /uploads): the bucket (the first ALLOWED_BUCKETS), and the form URL when overridden. */
    bucket?: string;
    formUrl?: string;
  };
  http: Tuning['http'] & {
    authMode: 'token' | 'none';
    /** Every AUTH_TOKENS entry's token (plain or `sha256:<hex>`), in order. */
    authTokens: string[];
    /** The name of each entry of authTokens (JSON form only; undefined for the plain list). */
    tokenNames: (string | undefined)[];
    allowImageUrlQuery: boolean;
    allowedBuckets: string[];
    allowedImageHosts: string[];
  };
  /** Upload tickets and share links (TICKET_SECRET, CONSENT_VERSION, SHARE_DAYS; docs/page.md). */
  tickets: { secret?: string; consentVersion?: string; shareDays: number };
  fc: {
    /** ICE_REGION (the watcher calls in its own FC context's region when it builds the endpoint from the context). */
    region: string;
    accountId?: string;
    /** host[:port]; undefined until FC_ENDPOINT or FC_ACCOUNT_ID is set. */
    endpoint?: string;
    protocol: 'http' | 'https';
  };
  lifecycle: Pick<Tuning['lifecycle'], 'jobTimeoutSeconds' | 'roundSeconds' | 'delayedRounds' | 'reconcileMinutes'> & {
    /** JOB_RESULTS has `object`: write `<RESULTS_PREFIX>…json` result objects. */
    resultObjects: boolean;
    webhook?: { url: string; secret: string } & Tuning['lifecycle']['webhook'];
    /**
     * Per-job webhooks (`POST /jobs` `webhookUrl`): the hosts they may name (WEBHOOK_ALLOWED_HOSTS, lower-case; empty:
     * none), and the key they are signed with (JOB_WEBHOOK_SECRET; the job watcher requires it with the hosts).
     */
    jobWebhooks: { allowedHosts: string[]; secret?: string } & Tuning['lifecycle']['webhook'];
    nextFunction?: string;
    /** Buckets the watcher reads records from: RECORDS_BUCKET and every ALLOWED_BUCKETS. */
    watchBuckets: string[];
    /** JOB_RESULTS has `copy`: how outputs are copied (into the upload's bucket, else the records bucket); undefined without. */
    resultCopy?: Tuning['lifecycle']['resultCopy'];
    /** RETENTION_DAYS: the watcher erases jobs submitted longer ago; undefined: kept until erased. */
    retentionDays?: number;
  };
  /** The spending limit (shared/domain/budget/, docs/budget.md). */
  budget: Tuning['budget'] & {
    /** JOB_BUDGET_PER_DAY; undefined: no daily limit. */
    perDay?: number;
    timeZone: string;
    /** Daily quotas by token name (AUTH_TOKENS entries with jobsPerDay). */
    tokenQuotas: Record<string, number>;
    price?: { perJob: number; currency: string };
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Where the watcher writes result objects and output copies; never submitted as an image. */
export const RESULTS_PREFIX = '.yike-results/';

/**
 * The OSS creation events that submit: those s.yaml's upload trigger subscribes to. The trigger already filters, so
 * another event reaching the function (a hand-made trigger, EventBridge) is skipped, `event-not-handled`.
 */
export const UPLOAD_EVENT_NAMES: readonly string[] = ['PutObject', 'PostObject', 'CompleteMultipartUpload', 'CopyObject'];

function splitEndpoint(value: string | undefined, fallbackHost: string): { endpoint: string; protocol: 'http' | 'https' } {
  if (!value) return { endpoint: fallbackHost, protocol: 'https' };
  const match = /^(https?):\/\/(.+?)\/?$/.exec(value);
  if (!match) return { endpoint: value.replace(/\/$/, ''), protocol: 'https' };
  return { endpoint: match[2]!, protocol: match[1] as 'http' | 'https' };
}

/** Thrown for one variable: the message names it, as the schema's own issues do. */
function invalid(variable: string, message: string): ConfigError {
  return new ConfigError(`Invalid configuration: ${variable}: ${message}`, [{ variable, message }]);
}

/** The configuration from the environment, with `tuning`'s overrides (tests and the bench only) laid over TUNING. */
export function parseConfig(env: NodeJS.ProcessEnv, overrides: TuningOverrides = {}): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? ''), message: issue.message }));
    const summary = issues.map((issue) => `${issue.variable}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${summary}`, issues);
  }
  const e = result.data;
  const tuning = tuningWith(overrides);
  if (e.IMAGE_URL_MODE === 'cdn' && !e.CDN_BASE_URL) throw invalid('CDN_BASE_URL', 'required when IMAGE_URL_MODE is "cdn"');
  // Uploads under the records or results prefix are never submitted; result objects under an upload prefix would be.
  const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  for (const reserved of [tuning.records.prefix, RESULTS_PREFIX]) {
    const clash = Object.keys(e.APP_ROUTES).find((prefix) => prefix !== '' && overlaps(reserved, prefix));
    if (clash !== undefined) throw invalid('APP_ROUTES', `"${clash}" must not overlap "${reserved}", where the functions write their records and results`);
  }
  if (e.JOB_WEBHOOK_URL && !e.JOB_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid configuration: JOB_WEBHOOK_SECRET: required when JOB_WEBHOOK_URL is set (deliveries are signed)', [
      { variable: 'JOB_WEBHOOK_SECRET', message: 'required when JOB_WEBHOOK_URL is set' },
    ]);
  }
  const tokens = e.AUTH_TOKENS.map((entry) => (typeof entry === 'string' ? { token: entry } : entry));
  const tokenQuotas: Record<string, number> = {};
  for (const entry of tokens) if ('name' in entry && entry.jobsPerDay !== undefined) tokenQuotas[entry.name] = entry.jobsPerDay;
  const iceEndpoint = splitEndpoint(e.ICE_ENDPOINT, `ice.${e.ICE_REGION}.aliyuncs.com`);
  const fcEndpoint = e.FC_ENDPOINT || e.FC_ACCOUNT_ID ? splitEndpoint(e.FC_ENDPOINT, `${e.FC_ACCOUNT_ID}.${e.ICE_REGION}.fc.aliyuncs.com`) : undefined;
  const { webhook, resultCopy, ...lifecycle } = tuning.lifecycle;
  return {
    ice: { ...tuning.ice, region: e.ICE_REGION, ...iceEndpoint, precheck: e.PRECHECK === 'on' },
    defaults: { productionId: e.PRODUCTION_ID, folderId: e.FOLDER_ID },
    apps: e.YIKE_APPS,
    oss: {
      ...tuning.oss,
      region: e.ICE_REGION,
      endpoint: e.OSS_ENDPOINT ? (/^https?:\/\//.test(e.OSS_ENDPOINT) ? e.OSS_ENDPOINT : `https://${e.OSS_ENDPOINT}`).replace(/\/$/, '') : undefined,
      imageUrlMode: e.IMAGE_URL_MODE,
      cdnBaseUrl: e.CDN_BASE_URL?.replace(/\/$/, ''),
      signedUrlExpiresSeconds: e.SIGNED_URL_EXPIRES_SECONDS,
    },
    records: { ...tuning.records, bucket: e.RECORDS_BUCKET, resultsPrefix: RESULTS_PREFIX },
    uploads: {
      ...tuning.uploads,
      appRoutes: e.APP_ROUTES,
      imageSuffixes: e.IMAGE_SUFFIXES,
      eventNames: UPLOAD_EVENT_NAMES,
      bucket: e.ALLOWED_BUCKETS[0],
      formUrl: e.UPLOAD_FORM_URL?.replace(/\/$/, ''),
    },
    http: {
      ...tuning.http,
      authMode: e.HTTP_AUTH,
      authTokens: tokens.map((entry) => entry.token),
      tokenNames: tokens.map((entry) => ('name' in entry ? entry.name : undefined)),
      allowImageUrlQuery: e.ALLOW_IMAGE_URL_QUERY,
      allowedBuckets: e.ALLOWED_BUCKETS,
      allowedImageHosts: e.ALLOWED_IMAGE_HOSTS,
    },
    tickets: { secret: e.TICKET_SECRET, consentVersion: e.CONSENT_VERSION, shareDays: e.SHARE_DAYS },
    fc: { region: e.ICE_REGION, accountId: e.FC_ACCOUNT_ID, endpoint: fcEndpoint?.endpoint, protocol: fcEndpoint?.protocol ?? 'https' },
    lifecycle: {
      ...lifecycle,
      resultObjects: e.JOB_RESULTS.includes('object'),
      webhook: e.JOB_WEBHOOK_URL ? { url: e.JOB_WEBHOOK_URL, secret: e.JOB_WEBHOOK_SECRET!, ...webhook } : undefined,
      jobWebhooks: { allowedHosts: e.WEBHOOK_ALLOWED_HOSTS.map((host) => host.toLowerCase()), secret: e.JOB_WEBHOOK_SECRET, ...webhook },
      nextFunction: e.JOB_NEXT_FUNCTION,
      watchBuckets: [...new Set([...(e.RECORDS_BUCKET ? [e.RECORDS_BUCKET] : []), ...e.ALLOWED_BUCKETS])],
      resultCopy: e.JOB_RESULTS.includes('copy') ? resultCopy : undefined,
      retentionDays: e.RETENTION_DAYS,
    },
    budget: { ...tuning.budget, perDay: e.JOB_BUDGET_PER_DAY, timeZone: e.BUDGET_TIMEZONE, tokenQuotas, price: e.JOB_PRICE },
    logLevel: e.LOG_LEVEL,
  };
}

/** Parsed once per environment object and tuning (once per FC instance for process.env). */
const parsed = new WeakMap<NodeJS.ProcessEnv, WeakMap<TuningOverrides, Config>>();
const NO_OVERRIDES: TuningOverrides = {};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: TuningOverrides = NO_OVERRIDES): Config {
  let byTuning = parsed.get(env);
  if (!byTuning) {
    byTuning = new WeakMap();
    parsed.set(env, byTuning);
  }
  let config = byTuning.get(overrides);
  if (!config) {
    config = parseConfig(env, overrides);
    byTuning.set(overrides, config);
  }
  return config;
}
