import { RESULTS_PREFIX, UPLOAD_EVENT_NAMES } from '../../runtime/config';
import { TUNING } from '../../runtime/tuning';

/**
 * The environment variables the functions no longer read (issue 23 took them from 62 to 30), each with what it became:
 * a constant (shared/runtime/tuning.ts), a value derived from another variable, or a merged variable. The doctor
 * names any still set on a function (they are ignored), and `npm run docs:config` lists them on docs/configuration.md
 * ("Removed variables") for upgraders. Loaded with the doctor only (dist/<function>/doctor.js) and by the docs script.
 */
const seconds = (value: number) => (value % 3_600 === 0 ? `${value / 3_600} h` : value % 60 === 0 ? `${value / 60} min` : `${value} s`);
const ms = (value: number) => (value % 1_000 === 0 ? seconds(value / 1_000) : `${value} ms`);
const bytes = (value: number) =>
  value % 1024 ** 3 === 0 ? `${value / 1024 ** 3} GiB` : value % 1024 ** 2 === 0 ? `${value / 1024 ** 2} MiB` : `${value / 1024} KiB`;
const constant = (value: string) => `constant: ${value}`;
const { ice, lifecycle } = TUNING;

export const REMOVED_VARIABLES: Readonly<Record<string, string>> = {
  ICE_API_VERSION: constant('`2020-11-09`, the API of the Yike AI app actions'),
  ICE_READ_TIMEOUT_MS: constant(ms(ice.readTimeoutMs)),
  ICE_CONNECT_TIMEOUT_MS: constant(ms(ice.connectTimeoutMs)),
  ICE_MAX_ATTEMPTS: constant(String(ice.retry.maxAttempts)),
  ICE_RETRY_BASE_MS: constant(ms(ice.retry.baseDelayMs)),
  ICE_RETRY_MAX_MS: constant(ms(ice.retry.maxDelayMs)),
  KEEP_ALIVE: constant('always `reads` (ICE reads reuse connections, writes never do)'),
  OSS_TIMEOUT_MS: constant(ms(TUNING.oss.timeoutMs)),
  JOB_WEBHOOK_MAX_ATTEMPTS: constant(String(lifecycle.webhook.maxAttempts)),
  JOB_WEBHOOK_TIMEOUT_MS: constant(ms(lifecycle.webhook.timeoutMs)),
  WATCH_ROUND_SECONDS: constant(seconds(lifecycle.roundSeconds)),
  RECONCILE_MINUTES: constant(seconds(lifecycle.reconcileMinutes * 60)),
  RESULT_MAX_BYTES: constant(bytes(lifecycle.resultCopy.maxBytes)),
  RESULT_COPY_MAX_WAIT_SECONDS: constant(seconds(lifecycle.resultCopy.maxWaitSeconds)),
  MAX_BODY_BYTES: constant(bytes(TUNING.http.maxBodyBytes)),
  IDEMPOTENCY_TTL_SECONDS: constant(seconds(TUNING.http.idempotencyTtlSeconds)),
  JOB_TIMEOUT_SECONDS: constant(seconds(lifecycle.jobTimeoutSeconds)),
  BUDGET_WARN_PERCENT: constant(`${TUNING.budget.warnPercent} %`),
  RECORDS_PREFIX: constant(`\`${TUNING.records.prefix}\``),
  RESULTS_PREFIX: constant(`\`${RESULTS_PREFIX}\``),
  MAX_IMAGE_BYTES: constant(bytes(TUNING.uploads.maxImageBytes)),
  OSS_REGION: '`ICE_REGION` (ICE reads OSS only in its own region)',
  FC_REGION: "`ICE_REGION` (the watcher, without `FC_ACCOUNT_ID`: its FC context's region)",
  RESULTS_BUCKET: "the upload's bucket, else the records bucket",
  WATCH_BUCKETS: 'the watcher reads `RECORDS_BUCKET` and every `ALLOWED_BUCKETS`',
  UPLOAD_BUCKET: 'the first `ALLOWED_BUCKETS`',
  RESULT_URL_EXPIRES_SECONDS: '`SIGNED_URL_EXPIRES_SECONDS` (one life for every URL the functions sign)',
  JOB_RESULT_OBJECTS: '`JOB_RESULTS` (`object`: `false` is `JOB_RESULTS=copy`)',
  RESULT_COPY: '`JOB_RESULTS` (`copy`: `off` is `JOB_RESULTS=object`)',
  JOB_PRICE_CURRENCY: '`JOB_PRICE` (`0.5 USD`; a bare `0.5` is CNY)',
  EVENT_NAMES: constant(`${UPLOAD_EVENT_NAMES.join(', ')} (the upload trigger's events; others are skipped)`),
  OSS_KEY_ENCODING: constant('`plain`, the keys as FC delivers them'),
  DEFAULT_APP:
    'none: every request names its `app` (`POST /jobs` without one is 400 `APP_REQUIRED`), and an upload under no `APP_ROUTES` prefix is SKIPPED (`UNKNOWN_APP_PREFIX`)',
  SUBMIT_FUNCTION_NAME: '`--function` of `yike-backfill` and `yike-jobs resolve`, default `yike-oss-submit`',
};

/** The YIKE_* deploy variables s.yaml no longer reads: what to export instead, or nothing (the value is fixed now). */
export const REMOVED_DEPLOY_VARIABLES: Readonly<Record<string, string | undefined>> = {
  YIKE_RESULT_COPY: '`YIKE_JOB_RESULTS`',
  YIKE_JOB_PRICE_CURRENCY: '`YIKE_JOB_PRICE`',
  YIKE_RESULTS_PREFIX: undefined,
  YIKE_RESULTS_BUCKET: undefined,
  YIKE_JOB_TIMEOUT_SECONDS: undefined,
  YIKE_JOB_WEBHOOK_MAX_ATTEMPTS: undefined,
  YIKE_BUDGET_WARN_PERCENT: undefined,
};

/** The removed variables still set in `env`: ignored, and worth a word from the doctor. */
export function removedVariablesSet(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(REMOVED_VARIABLES).filter((name) => (env[name] ?? '').trim() !== '');
}
