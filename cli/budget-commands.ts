import { budgetUsage, type UsageReport } from '../shared/domain/budget/usage';
import type { RecordStore } from '../shared/domain/ports';
import { releaseDeferred } from '../shared/composition/renewal';
import { createSubmissionServices } from '../shared/composition/submissions';
import type { RenewalSummary } from '../shared/domain/budget/renewal';
import type { Config } from '../shared/runtime/config';

/**
 * `yike-jobs deferred release` and `yike-jobs usage`: the spending limit as an operator sees it
 * (docs/budget.md). A release is the operator's override of the renewal's order in time: it submits the oldest
 * deferred items now, within today's budget, or with --over-budget past it (counted, and logged as an override).
 */
export interface ReleaseOptions {
  bucket: string;
  prefix: string;
  limit?: number;
  overBudget: boolean;
  /** Where the functions' log lines go (stderr: stdout is for the answer). */
  sink: (line: string) => void;
}

/** Submits the oldest deferred items now, in this process, through the one-job path (each image checked again). */
export async function releaseDeferredLine(options: ReleaseOptions): Promise<RenewalSummary> {
  const services = createSubmissionServices({
    env: { ...process.env, RECORDS_BUCKET: options.bucket },
    tuning: { records: { prefix: options.prefix } },
    sink: options.sink,
    fields: { tool: 'yike-jobs' },
  });
  const started = Date.now();
  // Like an FC invocation, a run has an end: an item's IN_PROGRESS claim holds others off no longer than that.
  const runMs = 15 * 60_000;
  services.logger.warn(
    options.overBudget ? 'operator override: deferred items released over the budget' : 'operator release: deferred items submitted now, within the budget',
    { limit: options.limit, overBudget: options.overBudget, bucket: options.bucket },
  );
  const summary = await releaseDeferred(services, {
    remainingTimeMs: () => runMs - (Date.now() - started),
    limit: options.limit,
    overBudget: options.overBudget,
  });
  services.logger.warn('operator release finished', { overBudget: options.overBudget, ...summary });
  return summary;
}

/** What GET /usage answers, with every token that has a quota. */
export async function operatorUsage(store: RecordStore, config: Config, recordsPrefix: string): Promise<UsageReport> {
  return await budgetUsage({ store, recordsPrefix, settings: config.budget }, Object.keys(config.budget.tokenQuotas));
}
