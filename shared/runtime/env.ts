import * as z from './zod';

/**
 * Every environment variable the functions and tools read, as one zod schema. Each entry's doc comment is its
 * documentation: `npm run docs:config` writes docs/configuration.md from these comments, the `@readBy` tags and
 * the schema's own defaults (a comment costs the bundles nothing; a test fails when the page is stale).
 * `@default` names a default the schema cannot show (one derived from another variable). Only what a deployment
 * chooses is here: timeouts, retries, paces and limits are constants (tuning.ts), and the removed variables are listed
 * with what they became in shared/domain/doctor/removed-variables.ts.
 */

const DEFAULT_REGION = 'cn-shanghai';

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

const LOOPBACK_URL = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?(\/|$)/;

const httpsOrLoopback = z
  .url({ protocol: /^https?$/ })
  .check(z.refine((value: string) => value.startsWith('https://') || LOOPBACK_URL.test(value), 'must be https (http only for 127.0.0.1, ::1 or localhost)'));

/** An optional whole number of `unit`s from 1 to `max`, in decimal digits (no more digits than `max` has). */
const optionalCount = (unit: string, max: number) =>
  z.pipe(
    optionalString,
    z.optional(
      z.pipe(
        z.string().check(z.regex(new RegExp(`^\\d{1,${String(max).length}}$`), `must be a whole number of ${unit}`)),
        z.pipe(z.transform(Number), z.number().check(z.gte(1, 'must be at least 1'), z.lte(max))),
      ),
    ),
  );

/** RETENTION_DAYS' bound: a hundred years. */
const MAX_RETENTION_DAYS = 36_500;

/**
 * JOB_WEBHOOK_SECRET: a Standard Webhooks symmetric key, `whsec_` + base64 of 24 to 64 random bytes (spec/standard-webhooks.md
 * in github.com/standard-webhooks/standard-webhooks, "Signature scheme").
 */
const WEBHOOK_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const WEBHOOK_SECRET_MESSAGE = 'must be whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)';

function isWebhookSecret(value: string): boolean {
  const base64 = WEBHOOK_SECRET.exec(value)?.[1];
  if (base64 === undefined || base64.length % 4 !== 0) return false;
  const key = Buffer.from(base64, 'base64');
  return key.toString('base64') === base64 && key.length >= 24 && key.length <= 64;
}

/** A WEBHOOK_ALLOWED_HOSTS entry: a DNS name, or `*.` and one (any name under it). */
const ALLOWED_HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

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

const JOB_RESULT_KINDS = ['copy', 'object'] as const;
/** What the watcher makes of a settled job (JOB_RESULTS): output copies, result objects. */
export type JobResultKind = (typeof JOB_RESULT_KINDS)[number];

/** `copy,object` (in any order), `copy`, `object`, or `none` for neither. */
function parseJobResults(text: string, ctx: { issues: unknown[] }): JobResultKind[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 1 && items[0] === 'none') return [];
  if (items.length === 0 || items.some((item) => !(JOB_RESULT_KINDS as readonly string[]).includes(item))) {
    ctx.issues.push({ code: 'custom', message: 'must be a comma list of copy and object, or none', input: text });
    return [];
  }
  return JOB_RESULT_KINDS.filter((kind) => items.includes(kind));
}

/** A decimal, then optionally an ISO 4217 code: `0.5`, `0.5 USD`. */
const JOB_PRICE = /^(\d{1,9}(?:\.\d{1,6})?)(?:\s+([A-Z]{3}))?$/;
/** The currency of a JOB_PRICE that names none. */
const DEFAULT_CURRENCY = 'CNY';

