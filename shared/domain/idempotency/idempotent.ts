import { randomUUID } from 'node:crypto';
import { YikeError, isYikeError } from '../../runtime/errors';
import { withAttempts } from '../../runtime/retry';
import type { RecordStore } from '../ports';

/**
 * Exactly-once execution around a record store, after Powertools' idempotency utility:
 * IN_PROGRESS (conditional create, expiring with the invocation) -> COMPLETED (the result, kept),
 * record deleted when the work fails so a retry can run again.
 *
 * One addition for a call without a client token: when the outcome is unknown (ICE may have created the
 * job but we never heard back), the record is kept as OUTCOME_UNKNOWN and retries stop there, because a
 * resend could create a second paid job. An operator checks ICE and deletes the record to submit again.
 *
 * All times are ISO-8601 strings; durations are milliseconds and say so in their names.
 */
export type RecordStatus = 'IN_PROGRESS' | 'COMPLETED' | 'OUTCOME_UNKNOWN' | 'REJECTED' | 'DEFERRED' | 'SKIPPED';

export interface IdempotencyRecord<R = unknown> {
  schemaVersion: 1;
  status: RecordStatus;
  idempotencyKey: string;
  payloadHash?: string;
  /** Random id of the attempt that wrote the record; names the takeover lock. */
  owner: string;
  startedAt: string;
  inProgressExpiresAt?: string;
  completedAt?: string;
  /** When the whole record stops counting (HTTP replay window); absent means never. */
  expiresAt?: string;
  result?: R;
  error?: { code: string; message: string; details?: unknown };
  context?: Record<string, unknown>;
}

export type IdempotentOutcome<R> =
  | { status: 'executed'; result: R; record: IdempotencyRecord<R> }
  | { status: 'duplicate'; result: R; record: IdempotencyRecord<R> }
  | { status: 'in-progress'; record: IdempotencyRecord<R> };

export interface IdempotentOptions<R> {
  store: RecordStore;
  recordKey: string;
  idempotencyKey: string;
  /** Set for HTTP Idempotency-Key: the same key with another body is refused. */
  payloadHash?: string;
  /** How long an IN_PROGRESS record holds others off: the invocation's remaining time. */
  inProgressTtlMs: number;
  /** How long a COMPLETED record counts; undefined = forever (job records for uploads). */
  completedTtlMs?: number;
  context?: Record<string, unknown>;
  now?: () => Date;
  execute: () => Promise<R>;
  /** True for errors after which the work may have happened (never resent automatically). */
  isOutcomeUnknown: (error: unknown) => boolean;
  /**
   * True for refusals that the same input will always get (ICE's precheck, a blocked asset): the record is kept
   * as REJECTED with the error, so it says why, and a redelivery gets the same error without calling ICE again.
   */
  isRejected?: (error: unknown) => boolean;
  /**
   * Failures after which the record is kept with their error instead of deleted: DEFERRED (over the budget: the
   * renewal submits it later; a redelivery meanwhile gets the same refusal), SKIPPED (a deferred item whose image is
   * gone: the record says why, and a new upload of the object may claim it again).
   */
  keepAs?: (error: unknown) => 'DEFERRED' | 'SKIPPED' | undefined;
  /** The renewal of a deferred item: a DEFERRED record is taken over (by exactly one taker) instead of refused. */
  resumeDeferred?: boolean;
  /** Called when the COMPLETED record could not be written after the work succeeded ('completed'), or the record
   * could not be updated after the work failed ('after-failure': it stays IN_PROGRESS until it expires). */
  onRecordWriteFailed?: (error: unknown, stage: 'completed' | 'after-failure') => void;
}

/** Records deleted or replaced between our create and read are re-examined a few times, then reported. */
const MAX_RACE_ROUNDS = 3;

