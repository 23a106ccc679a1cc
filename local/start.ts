import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import OSS from 'ali-oss';
import { createHandler as createHttpHandler } from '../functions/http-submit/index';
import { createHandler as createOssHandler } from '../functions/oss-submit/index';
import { createHandler as createWatcherHandler } from '../functions/job-watcher/index';
import { createHandler as createRenewalHandler } from '../functions/budget-renewal/index';
import { isTerminal, jobRecordKey, type JobRecord as LifecycleRecord } from '../shared/domain/lifecycle/job-record';
import { createAsyncInvoker } from './fc/async';
import { startFcGateway } from './fc/gateway';
import { startFcInvokeServer } from './fc/invoke-server';
import { startFcTimer } from './fc/timer';
import { jobDurationMsFromEnv } from './ice/job-clock';
import { startIceServer } from './ice/server';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from './dev-fixtures';
import { startOssServer } from './oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from './oss/trigger';
import { pageCorsRules } from './page-cors';
import { trustLocalCa } from './tls';

/**
 * `npm start`: the local cloud on 127.0.0.1 (ICE, OSS with its upload trigger, the FC HTTP gateway, the FC API, the
 * job watcher's timer) and the main job once: an image dropped into the bucket becomes a submitted job, the watcher
 * follows it, and the demo ends by printing the finished video's URL.
 */
const BUCKET = 'yike-uploads';
const PORTS = {
  fc: Number(process.env.LOCAL_FC_PORT ?? 9000),
  ice: Number(process.env.LOCAL_ICE_PORT ?? 9100),
  oss: Number(process.env.LOCAL_OSS_PORT ?? 9200),
  fcApi: Number(process.env.LOCAL_FC_API_PORT ?? 9300),
};
const CREDENTIALS = LOCAL_STS_CREDENTIALS;
const RECORD_WAIT_MS = 10_000;
/** How long a local job runs (LOCAL_ICE_JOB_SECONDS overrides): long enough to see Queuing and Executing. */
const DEMO_JOB_MS = 4_000;
/** The watcher runs every minute in the cloud; locally every few seconds (LOCAL_WATCHER_SECONDS overrides). */
const WATCHER_INTERVAL_MS = Number(process.env.LOCAL_WATCHER_SECONDS ?? 2) * 1000;
/** The demo gives up on the job this long after ICE's own job time. */
const OUTCOME_GRACE_MS = 30_000;
const LOCAL_CDN_BASE_URL = 'https://yike-cdn.local.example';

