import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The receivers' side of the webhook contract in tests: a JOB_WEBHOOK_SECRET in the Standard Webhooks form, and the
 * check every receiver makes with the `standardwebhooks` package (docs/lifecycle.md), a verifier nobody here wrote.
 */

/** `whsec_` and the base64 of 32 bytes made from `seed`: a valid, test-only JOB_WEBHOOK_SECRET. */
export function webhookSecret(seed: string): string {
  return `whsec_${createHash('sha256').update(seed).digest('base64')}`;
}

/** True when the standardwebhooks verifier accepts the raw body with these request headers under `secret`. */
export function verifiesWith(secret: string, rawBody: string, headers: Record<string, unknown>): boolean {
  try {
    new Webhook(secret).verify(rawBody, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}
