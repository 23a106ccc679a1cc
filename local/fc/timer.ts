import { randomUUID } from 'node:crypto';

/**
 * Local stand-in for an FC timer trigger: invokes a handler every `intervalMs` with the documented timer event
 * (`{"triggerTime","triggerName","payload"}` as a Buffer) and an FC context carrying the role's credentials.
 * Ticks never overlap locally (a tick due while one runs is skipped); on FC they can, which the watcher's claims cover.
 *
 *   const watcher = startFcTimer({ handler: createWatcherHandler({ env, sink }), intervalMs: 3000, credentials, functionName: 'yike-job-watcher' });
 *   ...; await watcher.stop();
 */
type TimerHandler = (event: Buffer, context: Record<string, unknown>) => Promise<unknown>;

export interface FcTimerOptions {
  handler: TimerHandler;
  intervalMs: number;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  functionName?: string;
  triggerName?: string;
  /** The trigger's configured payload. */
  payload?: string;
  /** FC's timeout for the function, seconds (the watcher stops before it). Default 60. */
  timeoutSeconds?: number;
  /** Called with each run's result or error (a failed tick is reported, and the next tick still fires). */
  onTick?: (outcome: { result?: unknown; error?: unknown }) => void;
}

export interface FcTimer {
  /** Runs one tick now (waiting for a running one first) and returns its result. */
  tickNow(): Promise<unknown>;
  /** Resolves when the run under way (if any) has finished; the timer goes on. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startFcTimer(options: FcTimerOptions): FcTimer {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  let stopped = false;
  const tick = (): Promise<unknown> => {
    const event = Buffer.from(
      JSON.stringify({
        triggerTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        triggerName: options.triggerName ?? 'job-watcher-timer',
        payload: options.payload ?? '',
      }),
    );
    const context = {
      requestId: randomUUID(),
      credentials: { ...options.credentials },
      function: { name: options.functionName ?? 'yike-job-watcher', handler: 'index.handler', memory: 512, timeout: options.timeoutSeconds ?? 60 },
      region: 'cn-shanghai',
      accountId: '1234567890123456',
      retryCount: 0,
    };
    const run = running.then(() => {
      busy = true;
      return options.handler(event, context);
    });
    running = run
      .then(
        (result) => options.onTick?.({ result }),
        (error: unknown) => options.onTick?.({ error }),
      )
      .finally(() => {
        busy = false;
      });
    return run;
  };
  const timer = setInterval(() => {
    if (!stopped && !busy) void tick().catch(() => undefined);
  }, options.intervalMs);
  timer.unref();
  return {
    tickNow: tick,
    async idle() {
      await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
