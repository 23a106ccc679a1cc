/**
 * Runs `worker` over `items` with at most `limit` calls in flight, keeping the results in input order. The I/O
 * here (ICE, OSS) is bound by round trips, so a few at once go faster, but a burst must not trip throttling.
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}
