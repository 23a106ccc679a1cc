import { IceError, YikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { RecordStore } from '../ports';
import { claimSlot, reclaimAbandoned, recordOverride, releaseSlot, type ClaimedSlot, type Counter, type CounterMemo } from './counter';
import { budgetDay, dayStartAt, nextResetAt, secondsUntilReset } from './day';
import { writeDeferredEntry, type NewDeferredEntry } from './deferred';

/**
 * The spending limit every submit goes through (sendSubmit, in the one submit): right before the paid SubmitYikeAIAppJob it
 * claims a slot of the token's quota (if the caller's token has one) and of the day's budget (JOB_BUDGET_PER_DAY),
 * and gives them back when ICE refused the submit for sure (no job exists). Over either, the submit is refused with
 * BUDGET_EXHAUSTED or QUOTA_EXHAUSTED (HTTP 429; uploads and pipeline events are deferred: `overBudget` in submissions/submit-yike-job.ts).
 * Layout and exactness: counter.ts; the whole design: docs/budget.md.
 */
export interface Payer {
  /** The AUTH_TOKENS name the job counts against (its `jobsPerDay` quota), if any. */
  token?: string;
  /** What the job is for, kept in its slot (an upload's `oss://` source, `POST /jobs`). */
  source?: string;
  /** A deferred item being renewed: it spends before the day is opened to new work. */
  renewal?: boolean;
  /** An operator's release over the budget (`yike-jobs deferred release --over-budget`): counted, never refused. */
  overBudget?: boolean;
}

export interface SpendingLimit {
  /** Runs `submit` inside the day's budget and the payer's quota, or throws BUDGET_EXHAUSTED / QUOTA_EXHAUSTED. */
  spend<T>(payer: Payer | undefined, submit: () => Promise<T>): Promise<T>;
  /** Lists an item refused by spend under `<RECORDS_PREFIX>deferred/`, where the renewal finds it (oldest first). */
  defer(entry: NewDeferredEntry): Promise<string>;
}

export interface BudgetSettings {
  perDay?: number;
  timeZone: string;
  tokenQuotas: Record<string, number>;
}

export interface BudgetMemo {
  counters: CounterMemo;
  /** Days this instance saw opened to new work (the renewal ran, or nothing was waiting). */
  opened: Set<string>;
}

export interface SpendingLimitOptions {
  /** The records bucket's store: one place every instance counts in. */
  store: RecordStore;
  recordsPrefix: string;
  settings: BudgetSettings;
  logger: Logger;
  now?: () => Date;
  /** Kept per instance (per configuration): where to claim next, days seen opened. */
  memo?: BudgetMemo;
}

const SPENDING_REFUSALS = ['BUDGET_EXHAUSTED', 'QUOTA_EXHAUSTED'] as const;

/** BUDGET_EXHAUSTED or QUOTA_EXHAUSTED: nothing was submitted, and nothing is owed. */
export function isSpendingRefusal(error: unknown): error is YikeError {
  return (SPENDING_REFUSALS as readonly string[]).includes((error as { code?: unknown } | undefined)?.code as string);
}

/**
 * How long new work waits, after the reset, for the renewal to submit the deferred items first: past it, a renewal
 * that never ran (budget-renewal not deployed, failing) no longer holds every new job back.
 */
const RENEWAL_GRACE_MS = 10 * 60_000;
/** What a caller held back by the renewal is told to wait (the renewal runs every minute). */
const RENEWAL_RETRY_SECONDS = 60;

export const budgetPrefix = (recordsPrefix: string, day: string) => `${recordsPrefix}budget/${day}/`;
export const tokenCounterPrefix = (recordsPrefix: string, day: string, token: string) => `${budgetPrefix(recordsPrefix, day)}tokens/${token}/`;
export const renewalDoneKey = (recordsPrefix: string, day: string) => `${budgetPrefix(recordsPrefix, day)}renewal-done.json`;

export function createSpendingLimit(options: SpendingLimitOptions): SpendingLimit {
  const { store, recordsPrefix, settings, logger } = options;
  const now = options.now ?? (() => new Date());
  const memo = options.memo ?? { counters: new Map(), opened: new Set<string>() };
  const counterOptions = { memo: memo.counters, nowMs: () => now().getTime() };

  /** Slots given up on (no clear answer) during this submit's claims: looked at again once it is settled. */
  async function claim(counter: Counter, payer: Payer | undefined, abandoned: ClaimedSlot[]): Promise<ClaimedSlot | undefined> {
    try {
      const claimed = await claimSlot(store, counter, payer?.source ?? 'job', counterOptions);
      abandoned.push(...claimed.abandoned);
      return claimed.slot;
    } catch (error) {
      abandoned.push(...(((error as YikeError).details as { abandoned?: ClaimedSlot[] } | undefined)?.abandoned ?? []));
      throw error;
    }
  }

  async function release(slots: ClaimedSlot[]): Promise<void> {
    for (const slot of slots) {
      if (!(await releaseSlot(store, slot, now()))) logger.error('budget slot could not be released: it stays counted', { slot: slot.key });
    }
  }

  return {
    async spend(payer, submit) {
      const at = now();
      const day = budgetDay(at, settings.timeZone);
      if (payer?.overBudget) return await submitOverBudget(day, payer, submit);
      if (settings.perDay !== undefined && !payer?.renewal) await assertOpenToNewWork(day, at);
      const claimed: ClaimedSlot[] = [];
      const abandoned: ClaimedSlot[] = [];
      try {
        const quota = payer?.token === undefined ? undefined : settings.tokenQuotas[payer.token];
        if (quota !== undefined) {
          const slot = await claim({ prefix: tokenCounterPrefix(recordsPrefix, day, payer!.token!), limit: quota }, payer, abandoned);
          if (!slot) throw quotaExhausted(payer!.token!, quota, day, at, settings.timeZone);
          claimed.push(slot);
        }
        if (settings.perDay !== undefined) {
          let slot: ClaimedSlot | undefined;
          try {
            slot = await claim({ prefix: budgetPrefix(recordsPrefix, day), limit: settings.perDay }, payer, abandoned);
          } catch (error) {
            await release(claimed);
            throw error;
          }
          if (!slot) {
            await release(claimed);
            throw budgetExhausted(settings.perDay, day, at, settings.timeZone, 'budget');
          }
          claimed.push(slot);
        }
        try {
          return await submit();
        } catch (error) {
          // ICE answered no (or never got the request): no job exists, so the slots go back. An unknown outcome keeps them.
          if (error instanceof IceError && error.outcome !== 'unknown') await release(claimed);
          throw error;
        }
      } finally {
        if (abandoned.length > 0) await reclaimAbandoned(store, abandoned, now()).catch(() => undefined);
      }
    },
    async defer(entry) {
      return await writeDeferredEntry(store, recordsPrefix, entry, now());
    },
  };

  async function submitOverBudget<T>(day: string, payer: Payer, submit: () => Promise<T>): Promise<T> {
    const result = await submit();
    const counted = [
      budgetPrefix(recordsPrefix, day),
      ...(payer.token && settings.tokenQuotas[payer.token] ? [tokenCounterPrefix(recordsPrefix, day, payer.token)] : []),
    ];
    for (const prefix of counted) {
      await recordOverride(store, { prefix }, { for: payer.source ?? 'job', by: 'operator' }, now()).catch((error: unknown) =>
        logger.error('job released over the budget could not be counted', { prefix, error: (error as Error).message }),
      );
    }
    return result;
  }

  /**
   * Deferred items go first when the day renews: until the renewal has run (its marker), or nothing waits, or the grace
   * period is over, new work is held back like an exhausted budget (uploads wait in line behind the older ones).
   */
  async function assertOpenToNewWork(day: string, at: Date): Promise<void> {
    if (memo.opened.has(day)) return;
    const marker = renewalDoneKey(recordsPrefix, day);
    const sinceResetMs = at.getTime() - dayStartAt(at, settings.timeZone).getTime();
    if (sinceResetMs >= RENEWAL_GRACE_MS || (await store.get(marker)) !== undefined) {
      memo.opened.add(day);
      return;
    }
    const waiting = await store.list(`${recordsPrefix}deferred/`, { limit: 1 });
    if (waiting.length === 0) {
      await store.createIfAbsent(marker, { openedAt: at.toISOString(), by: 'no deferred work' }).catch(() => undefined);
      memo.opened.add(day);
      return;
    }
    throw budgetExhausted(settings.perDay!, day, at, settings.timeZone, 'renewal-pending');
  }
}

function budgetExhausted(limit: number, day: string, at: Date, timeZone: string, reason: 'budget' | 'renewal-pending'): YikeError {
  const resetsAt = nextResetAt(at, timeZone).toISOString();
  const retryAfterSeconds = reason === 'budget' ? secondsUntilReset(at, timeZone) : RENEWAL_RETRY_SECONDS;
  const message =
    reason === 'budget'
      ? `The daily budget of ${limit} jobs is used up for ${day}; it renews at ${resetsAt}`
      : `Jobs deferred earlier are being submitted first now that the budget for ${day} renewed; try again in a minute`;
  return new YikeError('BUDGET_EXHAUSTED', message, { statusCode: 429, details: { reason, day, limit, resetsAt, retryAfterSeconds } });
}

/** QUOTA_EXHAUSTED for a token at its quota (429 over HTTP, with Retry-After: the seconds to the reset). */
export function quotaExhausted(token: string, limit: number, day: string, at: Date, timeZone: string): YikeError {
  const resetsAt = nextResetAt(at, timeZone).toISOString();
  return new YikeError('QUOTA_EXHAUSTED', `The token "${token}" has used its ${limit} jobs for ${day}; its quota renews at ${resetsAt}`, {
    statusCode: 429,
    details: { reason: 'quota', token, day, limit, resetsAt, retryAfterSeconds: secondsUntilReset(at, timeZone) },
  });
}
