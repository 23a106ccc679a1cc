import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type OSS from 'ali-oss';
import { isTerminal, jobRecordKey, type JobRecord as LifecycleRecord } from '../shared/domain/lifecycle/job-record';
import { BUCKET, startLocalCloud } from './cloud';
import { ignoresAsyncDelay } from './fc/async-delay';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from './dev-fixtures';
import { jobDurationMsFromEnv } from './ice/job-clock';
import { parseAcceptedForm, parseActionList } from './ice/acceptance';
import { errorLine } from '../cli/run-cli';
import { trustLocalCa } from './tls';
import { functionLogFilter } from './function-log';
import { portHolder } from './port-holder';
import { warnAboutEnvTypos } from '../cli/env-typos';
import { LOCAL_PORTS, localEndpoints, localPorts, withLocalPorts, type LocalEndpoints, type LocalPorts, type LocalService } from '../cli/local-cloud';

/**
 * `npm start`: the local cloud on 127.0.0.1 (local/cloud.ts: ICE, OSS with its upload trigger, the FC HTTP gateway, the
 * FC API, the job watcher's timer) and the main job once: an image dropped into the bucket becomes a submitted job, the
 * watcher follows it, and the demo ends by printing the finished video's URL, then the page's token and the commands
 * to try, each as it runs with the ports in use (cli/local-cloud.ts builds them). Function log lines are shown only for
 * runs that did something (local/function-log.ts); `--verbose` shows all, `--quiet` none. A port already taken stops
 * it at once, naming the port, the variable that moves it and the process holding it.
 */
const TOOL = 'npm start';
const CREDENTIALS = LOCAL_STS_CREDENTIALS;
/** How long the demo waits for the upload's record before saying it never came (a busy machine takes seconds). */
const RECORD_WAIT_MS = 30_000;
/** How long a local job runs (LOCAL_ICE_JOB_SECONDS overrides): long enough to see Queuing and Executing. */
const DEMO_JOB_MS = 4_000;
/** The watcher runs every minute in the cloud; locally every few seconds (LOCAL_WATCHER_SECONDS overrides). */
const WATCHER_INTERVAL_MS = Number(process.env.LOCAL_WATCHER_SECONDS ?? 2) * 1000;
/** The demo gives up on the job this long after ICE's own job time. */
const OUTCOME_GRACE_MS = 30_000;

async function main(): Promise<void> {
  // The watcher copies ICE's outputs over https from the local ICE (local/tls.ts): this process must trust its CA.
  if (!(await trustLocalCa())) return;
  warnAboutEnvTypos(TOOL);
  const startedAtMs = Date.now();
  const { values } = parseArgs({ options: { once: { type: 'boolean' }, quiet: { type: 'boolean' }, verbose: { type: 'boolean' } }, strict: true });
  const ports = localPorts(process.env);
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? join('.local', 'oss'));
  mkdirSync(dataDir, { recursive: true });
  const jobMs = jobDurationMsFromEnv() ?? DEMO_JOB_MS;

  const showLine = functionLogFilter((text) => process.stdout.write(text), { verbose: values.verbose === true });
  const cloud = await startLocalCloud({
    dataDir,
    ports,
    // What s.yaml sets in the cloud, pointed at the stand-ins; other variables pass through from your shell.
    env: process.env,
    functionLog: (name) => (values.quiet ? () => undefined : showLine(name)),
    jobMs,
    watcherIntervalMs: WATCHER_INTERVAL_MS,
    // The form the apps take: yike-asset unless LOCAL_ICE_ACCEPTS says otherwise, so IMAGE_URL_MODE=auto discovers it.
    accepts: parseAcceptedForm(process.env.LOCAL_ICE_ACCEPTS),
    forbiddenActions: parseActionList(process.env.LOCAL_ICE_FORBIDDEN_ACTIONS),
    // The CORS rule docs/page.md tells you to put on the bucket, for the page's origin (LOCAL_OSS_CORS=off: none).
    cors: process.env.LOCAL_OSS_CORS !== 'off',
  });
  const { oss, ice, gateway, fcApi, client, token: localToken, renewal } = cloud;

  print(`Local cloud is up (data in ${dataDir}):
  FC HTTP gateway (http-submit)  ${gateway.url}
  ICE endpoint                   ${ice.url}   (accepted jobs: ${ice.url}/__local/jobs)
  OSS endpoint                   ${oss.url}   (bucket ${BUCKET}; uploads under uploads/ trigger oss-submit)
  FC API (InvokeFunction)        ${fcApi.url}   (function yike-oss-submit, for yike-backfill; every function, for yike-doctor)
  job-watcher                    timer every ${WATCHER_INTERVAL_MS / 1000} s, rounds every ${WATCHER_INTERVAL_MS / 1000} s as delayed invocations of itself (FC API${
    ignoresAsyncDelay(process.env) ? ' ignoring x-fc-async-delay: LOCAL_FC_IGNORE_ASYNC_DELAY=1' : ''
  })   (local jobs take ${jobMs / 1000} s: LOCAL_ICE_JOB_SECONDS)${
    renewal
      ? `\n  budget-renewal                 every ${WATCHER_INTERVAL_MS / 1000} s   (JOB_BUDGET_PER_DAY ${cloud.env.JOB_BUDGET_PER_DAY ?? 'unset'}; docs/budget.md)`
      : ''
  }
`);

  // The main job: drop an image into the bucket, as a user's upload would.
  const key = `uploads/female/demo-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
  print(`Uploading ${BUCKET}/${key} ...`);
  await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
  await cloud.uploads.idle();
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

  const customerPage = localToken ? await mintCustomerPage(gateway.url, localToken) : undefined;
  // The run that settled the job may still be writing: its lines come before the commands, which are printed last.
  await cloud.idle();
  printTryIt({ endpoints: localEndpoints(portsOf(cloud)), ports: portsOf(cloud), token: localToken, key, customerPage });

  if (values.once || outcome?.status !== 'Finished') {
    await cloud.close();
    process.exitCode = outcome?.status === 'Finished' ? 0 : 1;
    return;
  }
  print('Press Ctrl-C to stop.');
  process.once('SIGINT', () => {
    void cloud.close().then(() => process.exit(0));
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

/** The ports the stand-ins listen on (the given ones, or the free ones port 0 found). */
function portsOf(cloud: { oss: { url: string }; ice: { url: string }; gateway: { url: string }; fcApi: { url: string } }): LocalPorts {
  const port = (url: string) => Number(new URL(url).port);
  return { fc: port(cloud.gateway.url), ice: port(cloud.ice.url), oss: port(cloud.oss.url), fcApi: port(cloud.fcApi.url) };
}

/** The page, its token and the commands to try, last: each runs as printed, against the ports in use. */
function printTryIt(local: { endpoints: LocalEndpoints; ports: LocalPorts; token?: string; key: string; customerPage?: string }): void {
  const { endpoints, ports, token, key, customerPage } = local;
  const body = JSON.stringify({ app: 'female', image: { bucket: BUCKET, key } });
  // A local development token (not a secret); with your own AUTH_TOKENS, put yours in the header.
  const authHeader = token ? ` -H 'Authorization: Bearer ${token}'` : process.env.AUTH_TOKENS ? ` -H 'Authorization: Bearer <one of your AUTH_TOKENS>'` : '';
  const tokenHint = token ? ` (access token: ${token})` : process.env.AUTH_TOKENS ? ' (access token: one of your AUTH_TOKENS)' : '';
  const pageOnLocalhost = endpoints.gateway.replace('127.0.0.1', 'localhost');
  print(`Try it in a browser: ${endpoints.gateway}/${tokenHint}
  drop a photo, watch the job, play the video (also at ${pageOnLocalhost}/: the bucket's CORS rule allows both)${
    customerPage ? `\n  as a brand's customer would: ${customerPage}\n  (a ticket for 3 photos, valid an hour: POST /tickets, docs/page.md)` : ''
  }

