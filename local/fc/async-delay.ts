import type { IncomingMessage } from 'node:http';
import type { AsyncInvocationRecord } from './async';

/**
 * x-fc-async-delay on the local FC API: an async invocation runs this many seconds after FC accepted it. FC 3.0
 * documents the header, in seconds, range (0, 3600) ("Asynchronous invocation overview", deferred invocation:
 * help.aliyun.com/document_detail/2513619.html; FC 2.0's page gives [0, 3600]); docs/platform-facts.md. How FC 3.0
 * answers a value outside that range is unverified: the stand-in refuses it (400 InvalidArgument), so a wrong delay
 * never passes unseen. `LOCAL_FC_IGNORE_ASYNC_DELAY=1` makes the local FC API run delayed invocations at once, as a
 * support answer from 2023-12 said FC 3.0 then did: the watcher's fallback (and the doctor's red line) are tried with it.
 */
const ASYNC_DELAY_HEADER = 'x-fc-async-delay';
const MAX_DELAY_SECONDS = 3_599;

/** The delay in seconds, none when the header is absent, or why it is refused. */
export function asyncDelayOf(req: IncomingMessage): { seconds?: number } | { invalid: string } {
  const raw = req.headers[ASYNC_DELAY_HEADER];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '') return {};
  const seconds = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_DELAY_SECONDS)) {
    return { invalid: `${ASYNC_DELAY_HEADER} must be whole seconds in (0, 3600), got "${value}"` };
  }
  return { seconds };
}

/** LOCAL_FC_IGNORE_ASYNC_DELAY=1 (npm start's environment, or a test's). */
export function ignoresAsyncDelay(env: NodeJS.ProcessEnv): boolean {
  return env.LOCAL_FC_IGNORE_ASYNC_DELAY === '1';
}

/** Waits on the machine's clock (tests and the bench pass their simulated one instead). */
export const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The delays of one local FC API: all end at once when it closes, and an invocation whose delay was cut short never
 * runs (npm start --once would otherwise run a watcher round against a local cloud that is gone).
 */
export function closableDelays(delay: (ms: number, requestId: string) => Promise<void>) {
  let closed = false;
  let endAll!: () => void;
  const closing = new Promise<void>((resolve) => {
    endAll = resolve;
  });
  return {
    /** True once the delay is over and the server still open: the invocation may run. */
    async wait(ms: number, requestId: string): Promise<boolean> {
      if (ms > 0) await Promise.race([delay(ms, requestId), closing]);
      return !closed;
    },
    close(): void {
      closed = true;
      endAll();
    },
    /** What an invocation cut short by the close is recorded as. */
    notRun: (requestId: string): AsyncInvocationRecord => ({
      requestId,
      status: 'failed',
      attempts: 0,
      error: { errorType: 'NotRun', errorMessage: 'the local FC API closed before its delay was over' },
    }),
  };
}
