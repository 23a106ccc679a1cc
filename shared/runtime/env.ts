import * as z from './zod';

/**
 * Every environment variable the functions and tools read, as one zod schema. Each entry's doc comment is its
 * documentation: `npm run docs:config` writes docs/configuration.md from these comments, the `@readBy` tags and
 * the schema's own defaults (a comment costs the bundles nothing; a test fails when the page is stale).
 * `@default` names a default the schema cannot show (one derived from another variable).
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

const IMAGE_URL_MODES = ['auto', 'public', 'signed', 'cdn', 'media-id', 'yike-asset'] as const;
export type ImageUrlMode = (typeof IMAGE_URL_MODES)[number];
/** A form ICE receives the image in: every mode but `auto`, which finds one of these. */
export type ImageForm = Exclude<ImageUrlMode, 'auto'>;

/** The copy's default ceiling: 2 GiB (a Yike app's videos are short clips; OSS's PutObject takes up to 5 GB). */
const DEFAULT_RESULT_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** No image size limit for Yike AI app inputs was found in ICE's docs: 20 MiB is our assumption. */
const DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024;

const prefixSetting = (fallback: string) =>
  z
    ._default(z.string(), fallback)
    .check(z.refine((value: string) => value.length > 0 && value.endsWith('/') && !value.startsWith('/'), 'must be a non-empty prefix ending in "/"'));

const LOOPBACK_URL = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?(\/|$)/;

const httpsOrLoopback = z
  .url({ protocol: /^https?$/ })
  .check(z.refine((value: string) => value.startsWith('https://') || LOOPBACK_URL.test(value), 'must be https (http only for 127.0.0.1, ::1 or localhost)'));

/** JOB_BUDGET_PER_DAY's bound: ten million paid jobs a day is past any campaign's budget. */
const MAX_JOBS_PER_DAY = 10_000_000;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.length > 0;
  } catch {
    return false;
  }
}

/** One AUTH_TOKENS entry in the JSON form. */
export interface NamedToken {
  name: string;
  /** The token, or `sha256:<64 hex>`. */
  token: string;
  jobsPerDay?: number;
}

const SHA256_TOKEN = /^sha256:[0-9a-fA-F]{64}$/;
const SHA256_MESSAGE = 'a sha256: entry must be 64 hex digits';
const namedTokenSchema = z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"')),
  token: z.string().check(
    z.minLength(1),
    z.refine((token: string) => !token.startsWith('sha256:') || SHA256_TOKEN.test(token), SHA256_MESSAGE),
  ),
  jobsPerDay: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_JOBS_PER_DAY))),
});

/** The plain list (`a,b,sha256:…`) as strings; the JSON form (`[{"name","token","jobsPerDay"}]`) as NamedToken. */
function parseAuthTokens(text: string, ctx: { issues: unknown[] }): string[] | NamedToken[] {
  const issue = (message: string) => ctx.issues.push({ code: 'custom', message, input: text });
  if (!text.trim().startsWith('[')) {
    const list = text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (list.some((token) => token.startsWith('sha256:') && !SHA256_TOKEN.test(token))) issue(SHA256_MESSAGE);
    return list;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    issue('is not valid JSON');
    return [];
  }
  const entries = z.array(namedTokenSchema).safeParse(parsed);
  if (!entries.success) {
    for (const problem of entries.error.issues) issue(`${problem.path.map(String).join('.')}: ${problem.message}`);
    return [];
  }
  const names = entries.data.map((entry) => entry.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) issue(`the name "${repeated}" is used twice`);
  return entries.data;
}

