import { isNotFound, isYikeError } from '../../runtime/errors';
import { sleep } from '../../runtime/retry';
import { isTerminal } from './job-record';

/**
 * Following one job until it ends: poll, report each status change, stop on a terminal status or at the
 * deadline. Shared by `GET /jobs/{jobId}?wait=N` (polls ICE and keeps the job record current) and
 * `yike-submit --wait` (polls ICE for the job it just submitted). The caller decides what one poll is.
 */
export interface FollowOptions<J extends { status: string }> {
  /** One look at the job. */
  poll: () => Promise<J>;
  /** No poll starts after this long (callers leave room for one poll to finish). */
  timeoutMs: number;
  /** Pause between polls: a number, or a function of the poll count (1 after the first poll). */
  intervalMs: number | ((pollCount: number) => number);
  /** Called for the first status and for every change, with the time since following started. */
  onChange?: (job: J, elapsedMs: number) => void;
  /**
   * Errors worth polling again for (after the client's own retries): throttling, ICE unavailable, and a job
   * ICE does not list yet right after its submit. Others end the follow by throwing. Default: retryable
   * errors and not-found.
   */
  isTransient?: (error: unknown) => boolean;
  onTransientError?: (error: unknown, elapsedMs: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type FollowOutcome<J> =
  | { outcome: 'terminal'; job: J; elapsedMs: number; polls: number }
  /** The deadline came first; `job` is the last answer (undefined if every poll failed transiently). */
  | { outcome: 'timeout'; job: J | undefined; elapsedMs: number; polls: number };

function isTransientFollowError(error: unknown): boolean {
  return isNotFound(error) || (isYikeError(error) && error.retryable);
}

export async function followJob<J extends { status: string }>(options: FollowOptions<J>): Promise<FollowOutcome<J>> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const isTransient = options.isTransient ?? isTransientFollowError;
  const started = now();
  const deadline = started + options.timeoutMs;
  let last: J | undefined;
  let polls = 0;
  for (;;) {
    polls++;
    try {
      const job = await options.poll();
      if (!last || job.status !== last.status) options.onChange?.(job, now() - started);
      last = job;
      if (isTerminal(job.status)) return { outcome: 'terminal', job, elapsedMs: now() - started, polls };
    } catch (error) {
      if (!isTransient(error)) throw error;
      options.onTransientError?.(error, now() - started);
    }
    const pause = typeof options.intervalMs === 'function' ? options.intervalMs(polls) : options.intervalMs;
    const left = deadline - now();
    if (left <= 0) return { outcome: 'timeout', job: last, elapsedMs: now() - started, polls };
    // The last pause is cut short so the final poll happens at the deadline, not after it.
    await wait(Math.min(pause, left));
  }
}
