/**
 * What the job lifecycle suites share (upload → job record → watcher → result object, webhook and next function):
 * startLifecycleHarness(), called in each file's beforeAll, starts a local OSS (its upload notifications recorded), a
 * local ICE finishing jobs after JOB_MS of its own clock, a local FC invoke endpoint running the next function, and a
 * webhook receiver that verifies each attempt with the `standardwebhooks` package (a verifier nobody here wrote), as
 * docs/lifecycle.md tells receivers to. Tests move the two clocks and take
 * the receiver down by setting iceClock, watcherClock and receiverMode; reset() puts them back and removes every
 * record, marker and result before each test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type OSS from 'ali-oss';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { createHandler as createSubmitHandler } from '../../../../functions/oss-submit/index';
import { startFcInvokeServer, type LocalFcInvokeServer } from '../../../../local/fc/invoke-server';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../../local/oss/trigger';
import type { JobWebhookNetwork } from '../../../../shared/composition/watcher';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { checkWebhookBody } from '../../../helpers/openapi-check';
import { tuningWith, type TuningOverrides } from '../../../../shared/runtime/tuning';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, localOssClient, tempDir, TINY_PNG } from '../../../helpers/local-cloud';
import { eventually } from '../../../helpers/waiting';
import { verifiesWith, webhookSecret } from '../../../helpers/webhooks';

export const BUCKET = 'yike-uploads';
export const SECRET = webhookSecret('lifecycle-harness');
const NEXT_FUNCTION = 'yike-next-step';
export const JOB_MS = 60_000;
/**
 * The watcher's tuning here: one round per run (a round at or above the function's timeout: these tests drive the
 * ticks themselves), a 2 s webhook attempt and fast ICE retries.
 */
const WATCHER_TUNING: TuningOverrides = {
  ice: { retry: { baseDelayMs: 1, maxDelayMs: 2 } },
  lifecycle: { roundSeconds: 3_600, webhook: { timeoutMs: 2_000 } },
};
export const HOUR_MS = 3_600_000;

interface Delivery {
  body: NotificationPayload;
  signatureValid: boolean;
  /** `webhook-id`. */
  deliveryHeader?: string;
}

/** Every POST the receiver got, answered or not: its Standard Webhooks headers and whether they verify. */
interface Attempt {
  webhookId: string;
  timestamp: string;
  signatureValid: boolean;
  answered: number;
}

type WatcherHandler = ReturnType<typeof createWatcherHandler>;