export const envSchema = z.object({
  /** ICE region; the endpoint is `ice.<region>.aliyuncs.com`. @readBy all */
  ICE_REGION: region,
  /** Override, e.g. `http://127.0.0.1:9100` (local) or `https://ice-vpc.cn-shanghai.aliyuncs.com`. @readBy all */
  ICE_ENDPOINT: endpointUrl,
  /** ICE API version. @readBy all */
  ICE_API_VERSION: z._default(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must look like 2020-11-09')), ICE_API_VERSION),
  /** How long an ICE call may wait for its answer (the SDK's own default is 3000 ms). @readBy all */
  ICE_READ_TIMEOUT_MS: positiveInt(10_000, 120_000),
  /** How long an ICE connection may take to open (the SDK's own default is 3000 ms). @readBy all */
  ICE_CONNECT_TIMEOUT_MS: positiveInt(5_000, 60_000),
  /** Attempts per ICE call for retryable failures (see [Retries](cli-and-operations.md#retries-and-the-one-job-rule)). @readBy all */
  ICE_MAX_ATTEMPTS: positiveInt(4, 10),
  /** Full-jitter exponential backoff: the first delay's bound. @readBy all */
  ICE_RETRY_BASE_MS: positiveInt(200, 10_000),
  /** Full-jitter exponential backoff: the largest delay. @readBy all */
  ICE_RETRY_MAX_MS: positiveInt(5_000, 60_000),
  /**
   * `reads`: ICE's reads (`GetYikeAIAppJob`, `BatchGetYikeAIAppJob`, `PrecheckYikeAIAppJob`, media and asset reads)
   * reuse pooled connections, and a read on a pooled connection the server had closed is sent again;
   * `SubmitYikeAIAppJob` and the registrations always open a connection of their own. `off`: every ICE call opens a
   * fresh connection (one TLS handshake each), as before. OSS calls reuse connections either way (ali-oss's pool). See
   * [Performance](performance.md#connections-and-tls). @readBy all
   */
  KEEP_ALIVE: z._default(z.enum(['reads', 'off']), 'reads'),

  /** Where ICE saves results (`ProductionId`); requests may override. @readBy oss-submit, http-submit, yike-submit */
  PRODUCTION_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /** Where ICE saves results (`FolderId`, e.g. `fd-cReaEcVqQK`); requests may override. @readBy oss-submit, http-submit, yike-submit */
  FOLDER_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /** App used when a request or route names none: `female`, `male` or an AppId (`yike-submit` falls back to `female`). @readBy oss-submit, http-submit, yike-submit */
  DEFAULT_APP: optionalString,
  /** More Yike apps: JSON `{"<AppId>": "<image param key>"}`, e.g. `{"my-app":"LoadImage.1.TargetImage"}`. @readBy oss-submit, http-submit, yike-submit */
  YIKE_APPS: jsonText(z.record(z.string().check(z.minLength(1), z.maxLength(128)), imageKeyName)),

  /** Region of the buckets (ICE reads OSS only in its own region). @default ICE_REGION @readBy all */
  OSS_REGION: z.pipe(optionalString, z.optional(region)),
  /** Override, e.g. `http://localhost:9200` for the local OSS (`localhost` selects path-style addressing, which ali-oss needs to sign URLs). @readBy all */
  OSS_ENDPOINT: endpointUrl,
  /**
   * What goes into `LoadImage.1.TargetImage` for `{bucket, key}` images: `auto` finds, once per app, the first form
   * ICE's free precheck accepts (`yike-asset`, `media-id`, `public`, `signed`, then `cdn` when `CDN_BASE_URL` is set)
   * and keeps it in `<RECORDS_PREFIX>settings/image-modes/<appId>.json`; or one fixed form: `public`, `signed`, `cdn`,
   * `media-id` or `yike-asset` (see [Image inputs](image-inputs.md)). @readBy oss-submit, http-submit, yike-submit
   */
  IMAGE_URL_MODE: z._default(z.enum(IMAGE_URL_MODES), 'auto'),
  /** https base URL for `IMAGE_URL_MODE=cdn` (ICE documents only OSS URLs: test first). @readBy oss-submit, http-submit, yike-submit */
  CDN_BASE_URL: z.pipe(optionalString, z.optional(z.url({ protocol: /^https$/ }))),
  /** Life of a signed image URL (capped by the STS token's expiry). @readBy oss-submit, http-submit, yike-submit */
  SIGNED_URL_EXPIRES_SECONDS: positiveInt(3_600, 7 * 24 * 3_600),
  /** Timeout of the functions' own OSS requests (image HEAD, records). @readBy all */
  OSS_TIMEOUT_MS: positiveInt(10_000, 120_000),

  /**
   * Where job and idempotency records (and Yike asset records, `<RECORDS_PREFIX>yike-assets/`, and the image mode
   * findings, `<RECORDS_PREFIX>settings/image-modes/`) are written; never submitted as an image, and image URLs may not
   * point under it. @readBy all
   */
  RECORDS_PREFIX: prefixSetting('.yike-jobs/'),
  /**
   * Where the watcher writes result objects (`<RESULTS_PREFIX><upload key>.json` in the upload's bucket, else
   * `<RESULTS_PREFIX>jobs/<jobId>.json` in the records bucket); never submitted as an image (uploads under it are
   * skipped, `results-prefix`; HTTP and pipeline images under it are refused, `IMAGE_KEY_INVALID`); keep it outside
   * the upload trigger's prefix. @readBy oss-submit, http-submit, job-watcher
   */
  RESULTS_PREFIX: prefixSetting('.yike-results/'),
  /**
   * `on`: `PrecheckYikeAIAppJob(AppId, AppParams)` right before each submit (one extra, free ICE call);
   * `Status=Failed` → `PRECHECK_FAILED`, nothing submitted. `off`: submit directly (with `IMAGE_URL_MODE=auto`, only
   * once the app's image mode is found: the discovery itself prechecks). @readBy oss-submit, http-submit, yike-submit
   */
  PRECHECK: z._default(z.enum(['on', 'off']), 'on'),
  /**
   * Larger images are refused before any ICE call (`IMAGE_TOO_LARGE`); ICE documents no limit for Yike app inputs,
   * so 20 MiB is an assumption. @readBy oss-submit, http-submit, yike-submit
   */
  MAX_IMAGE_BYTES: positiveInt(DEFAULT_MAX_IMAGE_BYTES, 5 * 1024 * 1024 * 1024),
  /** Bucket that holds the records. @default the upload's bucket (HTTP: the first `ALLOWED_BUCKETS`) @readBy all */
  RECORDS_BUCKET: optionalString,
  /**
   * The bucket `POST /uploads` (the page) signs browser uploads for: must be one of `ALLOWED_BUCKETS`, and have the
   * upload trigger. @default the first `ALLOWED_BUCKETS` @readBy http-submit
   */
  UPLOAD_BUCKET: optionalString,
  /**
   * Where browsers post the upload form, e.g. a custom bucket domain (https: the form carries the STS token and the
   * image; http only on loopback); the page's CSP allows exactly its origin.
   * @default `https://<UPLOAD_BUCKET>.oss-<OSS_REGION>.aliyuncs.com` (path-style on a local `OSS_ENDPOINT`) @readBy http-submit
   */
  UPLOAD_FORM_URL: z.pipe(optionalString, z.optional(httpsOrLoopback)),
  /**
   * JSON key prefix → app, longest prefix wins, e.g. `{"uploads/female/":"female","uploads/male/":"male"}`; the page
   * offers an app only when `uploads/<name>/` routes to it. @readBy oss-submit, http-submit, yike-backfill
   */
  APP_ROUTES: jsonText(z.record(z.string(), z.string().check(z.minLength(1)))),
  /** Image suffixes, case-insensitive. @readBy oss-submit, http-submit, yike-submit, yike-backfill */
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
  /** Creation events that submit (others are skipped). @readBy oss-submit, yike-backfill */
  EVENT_NAMES: z.pipe(
    z._default(z.string(), 'PutObject,PostObject,CompleteMultipartUpload,CopyObject'),
    z.transform((value: string) =>
      value
        .split(',')
        .map((item) => item.trim().replace(/^(oss:)?ObjectCreated:/, ''))
        .filter(Boolean),
    ),
  ),
  /** `plain`: OSS trigger keys as delivered (the documented samples show plain keys); `url`: S3-style decoding (`+` = space). @readBy oss-submit, yike-backfill */
  OSS_KEY_ENCODING: z._default(z.enum(['plain', 'url']), 'plain'),

  /**
   * `token`: bearer tokens required (none configured = every route but `/healthz` answers 503 `AUTH_NOT_CONFIGURED`);
   * `none`: no in-function auth, for `authType: function` or a gateway (warned once per instance). @readBy http-submit
   */
  HTTP_AUTH: z._default(z.enum(['token', 'none']), 'token'),
  /**
   * Bearer tokens: comma-separated, each plain or `sha256:<64 hex>` (the token's digest, so the configuration holds no
   * usable token); or a JSON array of `{"name", "token" (plain or sha256:), "jobsPerDay"?}`, where `jobsPerDay` is the
   * token's daily quota (see [The budget](budget.md#per-token-quotas)). The upload functions and budget-renewal read
   * only the names and quotas. @readBy http-submit, oss-submit, budget-renewal, yike-jobs
   */
  AUTH_TOKENS: z.pipe(z._default(z.string(), ''), z.transform(parseAuthTokens)),
  /** `true` lets an `imageUrl` carry a query string (signed URLs, CDN parameters). @readBy http-submit, oss-submit, yike-submit */
  ALLOW_IMAGE_URL_QUERY: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((value: 'true' | 'false') => value === 'true'),
  ),
  /**
   * Buckets callers may name (none: every HTTP image is refused); also the pipeline allowlist when set, and the
   * buckets the watcher reads when neither `RECORDS_BUCKET` nor `WATCH_BUCKETS` is set. @readBy http-submit, oss-submit, job-watcher, yike-submit
   */
  ALLOWED_BUCKETS: commaList,
  /** Hosts an `imageUrl` may use (https only). @default the allowed buckets' OSS domains @readBy http-submit, oss-submit, yike-submit */
  ALLOWED_IMAGE_HOSTS: commaList,
  /** Larger HTTP bodies get 413. @readBy http-submit */
  MAX_BODY_BYTES: positiveInt(16 * 1024, 1024 * 1024),
  /** How long an `Idempotency-Key` (HTTP) or a pipeline event's `idempotencyKey` replays its first answer. @readBy http-submit, oss-submit */
  IDEMPOTENCY_TTL_SECONDS: positiveInt(24 * 3_600, 30 * 24 * 3_600),

  /** Region of the FC 3.0 functions invoked (next function, backfill, `--resubmit`). @default ICE_REGION @readBy job-watcher, yike-backfill, yike-jobs */
  FC_REGION: z.pipe(optionalString, z.optional(region)),
  /**
   * Your account id: the FC endpoint is `<FC_ACCOUNT_ID>.<FC_REGION>.fc.aliyuncs.com` (API 2023-03-30).
   * @default job-watcher: the account in its FC context @readBy job-watcher, yike-backfill, yike-jobs
   */
  FC_ACCOUNT_ID: z.pipe(optionalString, z.optional(z.string().check(z.regex(/^\d{6,32}$/, 'must be the numeric account id')))),
  /** Override, e.g. `http://127.0.0.1:9300` (the local FC API that `npm start` runs). @readBy job-watcher, yike-backfill, yike-jobs */
  FC_ENDPOINT: endpointUrl,
  /** The upload function `--function` defaults to. @readBy yike-backfill, yike-jobs */
  SUBMIT_FUNCTION_NAME: z._default(z.string().check(z.minLength(1), z.maxLength(128)), 'yike-oss-submit'),

  /** Write a result object per finished, failed or timed-out job (see [Job lifecycle](lifecycle.md)). @readBy job-watcher */
  JOB_RESULT_OBJECTS: z._default(z.enum(['true', 'false']), 'true'),
  /** A job still unfinished this long after its submit becomes `TimedOut`. @readBy job-watcher */
  JOB_TIMEOUT_SECONDS: positiveInt(21_600, 30 * 24 * 3_600),
  /** https URL to POST notifications to (http only for loopback). @readBy job-watcher, budget-renewal */
  JOB_WEBHOOK_URL: z.pipe(
    optionalString,
    z.optional(
      httpsOrLoopback.check(
        // fetch refuses credentials in a URL, and a URL with them would end up in error texts and job records.
        z.refine((value: string) => !/^[a-z]+:\/\/[^/?#]*@/i.test(value), 'must not carry credentials (user:password@); authenticate with JOB_WEBHOOK_SECRET'),
      ),
    ),
  ),
  /** HMAC-SHA256 key of `X-Yike-Signature`. @default — (required with the URL, ≥ 16 characters) @readBy job-watcher, budget-renewal */
  JOB_WEBHOOK_SECRET: z.pipe(optionalString, z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters')))),
  /** Attempts per notification channel before it is recorded `undelivered`. @readBy job-watcher, budget-renewal */
  JOB_WEBHOOK_MAX_ATTEMPTS: positiveInt(10, 100),
  /** How long one webhook attempt may take. @readBy job-watcher, budget-renewal */
  JOB_WEBHOOK_TIMEOUT_MS: positiveInt(5_000, 30_000),
  /** FC 3.0 function invoked asynchronously with each notification. @readBy job-watcher */
  JOB_NEXT_FUNCTION: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /** More records buckets to watch (with `RECORDS_BUCKET`; `ALLOWED_BUCKETS` when both are unset). @readBy job-watcher */
  WATCH_BUCKETS: commaList,
  /**
   * While jobs are in flight one watcher run polls in rounds this far apart until shortly before its timeout (a
   * value at or above the timeout gives one round per run); see [Job lifecycle](lifecycle.md#rounds). @readBy job-watcher
   */
  WATCH_ROUND_SECONDS: positiveInt(10, 3_600),
  /**
   * How often the watcher looks for jobs whose job record or in-flight marker could not be written at submit (COMPLETED
   * submit records without them); see [Job lifecycle](lifecycle.md#reconcile). @readBy job-watcher
   */
  RECONCILE_MINUTES: positiveInt(10, 24 * 60),
  /**
   * `on`: the watcher copies each output of a Finished job (`VideoResult`, `ImageResult`, `AudioResult`) into the
   * results bucket and notifies with the copy (see [Job lifecycle](lifecycle.md#result-copies)); `off`: ICE's
   * `OutputUrl` only. @readBy job-watcher, http-submit
   */
  RESULT_COPY: z._default(z.enum(['on', 'off']), 'on'),
  /** Where the copies go. @default the upload's bucket (jobs without an upload: the records bucket) @readBy job-watcher */
  RESULTS_BUCKET: optionalString,
  /** Largest output copied; a larger one is not copied (`copy: "failed"`, `RESULT_TOO_LARGE`). @readBy job-watcher */
  RESULT_MAX_BYTES: positiveInt(DEFAULT_RESULT_MAX_BYTES, 5 * 1024 * 1024 * 1024),
  /**
   * How long a Finished job's notification waits for its copy; then it goes with ICE's URL and `copy: "pending"` or
   * `"failed"`, and a later copy sends `yike.job.result-copied`. @readBy job-watcher
   */
  RESULT_COPY_MAX_WAIT_SECONDS: positiveInt(300, 24 * 3_600),
  /**
   * Life of the signed `playUrl` of an own copy (GET /jobs/{jobId}, the webhook, the result object); never past the
   * STS token that signs it. @readBy job-watcher, http-submit
   */
  RESULT_URL_EXPIRES_SECONDS: positiveInt(3_600, 7 * 24 * 3_600),

  /**
   * The most paid jobs per calendar day (`BUDGET_TIMEZONE`): every accepted `SubmitYikeAIAppJob`, from every entry point
   * and instance, counted exactly in the records bucket. Over it, uploads and pipeline events are recorded `DEFERRED`
   * and submitted when the budget renews; `POST /jobs` answers 429 `BUDGET_EXHAUSTED` (see [The budget](budget.md)).
   * @default — (no limit) @readBy oss-submit, http-submit, budget-renewal, yike-submit, yike-jobs
   */
  JOB_BUDGET_PER_DAY: z.pipe(
    optionalString,
    z.optional(
      z.pipe(
        z.string().check(z.regex(/^\d{1,8}$/, 'must be a whole number of jobs')),
        z.pipe(z.transform(Number), z.number().check(z.gte(1, 'must be at least 1'), z.lte(MAX_JOBS_PER_DAY))),
      ),
    ),
  ),
  /** The time zone whose calendar day the budget and the quotas count in (an IANA name). @readBy oss-submit, http-submit, budget-renewal, yike-submit, yike-jobs */
  BUDGET_TIMEZONE: z._default(z.string().check(z.refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai')), 'Asia/Shanghai'),
  /** `yike.budget.warning` is sent once a day when this share of `JOB_BUDGET_PER_DAY` is used (`yike.budget.exhausted` at 100 %). @readBy budget-renewal */
  BUDGET_WARN_PERCENT: positiveInt(80, 100),
  /** What one job costs, a decimal such as `0.5`: `GET /usage` and `yike-jobs usage` then give `estimatedCost`. @readBy http-submit, yike-jobs */
  JOB_PRICE: z.pipe(
    optionalString,
    z.optional(z.pipe(z.string().check(z.regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be a decimal such as 0.5')), z.transform(Number))),
  ),
  /** The currency `JOB_PRICE` is in (ISO 4217). @readBy http-submit, yike-jobs */
  JOB_PRICE_CURRENCY: z._default(z.string().check(z.regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as CNY')), 'CNY'),

  /** `debug`, `info`, `warn` or `error`. @readBy all */
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
});
