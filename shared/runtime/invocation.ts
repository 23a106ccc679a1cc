/** The FC 3.0 context fields we use (docs/platform-facts.md, "Function Compute 3.0"; sample: test/fixtures/events/fc3-context.json). */
export interface InvocationContext {
  requestId?: string;
  credentials?: unknown;
  function?: { name?: string; timeout?: number };
  region?: string;
  accountId?: string;
  retryCount?: number;
}

/** FC gives the timeout (seconds) but no remaining-time call: the deadline is start + timeout. */
const DEFAULT_TIMEOUT_SECONDS = 60;

/** `nowMs`: the clock the invocation runs on (tests and the bench run the watcher on a simulated one). */
export function remainingTimeFrom(context: InvocationContext | undefined, startedAtMs: number, nowMs: () => number = Date.now): () => number {
  const deadlineMs = startedAtMs + (context?.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  return () => deadlineMs - nowMs();
}
