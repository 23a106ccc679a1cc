import { YikeError } from '../../runtime/errors';

/**
 * A job's own webhook (`POST /jobs` `webhookUrl`): an https URL whose host WEBHOOK_ALLOWED_HOSTS names (`hooks.example.com`,
 * or `*.example.com` for any name under it). Checked when the job is submitted (400) and again at each delivery (the
 * setting may have changed since), where the sender also refuses hosts that resolve to internal addresses.
 */
const CODE = 'WEBHOOK_URL_NOT_ALLOWED';

/** Why this URL may not be a job's webhook, or undefined when it may. */
function jobWebhookRefusal(url: string, allowedHosts: readonly string[]): string | undefined {
  if (allowedHosts.length === 0) {
    return 'per-job webhooks are off: set WEBHOOK_ALLOWED_HOSTS (e.g. hooks.example.com, or *.example.com) on http-submit and job-watcher to allow them';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an https URL';
  }
  if (parsed.protocol !== 'https:') return 'must be an https URL';
  const host = parsed.hostname.toLowerCase();
  const allowed = allowedHosts.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
  return allowed ? undefined : `host "${host}" is not in WEBHOOK_ALLOWED_HOSTS`;
}

/** Throws the 400 that names `webhookUrl` and says why. */
export function assertJobWebhookAllowed(url: string, allowedHosts: readonly string[]): void {
  const refusal = jobWebhookRefusal(url, allowedHosts);
  if (refusal) throw new YikeError(CODE, `webhookUrl: ${refusal}`, { statusCode: 400, details: [{ path: 'webhookUrl', message: refusal }] });
}

/** The refusal as a delivery records it (`lastError`). */
export function jobWebhookDeliveryRefusal(url: string, allowedHosts: readonly string[]): string | undefined {
  const refusal = jobWebhookRefusal(url, allowedHosts);
  return refusal && `${CODE}: ${refusal}`;
}
