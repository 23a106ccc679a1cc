import { describeError } from '../../runtime/errors';
import type { Config } from '../../runtime/config';
import type { FunctionInvoker, RecordStore, WebhookSender } from '../ports';
import type { JobRecord, NotificationState } from './job-record';
import type { NotificationPayload } from './payload-schemas';
import { jobWebhookDeliveryRefusal } from './job-webhook';

export type { NotificationPayload };

/**
 * Notifications of a job's outcome (Finished, Failed, TimedOut), one payload for every channel:
 * `{"id", "type", "time", "job"}`. `id` is the same on every retry of the same notification, so receivers dedupe
 * by it (it is also the deliveries' `webhook-id`); `time` is when the outcome was first recorded; `job` is the job
 * record (the caller's `metadata` with it) without the watcher's own bookkeeping or the job's own webhook URL, plus, once it has an own copy (JOB_RESULTS `copy`), `playUrl`: that copy signed anew for each delivery
 * (so a retry hours later still carries a working URL; everything else in the body stays the same).
 *
 * A copy that succeeds after the job was notified without it sends a second notification, `yike.job.result-copied`
 * (`id` `<jobId>.result-copied`, `time` when the copy was done), with the same `job` now carrying the copies.
 */
type NotificationType = NotificationPayload['type'];

/** Which notification of a job: its outcome, or the later news that its outputs were copied. */
export type NotificationEvent = 'outcome' | 'result-copied';

/** The fields of `T` the notification's job (payload-schemas.ts, the OpenAPI document's webhooks) lists, the others `never`: an undocumented record field left in the payload does not compile. */
type OnlyDocumented<T> = { [K in keyof T]: K extends keyof NotificationPayload['job'] ? T[K] : never };

const TYPES: Record<string, NotificationType> = { Finished: 'yike.job.finished', Failed: 'yike.job.failed', TimedOut: 'yike.job.timed-out' };

export function notificationFor(
  record: JobRecord,
  event: NotificationEvent = 'outcome',
  links: { playUrl?: string; playUrlExpiresAt?: string } = {},
): NotificationPayload {
  const type = event === 'result-copied' ? 'yike.job.result-copied' : TYPES[record.status];
  if (!type) throw new TypeError(`No notification for status ${record.status}`);
  // The job's own webhook URL stays out: a receiver's URL may carry its token, and the next function or the result object is not that receiver.
  const {
    notifications: _notifications,
    notifyRound: _notifyRound,
    copying,
    copyNotifications: _copyNotifications,
    submitRecordKey: _submitRecordKey,
    webhookUrl: _webhookUrl,
    ...job
  } = record;
  const time = event === 'result-copied' ? (copying?.copiedAt ?? record.updatedAt) : (record.settledAt ?? record.updatedAt);
  return { id: `${record.jobId}.${type.slice('yike.job.'.length)}`, type, time, job: { ...(job satisfies OnlyDocumented<typeof job>), ...links } };
}

type ChannelName = 'result-object' | 'webhook' | 'job-webhook' | 'next-function';
/** `final`: a refusal another attempt would meet again (the job's webhook URL or where it leads): undelivered at once. */
type DeliveryOutcome = { ok: true; detail?: string } | { ok: false; error: string; final?: boolean };

export interface Channel {
  name: ChannelName;
  maxAttempts: number;
  /** Whether the channel has anything to deliver for this job (default: every job). */
  appliesTo?(record: JobRecord): boolean;
  deliver(payload: NotificationPayload, body: string, record: JobRecord): Promise<DeliveryOutcome>;
}

/** The channels a job is notified on. */
export function channelsFor(channels: readonly Channel[], record: JobRecord): Channel[] {
  return channels.filter((channel) => channel.appliesTo?.(record) ?? true);
}

export interface ChannelDependencies {
  config: Config['lifecycle'];
  /** RESULTS_PREFIX (config.records.resultsPrefix). */
  resultsPrefix: string;
  /** The bucket that holds this job's record (result objects of non-upload jobs go there). */
  recordsBucket: string;
  recordStore: (bucket: string) => RecordStore;
  /** Required when JOB_NEXT_FUNCTION is set. */
  invoker?: FunctionInvoker;
  /** Required when JOB_WEBHOOK_URL is set. */
  sendWebhook?: WebhookSender;
  /** Required for jobs with their own webhook (`webhookUrl`). */
  sendJobWebhook?: WebhookSender;
}

