import { documented } from '../../runtime/schema-docs';
import * as z from '../../runtime/zod';

/**
 * The budget's alerts as the job webhook receives them (alerts.ts): the notifications' envelope with `budget` where
 * those carry `job`. The OpenAPI document is made from it, and alerts.ts types its payload with it.
 */
export const budgetAlertPayloadSchema = z.object({
  id: documented(z.string(), 'budget.<day>.warning or budget.<day>.exhausted: the same on every retry'),
  type: z.enum(['yike.budget.warning', 'yike.budget.exhausted']),
  time: documented(z.iso.datetime(), 'When the alert was raised'),
  budget: z.object({
    day: documented(z.string(), 'YYYY-MM-DD in BUDGET_TIMEZONE'),
    timezone: z.string(),
    used: z.number().check(z.int()),
    limit: z.number().check(z.int()),
    remaining: z.number().check(z.int()),
    percent: z.number().check(z.int()),
    warnPercent: z.number().check(z.int()),
    resetsAt: documented(z.iso.datetime(), 'When the budget renews'),
  }),
});
export type BudgetAlertPayload = z.output<typeof budgetAlertPayloadSchema>;
export type BudgetAlertType = BudgetAlertPayload['type'];
