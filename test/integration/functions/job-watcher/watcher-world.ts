/**
 * What the watcher suites with rounds, copies and reconcile share: the local ICE (on a clock the test moves), OSS with
 * its upload trigger, a webhook receiver that verifies each delivery with the standardwebhooks package, the upload function, the job watcher's handler on a
 * simulated clock (its sleeps between rounds move the clock instead of waiting) and http-submit for GET /jobs.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type OSS from 'ali-oss';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { createHandler as createSubmitHandler } from '../../../../functions/oss-submit/index';
import { startFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type IceServerOptions, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import type { WatcherSummary } from '../../../../shared/domain/lifecycle/watcher';
import { tuningWith, type TuningOverrides } from '../../../../shared/runtime/tuning';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, localOssClient, tempDir, TINY_PNG } from '../../../helpers/local-cloud';
import { verifiesWith, webhookSecret } from '../../../helpers/webhooks';

export const BUCKET = 'yike-uploads';
const SECRET = webhookSecret('watcher-world');
/** Fast ICE retries and a 2 s webhook attempt, for every function of the world. */
const WORLD_TUNING: TuningOverrides = { ice: { retry: { baseDelayMs: 1, maxDelayMs: 2 } }, lifecycle: { webhook: { timeoutMs: 2_000 } } };

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
  /** The simulated time (epoch ms): ICE's job clock and the watcher's; reset() sets it back to the real time. */
  clock: { now: () => number; advance: (ms: number) => void };
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
  readJson<T>(key: string): Promise<T | undefined>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startWatcherWorld(options: { ice?: IceServerOptions; jobMs?: number } = {}): Promise<WatcherWorld> {
  const dir = tempDir('watcher-world-');
  let nowMs = Date.now();
  const clock = {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
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
    HTTP_AUTH: 'none',
    JOB_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/yike`,
    JOB_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'error',
    ...overrides,
  });
  const tuning = (overrides: TuningOverrides = {}) => tuningWith(WORLD_TUNING, overrides);
  const gateway = await startFcGateway({ handler: createHttpHandler({ env: env(), tuning: tuning() }), credentials: LOCAL_CREDENTIALS });
  const watcherContext = (timeout: number) => fcContext({ function: { name: 'yike-job-watcher', handler: 'index.handler', memory: 256, timeout } });

  return {
    ice,
    oss,
    client,
    deliveries,
    clock,
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
      ice.reset();
      deliveries.length = 0;
      triggered.length = 0;
      await Promise.all(oss.listKeys(BUCKET).map((key) => client.delete(key)));
    },
    async close() {
      await Promise.all([ice.close(), oss.close(), gateway.close(), new Promise((resolve) => receiver.close(resolve))]);
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
