import { deliverWebhook } from '../adapters/webhook/webhook';
import { raiseBudgetAlerts, type BudgetAlertType } from '../domain/budget/alerts';
import { countUsed } from '../domain/budget/counter';
import { budgetDay } from '../domain/budget/day';
import { renewDeferred, type RenewalSummary } from '../domain/budget/renewal';
import { budgetPrefix } from '../domain/budget/spending';
import type { WebhookSender } from '../domain/ports';
import { resubmitDeferred } from '../domain/submissions/submissions';
import type { Config } from '../runtime/config';
import { describeError } from '../runtime/errors';
import { budgetStore } from './budget';
import type { SubmissionServices } from './submissions';

/**
 * The budget-renewal function's run (its timer, every minute), and `yike-jobs deferred release`: the deferred line
 * submitted again within today's budget (shared/domain/budget/renewal.ts), then the day's alerts
 * (shared/domain/budget/alerts.ts) through the job webhook.
 */
export interface BudgetTickSummary {
  renewal?: RenewalSummary;
  alerts?: Partial<Record<BudgetAlertType, string>>;
  used?: number;
  errors: number;
}

interface RunOptions {
  remainingTimeMs: () => number;
  now?: () => Date;
  /** Time kept back from the invocation's end (one item's submit, at most). */
  reserveMs?: number;
}

/** Alerts an instance saw settled, per configuration (per FC instance). */
const settledAlerts = new WeakMap<Config, Set<string>>();

const RESERVE_MS = 15_000;

export async function runBudgetTick(services: SubmissionServices, run: RunOptions): Promise<BudgetTickSummary> {
  const { config, logger } = services;
  const summary: BudgetTickSummary = { errors: 0 };
  try {
    summary.renewal = await releaseDeferred(services, run);
  } catch (error) {
    summary.errors++;
    logger.error('deferred items could not be renewed; the next run tries again', { error: describeError(error) });
  }
  if (config.budget.perDay === undefined) return summary;
  try {
    const store = budgetStore(services);
    const day = budgetDay((run.now ?? (() => new Date()))(), config.budget.timeZone);
    summary.used = await countUsed(store, { prefix: budgetPrefix(config.records.prefix, day) });
    const settled = settledAlerts.get(config) ?? new Set<string>();
    settledAlerts.set(config, settled);
    const sendWebhook: WebhookSender = deliverWebhook;
    summary.alerts = await raiseBudgetAlerts(
      {
        store,
        recordsPrefix: config.records.prefix,
        settings: config.budget,
        webhook: config.lifecycle.webhook,
        sendWebhook,
        logger,
        now: run.now,
        settled,
      },
      summary.used,
    );
  } catch (error) {
    summary.errors++;
    logger.error('budget alerts could not be raised; the next run tries again', { error: describeError(error) });
  }
  return summary;
}

/** The deferred line, oldest first, within today's budget; `overBudget` (an operator's override) claims no slot. */
export async function releaseDeferred(services: SubmissionServices, run: RunOptions & { limit?: number; overBudget?: boolean }): Promise<RenewalSummary> {
  const { config, logger } = services;
  const deps = { ...services, remainingTimeMs: run.remainingTimeMs, now: run.now };
  return await renewDeferred({
    store: budgetStore(services),
    recordStore: services.recordStore,
    recordsPrefix: config.records.prefix,
    // Over the budget, nothing limits the line but --limit.
    settings: run.overBudget ? { ...config.budget, perDay: undefined } : config.budget,
    resubmit: (entry) => resubmitDeferred(entry, deps, { overBudget: run.overBudget }),
    logger,
    now: run.now,
    remainingTimeMs: run.remainingTimeMs,
    reserveMs: run.reserveMs ?? RESERVE_MS,
    limit: run.limit,
  });
}
