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

/** A pause of `ms` on the real clock (callers that take a `sleep` use it by default). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Up to `attempts` tries of `operation`, with `pauseMs(attempt, error)` between them; an error `isFinal` says will not
 * change ends at once. The last error is thrown. The records' writes after work that must not be redone use it as it
 * is; calls to the cloud through withRetry.
 */
export async function withAttempts<T>(
  operation: (attempt: number) => Promise<T>,
  attempts: number,
  pauseMs: (attempt: number, error: unknown) => number,
  isFinal: (error: unknown) => boolean = () => false,
  pause: (ms: number) => Promise<void> = sleep,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= attempts || isFinal(error)) {
        if (error instanceof RemoteCallError) Object.assign(error, { attempts: attempt });
        throw error;
      }
      await pause(pauseMs(attempt, error));
    }
  }
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable RemoteCallError, or attempts run out.
 * Whether an error is retryable was decided when it was classified: for a non-idempotent call (submit)
 * an unknown outcome (read timeout, reset) is never retryable, because ICE has no client token and a
 * resend could create a second paid job.
 */
export function withRetry<T>(operation: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const pauseMs = (attempt: number, error: unknown) => {
    const delayMs = backoffDelayMs(attempt, policy, hooks.random);
    hooks.onRetry?.({ attempt, delayMs, error: error as RemoteCallError });
    return delayMs;
  };
  return withAttempts(operation, policy.maxAttempts, pauseMs, (error) => !(error instanceof RemoteCallError) || !error.retryable, hooks.sleep);
}
