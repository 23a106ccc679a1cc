import type { Logger } from '../../runtime/logger';
import { nextAttemptDelayMs } from '../lifecycle/notify';
import type { RecordStore, WebhookSender } from '../ports';
import type { BudgetAlertPayload, BudgetAlertType } from './alert-schema';
import { budgetDay, nextResetAt } from './day';
import { budgetPrefix, type BudgetSettings } from './spending';

/**
 * The budget's alerts: `yike.budget.warning` once budget.warnPercent (80 %) of the day's budget is used, and
 * `yike.budget.exhausted` at 100 %, each once a day. Each is an error log line, and (with JOB_WEBHOOK_URL) a POST
 * through the job webhook's sender: the same Standard Webhooks signature and envelope (`{id, type, time, …}`) as the
 * job notifications, with `budget` where those carry `job`.
 *
 * Once a day: whoever creates `<RECORDS_PREFIX>budget/<day>/alerts/<name>.json` (create-only) raises it and writes
 * the log line; each delivery attempt n is claimed first (`….attempt-<n>`, create-only), so two runs at once never
 * send the same attempt. A failed attempt is retried on later runs (1, 2, 4 … minutes) up to the webhook's attempts (10),
 * with the same body and id; a run that died mid-attempt leaves its claim, and the attempt after it goes ahead once
 * the claim is older than ATTEMPT_LEASE_MS (at least once: receivers dedupe by `id`).
 */
export type { BudgetAlertPayload, BudgetAlertType } from './alert-schema';

interface AlertState {
  status: 'pending' | 'delivered' | 'undelivered' | 'log-only';
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  payload: BudgetAlertPayload;
}

export interface AlertDependencies {
  store: RecordStore;
  recordsPrefix: string;
  settings: BudgetSettings & { warnPercent: number };
  webhook?: { url: string; secret: string; timeoutMs: number; maxAttempts: number };
  sendWebhook?: WebhookSender;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
  /** Alerts this instance saw settled (no more reads for them). */
  settled?: Set<string>;
}

const ATTEMPT_LEASE_MS = 5 * 60_000;

/** Raises and delivers the alerts `used` has crossed today; answers what happened to each. */
export async function raiseBudgetAlerts(deps: AlertDependencies, used: number): Promise<Partial<Record<BudgetAlertType, string>>> {
  const { settings } = deps;
  const limit = settings.perDay;
  if (limit === undefined) return {};
  const now = deps.now ?? (() => new Date());
  const at = now();
  const day = budgetDay(at, settings.timeZone);
  const warnAt = Math.ceil((limit * settings.warnPercent) / 100);
  const crossed: [BudgetAlertType, string][] = [];
  if (settings.warnPercent < 100 && used >= warnAt) crossed.push(['yike.budget.warning', 'warning']);
  if (used >= limit) crossed.push(['yike.budget.exhausted', 'exhausted']);
  const outcome: Partial<Record<BudgetAlertType, string>> = {};
  for (const [type, name] of crossed) {
    const key = `${budgetPrefix(deps.recordsPrefix, day)}alerts/${name}.json`;
    if (deps.settled?.has(key)) continue;
    const payload: BudgetAlertPayload = {
      id: `budget.${day}.${name}`,
      type,
      time: at.toISOString(),
      budget: {
        day,
        timezone: settings.timeZone,
        used,
        limit,
        remaining: Math.max(0, limit - used),
        percent: Math.floor((used / limit) * 100),
        warnPercent: settings.warnPercent,
        resetsAt: nextResetAt(at, settings.timeZone).toISOString(),
      },
    };
    const fresh: AlertState = { status: deps.webhook ? 'pending' : 'log-only', attempts: 0, payload };
    let state: AlertState | undefined = fresh;
    if (await deps.store.createIfAbsent(key, fresh)) {
      deps.logger.error(type, { alertId: payload.id, ...payload.budget });
    } else state = await deps.store.get<AlertState>(key);
    if (!state) continue;
    outcome[type] = await deliver(key, state, deps, at);
    if (outcome[type] !== 'pending') deps.settled?.add(key);
  }
  return outcome;
}

async function deliver(key: string, state: AlertState, deps: AlertDependencies, at: Date): Promise<string> {
  const { webhook, sendWebhook } = deps;
  if (state.status !== 'pending' || !webhook || !sendWebhook) return state.status;
  if (state.nextAttemptAt && Date.parse(state.nextAttemptAt) > at.getTime()) return 'pending';
  const attempt = state.attempts + 1;
  const attemptKey = `${key}.attempt-${attempt}`;
  if (!(await deps.store.createIfAbsent(attemptKey, { claimedAt: at.toISOString() }))) {
    // Another run holds this attempt; if it died mid-attempt (an old claim), count the attempt as failed.
    const claim = await deps.store.get<{ claimedAt?: string }>(attemptKey);
    if (claim && at.getTime() - Date.parse(claim.claimedAt ?? '') >= ATTEMPT_LEASE_MS) {
      await deps.store.put(key, { ...state, attempts: attempt, lastError: 'the run making this attempt stopped' });
    }
    return 'pending';
  }
  const body = JSON.stringify(state.payload);
  const sent = await sendWebhook({ url: webhook.url, secret: webhook.secret, body, deliveryId: state.payload.id, timeoutMs: webhook.timeoutMs });
  let next: AlertState;
  if (sent.ok) next = { ...state, status: 'delivered', attempts: attempt, nextAttemptAt: undefined };
  else if (attempt >= webhook.maxAttempts) {
    next = { ...state, status: 'undelivered', attempts: attempt, lastError: sent.error };
    deps.logger.error('budget alert undelivered after its last attempt', { alertId: state.payload.id, attempts: attempt, error: sent.error });
  } else {
    const nextAttemptAt = new Date(at.getTime() + nextAttemptDelayMs(attempt, deps.random)).toISOString();
    next = { ...state, attempts: attempt, nextAttemptAt, lastError: sent.error };
    deps.logger.warn('budget alert delivery failed; retried on a later run', {
      alertId: state.payload.id,
      attempts: attempt,
      nextAttemptAt,
      error: sent.error,
    });
  }
  await deps.store.put(key, next);
  return next.status;
}
