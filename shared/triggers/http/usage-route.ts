import { usageDependencies } from '../../composition/budget';
import type { Services } from '../../composition/services';
import { budgetUsage } from '../../domain/budget/usage';
import { httpError, type HttpError, type RouteAnswer } from './errors';

/**
 * `GET /usage`: today's count against JOB_BUDGET_PER_DAY, the deferred line, and the caller's own token quota
 * (`tokens` lists only the caller's: other clients' names are not theirs to see; `yike-jobs usage` lists all).
 * Without a budget or a quota it reads nothing and answers nulls.
 */
export async function getUsage(caller: string | undefined, services: Services, now?: () => Date): Promise<RouteAnswer> {
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
  const retryAfterSeconds = Math.max(1, Math.ceil((Date.parse(report.resetsAt) - (now?.() ?? new Date()).getTime()) / 1000));
  return httpError(
    429,
    'QUOTA_EXHAUSTED',
    `The token "${caller}" has used its ${token.limit} jobs for ${report.day}; its quota renews at ${report.resetsAt}`,
    { reason: 'quota', token: caller, day: report.day, limit: token.limit, resetsAt: report.resetsAt, retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );
}
