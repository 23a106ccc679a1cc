import type { RecordStore } from '../domain/ports';
import { createSpendingLimit, type BudgetMemo, type SpendingLimit } from '../domain/budget/spending';
import type { UsageDependencies } from '../domain/budget/usage';
import type { Config } from '../runtime/config';
import { ConfigError } from '../runtime/errors';
import type { Services } from './services';
import { sharedRecordsBucket } from '../domain/submissions/record-keys';

/**
 * The spending limit's wiring: JOB_BUDGET_PER_DAY and the AUTH_TOKENS quotas count in one bucket every instance
 * shares (RECORDS_BUCKET, else the first ALLOWED_BUCKETS). Without either, nothing is built: no extra OSS call.
 */
export function hasSpendingLimit(config: Pick<Config, 'budget'>): boolean {
  return config.budget.perDay !== undefined || Object.keys(config.budget.tokenQuotas).length > 0;
}

/** The records bucket the counters and the deferred line live in. */
export function budgetStore(services: Pick<Services, 'config' | 'recordStore'>): RecordStore {
  const { config } = services;
  const bucket = sharedRecordsBucket(config);
  if (!bucket) {
    throw new ConfigError('Invalid configuration: RECORDS_BUCKET: JOB_BUDGET_PER_DAY and token quotas count in RECORDS_BUCKET (or the first ALLOWED_BUCKETS)', [
      { variable: 'RECORDS_BUCKET', message: 'required with JOB_BUDGET_PER_DAY or a jobsPerDay quota' },
    ]);
  }
  return services.recordStore(bucket);
}

/** One memo per configuration, so per FC instance: where its next claim starts, the days it saw opened. */
const memos = new WeakMap<Config, BudgetMemo>();

function budgetMemo(config: Config): BudgetMemo {
  let memo = memos.get(config);
  if (!memo) {
    memo = { counters: new Map(), opened: new Set() };
    memos.set(config, memo);
  }
  // Yesterday's counters are no use today: keep the map small over a long-lived instance.
  if (memo.counters.size > 64) memo.counters.clear();
  return memo;
}

export function spendingLimitFor(services: Services, now?: () => Date): SpendingLimit | undefined {
  const { config } = services;
  if (!hasSpendingLimit(config)) return undefined;
  return createSpendingLimit({
    store: budgetStore(services),
    recordsPrefix: config.records.prefix,
    settings: config.budget,
    logger: services.logger,
    now,
    memo: budgetMemo(config),
  });
}

/** What the usage report reads (no store without a budget or quota: it reads nothing then). */
export function usageDependencies(services: Services, now?: () => Date): UsageDependencies {
  const { config } = services;
  return { store: hasSpendingLimit(config) ? budgetStore(services) : undefined, recordsPrefix: config.records.prefix, settings: config.budget, now };
}
