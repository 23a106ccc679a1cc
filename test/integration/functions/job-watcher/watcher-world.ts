/**
 * What the watcher suites with rounds, copies and reconcile share: the local ICE (on a clock the test moves), OSS with
 * its upload trigger, a webhook receiver that verifies each delivery with the standardwebhooks package, the upload
 * function, the job watcher's handler on a simulated clock (its sleeps between rounds move the clock instead of
 * waiting), the local FC API the watcher invokes itself through (a delayed invocation waits on the same clock: moving
 * it past the delay runs the round) and http-submit for GET /jobs. Runs sleep between their rounds here
 * (lifecycle.delayedRounds off), so one watch() follows a job to its end, unless a test asks for delayed rounds
 * (delayed-rounds.test.ts).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type OSS from 'ali-oss';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { createHandler as createSubmitHandler } from '../../../../functions/oss-submit/index';
import { startFcGateway } from '../../../../local/fc/gateway';
import { startFcInvokeServer, type LocalFcInvokeServer } from '../../../../local/fc/invoke-server';
import { startIceServer, type IceServerOptions, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import type { WatcherSummary } from '../../../../shared/domain/lifecycle/watcher';
import { tuningWith, type TuningOverrides } from '../../../../shared/runtime/tuning';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { checkWebhookBody } from '../../../helpers/openapi-check';
import { fcContext, LOCAL_CREDENTIALS, localOssClient, tempDir, TINY_PNG } from '../../../helpers/local-cloud';
import { verifiesWith, webhookSecret } from '../../../helpers/webhooks';

export const BUCKET = 'yike-uploads';
const SECRET = webhookSecret('watcher-world');
/** Fast ICE retries and a 2 s webhook attempt, for every function of the world; sleeping rounds unless a test says otherwise. */
const WORLD_TUNING: TuningOverrides = {
  ice: { retry: { baseDelayMs: 1, maxDelayMs: 2 } },
  lifecycle: { webhook: { timeoutMs: 2_000 }, delayedRounds: false },
};
const WATCHER = 'yike-job-watcher';

interface Delivery {
  body: NotificationPayload;
  signatureValid: boolean;
  /** When it arrived, on the simulated clock. */
  atMs: number;
}

