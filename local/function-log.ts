/**
 * What `npm start` shows of its functions' JSON log lines. Quiet by default: a run's lines (one FC request id) are
 * held until the run shows it did something (a job submitted, settled or deferred, a failure, anything at warn or
 * error), then shown, and the rest of that run as it comes; a run that ends having done nothing (the watcher's idle
 * ticks every 2 s, the page polling GET /jobs) is dropped. `verbose` shows every line as it comes.
 */
type Line = { level?: string; message?: string; requestId?: string; [field: string]: unknown };

/** Lines that say a run did something, whatever came before them. */
const WORK_MESSAGES = new Set(['job submitted', 'job settled', 'deferred item submitted']);
/** The last line of each function's run. */
const CLOSING_MESSAGES = new Set(['invocation finished', 'watcher run finished', 'budget renewal finished', 'http request']);
/**
 * Counts on a closing line (or its `renewal`) that mean work was done. A status that moved without an outcome
 * (`changed`: Queuing to Executing) is not: each watcher round is its own run, so it would show every round of a job.
 */
const WORK_COUNTS = ['submitted', 'deferred', 'failed', 'settled', 'timedOut', 'reconciled', 'rebuilt'];

function parse(text: string): Line | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Line) : undefined;
  } catch {
    return undefined;
  }
}

function didWork(line: Line): boolean {
  if (line.level === 'warn' || line.level === 'error') return true;
  if (WORK_MESSAGES.has(line.message ?? '')) return true;
  if (line.message === 'http request') return line.route === 'POST /jobs';
  const counts = [line, (line.renewal ?? {}) as Line];
  return counts.some((fields) => WORK_COUNTS.some((name) => typeof fields[name] === 'number' && (fields[name] as number) > 0));
}

/** A `functionLog` for startLocalCloud: `write` gets each line to show, already prefixed with `[function]`. */
export function functionLogFilter(write: (text: string) => void, options: { verbose: boolean }): (name: string) => (text: string) => void {
  return (name) => {
    const show = (text: string) => write(`  [${name}] ${text}\n`);
    /** Per request id: the lines held back, or 'shown' once the run did something. */
    const runs = new Map<string, string[] | 'shown'>();
    return (text) => {
      const line = parse(text);
      if (options.verbose || line?.requestId === undefined) return show(text);
      const run = runs.get(line.requestId) ?? [];
      const closing = CLOSING_MESSAGES.has(line.message ?? '');
      if (run !== 'shown' && didWork(line)) {
        for (const held of run) show(held);
        runs.set(line.requestId, 'shown');
      }
      const state = runs.get(line.requestId) ?? run;
      if (state === 'shown') show(text);
      else if (!closing) runs.set(line.requestId, [...state, text]);
      if (closing) runs.delete(line.requestId);
    };
  };
}