async function main(): Promise<void> {
  // The watcher copies ICE's outputs over https from the local ICE (local/tls.ts): this process must trust its CA.
  if (!trustLocalCa()) return;
  const startedAtMs = Date.now();
  const { values } = parseArgs({ options: { once: { type: 'boolean' }, quiet: { type: 'boolean' } }, strict: true });
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? join('.local', 'oss'));
  mkdirSync(dataDir, { recursive: true });

  const functionLog = (name: string) => (line: string) => {
    if (!values.quiet) process.stdout.write(`  [${name}] ${line}\n`);
  };

  const ossHolder: { invoke?: (payload: Buffer) => void } = {};
  const oss = await startOssServer({
    port: PORTS.oss,
    dataDir,
    buckets: [BUCKET],
    onObjectCreated: (notification) => {
      if (matchesOssTrigger(notification, UPLOAD_TRIGGER)) ossHolder.invoke?.(notification.payload);
    },
  });

  // http-submit refuses every call without a token (HTTP_AUTH=token): a fresh local one per run, unless you set yours.
  const localToken = process.env.AUTH_TOKENS || process.env.HTTP_AUTH === 'none' ? undefined : `local-${randomBytes(16).toString('hex')}`;
  // What s.yaml sets in the cloud, pointed at the stand-ins. Other variables pass through from your shell.
  const env: NodeJS.ProcessEnv = {
    DEFAULT_APP: 'female',
    APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
    ALLOWED_BUCKETS: BUCKET,
    // Only used with IMAGE_URL_MODE=cdn: the local ICE reads this made-up CDN from the local bucket.
    CDN_BASE_URL: LOCAL_CDN_BASE_URL,
    // One watcher run polls in rounds at the local timer's pace (the cloud: every 10 s, WATCH_ROUND_SECONDS).
    WATCH_ROUND_SECONDS: String(Math.max(1, Math.round(WATCHER_INTERVAL_MS / 1000))),
    ...(localToken ? { AUTH_TOKENS: localToken } : {}),
    ...process.env,
    OSS_ENDPOINT: oss.localhostUrl,
  };
  // ICE reads images (PrecheckYikeAIAppJob) from the local OSS, and the CDN base from the same bucket.
  const jobMs = jobDurationMsFromEnv() ?? DEMO_JOB_MS;
  const ice = await startIceServer({
    port: PORTS.ice,
    finishAfterMs: jobMs,
    images: { ossUrl: oss.url, aliases: { [env.CDN_BASE_URL ?? LOCAL_CDN_BASE_URL]: BUCKET } },
  });
  env.ICE_ENDPOINT = ice.url;
  const ossSubmit = createOssHandler({ env, sink: functionLog('oss-submit') });
  const invoker = createAsyncInvoker({ handler: ossSubmit, functionName: 'yike-oss-submit', credentials: CREDENTIALS });
  ossHolder.invoke = (payload) => void invoker.invoke(payload);
  const gateway = await startFcGateway({
    port: PORTS.fc,
    handler: createHttpHandler({ env, sink: functionLog('http-submit') }),
    functionName: 'yike-http-submit',
    credentials: CREDENTIALS,
  });
  // The FC API (InvokeFunction, 2023-03-30) that yike-backfill calls, hosting the same oss-submit function.
  const fcApi = await startFcInvokeServer({ port: PORTS.fcApi, functions: { 'yike-oss-submit': ossSubmit }, contextCredentials: CREDENTIALS });
  // The job watcher, fired like its timer trigger (s.yaml: every minute), watching the same bucket.
  const watcher = startFcTimer({
    handler: createWatcherHandler({ env, sink: functionLog('job-watcher') }),
    intervalMs: WATCHER_INTERVAL_MS,
    credentials: CREDENTIALS,
    functionName: 'yike-job-watcher',
  });
  // The budget's renewal, fired like its timer (s.yaml: every minute), when JOB_BUDGET_PER_DAY or a quota is set.
  const budgeted = Boolean(env.JOB_BUDGET_PER_DAY) || /"jobsPerDay"/.test(env.AUTH_TOKENS ?? '');
  const renewal = budgeted
    ? startFcTimer({
        handler: createRenewalHandler({ env, sink: functionLog('budget-renewal') }),
        intervalMs: WATCHER_INTERVAL_MS,
        credentials: CREDENTIALS,
        functionName: 'yike-budget-renewal',
        triggerName: 'budget-renewal-timer',
      })
    : undefined;
  // The CORS rule docs/page.md ("What the deployment needs") tells you to put on the bucket, for the page's origin (LOCAL_OSS_CORS=off: none).
  const client = new OSS({
    endpoint: oss.url,
    bucket: BUCKET,
    region: 'oss-cn-shanghai',
    ...CREDENTIALS,
    stsToken: CREDENTIALS.securityToken,
    refreshSTSTokenInterval: 300_000,
  } as OSS.Options);
  if (process.env.LOCAL_OSS_CORS !== 'off') await client.putBucketCORS(BUCKET, pageCorsRules(gateway.url));
  const closeAll = async () => {
    await Promise.all([watcher.stop(), renewal?.stop()]);
    await Promise.all([gateway.close(), fcApi.close(), ice.close(), oss.close()]);
  };

  print(`Local cloud is up (data in ${dataDir}):
  FC HTTP gateway (http-submit)  ${gateway.url}
  ICE endpoint                   ${ice.url}   (accepted jobs: ${ice.url}/__local/jobs)
  OSS endpoint                   ${oss.url}   (bucket ${BUCKET}; uploads under uploads/ trigger oss-submit)
  FC API (InvokeFunction)        ${fcApi.url}   (function yike-oss-submit, for yike-backfill)
  job-watcher                    every ${WATCHER_INTERVAL_MS / 1000} s   (local jobs take ${jobMs / 1000} s: LOCAL_ICE_JOB_SECONDS)${
    renewal
      ? `\n  budget-renewal                 every ${WATCHER_INTERVAL_MS / 1000} s   (JOB_BUDGET_PER_DAY ${env.JOB_BUDGET_PER_DAY ?? 'unset'}; docs/budget.md)`
      : ''
  }
`);

  // The main job: drop an image into the bucket, as a user's upload would.
  const key = `uploads/female/demo-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
  print(`Uploading ${BUCKET}/${key} ...`);
  await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
  await invoker.idle();
  const record = await waitForRecord(client, key);
  print(
    record?.status === 'COMPLETED'
      ? `\nJob submitted: JobId ${record.result.jobId} (app ${record.result.appId}); record ${BUCKET}/${record.recordKey}\n`
      : `\nNo job record appeared for ${key}; see the [oss-submit] log lines above.\n`,
  );
  const outcome = record?.status === 'COMPLETED' ? await followJob(client, record.result.jobId, jobMs + OUTCOME_GRACE_MS) : undefined;
  if (outcome?.status === 'Finished') {
    const urls = outcome.results.map((result) => result.outputUrl).filter(Boolean);
    const copies = outcome.results.filter((result) => result.ownKey).map((result) => `${result.ownBucket}/${result.ownKey}`);
    print(`Job ${outcome.jobId} Finished: ${urls.join(' ')}`);
    if (copies.length > 0) print(`  own copy: ${copies.join(' ')} (GET /jobs/${outcome.jobId} gives its signed playUrl)`);
    print(`  (${((Date.now() - startedAtMs) / 1000).toFixed(1)} s from npm start to the video URL; result object ${BUCKET}/.yike-results/${key}.json)\n`);
  } else if (outcome) {
    print(`Job ${outcome.jobId} ended ${outcome.status}${outcome.error ? ` (${outcome.error.code}: ${outcome.error.message})` : ''}\n`);
  } else if (record?.status === 'COMPLETED') {
    print(`Job ${record.result.jobId} did not finish within ${(jobMs + OUTCOME_GRACE_MS) / 1000} s; see the [job-watcher] log lines above.\n`);
  }

  const body = JSON.stringify({ app: 'female', image: { bucket: BUCKET, key } });
  // A local development token (not a secret); with your own AUTH_TOKENS, put yours in the header.
  const authHeader = localToken
    ? ` -H 'Authorization: Bearer ${localToken}'`
    : process.env.AUTH_TOKENS
      ? ` -H 'Authorization: Bearer <one of your AUTH_TOKENS>'`
      : '';
  const tokenHint = localToken ? ` (access token: ${localToken})` : process.env.AUTH_TOKENS ? ' (access token: one of your AUTH_TOKENS)' : '';
  print(`Try it in a browser: ${gateway.url}/${tokenHint}
  drop a photo, watch the job, play the video (the bucket allows this page's origin: CORS)

Try it:
  curl -s -X POST ${gateway.url}/jobs -H 'Content-Type: application/json'${authHeader} -d '${body}'
  curl -s '${gateway.url}/jobs/<jobId>?wait=25'${authHeader}
  npm run upload -- ./photo.jpg --app male
  export ALIBABA_CLOUD_ACCESS_KEY_ID=${CREDENTIALS.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${CREDENTIALS.accessKeySecret} ALIBABA_CLOUD_SECURITY_TOKEN=${CREDENTIALS.securityToken}
  ICE_ENDPOINT=${ice.url} npx yike-submit --image https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${key} --app female --wait
  OSS_ENDPOINT=${oss.localhostUrl} RECORDS_BUCKET=${BUCKET} npx yike-jobs list
  OSS_ENDPOINT=${oss.localhostUrl} FC_ENDPOINT=${fcApi.url} npx yike-backfill --bucket ${BUCKET} --prefix uploads/
`);

  if (values.once || outcome?.status !== 'Finished') {
    await closeAll();
    process.exitCode = outcome?.status === 'Finished' ? 0 : 1;
    return;
  }
  print('Press Ctrl-C to stop.');
  process.once('SIGINT', () => {
    void closeAll().then(() => process.exit(0));
  });
}

interface JobRecord {
  status: string;
  result: { jobId: string; appId: string };
  recordKey: string;
}

/** The oss-submit function writes the job record; wait for it like a user refreshing the bucket. */
async function waitForRecord(client: OSS, key: string): Promise<JobRecord | undefined> {
  const deadline = Date.now() + RECORD_WAIT_MS;
  const prefix = `.yike-jobs/objects/${BUCKET}/${key}@`;
  while (Date.now() < deadline) {
    const listing = await client.list({ prefix, 'max-keys': 10 }, {});
    const name = listing.objects?.find((object) => object.name.endsWith('.json'))?.name;
    if (name) {
      const record = JSON.parse((await client.get(name)).content.toString('utf8')) as JobRecord;
      if (record.status !== 'IN_PROGRESS') return { ...record, recordKey: name };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

/** The watcher updates the job record (`.yike-jobs/jobs/<jobId>.json`); read it until the job ends. */
async function followJob(client: OSS, jobId: string, timeoutMs: number): Promise<LifecycleRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: LifecycleRecord | undefined;
  while (Date.now() < deadline) {
    try {
      last = JSON.parse((await client.get(jobRecordKey('.yike-jobs/', jobId))).content.toString('utf8')) as LifecycleRecord;
      if (isTerminal(last.status)) return last;
    } catch (error) {
      if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last && isTerminal(last.status) ? last : undefined;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if ((error as { code?: string }).code === 'EADDRINUSE') process.stderr.write('A port is taken: set LOCAL_FC_PORT / LOCAL_ICE_PORT / LOCAL_OSS_PORT.\n');
  process.exitCode = 1;
});