/** The enabled channels, in delivery order: the result object first (it is the cheapest and the most durable). */
export function createChannels(deps: ChannelDependencies): Channel[] {
  const { config } = deps;
  const maxAttempts = config.webhook?.maxAttempts ?? 10;
  const channels: Channel[] = [];
  if (config.resultObjects) channels.push(resultObjectChannel(deps, maxAttempts));
  if (config.webhook) {
    const webhook = config.webhook;
    const sendWebhook = deps.sendWebhook;
    channels.push({
      name: 'webhook',
      maxAttempts: webhook.maxAttempts,
      async deliver(payload, body) {
        if (!sendWebhook) return { ok: false, error: 'JOB_WEBHOOK_URL is set but no webhook sender was wired' };
        const outcome = await sendWebhook({ url: webhook.url, secret: webhook.secret, body, deliveryId: payload.id, timeoutMs: webhook.timeoutMs });
        return outcome.ok ? { ok: true, detail: `HTTP ${outcome.status}` } : outcome;
      },
    });
  }
  channels.push(jobWebhookChannel(deps));
  if (config.nextFunction) {
    const name = config.nextFunction;
    const invoker = deps.invoker;
    channels.push({
      name: 'next-function',
      maxAttempts,
      async deliver(_payload, body) {
        if (!invoker) return { ok: false, error: 'JOB_NEXT_FUNCTION is set but there is no FC endpoint (FC_ACCOUNT_ID / FC_ENDPOINT)' };
        try {
          const { requestId } = await invoker.invokeAsync(name, Buffer.from(body));
          return { ok: true, detail: `FC request ${requestId}` };
        } catch (error) {
          const described = describeError(error);
          return { ok: false, error: `${described.code}: ${described.message}` };
        }
      },
    });
  }
  return channels;
}

/**
 * A job's own webhook (`POST /jobs` `webhookUrl`), for the jobs that have one: signed like JOB_WEBHOOK_URL's, retried and
 * claimed like every channel. A URL WEBHOOK_ALLOWED_HOSTS no longer allows, a watcher without JOB_WEBHOOK_SECRET, and a
 * host that resolves to an internal address (the sender checks before it connects) are undelivered at once.
 */
function jobWebhookChannel(deps: ChannelDependencies): Channel {
  const { jobWebhooks } = deps.config;
  return {
    name: 'job-webhook',
    maxAttempts: jobWebhooks.maxAttempts,
    appliesTo: (record) => record.webhookUrl !== undefined,
    async deliver(payload, body, record) {
      const url = record.webhookUrl!;
      const refusal = jobWebhookDeliveryRefusal(url, jobWebhooks.allowedHosts);
      if (refusal) return { ok: false, error: refusal, final: true };
      if (!jobWebhooks.secret) return { ok: false, error: 'WEBHOOK_SECRET_MISSING: the job watcher has no JOB_WEBHOOK_SECRET to sign with', final: true };
      if (!deps.sendJobWebhook) return { ok: false, error: 'no sender for job webhooks was wired' };
      const outcome = await deps.sendJobWebhook({ url, secret: jobWebhooks.secret, body, deliveryId: payload.id, timeoutMs: jobWebhooks.timeoutMs });
      if (outcome.ok) return { ok: true, detail: `HTTP ${outcome.status}` };
      return { ok: false, error: outcome.error, final: outcome.refused === true };
    },
  };
}

/** Where a job's result object goes: beside the upload, else under the records bucket's results prefix. */
export function resultObjectLocation(record: JobRecord, resultsPrefix: string, recordsBucket: string): { bucket: string; key: string } {
  if (record.upload) return { bucket: record.upload.bucket, key: `${resultsPrefix}${record.upload.key}.json` };
  return { bucket: recordsBucket, key: `${resultsPrefix}jobs/${record.jobId}.json` };
}

/**
 * Create-only, so a second writer never makes a second OSS event. An object that is already there is ours from an
 * earlier round (same job: delivered) or an older job's result for the same upload key (overwritten by the newer job).
 * `yike.job.result-copied` replaces the job's own result object, so it names the copies too.
 */
function resultObjectChannel(deps: ChannelDependencies, maxAttempts: number): Channel {
  return {
    name: 'result-object',
    maxAttempts,
    async deliver(payload, _body, record) {
      const { bucket, key } = resultObjectLocation(record, deps.resultsPrefix, deps.recordsBucket);
      const store = deps.recordStore(bucket);
      try {
        if (await store.createIfAbsent(key, payload)) return { ok: true, detail: `oss://${bucket}/${key}` };
        const existing = await store.get<NotificationPayload>(key);
        if (existing?.job?.jobId === record.jobId && payload.type === 'yike.job.result-copied' && existing.type !== payload.type) {
          await store.put(key, payload);
          return { ok: true, detail: `oss://${bucket}/${key} (now with the copies)` };
        }
        if (existing?.job?.jobId === record.jobId) return { ok: true, detail: `oss://${bucket}/${key} (already written)` };
        if (existing && existing.job?.submittedAt > record.submittedAt) return { ok: true, detail: `oss://${bucket}/${key} (a newer job's result is there)` };
        await store.put(key, payload);
        return { ok: true, detail: `oss://${bucket}/${key} (replaced an older job's result)` };
      } catch (error) {
        const described = describeError(error);
        return { ok: false, error: `${described.code}: ${described.message}` };
      }
    },
  };
}

const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

/** Later ticks retry with exponential backoff (1, 2, 4 … 60 min) and up to 20% jitter. */
export function nextAttemptDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (1 + 0.2 * random()));
}

export function isSettled(state: NotificationState | undefined): boolean {
  return state?.status === 'delivered' || state?.status === 'undelivered';
}

export function isDue(state: NotificationState | undefined, now: Date): boolean {
  if (!state || isSettled(state)) return false;
  return !state.nextAttemptAt || Date.parse(state.nextAttemptAt) <= now.getTime();
}