export async function runIdempotent<R>(options: IdempotentOptions<R>): Promise<IdempotentOutcome<R>> {
  const { store, recordKey } = options;
  const now = options.now ?? (() => new Date());

  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    const fresh = newInProgressRecord(options, now());
    let created: boolean;
    try {
      created = await store.createIfAbsent(recordKey, fresh);
    } catch (error) {
      // A reset or timeout after the store received the write: the record may be ours. Read it back
      // (the owner id is ours alone) rather than leave an IN_PROGRESS nobody will finish.
      const written = await store.get<IdempotencyRecord<R>>(recordKey).catch(() => undefined);
      if (written?.owner !== fresh.owner) throw error;
      created = true;
    }
    if (created) {
      return execute(options, fresh);
    }

    const existing = await store.get<IdempotencyRecord<R>>(recordKey);
    if (!existing) continue; // its owner failed and deleted it: try to create again
    if (existing.owner === fresh.owner) return execute(options, fresh);

    if (options.payloadHash && existing.payloadHash && existing.payloadHash !== options.payloadHash && !isExpired(existing, now())) {
      throw new YikeError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different request body', {
        statusCode: 422,
      });
    }
    // A DEFERRED record waits for its renewal; a SKIPPED one holds nothing back.
    const replaceable = existing.status === 'SKIPPED' || (existing.status === 'DEFERRED' && options.resumeDeferred === true);
    if (!replaceable && !isExpired(existing, now())) {
      if (existing.status === 'DEFERRED') throw deferredError(recordKey, existing);
      if (existing.status === 'COMPLETED') return { status: 'duplicate', result: existing.result as R, record: existing };
      if (existing.status === 'IN_PROGRESS') return { status: 'in-progress', record: existing };
      if (existing.status === 'REJECTED') throw rejectedError(recordKey, existing);
      throw outcomeUnknownError(recordKey, existing);
    }

    // Expired (or replaceable): exactly one taker may replace it, decided by a conditional create of a lock named after
    // the record's owner (two takers of the same stale record race on the same lock name).
    const lockKey = `${recordKey}.takeover-${existing.owner}`;
    if (!(await store.createIfAbsent(lockKey, { takenAt: now().toISOString() }))) {
      return { status: 'in-progress', record: existing };
    }
    try {
      const replacement = newInProgressRecord(options, now());
      await store.put(recordKey, replacement);
      return await execute(options, replacement);
    } finally {
      await store.delete(lockKey).catch(() => undefined);
    }
  }
  throw new YikeError('IDEMPOTENCY_RACE', `The record ${recordKey} kept changing while being claimed; try again`, { retryable: true });
}

function newInProgressRecord<R>(options: IdempotentOptions<R>, at: Date): IdempotencyRecord<R> {
  return {
    schemaVersion: 1,
    status: 'IN_PROGRESS',
    idempotencyKey: options.idempotencyKey,
    payloadHash: options.payloadHash,
    owner: randomUUID(),
    startedAt: at.toISOString(),
    inProgressExpiresAt: new Date(at.getTime() + options.inProgressTtlMs).toISOString(),
    context: options.context,
  };
}

async function execute<R>(options: IdempotentOptions<R>, claimed: IdempotencyRecord<R>): Promise<IdempotentOutcome<R>> {
  const now = options.now ?? (() => new Date());
  let result: R;
  try {
    result = await options.execute();
  } catch (error) {
    // The record must say what happened (or go away) so a retry can act; a store hiccup here is retried.
    // If the store stays down the IN_PROGRESS record remains, and later deliveries fail on it (never resubmit).
    try {
      if (options.isOutcomeUnknown(error)) {
        const described = isYikeError(error) ? { code: error.code, message: error.message } : { code: 'UNKNOWN', message: String(error) };
        await withStoreRetries(() =>
          options.store.put(options.recordKey, { ...claimed, status: 'OUTCOME_UNKNOWN', inProgressExpiresAt: undefined, error: described }),
        );
      } else if (keptAs(options, error) && isYikeError(error)) {
        // REJECTED counts like a COMPLETED record; DEFERRED and SKIPPED are kept until the renewal or a new upload replaces them.
        const status = keptAs(options, error)!;
        const kept = closedRecord(claimed, status, now(), status === 'REJECTED' ? options.completedTtlMs : undefined);
        kept.error = { code: error.code, message: error.message, details: error.details };
        await withStoreRetries(() => options.store.put(options.recordKey, kept));
      } else {
        await withStoreRetries(async (attempt) => {
          // A failed attempt may still land later (its answer was lost) and free the key for another
          // invocation's claim: a retry deletes the record only while it is still ours, never someone else's.
          if (attempt > 1 && (await options.store.get<IdempotencyRecord<R>>(options.recordKey))?.owner !== claimed.owner) return;
          await options.store.delete(options.recordKey);
        });
      }
    } catch (storeError) {
      options.onRecordWriteFailed?.(storeError, 'after-failure');
    }
    throw error;
  }
  const completed: IdempotencyRecord<R> = { ...closedRecord(claimed, 'COMPLETED', now(), options.completedTtlMs), result };
  await writeCompleted(options, completed);
  return { status: 'executed', result, record: completed };
}

