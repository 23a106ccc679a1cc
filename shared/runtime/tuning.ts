import type { RetryPolicy } from './retry';

/**
 * The values no deployer should turn: timeouts, retries, paces, limits and where records live. They are constants,
 * never environment variables (docs/configuration.md, "Removed variables", says what each variable became); config.ts
 * puts them beside what the environment sets. Tests and the bench pass other values through the composition root's
 * `tuning` option (`createHandler({ tuning })`, `createServices({ tuning })`); a deployed function always runs with
 * TUNING.
 */
export interface Tuning {
  ice: {
    /** How long an ICE call may wait for its answer. */
    readTimeoutMs: number;
    /** How long an ICE connection may take to open. */
    connectTimeoutMs: number;
    /**
     * ICE's reads reuse pooled connections, and a read on a pooled connection the server had closed is sent again;
     * writes always open their own (docs/performance.md#connections-and-tls). False only for the bench's "before".
     */
    keepAliveReads: boolean;
    /** Attempts and full-jitter backoff for retryable failures (docs/cli-and-operations.md#retries-and-the-one-job-rule). */
    retry: RetryPolicy;
  };
  /** The functions' own OSS requests (image HEAD, records). */
  oss: { timeoutMs: number };
  /** Where job, idempotency and budget records, Yike asset records and image mode findings are written. */
  records: { prefix: string };
  /** Larger images are refused before any ICE call (IMAGE_TOO_LARGE). */
  uploads: { maxImageBytes: number };
  http: {
    /** Larger HTTP bodies get 413. */
    maxBodyBytes: number;
    /** How long an Idempotency-Key (HTTP) or a pipeline event's idempotencyKey replays its first answer. */
    idempotencyTtlSeconds: number;
  };
  lifecycle: {
    /** A job still unfinished this long after its submit becomes TimedOut. */
    jobTimeoutSeconds: number;
    /** The watcher polls in rounds this far apart while jobs are in flight (docs/lifecycle.md#rounds). */
    roundSeconds: number;
    /**
     * How a run with jobs in flight gets its next round: true, it ends and invokes itself with x-fc-async-delay (FC
     * bills no sleep); false, it sleeps until the round within the run (what a run does when the platform ignored the
     * delay; the bench's "sleeping rounds").
     */
    delayedRounds: boolean;
    /** How often the watcher looks for submits whose job record or marker was never written (docs/lifecycle.md#reconcile). */
    reconcileMinutes: number;
    /** Attempts per notification channel before it is recorded undelivered, and one webhook attempt's time. */
    webhook: { maxAttempts: number; timeoutMs: number };
    /** The largest output copied (RESULT_TOO_LARGE past it), and how long a notification waits for its copy. */
    resultCopy: { maxBytes: number; maxWaitSeconds: number };
  };
  budget: {
    /** yike.budget.warning is sent once a day when this share of JOB_BUDGET_PER_DAY is used. */
    warnPercent: number;
  };
}

/** Every field optional, at every depth: what a test overrides. */
export type TuningOverrides = Overrides<Tuning>;
type Overrides<T> = { [K in keyof T]?: T[K] extends object ? Overrides<T[K]> : T[K] };

const MIB = 1024 * 1024;

/** Where the records live in the records bucket (`<RECORDS_PREFIX>jobs/…`, `…objects/…`, `…budget/…`, `…settings/…`). */
export const RECORDS_PREFIX = '.yike-jobs/';

export const TUNING: Tuning = {
  // The SDK's own defaults are 3000 ms each: too short for a submit's answer on a slow day.
  ice: { readTimeoutMs: 10_000, connectTimeoutMs: 5_000, keepAliveReads: true, retry: { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 } },
  oss: { timeoutMs: 10_000 },
  records: { prefix: RECORDS_PREFIX },
  // No image size limit for Yike AI app inputs was found in ICE's docs: 20 MiB is our assumption.
  uploads: { maxImageBytes: 20 * MIB },
  http: { maxBodyBytes: 16 * 1024, idempotencyTtlSeconds: 24 * 3_600 },
  lifecycle: {
    jobTimeoutSeconds: 6 * 3_600,
    roundSeconds: 10,
    delayedRounds: true,
    reconcileMinutes: 10,
    webhook: { maxAttempts: 10, timeoutMs: 5_000 },
    // 2 GiB: a Yike app's videos are short clips (OSS's PutObject takes up to 5 GB).
    resultCopy: { maxBytes: 2 * 1024 * MIB, maxWaitSeconds: 300 },
  },
  budget: { warnPercent: 80 },
};

/** TUNING with each of `overrides` laid over it in turn, field by field. */
export function tuningWith(...overrides: TuningOverrides[]): Tuning {
  return overrides.reduce<Tuning>((tuning, next) => merge(tuning, next), TUNING);
}

function merge<T>(base: T, overrides: Overrides<T>): T {
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides) as [keyof T, unknown][]) {
    if (value === undefined) continue;
    const current = base[key];
    merged[key] = (typeof current === 'object' && current !== null ? merge(current, value as Overrides<typeof current>) : value) as T[keyof T];
  }
  return merged;
}