Try it:
  curl -s -X POST ${endpoints.gateway}/jobs -H 'Content-Type: application/json'${authHeader} -d '${body}'
  curl -s '${endpoints.gateway}/jobs/<jobId>?wait=25'${authHeader}
  ${withLocalPorts(ports, ['oss'], 'npm run upload -- ./photo.jpg --app male')}
  export ALIBABA_CLOUD_ACCESS_KEY_ID=${CREDENTIALS.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${CREDENTIALS.accessKeySecret} ALIBABA_CLOUD_SECURITY_TOKEN=${CREDENTIALS.securityToken}
  ${withLocalPorts(ports, ['fcApi', 'oss'], 'npx yike-doctor --local')}   (checks this local cloud as it would a deployment, spending nothing)
  ICE_ENDPOINT=${endpoints.ice} OSS_ENDPOINT=${endpoints.ossPathStyle} npx yike-submit --image oss://${BUCKET}/${key} --app female --wait
  OSS_ENDPOINT=${endpoints.ossPathStyle} RECORDS_BUCKET=${BUCKET} npx yike-jobs list
  OSS_ENDPOINT=${endpoints.ossPathStyle} FC_ENDPOINT=${endpoints.fcApi} npx yike-backfill --bucket ${BUCKET} --prefix uploads/
`);
}

/** The customer page with a ticket the local token mints (3 photos of the first app, an hour), as a brand's backend would. */
async function mintCustomerPage(gatewayUrl: string, token: string): Promise<string | undefined> {
  const response = await fetch(`${gatewayUrl}/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ app: 'female', uploads: 3 }),
  });
  const body = (await response.json().catch(() => undefined)) as { pageUrl?: string } | undefined;
  return response.status === 201 && body?.pageUrl ? new URL(body.pageUrl, gatewayUrl).href : undefined;
}

/** A port that is taken: which stand-in wanted it, the variable that moves it, and who holds it (where the OS says). */
function busyPortMessage(port: number, ports: LocalPorts): string {
  const service = (Object.keys(LOCAL_PORTS) as LocalService[]).find((name) => ports[name] === port);
  const wanted = service ? LOCAL_PORTS[service] : undefined;
  const holder = portHolder(port);
  const held = holder ? `it is held by pid ${holder.pid} (${holder.command})` : 'the OS does not say by which process';
  const all = (Object.keys(LOCAL_PORTS) as LocalService[]).map((name) => `${LOCAL_PORTS[name].variable} (${ports[name]})`).join(', ');
  return [
    `${TOOL}: port ${port} is taken${wanted ? `, so ${wanted.what} cannot listen on it` : ''}: ${held}.`,
    `  Stop that process, or move the port: ${wanted ? `${wanted.variable}=<free port> npm start` : 'set its variable'}; every port has one: ${all}.`,
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  const { code, port } = error as { code?: string; port?: number };
  if (code === 'EADDRINUSE' && typeof port === 'number') {
    let ports: LocalPorts | undefined;
    try {
      ports = localPorts(process.env);
    } catch {
      ports = undefined;
    }
    process.stderr.write(busyPortMessage(port, ports ?? localPorts({})));
  } else {
    process.stderr.write(errorLine(TOOL, error));
  }
  process.exitCode = 1;
});
