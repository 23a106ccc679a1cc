import { describeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { RecordStore, RecordStoreFor } from '../ports';
import type { ItemOutcome } from '../submissions/submissions';
import { countUsed } from './counter';
import { budgetDay } from './day';
import { listDeferred, type DeferredEntry } from './deferred';
import { budgetPrefix, renewalDoneKey, tokenCounterPrefix, type BudgetSettings } from './spending';

/**
 * The renewal (the budget-renewal function's timer, every minute): the deferred line, oldest first, submitted again
 * within today's budget before new work competes for the slots. Each item goes through the one-job path once more
 * (its image checked again: HEAD, then the precheck); an image that is gone is skipped and its record says why.
 * Once the line has been gone through (or the budget is spent), the day is opened to new work (renewal-done.json);
 * until then new uploads join the line and `POST /jobs` is asked to come back in a minute (spending.ts).
 */
export interface RenewalDependencies {
  /** The records bucket's store, where the line and the counters are. */
  store: RecordStore;
  /** Where the items' submit records are (the records bucket, or the upload's). */
  recordStore: RecordStoreFor;
  recordsPrefix: string;
  settings: BudgetSettings;
  /** Submits one deferred item again (submissions.ts, resubmitDeferred). */
  resubmit: (entry: DeferredEntry) => Promise<ItemOutcome>;
  logger: Logger;
  now?: () => Date;
  /** Stop starting items when less than this is left of the invocation. */
  remainingTimeMs: () => number;
  reserveMs: number;
  /** At most this many items (the operator's `--limit`). */
  limit?: number;
}

export interface RenewalSummary {
  day: string;
  /** Entries in the line when the run started. */
  waiting: number;
  submitted: number;
  /** Still deferred: over the budget or their token's quota, or failed retryably (tried again next run). */
  kept: number;
  skipped: number;
  failed: number;
  /** The budget's slots left when the run ended (undefined without JOB_BUDGET_PER_DAY). */
  remaining?: number;
  opened: boolean;
  stoppedEarly: boolean;
}

/** Listings of the line per run: items deferred while the run went through it are renewed by the same run. */
const MAX_PASSES = 3;

export async function renewDeferred(deps: RenewalDependencies): Promise<RenewalSummary> {
  const { store, recordsPrefix, settings, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const day = budgetDay(now(), settings.timeZone);
  const summary: RenewalSummary = { day, waiting: 0, submitted: 0, kept: 0, skipped: 0, failed: 0, opened: false, stoppedEarly: false };
  let remaining =
    settings.perDay === undefined ? Number.POSITIVE_INFINITY : settings.perDay - (await countUsed(store, { prefix: budgetPrefix(recordsPrefix, day) }));
  const tokensLeft = new Map<string, number>();
  const seen = new Set<string>();
  let budgetSpent = remaining <= 0;
  let started = 0;

  for (let pass = 0; pass < MAX_PASSES && !summary.stoppedEarly; pass++) {
    const keys = (await listDeferred(store, recordsPrefix)).filter((key) => !seen.has(key));
    if (pass === 0) summary.waiting = keys.length;
    if (keys.length === 0 || budgetSpent) break;
    // One item at a time: the line's order is the order ICE receives the jobs in (about 8 round trips an item: the
    // entry, the takeover, HEAD, precheck, slot, submit, records). A long line goes on over the next ticks.
    for (const key of keys) {
      if (deps.remainingTimeMs() < deps.reserveMs || (deps.limit !== undefined && started >= deps.limit)) {
        summary.stoppedEarly = true;
        break;
      }
      if (remaining <= 0 || budgetSpent) {
        budgetSpent = true;
        break;
      }
      started++;
      seen.add(key);
      if ((await renewOne(key)) === 'budget-spent') budgetSpent = true;
    }
  }
  summary.remaining = settings.perDay === undefined ? undefined : Math.max(0, remaining);
  // The line was gone through (what is left waits for a quota, or failed and is retried), or nothing more fits today.
  if (settings.perDay !== undefined && (budgetSpent || !summary.stoppedEarly)) {
    await store.createIfAbsent(renewalDoneKey(recordsPrefix, day), { openedAt: now().toISOString(), by: 'renewal', summary }).catch(() => undefined);
    summary.opened = true;
  }
  return summary;

  async function renewOne(key: string): Promise<'done' | 'kept' | 'budget-spent'> {
    const entry = await store.get<DeferredEntry>(key).catch(() => undefined);
    if (!entry) return 'done';
    const quota = entry.token === undefined ? undefined : settings.tokenQuotas[entry.token];
    if (quota !== undefined && (await tokenLeft(entry.token!, quota)) <= 0) {
      summary.kept++;
      return 'kept';
    }
    const outcome = await deps.resubmit(entry);
    const log = { entry: key, source: entry.source, deferredAt: entry.deferredAt };
    switch (outcome.type) {
      case 'submitted':
        summary.submitted++;
        remaining--;
        if (entry.token !== undefined) tokensLeft.set(entry.token, (tokensLeft.get(entry.token) ?? 1) - 1);
        logger.info('deferred item submitted', { ...log, jobId: outcome.entry.jobId });
        return await removed(key);
      case 'skipped':
        // A duplicate was submitted another way meanwhile; image-gone: the record says SKIPPED and why.
        summary.skipped++;
        logger.warn('deferred item skipped', { ...log, reason: outcome.entry.reason, jobId: outcome.entry.jobId });
        return await removed(key);
      case 'deferred':
        summary.kept++;
        if (outcome.entry.code === 'QUOTA_EXHAUSTED' && entry.token !== undefined) tokensLeft.set(entry.token, 0);
        return outcome.entry.code === 'BUDGET_EXHAUSTED' ? 'budget-spent' : 'kept';
      case 'failed': {
        // It leaves the line only once its record says how it ended (REJECTED, OUTCOME_UNKNOWN: listed by yike-jobs);
        // a record still DEFERRED (a failure before the claim, an outage) keeps its place and is tried again next run.
        const status = await deps
          .recordStore(entry.recordsBucket)
          .get<{ status?: string }>(entry.recordKey)
          .then((record) => record?.status)
          .catch(() => 'unreadable');
        if (outcome.entry.retryable || status === undefined || ['DEFERRED', 'IN_PROGRESS', 'unreadable'].includes(status)) {
          summary.kept++;
          logger[outcome.entry.retryable ? 'warn' : 'error']('deferred item failed; it stays in the line and is tried again next run', {
            ...log,
            error: outcome.entry,
          });
          return 'kept';
        }
        summary.failed++;
        logger.error('deferred item failed for good; its submit record says why', { ...log, status, error: outcome.entry });
        return await removed(key);
      }
    }
  }

  async function removed(key: string): Promise<'done'> {
    await store
      .delete(key)
      .catch((error: unknown) => logger.warn('deferred entry could not be removed; the next run finds it done', { entry: key, error: describeError(error) }));
    return 'done';
  }

  async function tokenLeft(token: string, quota: number): Promise<number> {
    let left = tokensLeft.get(token);
    if (left === undefined) {
      left = quota - (await countUsed(store, { prefix: tokenCounterPrefix(recordsPrefix, day, token) }));
      tokensLeft.set(token, left);
    }
    return left;
  }
}
