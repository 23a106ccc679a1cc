/** A small seeded PRNG (mulberry32): fault plans that are the same on every run with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reliability figures go to stdout as one line each (and so into RELIABILITY.md when rerun). */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`reliability figures ${name}: ${JSON.stringify(figures)}\n`);
}

/** At most `limit` calls at once, like a function's reserved concurrency (s.yaml: reservedConcurrency). */
export function limitConcurrency<A extends unknown[], R>(limit: number, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (...args: A) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await fn(...args);
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
