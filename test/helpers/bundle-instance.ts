import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TuningOverrides } from '../../shared/runtime/tuning';

const DIST = join(__dirname, '..', '..', 'dist');

/**
 * What the instance process runs: loads the bundle once, then runs each invocation it is sent, one at a time (an FC
 * 3.0 built-in runtime instance serves one request at a time), and sends back the result or the error the handler
 * threw (with the `result` a partial failure carries). With a tuning argument (JSON) it runs createHandler({ tuning })
 * instead of the exported handler: the functions read no timeout or retry from their environment.
 */
const INSTANCE_RUNNER = `
const bundle = require(process.argv[1]);
const handler = process.argv[2] ? bundle.createHandler({ tuning: JSON.parse(process.argv[2]) }) : bundle.handler;
let queue = Promise.resolve();
process.on('message', ({ id, event, context }) => {
  queue = queue.then(async () => {
    try {
      const result = await handler(Buffer.from(event, 'base64'), context);
      process.send({ id, result: result === undefined ? null : result });
    } catch (error) {
      process.send({ id, error: { name: error && error.name, message: String(error && error.message), result: error && error.result } });
    }
  });
});
process.send({ ready: true });
`;

export interface BundleInstance {
  /** The process's id: a new process is a new instance. */
  readonly pid: number;
  /** Runs one invocation in the instance; rejects with the handler's error (its `result` kept: a partial failure's items). */
  invoke(event: Buffer, context: Record<string, unknown>): Promise<any>;
  /** The function's JSON log lines so far (its stdout). */
  logs(): Record<string, unknown>[];
  /** Ends the instance (as FC does to an idle one). */
  close(): Promise<void>;
}

/**
 * One FC instance of a built function: a new Node process that loads dist/<name>/index.js with only PATH and `env`
 * in its environment (what FC gives a function: its environmentVariables), and keeps it loaded across invocations;
 * `tuning` (tests only) goes to its createHandler.
 * Its log lines also go to the run's secrets check (test/helpers/log-tee.js).
 */
export async function startBundleInstance(name: string, env: Record<string, string>, tuning?: TuningOverrides): Promise<BundleInstance> {
  const tuningArgument = tuning === undefined ? [] : [JSON.stringify(tuning)];
  const child: ChildProcess = spawn(process.execPath, ['-e', INSTANCE_RUNNER, join(DIST, name, 'index.js'), ...tuningArgument], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete.filter((line) => line.startsWith('{'))) {
      lines.push(line);
      (globalThis as { __yikeTeeLogLine?: (line: string) => void }).__yikeTeeLogLine?.(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} instance exited ${code} before it was ready: ${stderr}`)));
    child.on('message', (message: { ready?: boolean; id?: number; result?: unknown; error?: { name: string; message: string; result?: unknown } }) => {
      if (message.ready) return resolve();
      const waiter = pending.get(message.id!);
      pending.delete(message.id!);
      if (!message.error) return waiter?.resolve(message.result);
      waiter?.reject(Object.assign(new Error(message.error.message), { name: message.error.name, result: message.error.result }));
    });
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} instance exited: ${stderr}`));
    pending.clear();
  });
  return {
    pid: child.pid!,
    invoke(event, context) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, event: event.toString('base64'), context });
      });
    },
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