export interface LifecycleHarness {
  ice: LocalIceServer;
  oss: LocalOssServer;
  /** Runs the next function (JOB_NEXT_FUNCTION). */
  fc: LocalFcInvokeServer;
  client: OSS;
  /** What the local ICE takes for now (ms); a job finishes JOB_MS after it was submitted. */
  iceClock: number;
  /** What the watcher takes for now (ms). */
  watcherClock: number;
  /** 'down' makes the webhook receiver answer 503. */
  receiverMode: 'up' | 'down';
  /** Webhooks the receiver accepted since the test began. */
  readonly deliveries: Delivery[];
  /** Every webhook POST since the test began, refused ones too. */
  readonly attempts: Attempt[];
  /** Upload notifications (the upload trigger rule applied) since the test began. */
  readonly triggered: OssNotification[];
  /** Events the next function received since the test began. */
  readonly nextEvents: Buffer[];
  /** The functions' environment: the local endpoints, the webhook and the next function. */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  /** A job-watcher handler reading watcherClock; `tuning` goes over WATCHER_TUNING; `network`: where jobs' own webhooks may connect. */
  watcher(overrides?: Record<string, string>, sink?: (line: string) => void, tuning?: TuningOverrides, network?: JobWebhookNetwork): WatcherHandler;
  /** A user's upload, and the OSS trigger invoking oss-submit with the event OSS produced. */
  upload(key: string): Promise<{ jobId: string; eTag: string }>;
  /** The OSS trigger invoking oss-submit with the event OSS produced for an object already written (a browser's form). */
  submitUploaded(key: string): Promise<{ jobId: string; eTag: string }>;
  /** An object of the bucket parsed as JSON, or undefined when there is none. */
  readJson<T>(key: string): Promise<T | undefined>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const timerEvent = () => asFcPayload(loadEvent('fc3-timer'));
export const watcherContext = () => fcContext({ function: { name: 'yike-job-watcher', handler: 'index.handler', memory: 512, timeout: 60 } });

export async function startLifecycleHarness(): Promise<LifecycleHarness> {
  const dir = tempDir('lifecycle-');
  const triggered: OssNotification[] = [];
  const deliveries: Delivery[] = [];
  const attempts: Attempt[] = [];
  const nextEvents: Buffer[] = [];
  // The servers read the clocks and the receiver mode from the harness, once it is returned.
  let harness!: LifecycleHarness;
  const oss = await startOssServer({
    dataDir: dir.path,
    buckets: [BUCKET],
    onObjectCreated: (event) => matchesOssTrigger(event, UPLOAD_TRIGGER) && triggered.push(event),
  });
  // ICE's precheck (PRECHECK=on by default) reads the uploads from the local OSS.
  const ice = await startIceServer({ finishAfterMs: JOB_MS, now: () => harness.iceClock, images: { ossUrl: oss.url } });
  const fc = await startFcInvokeServer({
    functions: {
      [NEXT_FUNCTION]: async (event) => {
        nextEvents.push(event);
        return { ok: true };
      },
    },
    contextCredentials: LOCAL_CREDENTIALS,
  });
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signatureValid = verifiesWith(SECRET, raw, req.headers);
      const answered = harness.receiverMode === 'down' ? 503 : 204;
      attempts.push({ webhookId: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signatureValid, answered });
      if (answered === 503) {
        res.writeHead(503).end('maintenance');
        return;
      }
      checkWebhookBody(raw);
      deliveries.push({ body: JSON.parse(raw), signatureValid, deliveryHeader: req.headers['webhook-id'] as string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/yike`;
  const client = localOssClient(oss.url, BUCKET);

  harness = {
    ice,
    oss,
    fc,
    client,
    iceClock: Date.now(),
    watcherClock: Date.now(),
    receiverMode: 'up',
    deliveries,
    attempts,
    triggered,
    nextEvents,
    env: (overrides = {}) => ({
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      FC_ENDPOINT: fc.url,
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
      ALLOWED_BUCKETS: BUCKET,
      JOB_WEBHOOK_URL: receiverUrl,
      JOB_WEBHOOK_SECRET: SECRET,
      JOB_NEXT_FUNCTION: NEXT_FUNCTION,
      LOG_LEVEL: 'error',
      ...overrides,
    }),
    watcher: (overrides = {}, sink, tuning = {}, network = undefined) =>
      createWatcherHandler({
        env: harness.env(overrides),
        tuning: tuningWith(WATCHER_TUNING, tuning),
        now: () => new Date(harness.watcherClock),
        sink,
        jobWebhookNetwork: network,
      }),
    upload: async (key) => {
      await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
      return harness.submitUploaded(key);
    },
    submitUploaded: async (key) => {
      // OSS notifies out of band, after its answer.
      const notification = await eventually(() => triggered.find((event) => event.key === key), `the upload notification of ${key}`);
      const result = await createSubmitHandler({ env: harness.env(), tuning: FAST_RETRIES })(notification.payload, fcContext());
      const eTag = JSON.parse(notification.payload.toString('utf8')).events[0].oss.object.eTag as string;
      return { jobId: result.submitted[0]!.jobId, eTag };
    },
    readJson: async <T>(key: string) => {
      try {
        return JSON.parse((await client.get(key)).content.toString('utf8')) as T;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }
    },
    reset: async () => {
      ice.reset();
      triggered.length = 0;
      deliveries.length = 0;
      attempts.length = 0;
      nextEvents.length = 0;
      harness.receiverMode = 'up';
      harness.iceClock = Date.now();
      harness.watcherClock = Date.now();
      // Each test starts with no records, markers or results.
      const leftovers = oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-'));
      await Promise.all(leftovers.map((key) => client.delete(key)));
    },
    close: async () => {
      await Promise.all([ice.close(), oss.close(), fc.close(), new Promise((resolve) => receiver.close(resolve))]);
      dir.remove();
    },
  };
  return harness;
}
