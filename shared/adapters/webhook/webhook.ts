import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Webhook } from 'standardwebhooks';
import { internalRangeOf } from './addresses';

/**
 * The webhook contract (docs/lifecycle.md, "Notifications"): a POST of the notification JSON signed the Standard
 * Webhooks way (spec/standard-webhooks.md in github.com/standard-webhooks/standard-webhooks): `webhook-id` (the
 * notification's id, the same on every retry), `webhook-timestamp` (unix seconds of this attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the key is the base64 after
 * `whsec_` in JOB_WEBHOOK_SECRET. The spec asks that ids carrying "." are never the caller's: ours are made of a
 * JobId ICE chose (or a budget day, or random hex) and a fixed word.
 *
 * The signature is made by the `standardwebhooks` package (the spec's own JavaScript library), loaded on the first
 * delivery: its ~12.5 KB stay out of the functions' index.js (scripts/build.mjs makes it dist/<name>/standardwebhooks.js).
 */
const standardWebhooks = () => require('standardwebhooks') as typeof import('standardwebhooks');

let signer: { secret: string; webhook: Webhook } | undefined;

/** The `webhook-signature` of one attempt. */
export function signWebhook(secret: string, deliveryId: string, unixSeconds: number, body: string): string {
  if (signer?.secret !== secret) signer = { secret, webhook: new (standardWebhooks().Webhook)(secret) };
  return signer.webhook.sign(deliveryId, new Date(unixSeconds * 1000), body);
}

/** A name's DNS answers, every address. */
type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** The system's resolver (getaddrinfo, as every connection uses), every address it answers; loaded when first asked. */
const systemResolver: HostResolver = (hostname) =>
  (require('node:dns/promises') as typeof import('node:dns/promises')).lookup(hostname, { all: true, verbatim: true });

/**
 * For URLs a caller chose (per-job webhooks): the host is resolved first, every address it resolves to must be public
 * (addresses.ts), and the connection goes to the address checked, with no second lookup that could answer otherwise.
 */
export interface AddressGuard {
  /** Default: the system's resolver. */
  resolve?: HostResolver;
  /** Whether an address may be connected to; default: none in an internal range (tests allow one loopback address). */
  isAllowedAddress?: (address: string) => boolean;
}

/** `refused`: the host leads inside; another attempt would be refused the same way. */
export type WebhookOutcome = { ok: true; status: number } | { ok: false; error: string; refused?: true };

const ADDRESS_REFUSED = 'WEBHOOK_ADDRESS_REFUSED';

/**
 * One delivery attempt (node:http/https, no redirects followed), within `timeoutMs` from the DNS lookup to the end of
 * the answer. Never throws: a non-2xx answer, a time-out or a refused connection is an outcome the caller records and
 * retries on a later tick. The error text names the URL's origin only (a query string may carry a receiver's token)
 * and never the secret.
 */
export async function deliverWebhook(options: {
  url: string;
  secret: string;
  body: string;
  deliveryId: string;
  timeoutMs: number;
  nowSeconds?: number;
  guard?: AddressGuard;
}): Promise<WebhookOutcome> {
  const url = new URL(options.url);
  const { origin } = url;
  const t = Math.floor(options.nowSeconds ?? Date.now() / 1000);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(options.body)),
    'User-Agent': 'yike-fc-job-watcher',
    'webhook-id': options.deliveryId,
    'webhook-timestamp': String(t),
    'webhook-signature': signWebhook(options.secret, options.deliveryId, t, options.body),
  };
  const noAnswer: WebhookOutcome = { ok: false, error: `no answer within ${options.timeoutMs} ms (${origin})` };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<WebhookOutcome>((resolve) => {
    timer = setTimeout(() => resolve(noAnswer), options.timeoutMs);
  });
  const abort = new AbortController();
  const attempt = (async (): Promise<WebhookOutcome> => {
    let lookup: LookupFunction | undefined;
    if (options.guard) {
      const checked = await checkedAddress(url.hostname, options.guard);
      if ('refused' in checked) return { ok: false, error: `${ADDRESS_REFUSED}: ${checked.refused} (${origin})`, refused: true };
      lookup = checked.lookup;
    }
    const status = await post(url, { headers, lookup, signal: abort.signal }, options.body);
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, error: `HTTP ${status} from ${origin}` };
  })().catch((error: unknown) => ({ ok: false as const, error: `${networkReason(error)} (${origin})` }));
  try {
    const outcome = await Promise.race([attempt, timedOut]);
    // Only a request still going is cut short: one that ended has given its connection back to the pool.
    if (outcome === noAnswer) abort.abort();
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends the body and reads the answer to its end (so the connection is released); resolves with the status. */
function post(url: URL, options: { headers: Record<string, string>; lookup?: LookupFunction; signal: AbortSignal }, body: string): Promise<number> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // A checked address gets a connection of its own; other deliveries reuse Node's keep-alive pool.
    const agent = options.lookup ? false : undefined;
    const request = send(
      url,
      { method: 'POST', headers: options.headers, lookup: options.lookup, signal: options.signal, agent },
      (response: IncomingMessage) => {
        // The answer's content is the receiver's business.
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Never the error's message: it may quote the whole URL (query tokens included) into logs and job records. */
function networkReason(error: unknown): string {
  const { code, name } = error as { code?: string; name?: string };
  return code ?? name ?? 'Error';
}

type CheckedAddress = { lookup: LookupFunction } | { refused: string };

/** The host's addresses, each checked; a lookup that hands the connection the first of them (an IP literal needs none). */
async function checkedAddress(hostname: string, guard: AddressGuard): Promise<CheckedAddress> {
  const literal = hostname.replace(/^\[(.*)\]$/, '$1');
  const answers = isIP(literal) !== 0 ? [{ address: literal, family: isIP(literal) }] : await (guard.resolve ?? systemResolver)(hostname);
  if (answers.length === 0) return { refused: `${hostname} resolves to no address` };
  for (const { address } of answers) {
    const allowed = guard.isAllowedAddress ? guard.isAllowedAddress(address) : internalRangeOf(address) === undefined;
    if (!allowed) return { refused: `${hostname} resolves to ${address} (${internalRangeOf(address) ?? 'not allowed'})` };
  }
  const { address, family } = answers[0]!;
  // Node asks for every address (`all: true`) when it may try several families (autoSelectFamily), else for one.
  const lookup = ((_name: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
  return { lookup };
}
