import { usageDependencies } from '../../composition/budget';
import type { Services } from '../../composition/services';
import { budgetUsage } from '../../domain/budget/usage';
import { quotaExhausted } from '../../domain/budget/spending';
import { toHttpError, type HttpError, type RouteAnswer } from './errors';
import type { UsageBody } from './responses';

/**
 * `GET /usage`: today's count against JOB_BUDGET_PER_DAY, the deferred line, and the caller's own token quota
 * (`tokens` lists only the caller's: other clients' names are not theirs to see; `yike-jobs usage` lists all).
 * Without a budget or a quota it reads nothing and answers nulls.
 */
export async function getUsage(caller: string | undefined, services: Services, now?: () => Date): Promise<RouteAnswer<UsageBody>> {
  const report = await budgetUsage(usageDependencies(services, now), caller === undefined ? [] : [caller]);
  return { ok: true, status: 200, body: report };
}

/**
 * A token at its quota gets no upload form (`POST /uploads`): 429 QUOTA_EXHAUSTED before anything is signed. This is a
 * courtesy read; the exact count is the upload's own claim in oss-submit (over it, the upload is deferred).
 */
export async function uploadQuotaRefusal(caller: string | undefined, services: Services, now?: () => Date): Promise<HttpError | undefined> {
  const quota = caller === undefined ? undefined : services.config.budget.tokenQuotas[caller];
  if (quota === undefined) return undefined;
  const report = await budgetUsage(usageDependencies(services, now), [caller!]);
  const token = report.tokens[0]!;
  if (token.used < token.limit) return undefined;
  // The same refusal a submit past the quota gets (spending.ts), in the same HTTP shape.
  return toHttpError(quotaExhausted(caller!, token.limit, report.day, now?.() ?? new Date(), services.config.budget.timeZone));
}
