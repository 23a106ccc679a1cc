import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { checkAnswersOf, OPENAPI_PRELOAD } from './openapi-check';

/**
 * FC instances of a function bundle as separate processes (dist/local/fc/instance.js): what a race between
 * instances needs to be one, since each has its own memory and its own connections, as on FC.
 */
const INSTANCE = join(__dirname, '..', '..', 'dist', 'local', 'fc', 'instance.js');
const DIST = join(__dirname, '..', '..', 'dist');

type Answer = { id: number; result?: unknown; error?: { errorType: string; errorMessage: string } };

export interface EventInstances {
  /** Runs the event on instance `index` (each instance takes one at a time, in the order given). */
  invoke(index: number, event: Buffer): Promise<Answer>;
  close(): Promise<void>;
}

export interface HttpInstances {
  /** Each instance's FC HTTP gateway. */
  urls: string[];
  close(): Promise<void>;
}

/** Where the instances' clock starts; `fixed`: it stays there instead of running on (local/fc/instance.ts). */
export interface InstanceClock {
  at: string;
  fixed?: boolean;
}

/** `tuning`: createHandler's overrides (short retries), handed over as JSON: the functions read none from the environment. */
function start(
  count: number,
  functionName: string,
  mode: 'events' | 'http',
  env: NodeJS.ProcessEnv,
  clock: InstanceClock,
  tuning: TuningOverrides,
): ChildProcess[] {
  return Array.from({ length: count }, () => {
    // http-submit's answers are checked against its OpenAPI document like those of the in-process functions.
    const child = fork(INSTANCE, [join(DIST, functionName), mode, clock.fixed ? `fixed:${clock.at}` : clock.at, JSON.stringify(tuning)], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: ['--require', OPENAPI_PRELOAD],
    });
    checkAnswersOf(child);
    return child;
  });
}

/** Resolves with each child's first message (its `ready` or its `url`); a child that exits first fails it. */
function firstMessages(children: ChildProcess[]): Promise<Record<string, unknown>[]> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          let stderr = '';
          child.stderr!.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.once('message', (message) => resolve(message as Record<string, unknown>));
          child.once('exit', (code) => reject(new Error(`instance exited ${code} before it was ready: ${stderr}`)));
        }),
    ),
  );
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.disconnect();
        }),
    ),
  );
}

export async function startEventInstances(
  count: number,
  functionName: string,
  env: NodeJS.ProcessEnv,
  clock: InstanceClock,
  tuning: TuningOverrides = {},
): Promise<EventInstances> {
  const children = start(count, functionName, 'events', env, clock, tuning);
  await firstMessages(children);
  const pending = new Map<number, (answer: Answer) => void>();
  for (const child of children) child.on('message', (message: Answer) => pending.get(message.id)?.(message));
  let next = 0;
  return {
    invoke: (index, event) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        children[index]!.send({ id, event: event.toString('utf8') });
      }),
    close: () => stop(children),
  };
}

export async function startHttpInstances(
  count: number,
  functionName: string,
  env: NodeJS.ProcessEnv,
  clock: InstanceClock,
  tuning: TuningOverrides = {},
): Promise<HttpInstances> {
  const children = start(count, functionName, 'http', env, clock, tuning);
  const messages = await firstMessages(children);
  return { urls: messages.map((message) => String(message.url)), close: () => stop(children) };
}