/** What a failure leaves the record as, instead of deleting it: REJECTED (isRejected), DEFERRED or SKIPPED (keepAs). */
function keptAs<R>(options: IdempotentOptions<R>, error: unknown): 'REJECTED' | 'DEFERRED' | 'SKIPPED' | undefined {
  return options.isRejected?.(error) ? 'REJECTED' : options.keepAs?.(error);
}

/** The claim turned into a final record (COMPLETED or REJECTED) that counts for `ttlMs` from `at` (forever without). */
function closedRecord<R>(
  claimed: IdempotencyRecord<R>,
  status: 'COMPLETED' | 'REJECTED' | 'DEFERRED' | 'SKIPPED',
  at: Date,
  ttlMs: number | undefined,
): IdempotencyRecord<R> {
  return {
    ...claimed,
    status,
    inProgressExpiresAt: undefined,
    completedAt: at.toISOString(),
    expiresAt: ttlMs === undefined ? undefined : new Date(at.getTime() + ttlMs).toISOString(),
  };
}

/** Attempts at recording a finished submit before giving up on the record (never on the result). */
const COMPLETED_WRITE_ATTEMPTS = 3;
const COMPLETED_WRITE_PAUSE_MS = 200;

/**
 * The work is done (the job exists), so failing now would only make FC retry and, once the IN_PROGRESS
 * record expires, submit a second job. Try hard to record it; if the store stays down, return the result
 * anyway (it is in the invocation's result and logs) and leave the expiring IN_PROGRESS record.
 */
async function writeCompleted<R>(options: IdempotentOptions<R>, completed: IdempotencyRecord<R>): Promise<void> {
  await withStoreRetries(() => options.store.put(options.recordKey, completed)).catch((error: unknown) => options.onRecordWriteFailed?.(error, 'completed'));
}

function withStoreRetries(write: (attempt: number) => Promise<void>): Promise<void> {
  return withAttempts(write, COMPLETED_WRITE_ATTEMPTS, (attempt) => COMPLETED_WRITE_PAUSE_MS * attempt);
}

function isExpired(record: IdempotencyRecord, at: Date): boolean {
  const deadline = record.status === 'IN_PROGRESS' ? record.inProgressExpiresAt : record.expiresAt;
  return deadline !== undefined && Date.parse(deadline) <= at.getTime();
}

/** The same refusal again, from the record: not retryable, and ICE is not asked twice. */
function rejectedError(recordKey: string, record: IdempotencyRecord): YikeError {
  const code = record.error?.code ?? 'REJECTED';
  return new YikeError(code, `${record.error?.message ?? 'Refused earlier'} (recorded in ${recordKey}; delete it to try again)`, {
    statusCode: 422,
    details: record.error?.details,
  });
}

/** The item is already waiting for its renewal: the same refusal (its code), and nothing new is written. */
function deferredError(recordKey: string, record: IdempotencyRecord): YikeError {
  return new YikeError(record.error?.code ?? 'BUDGET_EXHAUSTED', `${record.error?.message ?? 'Over the budget'} (deferred earlier: ${recordKey})`, {
    statusCode: 429,
    details: { ...(record.error?.details as object | undefined), alreadyDeferred: true },
  });
}

function outcomeUnknownError(recordKey: string, record: IdempotencyRecord): YikeError {
  return new YikeError(
    'OUTCOME_UNKNOWN',
    `An earlier submit for this input got no answer from ICE (${record.error?.code ?? 'unknown'}) and may have created a job; ` +
      `check ICE, then delete the record ${recordKey} to submit again`,
    { statusCode: 409 },
  );
}
