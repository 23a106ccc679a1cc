import { randomBytes } from 'node:crypto';
import OSS from 'ali-oss';
import { createHandler as createHttpHandler } from '../functions/http-submit/index';
import { createHandler as createOssHandler } from '../functions/oss-submit/index';
import { createHandler as createWatcherHandler } from '../functions/job-watcher/index';
import { createHandler as createRenewalHandler } from '../functions/budget-renewal/index';
import { createAsyncInvoker, type AsyncInvoker } from './fc/async';
import type { LocalFunctionDefinition } from './fc/control-api';
import { startFcGateway, type LocalFcGateway } from './fc/gateway';
import { ignoresAsyncDelay } from './fc/async-delay';
import { startFcInvokeServer, type AsyncHandler, type LocalFcInvokeServer } from './fc/invoke-server';
import { startFcTimer, type FcTimer } from './fc/timer';
import type { AcceptedForm } from './ice/acceptance';
import { startIceServer, type LocalIceServer } from './ice/server';
import { LOCAL_STS_CREDENTIALS } from './dev-fixtures';
import { startOssServer, type LocalOssServer } from './oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from './oss/trigger';
import { pageCorsRules } from './page-cors';
import { REMOVED_VARIABLES } from '../shared/domain/doctor/removed-variables';
import { envSchema } from '../shared/runtime/env';
import { LOCAL_APP_ROUTES, LOCAL_BUCKET } from '../cli/local-cloud';

/**
 * The local cloud `npm start` runs (local/start.ts), as one call so tests can start it with a fault of their choice:
 * OSS with its upload trigger, ICE, the FC HTTP gateway (http-submit), the FC API (InvokeFunction, GetFunction and
 * ListTriggers for the four functions, each described as s.yaml deploys it), the watcher's timer and, when a budget is
 * set (JOB_BUDGET_PER_DAY or a token quota), budget-renewal's timer (without one its ticks do nothing, so they are not
 * fired; its trigger is still listed, as s.yaml deploys it). The functions run in this process with one environment:
 * what s.yaml sets in the cloud, pointed at the stand-ins (FC_ENDPOINT at the local FC API: the watcher schedules its
 * rounds there, as delayed invocations of itself; LOCAL_FC_IGNORE_ASYNC_DELAY=1 makes the local FC API run them at once).
 */
export const BUCKET = LOCAL_BUCKET;
const FUNCTION_NAMES = { http: 'yike-http-submit', oss: 'yike-oss-submit', watcher: 'yike-job-watcher', renewal: 'yike-budget-renewal' } as const;
const ACCOUNT_ID = '1234567890123456';
const REGION = 'cn-shanghai';
const LOCAL_CDN_BASE_URL = 'https://yike-cdn.local.example';

export interface LocalCloudOptions {
  dataDir: string;
  ports?: { fc?: number; ice?: number; oss?: number; fcApi?: number };
  /** Variables of the functions' environment, over the local defaults (npm start passes its own environment). */
  env?: NodeJS.ProcessEnv;
  /** Where each function's log lines go (default: nowhere). */
  functionLog?: (name: string) => (line: string) => void;
  /** How long a local ICE job runs. */
  jobMs: number;
  watcherIntervalMs: number;
  /** LOCAL_ICE_ACCEPTS and LOCAL_ICE_FORBIDDEN_ACTIONS (local/ice/acceptance.ts). */
  accepts: AcceptedForm;
  forbiddenActions?: readonly string[];
  /** The page's CORS rule on the bucket (docs/page.md). Default true. */
  cors?: boolean;
  /** The bucket's region as GetBucketLocation answers it. Default cn-shanghai, ICE's. */
  bucketRegion?: string;
  /** The watcher's timer trigger (and so its ticks). Default true. */
  timerTrigger?: boolean;
}