export interface WatcherWorld {
  ice: LocalIceServer;
  oss: LocalOssServer;
  client: OSS;
  deliveries: Delivery[];
  /**
   * The simulated time (epoch ms): ICE's job clock, the watcher's and the local FC API's delays (advancing past one
   * runs its invocation); reset() sets it back to the real time.
   */
  clock: { now: () => number; advance: (ms: number) => void };
  /** The local FC API the watcher invokes itself through; the watcher function there runs with the last watch()'s settings. */
  fc: LocalFcInvokeServer;
  /** The watcher's invocations of itself since reset(). */
  selfInvocations(): ReturnType<LocalFcInvokeServer['invocations']>;
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  /** The functions' tuning here (WORLD_TUNING), with `overrides` over it. */
  tuning(overrides?: TuningOverrides): TuningOverrides;
  /** A user's upload, and oss-submit invoked with the event OSS produced. */
  upload(key: string): Promise<{ jobId: string }>;
  /** One watcher run (one timer tick) of an FC function with `timeoutSeconds`, its rounds on the simulated clock. */
  watch(
    overrides?: Record<string, string>,
    timeoutSeconds?: number,
    options?: { sink?: (line: string) => void; event?: Buffer; tuning?: TuningOverrides },
  ): Promise<WatcherSummary>;
  /** GET /jobs/{jobId} through http-submit behind the local FC gateway. */
  getJob(jobId: string): Promise<{ statusCode: number; body: any }>;
  /** POST /jobs through http-submit: a job without an upload. */
  postJob(body: Record<string, unknown>): Promise<{ statusCode: number; body: any }>;
  /** Any other request to http-submit (redirects not followed; a JSON body when given): the status, the headers and the raw body. */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ statusCode: number; headers: Headers; text: string }>;
  readJson<T>(key: string): Promise<T | undefined>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startWatcherWorld(options: { ice?: IceServerOptions; jobMs?: number; ignoreAsyncDelay?: boolean } = {}): Promise<WatcherWorld> {
  const dir = tempDir('watcher-world-');
  let nowMs = Date.now();
  // Delayed invocations waiting on the simulated clock.
  const timers: { at: number; resolve: () => void }[] = [];
  const clock = {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
      for (const timer of timers.filter((candidate) => candidate.at <= nowMs)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.resolve();
      }
    },
  };
  let roundHandler: ReturnType<typeof createWatcherHandler> | undefined;
  const fc = await startFcInvokeServer({
    functions: { [WATCHER]: (event, context) => roundHandler!(event, context) },
    // As s.yaml deploys it: a scheduled round runs with the function's 65 s timeout.
    definitions: { [WATCHER]: { timeout: 65, memorySize: 256 } },
    contextCredentials: LOCAL_CREDENTIALS,
    // FC's async retries are off for the watcher (s.yaml): a failed round is the timer's.
    maxAsyncRetryAttempts: 0,
    ignoreAsyncDelay: options.ignoreAsyncDelay,
    asyncDelay: (ms) => new Promise<void>((resolve) => timers.push({ at: nowMs + ms, resolve })),
  });
  let invocationsBefore = 0;
  const triggered: OssNotification[] = [];
  const oss = await startOssServer({
    dataDir: dir.path,
    buckets: [BUCKET],
    onObjectCreated: (event) => matchesOssTrigger(event, UPLOAD_TRIGGER) && triggered.push(event),
  });
  const ice = await startIceServer({ finishAfterMs: options.jobMs ?? 60_000, now: clock.now, images: { ossUrl: oss.url }, ...options.ice });
  const deliveries: Delivery[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      checkWebhookBody(raw);
      deliveries.push({ body: JSON.parse(raw), signatureValid: verifiesWith(SECRET, raw, req.headers), atMs: clock.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const client = localOssClient(oss.url, BUCKET);
  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
    ALLOWED_BUCKETS: BUCKET,
    FC_ENDPOINT: fc.url,
    HTTP_AUTH: 'none',
    JOB_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/yike`,
    JOB_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'error',
    ...overrides,
  });
  const tuning = (overrides: TuningOverrides = {}) => tuningWith(WORLD_TUNING, overrides);
  const gateway = await startFcGateway({ handler: createHttpHandler({ env: env(), tuning: tuning() }), credentials: LOCAL_CREDENTIALS });
  const watcherContext = (timeout: number) => fcContext({ function: { name: WATCHER, handler: 'index.handler', memory: 256, timeout } });

  return {
    ice,
    oss,
    client,
    deliveries,
    clock,
    fc,
    selfInvocations: () => fc.invocations().slice(invocationsBefore),
    env,
    tuning,
    async upload(key) {
      await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
      const notification = triggered.find((event) => event.key === key)!;
      const result = await createSubmitHandler({ env: env(), tuning: tuning() })(notification.payload, fcContext());
      return { jobId: result.submitted[0]!.jobId };
    },
    watch(overrides = {}, timeoutSeconds = 65, options = {}) {
      const handler = createWatcherHandler({
        env: env(overrides),
        tuning: tuning(options.tuning),
        now: () => new Date(clock.now()),
        sleep: async (ms) => clock.advance(ms),
        sink: options.sink,
      });
      roundHandler = handler;
      return handler(options.event ?? asFcPayload(loadEvent('fc3-timer')), watcherContext(timeoutSeconds));
    },
    async getJob(jobId) {
      const response = await fetch(`${gateway.url}/jobs/${jobId}`);
      return { statusCode: response.status, body: await response.json() };
    },
    async postJob(body) {
      const response = await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { statusCode: response.status, body: await response.json() };
    },
    async http(method, path, body, headers = {}) {
      const json = body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
      const response = await fetch(`${gateway.url}${path}`, { method, redirect: 'manual', ...json });
      return { statusCode: response.status, headers: response.headers, text: await response.text() };
    },
    async readJson<T>(key: string) {
      try {
        return JSON.parse((await client.get(key)).content.toString('utf8')) as T;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }
    },
    async reset() {
      // Back to the real time: OSS's Last-Modified (which reconcile reads) follows the real clock.
      nowMs = Date.now();
      invocationsBefore = fc.invocations().length;
      // A delayed round left by the last test never runs in this one.
      timers.length = 0;
      ice.reset();
      deliveries.length = 0;
      triggered.length = 0;
      await Promise.all(oss.listKeys(BUCKET).map((key) => client.delete(key)));
    },
    async close() {
      await Promise.all([ice.close(), oss.close(), gateway.close(), fc.close(), new Promise((resolve) => receiver.close(resolve))]);
      dir.remove();
    },
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * One simulated clock for several watcher runs at once (each run's `sleep` waits until the clock reaches its wake
 * time). The test drives it: run() waits until every run it started is asleep or done, then moves the clock to the
 * earliest wake time or the next scheduled step, whichever comes first, and wakes the runs due. Runs due at the same
 * moment run their rounds at the same time for real; nothing waits on the machine's clock.
 */
export function lockstepClock(startMs: number) {
  let nowMs = startMs;
  const sleepers: { wakeAt: number; wake: () => void }[] = [];
  const runs: Promise<unknown>[] = [];
  let finished = 0;
  let changed: () => void = () => undefined;
  const change = () => changed();
  const somethingChanged = () =>
    new Promise<void>((resolve) => {
      changed = resolve;
    });
  return {
    now: () => nowMs,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        sleepers.push({ wakeAt: nowMs + ms, wake: resolve });
        change();
      }),
    /** Starts a run on this clock (its promise is kept; run() ends once every run has). */
    start<T>(run: () => Promise<T>): Promise<T> {
      const promise = run();
      runs.push(promise);
      void promise.finally(() => {
        finished++;
        change();
      });
      return promise;
    },
    /** Moves the clock until every run has ended, doing each step (`at`, epoch ms) when the clock reaches it. */
    async run(steps: { at: number; act: () => Promise<unknown> }[]): Promise<void> {
      const pending = [...steps].sort((a, b) => a.at - b.at);
      for (;;) {
        while (sleepers.length + finished < runs.length) await somethingChanged();
        if (finished === runs.length && pending.length === 0) return;
        const nextWake = Math.min(...sleepers.map((sleeper) => sleeper.wakeAt));
        const step = pending[0] && pending[0].at <= nextWake ? pending.shift() : undefined;
        nowMs = Math.max(nowMs, step ? step.at : nextWake);
        if (step) {
          await step.act();
          continue;
        }
        for (const sleeper of sleepers.filter((candidate) => candidate.wakeAt <= nowMs)) {
          sleepers.splice(sleepers.indexOf(sleeper), 1);
          sleeper.wake();
        }
      }
    },
  };
}