export const envSchema = z.object({
  /**
   * ICE region; the endpoint is `ice.<region>.aliyuncs.com`. Also the buckets' region (ICE reads OSS only in its own
   * region) and the FC region of the functions the tools invoke. @readBy all
   */
  ICE_REGION: region,
  /** Override, e.g. `http://127.0.0.1:9100` (local) or `https://ice-vpc.cn-shanghai.aliyuncs.com`. @readBy all */
  ICE_ENDPOINT: endpointUrl,

  /** Where ICE saves results (`ProductionId`); requests may override. @readBy oss-submit, http-submit, yike-submit */
  PRODUCTION_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /** Where ICE saves results (`FolderId`, e.g. `fd-cReaEcVqQK`); requests may override. @readBy oss-submit, http-submit, yike-submit */
  FOLDER_ID: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /** More Yike apps: JSON `{"<AppId>": "<image param key>"}`, e.g. `{"my-app":"LoadImage.1.TargetImage"}`. @readBy oss-submit, http-submit, yike-submit */
  YIKE_APPS: jsonText(z.record(z.string().check(z.minLength(1), z.maxLength(128)), imageKeyName)),

  /** Override, e.g. `http://localhost:9200` for the local OSS (`localhost` selects path-style addressing, which ali-oss needs to sign URLs). @readBy all */
  OSS_ENDPOINT: endpointUrl,
  /**
   * What goes into `LoadImage.1.TargetImage` for `{bucket, key}` images: `auto` finds, once per app, the first form
   * ICE's free precheck accepts (`yike-asset`, `media-id`, `public`, `signed`, then `cdn` when `CDN_BASE_URL` is set)
   * and keeps it in `.yike-jobs/settings/image-modes/<appId>.json`; or one fixed form: `public`, `signed`, `cdn`,
   * `media-id` or `yike-asset` (see [Image inputs](image-inputs.md)). @readBy oss-submit, http-submit, yike-submit
   */
  IMAGE_URL_MODE: z._default(z.enum(IMAGE_URL_MODES), 'auto'),
  /** https base URL for `IMAGE_URL_MODE=cdn` (ICE documents only OSS URLs: test first). @readBy oss-submit, http-submit, yike-submit */
  CDN_BASE_URL: z.pipe(optionalString, z.optional(z.url({ protocol: /^https$/ }))),
  /**
   * Life of every URL the functions sign: a signed image URL (`IMAGE_URL_MODE=signed`) and the `playUrl` of an own
   * copy (GET /jobs/{jobId}, the webhook, the result object); never past the STS token that signs it.
   * @readBy oss-submit, http-submit, job-watcher, yike-submit
   */
  SIGNED_URL_EXPIRES_SECONDS: positiveInt(3_600, 7 * 24 * 3_600),

  /**
   * `on`: `PrecheckYikeAIAppJob(AppId, AppParams)` right before each submit (one extra, free ICE call);
   * `Status=Failed` → `PRECHECK_FAILED`, nothing submitted. `off`: submit directly (with `IMAGE_URL_MODE=auto`, only
   * once the app's image mode is found: the discovery itself prechecks). @readBy oss-submit, http-submit, yike-submit
   */
  PRECHECK: z._default(z.enum(['on', 'off']), 'on'),
  /**
   * Bucket that holds the records (under `.yike-jobs/`: jobs, idempotency, the budget's counters, Yike assets, image
   * mode findings); the watcher reads it and every `ALLOWED_BUCKETS` for jobs in flight.
   * @default the upload's bucket (HTTP: the first `ALLOWED_BUCKETS`) @readBy all
   */
  RECORDS_BUCKET: optionalString,
  /**
   * Where browsers post the upload form, e.g. a custom bucket domain (https: the form carries the STS token and the
   * image; http only on loopback); the page's CSP allows exactly its origin.
   * @default `https://<first ALLOWED_BUCKETS>.oss-<ICE_REGION>.aliyuncs.com` (path-style on a local `OSS_ENDPOINT`) @readBy http-submit
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
   * Buckets callers may name (none: every HTTP image is refused); also the pipeline allowlist when set. The first is
   * the bucket `POST /uploads` (the page) signs browser uploads for (give it the upload trigger). The watcher reads
   * each, with `RECORDS_BUCKET`, for jobs in flight. @readBy http-submit, oss-submit, job-watcher, yike-submit
   */
  ALLOWED_BUCKETS: commaList,
  /** Hosts an `imageUrl` may use (https only). @default the allowed buckets' OSS domains @readBy http-submit, oss-submit, yike-submit */
  ALLOWED_IMAGE_HOSTS: commaList,
  /**
   * The key upload tickets (`POST /tickets`) and share links (`POST /jobs/{jobId}/share`) are signed with (HMAC-SHA256,
   * JWT HS256): at least 32 characters, e.g. `openssl rand -base64 32`. Changing it voids every ticket and share link.
   * See [The page](page.md#upload-tickets). @default — (tickets and share links refused) @readBy http-submit
   */
  TICKET_SECRET: z.pipe(optionalString, z.optional(z.string().check(z.minLength(32, 'must be at least 32 characters, e.g. openssl rand -base64 32')))),
  /**
   * The version of the consent text a person accepts on the page before uploading a photo of a face (the Provisions on
   * Deep Synthesis ask for a separate consent): a ticketed `POST /uploads` must carry `consent: {version}` equal to it
   * (else 400 `CONSENT_REQUIRED`), and the job keeps `{version, acceptedAt}`. @default — (no consent asked) @readBy http-submit
   */
  CONSENT_VERSION: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(64)))),
  /** Days a share link (`POST /jobs/{jobId}/share`) works at most; a ticket's link ends with its ticket first. @readBy http-submit */
  SHARE_DAYS: positiveInt(7, 365),

  /**
   * Your account id: the FC endpoint (API 2023-03-30) of the next function, backfill and `--resubmit` is
   * `<FC_ACCOUNT_ID>.<ICE_REGION>.fc.aliyuncs.com`. @default job-watcher: the account and region of its FC context
   * @readBy job-watcher, yike-backfill, yike-jobs
   */
  FC_ACCOUNT_ID: z.pipe(optionalString, z.optional(z.string().check(z.regex(/^\d{6,32}$/, 'must be the numeric account id')))),
  /** Override, e.g. `http://127.0.0.1:9300` (the local FC API that `npm start` runs). @readBy job-watcher, yike-backfill, yike-jobs */
  FC_ENDPOINT: endpointUrl,

  /**
   * What the watcher makes of a settled job (see [Job lifecycle](lifecycle.md)), a comma list: `copy` copies each
   * output of a Finished job (`VideoResult`, `ImageResult`, `AudioResult`) into the upload's bucket (jobs without an
   * upload: the records bucket) and notifies with the copy (without it: ICE's `OutputUrl` only); `object` writes a
   * result object per finished, failed or timed-out job; `none` for neither. @readBy job-watcher, http-submit
   */
  JOB_RESULTS: z.pipe(z._default(z.string(), 'copy,object'), z.transform(parseJobResults)),
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
  /**
   * The key deliveries are signed with, the Standard Webhooks way (`webhook-signature`): `whsec_` and the base64 of 24 to 64
   * random bytes, e.g. `whsec_$(openssl rand -base64 32)`. @default — (required with `JOB_WEBHOOK_URL` or `WEBHOOK_ALLOWED_HOSTS`)
   * @readBy job-watcher, budget-renewal
   */
  JOB_WEBHOOK_SECRET: z.pipe(optionalString, z.optional(z.string().check(z.refine(isWebhookSecret, WEBHOOK_SECRET_MESSAGE)))),
  /**
   * Hosts a `POST /jobs` `webhookUrl` (https) may name, comma-separated: `hooks.example.com`, or `*.example.com` for
   * any name under it. Per-job deliveries go only to public addresses. @default — (per-job webhooks refused)
   * @readBy http-submit, job-watcher
   */
  WEBHOOK_ALLOWED_HOSTS: z.pipe(
    commaList,
    z.array(z.string().check(z.regex(ALLOWED_HOST, 'each entry must be a host name like hooks.example.com, or *.example.com'))),
  ),
  /** FC 3.0 function invoked asynchronously with each notification. @readBy job-watcher */
  JOB_NEXT_FUNCTION: z.pipe(optionalString, z.optional(z.string().check(z.maxLength(128)))),
  /**
   * Days a job is kept: the watcher erases each job submitted longer ago, with its upload, own copies, result object and
   * records, as `DELETE /jobs/{jobId}` does, and each upload that made no job (see [Retention](lifecycle.md#retention)),
   * on its tick, at most 20 a tick per records bucket. @default — (jobs are kept until erased) @readBy job-watcher
   */
  RETENTION_DAYS: optionalCount('days', MAX_RETENTION_DAYS),

  /**
   * The most paid jobs per calendar day (`BUDGET_TIMEZONE`): every accepted `SubmitYikeAIAppJob`, from every entry point
   * and instance, counted exactly in the records bucket. Over it, uploads and pipeline events are recorded `DEFERRED`
   * and submitted when the budget renews; `POST /jobs` answers 429 `BUDGET_EXHAUSTED` (see [The budget](budget.md)).
   * @default — (no limit) @readBy oss-submit, http-submit, budget-renewal, yike-submit, yike-jobs
   */
  JOB_BUDGET_PER_DAY: optionalCount('jobs', MAX_JOBS_PER_DAY),
  /** The time zone whose calendar day the budget and the quotas count in (an IANA name). @readBy oss-submit, http-submit, budget-renewal, yike-submit, yike-jobs */
  BUDGET_TIMEZONE: z._default(z.string().check(z.refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai')), 'Asia/Shanghai'),
  /**
   * What one job costs: a decimal such as `0.5` (in CNY), or with its ISO 4217 currency, such as `0.5 USD`; `GET /usage`
   * and `yike-jobs usage` then give `estimatedCost`. @readBy http-submit, yike-jobs
   */
  JOB_PRICE: z.pipe(
    optionalString,
    z.optional(
      z.pipe(
        z.string().check(z.regex(JOB_PRICE, 'must be a decimal such as 0.5, or one with its ISO 4217 currency such as 0.5 USD')),
        z.transform((text: string) => {
          const [, amount, currency] = JOB_PRICE.exec(text)!;
          return { perJob: Number(amount), currency: currency ?? DEFAULT_CURRENCY };
        }),
      ),
    ),
  ),

  /** `debug`, `info`, `warn` or `error`. @readBy all */
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
});
