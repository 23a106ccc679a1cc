import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook contract (docs/lifecycle.md, "Notifications"): POST of the notification JSON with
 * `X-Yike-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, after Stripe's scheme:
 * the timestamp inside the signed text lets receivers refuse replays of old deliveries.
 */
const SIGNATURE_HEADER = 'X-Yike-Signature';
const DELIVERY_HEADER = 'X-Yike-Delivery';

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** What a receiver does (used by the tests' receiver): true when the header signs this body within `toleranceSeconds`. */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds = Date.now() / 1000,
  toleranceSeconds = 300,
): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return timingSafeEqual(expected, Buffer.from(match[2]!));
}

export type WebhookOutcome = { ok: true; status: number } | { ok: false; error: string };

/**
 * One delivery attempt with Node's fetch and a timeout. Never throws: a non-2xx answer, a timeout or a refused
 * connection is an outcome the caller records and retries on a later tick. The error text names the URL's
 * origin only (a query string may carry a receiver's token) and never the secret.
 */
export async function deliverWebhook(options: {
  url: string;
  secret: string;
  body: string;
  deliveryId: string;
  timeoutMs: number;
  nowSeconds?: number;
}): Promise<WebhookOutcome> {
  const t = Math.floor(options.nowSeconds ?? Date.now() / 1000);
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'yike-fc-job-watcher',
        [SIGNATURE_HEADER]: signWebhook(options.secret, options.body, t),
        [DELIVERY_HEADER]: options.deliveryId,
      },
      body: options.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // Drain the body so the connection is released; its content is the receiver's business.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, error: `HTTP ${response.status} from ${new URL(options.url).origin}` };
  } catch (error) {
    const name = (error as Error).name;
    // Never the error's message: it may quote the whole URL (query tokens included) into logs and job records.
    const reason =
      name === 'TimeoutError' || name === 'AbortError'
        ? `no answer within ${options.timeoutMs} ms`
        : ((error as { cause?: { code?: string } }).cause?.code ?? name ?? 'Error');
    return { ok: false, error: `${reason} (${new URL(options.url).origin})` };
  }
}
