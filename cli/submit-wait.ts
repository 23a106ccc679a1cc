import { describeError, InputError } from '../shared/runtime/errors';
import type { Ice, IceJob } from '../shared/domain/ports';
import { followJob } from '../shared/domain/lifecycle/follow';

/** `yike-submit --wait`: follow the submitted job to its end and say how it went (CLI-only presentation). */
const EXIT_FINISHED = 0;
// 1 is an error (runCli in cli/run-cli.ts).
const EXIT_FAILED = 3;
const EXIT_TIMED_OUT = 4;

const DEFAULT_TIMEOUT_SECONDS = 3600;
const DEFAULT_INTERVAL_SECONDS = 5;
const MIN_INTERVAL_SECONDS = 0.1;
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

export interface WaitFlags {
  timeoutMs: number;
  intervalMs: number;
}

function seconds(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || parsed < min || parsed > max) {
    throw new InputError('INVALID_ARGUMENTS', `--${flag}: expected seconds from ${min} to ${max}, got "${value}"`, [{ path: flag, message: 'invalid' }]);
  }
  return parsed;
}

/** The --wait settings, or undefined without --wait (then --timeout / --interval are refused). */
export function parseWaitFlags(values: { wait?: boolean; timeout?: string; interval?: string }): WaitFlags | undefined {
  if (!values.wait) {
    const stray = (['timeout', 'interval'] as const).find((flag) => values[flag] !== undefined);
    if (stray) throw new InputError('INVALID_ARGUMENTS', `--${stray} only applies with --wait`, [{ path: stray, message: 'needs --wait' }]);
    return undefined;
  }
  return {
    timeoutMs: seconds(values.timeout, 'timeout', DEFAULT_TIMEOUT_SECONDS, 1, MAX_TIMEOUT_SECONDS) * 1000,
    intervalMs: seconds(values.interval, 'interval', DEFAULT_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS, 3600) * 1000,
  };
}

function elapsed(ms: number): string {
  return `+${(ms / 1000).toFixed(1)}s`;
}

/**
 * Status changes go to stderr (`+1.2s Executing`), output URLs to stdout (one a line, after the submit JSON),
 * so `yike-submit --wait ... | tail -n +2` is the list of results. Returns the exit code.
 */
export async function waitForSubmittedJob(
  jobId: string,
  ice: Pick<Ice, 'getYikeAIAppJob'>,
  flags: WaitFlags,
  out: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  out.stderr(`${elapsed(0)} Submitted ${jobId}\n`);
  const outcome = await followJob<IceJob>({
    poll: () => ice.getYikeAIAppJob(jobId),
    timeoutMs: flags.timeoutMs,
    intervalMs: flags.intervalMs,
    onChange: (job, ms) => out.stderr(`${elapsed(ms)} ${job.status}\n`),
    onTransientError: (error, ms) => {
      const { code } = describeError(error);
      out.stderr(`${elapsed(ms)} (polling again after ${code})\n`);
    },
  });
  if (outcome.outcome === 'timeout') {
    const status = outcome.job?.status ?? 'unknown';
    out.stderr(`yike-submit: TIMED_OUT: job ${jobId} is still ${status} after ${Math.round(flags.timeoutMs / 1000)}s (--timeout); it keeps running at ICE\n`);
    return EXIT_TIMED_OUT;
  }
  const { job } = outcome;
  if (job.status !== 'Finished') {
    out.stderr(`yike-submit: JOB_${job.status.toUpperCase()}: ICE reports job ${jobId} as ${job.status}\n`);
    return EXIT_FAILED;
  }
  for (const result of job.results) if (result.outputUrl) out.stdout(`${result.outputUrl}\n`);
  return EXIT_FINISHED;
}