export interface LocalCloud {
  env: NodeJS.ProcessEnv;
  /** The fresh bearer token http-submit takes, unless the environment brought AUTH_TOKENS or HTTP_AUTH=none. */
  token?: string;
  oss: LocalOssServer;
  ice: LocalIceServer;
  gateway: LocalFcGateway;
  fcApi: LocalFcInvokeServer;
  /** oss-submit as the OSS trigger invokes it (async, with FC's retries). */
  uploads: AsyncInvoker;
  /** budget-renewal's timer, when a budget is set. */
  renewal?: FcTimer;
  /** ali-oss on the bucket, signing with the local STS credentials. */
  client: OSS;
  /** Resolves when the functions' runs under way have finished (the timers go on). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  // A stand-in that cannot start (its port taken) stops those already up, so nothing keeps the process alive.
  const started: (() => Promise<unknown>)[] = [];
  try {
    return await startEverything(options, (stop) => void started.push(stop));
  } catch (error) {
    await Promise.allSettled(started.map((stop) => stop()));
    throw error;
  }
}

async function startEverything(options: LocalCloudOptions, started: (stop: () => Promise<unknown>) => void): Promise<LocalCloud> {
  const ports = options.ports ?? {};
  const log = options.functionLog ?? (() => () => undefined);
  const holder: { invoke?: (payload: Buffer) => void } = {};
  const oss = await startOssServer({
    port: ports.oss,
    dataDir: options.dataDir,
    buckets: [BUCKET],
    bucketRegions: options.bucketRegion ? { [BUCKET]: options.bucketRegion } : undefined,
    onObjectCreated: (notification) => {
      if (matchesOssTrigger(notification, UPLOAD_TRIGGER)) holder.invoke?.(notification.payload);
    },
  });
  started(() => oss.close());
  const given = options.env ?? {};
  // http-submit refuses every call without a token (HTTP_AUTH=token): a fresh local one per run, unless one is given.
  const token = given.AUTH_TOKENS || given.HTTP_AUTH === 'none' ? undefined : `local-${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    APP_ROUTES: LOCAL_APP_ROUTES,
    ALLOWED_BUCKETS: BUCKET,
    // Only used with the cdn form: the local ICE reads this made-up CDN from the local bucket.
    CDN_BASE_URL: LOCAL_CDN_BASE_URL,
    ...(token ? { AUTH_TOKENS: token } : {}),
    // The customer page's upload tickets (POST /tickets): a fresh local key per run, unless one is given.
    TICKET_SECRET: randomBytes(32).toString('base64'),
    ...given,
    OSS_ENDPOINT: oss.localhostUrl,
  };
  const ice = await startIceServer({
    port: ports.ice,
    finishAfterMs: options.jobMs,
    images: { ossUrl: oss.url, aliases: { [env.CDN_BASE_URL ?? LOCAL_CDN_BASE_URL]: BUCKET } },
    accepts: options.accepts,
    forbiddenActions: options.forbiddenActions,
  });
  started(() => ice.close());
  env.ICE_ENDPOINT = ice.url;
  const credentials = LOCAL_STS_CREDENTIALS;
  const ossSubmit = createOssHandler({ env, sink: log('oss-submit') });
  const uploads = createAsyncInvoker({ handler: ossSubmit, functionName: FUNCTION_NAMES.oss, credentials });
  holder.invoke = (payload) => void uploads.invoke(payload);
  const httpSubmit = createHttpHandler({ env, sink: log('http-submit') });
  const gateway = await startFcGateway({ port: ports.fc, handler: httpSubmit, functionName: FUNCTION_NAMES.http, credentials });
  started(() => gateway.close());
  // The watcher's rounds come at the local timer's pace (the cloud: every 10 s), each a delayed invocation of itself.
  const roundSeconds = Math.max(1, Math.round(options.watcherIntervalMs / 1000));
  const watcherHandler = createWatcherHandler({ env, tuning: { lifecycle: { roundSeconds } }, sink: log('job-watcher') });
  const renewalHandler = createRenewalHandler({ env, sink: log('budget-renewal') });
  const timerTrigger = options.timerTrigger ?? true;
  const fcApi = await startFcInvokeServer({
    port: ports.fcApi,
    functions: {
      [FUNCTION_NAMES.oss]: ossSubmit,
      [FUNCTION_NAMES.http]: httpSubmit as AsyncHandler,
      [FUNCTION_NAMES.watcher]: watcherHandler as AsyncHandler,
      [FUNCTION_NAMES.renewal]: renewalHandler as AsyncHandler,
    },
    definitions: definitions(env, gateway.url, timerTrigger),
    contextCredentials: credentials,
    region: REGION,
    accountId: ACCOUNT_ID,
    ignoreAsyncDelay: ignoresAsyncDelay(given),
  });
  started(() => fcApi.close());
  // Before any function runs (their configuration is read on the first invocation): the watcher invokes itself here.
  env.FC_ENDPOINT ||= fcApi.url;
  const watcher: FcTimer | undefined = timerTrigger
    ? startFcTimer({ handler: watcherHandler, intervalMs: options.watcherIntervalMs, credentials, functionName: FUNCTION_NAMES.watcher })
    : undefined;
  const budgeted = Boolean(env.JOB_BUDGET_PER_DAY) || /"jobsPerDay"/.test(env.AUTH_TOKENS ?? '');
  const renewal: FcTimer | undefined = budgeted
    ? startFcTimer({
        handler: renewalHandler,
        intervalMs: options.watcherIntervalMs,
        credentials,
        functionName: FUNCTION_NAMES.renewal,
        triggerName: 'budget-renewal-timer',
      })
    : undefined;
  started(async () => Promise.all([watcher?.stop(), renewal?.stop()]));
  const client = new OSS({
    endpoint: oss.url,
    bucket: BUCKET,
    region: 'oss-cn-shanghai',
    ...credentials,
    stsToken: credentials.securityToken,
    refreshSTSTokenInterval: 300_000,
  } as OSS.Options);
  // The CORS rule docs/page.md ("What the deployment needs") tells you to put on the bucket, for the page's origin.
  if (options.cors ?? true) await client.putBucketCORS(BUCKET, pageCorsRules(gateway.url));
  return {
    env,
    token,
    oss,
    ice,
    gateway,
    fcApi,
    uploads,
    renewal,
    client,
    async idle() {
      await Promise.all([watcher?.idle(), renewal?.idle()]);
      await Promise.all([fcApi.idle(), uploads.idle()]);
    },
    async close() {
      // The functions first, so no run is cut off by a stand-in closing under it: the timers' runs, then what FC still
      // runs (a delayed round no longer starts) and the uploads' invocations; then the servers.
      await Promise.all([watcher?.stop(), renewal?.stop()]);
      await fcApi.drain();
      await uploads.idle();
      await Promise.all([gateway.close(), fcApi.close(), ice.close(), oss.close()]);
    },
  };
}

/** The four functions as s.yaml deploys them (sizes, handler, triggers), running this environment. */
function definitions(env: NodeJS.ProcessEnv, pageUrl: string, timerTrigger: boolean): Record<string, LocalFunctionDefinition> {
  // What s.yaml could set: the functions' own variables, and those an older s.yaml set that they no longer read (the
  // shell's PATH, HOME or keys never show up as configuration).
  const known = new Set([...Object.keys(envSchema.shape), ...Object.keys(REMOVED_VARIABLES)]);
  const environmentVariables = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => known.has(entry[0]) && typeof entry[1] === 'string'),
  );
  const role = `acs:ram::${ACCOUNT_ID}:role/yike-fc-role`;
  return {
    [FUNCTION_NAMES.http]: {
      memorySize: 192,
      timeout: 40,
      role,
      environmentVariables,
      triggers: [
        {
          triggerName: 'http',
          triggerType: 'http',
          triggerConfig: { authType: 'anonymous', disableURLInternet: false, methods: ['GET', 'POST', 'DELETE'] },
          urlInternet: pageUrl,
        },
      ],
    },
    [FUNCTION_NAMES.oss]: {
      memorySize: 128,
      timeout: 60,
      role,
      environmentVariables,
      triggers: [
        {
          triggerName: 'oss-upload',
          triggerType: 'oss',
          sourceArn: `acs:oss:${REGION}:${ACCOUNT_ID}:${BUCKET}`,
          invocationRole: `acs:ram::${ACCOUNT_ID}:role/aliyunosseventnotificationrole`,
          triggerConfig: { events: UPLOAD_TRIGGER.events, filter: { key: { prefix: UPLOAD_TRIGGER.prefix ?? '', suffix: UPLOAD_TRIGGER.suffix ?? '' } } },
        },
      ],
    },
    [FUNCTION_NAMES.watcher]: {
      memorySize: 256,
      timeout: 65,
      role,
      environmentVariables,
      triggers: timerTrigger
        ? [{ triggerName: 'every-minute', triggerType: 'timer', triggerConfig: { cronExpression: '0 * * * * *', enable: true, payload: 'job-watcher-tick' } }]
        : [],
    },
    [FUNCTION_NAMES.renewal]: {
      memorySize: 192,
      timeout: 120,
      role,
      environmentVariables,
      triggers: [
        { triggerName: 'every-minute', triggerType: 'timer', triggerConfig: { cronExpression: '30 * * * * *', enable: true, payload: 'budget-renewal-tick' } },
      ],
    },
  };
}
