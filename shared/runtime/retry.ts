import { RemoteCallError } from './errors';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1); injectable so tests can pin the delays. */
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: RemoteCallError }) => void;
}

/** "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, fails with a non-retryable RemoteCallError, or attempts run out.
 * Whether an error is retryable was decided when it was classified: for a non-idempotent call (submit)
 * an unknown outcome (read timeout, reset) is never retryable, because ICE has no client token and a
 * resend could create a second paid job.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof RemoteCallError) || !error.retryable || attempt >= policy.maxAttempts) {
        if (error instanceof RemoteCallError) Object.assign(error, { attempts: attempt });
        throw error;
      }
      const delayMs = backoffDelayMs(attempt, policy, hooks.random);
      hooks.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
