import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';
import { startFcGateway } from './gateway';

/**
 * One FC instance of a function bundle, in a process of its own. FC runs every instance of a function separately and
 * hands each one request at a time, so a race between instances is a race between processes: the budget race
 * (test/reliability/budget-race.test.ts) starts twenty of these. The function's environment is this process's.
 *
 *   node dist/local/fc/instance.js <dist/function folder> events [clock] [tuning]   invocations over IPC, one at a time:
 *                                                                                    {id, event} in, {id, result | error} out
 *   node dist/local/fc/instance.js <dist/function folder> http [clock] [tuning]     an FC HTTP gateway in front of it: {url} out
 *
 * `clock`: `-` for the wall clock; an ISO 8601 time where the instance's clock starts and runs on (createHandler's
 * `now`), so a test decides the budget's day instead of the wall clock; `fixed:<ISO 8601>` where it stays, so what the
 * instance answers (Retry-After) does not depend on how long the test took. `tuning` (JSON): createHandler's `tuning`,
 * the overrides a test gives its timeouts and retries (never environment variables: a function reads none for them).
 */
type Handler = (event: unknown, context: object) => Promise<unknown>;
type CreateHandler = (options: { now?: () => Date; tuning?: unknown }) => Handler;

interface Invocation {
  id: number;
  event: string;
}

async function main(): Promise<void> {
  const [folder, mode, clock, tuning] = process.argv.slice(2);
  if (!folder || (mode !== 'events' && mode !== 'http') || !process.send) {
    throw new Error('usage (with an IPC channel): instance.js <dist/function folder> events|http [- | ISO 8601 | fixed:ISO 8601] [tuning JSON]');
  }
  const startedAtMs = Date.now();
  const fixed = clock?.startsWith('fixed:') ?? false;
  const clockMs = clock === undefined || clock === '-' ? undefined : Date.parse(fixed ? clock.slice('fixed:'.length) : clock);
  const now = clockMs === undefined ? undefined : () => new Date(clockMs + (fixed ? 0 : Date.now() - startedAtMs));
  const functionName = `yike-${folder.split(/[\\/]/).filter(Boolean).at(-1)}`;
  const { createHandler } = require(join(resolve(folder), 'index.js')) as { createHandler: CreateHandler };
  const handler = createHandler({ now, tuning: tuning === undefined ? undefined : (JSON.parse(tuning) as unknown) });
  const send = (message: unknown) => process.send!(message);

  if (mode === 'http') {
    const gateway = await startFcGateway({ handler, functionName, credentials: { ...LOCAL_STS_CREDENTIALS } });
    send({ url: gateway.url });
    process.on('disconnect', () => void gateway.close().then(() => process.exit(0)));
    return;
  }
  // One request at a time, as FC gives an instance of a built-in runtime.
  let queue = Promise.resolve();
  process.on('message', (message: Invocation) => {
    queue = queue.then(async () => {
      const context = {
        requestId: randomUUID(),
        credentials: { ...LOCAL_STS_CREDENTIALS },
        function: { name: functionName, handler: 'index.handler', memory: 512, timeout: 60 },
        region: 'cn-shanghai',
        accountId: '1234567890123456',
        retryCount: 0,
      };
      try {
        send({ id: message.id, result: await handler(Buffer.from(message.event), context) });
      } catch (error) {
        send({ id: message.id, error: { errorType: (error as Error).name, errorMessage: (error as Error).message } });
      }
    });
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`instance failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
