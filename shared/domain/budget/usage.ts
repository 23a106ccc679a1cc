import type { RecordStore } from '../ports';
import { countUsed } from './counter';
import { budgetDay, nextResetAt } from './day';
import { listDeferred } from './deferred';
import { budgetPrefix, tokenCounterPrefix, type BudgetSettings } from './spending';

/**
 * What `GET /usage`, the page and `yike-jobs usage` show: today's count against the budget, the deferred line, and
 * the tokens' quotas. `used`, `limit` and `remaining` are null without JOB_BUDGET_PER_DAY (nothing is counted then).
 */
export interface UsageReport {
  day: string;
  timezone: string;
  used: number | null;
  limit: number | null;
  remaining: number | null;
  /** Items waiting in the deferred line. */
  deferred: number;
  resetsAt: string;
  tokens: { name: string; used: number; limit: number }[];
  /** JOB_PRICE × used, when a price is configured. */
  estimatedCost?: { amount: number; currency: string; perJob: number };
}

export interface UsageDependencies {
  /** The records bucket's store; undefined when no budget or quota is configured (nothing to read). */
  store?: Pick<RecordStore, 'list'>;
  recordsPrefix: string;
  settings: BudgetSettings & { price?: { perJob: number; currency: string } };
  now?: () => Date;
}

/** Today's usage; `tokens` names the quotas to report (the caller's own over HTTP, every one for the operator). */
export async function budgetUsage(deps: UsageDependencies, tokens: readonly string[]): Promise<UsageReport> {
  const { settings, store, recordsPrefix } = deps;
  const at = (deps.now ?? (() => new Date()))();
  const day = budgetDay(at, settings.timeZone);
  const limit = settings.perDay;
  const quotas = tokens.filter((name) => settings.tokenQuotas[name] !== undefined);
  const [used, deferred, tokenUse] = await Promise.all([
    limit !== undefined && store ? countUsed(store, { prefix: budgetPrefix(recordsPrefix, day) }) : Promise.resolve(null),
    store ? listDeferred(store, recordsPrefix).then((keys) => keys.length) : Promise.resolve(0),
    Promise.all(
      quotas.map(async (name) => ({
        name,
        used: store ? await countUsed(store, { prefix: tokenCounterPrefix(recordsPrefix, day, name) }) : 0,
        limit: settings.tokenQuotas[name]!,
      })),
    ),
  ]);
  const report: UsageReport = {
    day,
    timezone: settings.timeZone,
    used,
    limit: limit ?? null,
    remaining: limit === undefined || used === null ? null : Math.max(0, limit - used),
    deferred,
    resetsAt: nextResetAt(at, settings.timeZone).toISOString(),
    tokens: tokenUse,
  };
  if (settings.price && used !== null) {
    // In millionths, so 0.1 × 3 is 0.3 and not 0.30000000000000004.
    const micros = Math.round(settings.price.perJob * 1_000_000);
    report.estimatedCost = { amount: (micros * used) / 1_000_000, currency: settings.price.currency, perJob: settings.price.perJob };
  }
  return report;
}
