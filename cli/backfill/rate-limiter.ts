import { realClock, type BackfillClock } from './types';

/** A token bucket this many seconds deep lets freed slots refill at once without drifting far above the rate. */
const BURST_SECONDS = 0.25;

export interface RateLimiter {
  /** Resolves when a call may start; rejects when the signal aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

/** A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Callers are served in order. */
export function createRateLimiter(options: { ratePerSecond: number; burst?: number; clock?: BackfillClock }): RateLimiter {
  const clock = options.clock ?? realClock;
  const rate = options.ratePerSecond;
  if (!(rate > 0)) throw new RangeError(`ratePerSecond must be positive, got ${rate}`);
  const capacity = options.burst ?? Math.max(1, Math.ceil(rate * BURST_SECONDS));
  let tokens = capacity;
  let refilledAt = clock.now();
  let turn: Promise<void> = Promise.resolve();

  const refill = (): void => {
    const now = clock.now();
    tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * rate);
    refilledAt = now;
  };
  const takeOne = async (signal?: AbortSignal): Promise<void> => {
    refill();
    if (tokens < 1) {
      await clock.sleep(Math.ceil(((1 - tokens) / rate) * 1000), signal);
      refill();
    }
    tokens -= 1;
  };
  return {
    take(signal) {
      const mine = turn.then(() => takeOne(signal));
      turn = mine.catch(() => undefined);
      return mine;
    },
  };
}
