import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { LOCAL_STS_CREDENTIALS } from '../local/dev-fixtures';
import { rawIceFetch } from './lib/acs3-fetch';
import { SAMPLES } from './lib/samples';

/**
 * Runs one function bundle in a process of its own (dist/bench/child.js), so what it measures is the function's
 * alone; the stand-ins stay in the bench process. Prints one JSON line.
 *   child.js cold <entry> <function> <runId>                       load, invoke once (with an Idempotency-Key), exit
 *   node --expose-gc child.js warm <entry> <function> <runId> <n> [tuning]
 *                                                                  n invocations, memory every n/10; `tuning` (JSON):
 *                                                                  createHandler's overrides (the bench's "before")
 *   node --expose-gc child.js raw <ICE fields JSON> - <runId> <n>      the floor: n raw signed ICE fetches, no function
 *   child.js tick <entry> <function> <runId>                       one timer tick of the job watcher (a 65 s function):
 *                                                                  its summary and the process's peak RSS
 */
interface Checkpoint {
  invocations: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** Timers, sockets and handles still open: a steady count means nothing piles up between invocations. */
  activeResources: number;
}

type Handler = (event: Buffer, context: unknown) => Promise<unknown>;

const MIB = 1024 * 1024;

async function main(): Promise<void> {
  const [mode, entry, name, runId, countArg, tuning] = process.argv.slice(2);
  if (!entry || !name || !runId || !['cold', 'warm', 'raw', 'tick'].includes(mode ?? ''))
    throw new Error('usage: child.js cold|warm|raw|tick <entry> <function> <runId> [count]');
  if (mode === 'tick') {
    const watcher = (require(entry) as { handler: Handler }).handler;
    const started = performance.now();
    const event = Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'every-minute', payload: 'job-watcher-tick' }));
    const summary = await watcher(event, { requestId: runId, credentials: { ...LOCAL_STS_CREDENTIALS }, function: { name, timeout: 65 } });
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ summary, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, rssMiB: process.memoryUsage().rss / MIB })}\n`);
    return;
  }
  let handler: Handler;
  let sample = SAMPLES[name];
  if (mode === 'raw') {
    // The same ICE submit as POST /jobs, signed and sent with nothing else around it.
    const fields = JSON.parse(entry) as Record<string, string>;
    const endpoint = process.env.ICE_ENDPOINT!;
    handler = async () => rawIceFetch({ endpoint, action: 'SubmitYikeAIAppJob', version: '2020-11-09', body: fields, credentials: LOCAL_STS_CREDENTIALS });
    sample = () => ({ event: Buffer.alloc(0), context: {}, check: () => undefined });
  } else {
    if (!sample) throw new Error(`no sample invocation for ${name} (bench/lib/samples.ts)`);
    const bundle = require(entry) as { handler: Handler; createHandler: (options: { tuning: unknown }) => Handler };
    handler = tuning ? bundle.createHandler({ tuning: JSON.parse(tuning) as unknown }) : bundle.handler;
  }

  if (mode === 'cold') {
    const invocation = sample!(runId, 0, { idempotencyKey: true });
    invocation.check(await handler(invocation.event, invocation.context));
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
    return;
  }

  const count = Number(countArg);
  const every = Math.max(1, Math.floor(count / 10));
  const checkpoints: Checkpoint[] = [];
  const durations: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 1; i <= count; i++) {
    // Every request of the heaviest kind: Idempotency-Key records for http-submit, job records for uploads.
    const invocation = sample!(runId, i, { idempotencyKey: true });
    const started = performance.now();
    const result = await handler(invocation.event, invocation.context);
    durations.push(performance.now() - started);
    invocation.check(result);
    if (i % every === 0) {
      gc?.();
      const memory = process.memoryUsage();
      // BENCH_HEAP_SNAPSHOTS=<dir>: a heap snapshot at the second checkpoint and the last, to diff what is held.
      const snapshots = process.env.BENCH_HEAP_SNAPSHOTS;
      if (snapshots && (checkpoints.length === 1 || i === count)) writeHeapSnapshot(join(snapshots, `${name}-${i}.heapsnapshot`));
      checkpoints.push({
        invocations: i,
        rssMiB: memory.rss / MIB,
        heapUsedMiB: memory.heapUsed / MIB,
        heapTotalMiB: memory.heapTotal / MIB,
        externalMiB: memory.external / MIB,
        activeResources: process.getActiveResourcesInfo().length,
      });
    }
  }
  process.stdout.write(`${JSON.stringify({ checkpoints, durationsMs: durations })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
