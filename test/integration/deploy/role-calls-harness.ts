/**
 * A deployment of every function, as `npm run deploy` would make it (s.eventbridge.yaml rendered by s preview with the
 * plan's variables and the stack's outputs: each function's real environment), run on the stand-ins with the role's
 * credentials, while a test drives it with an operator's key of its own: uploads, a failed event, a browser upload,
 * POST /jobs, a refresh, a finished job's copy, result object and next function, its playUrl, a page of GET /jobs, a
 * content redirect, two DELETE /jobs/{jobId} (an upload's job, an EventBridge upload's), a budget renewal, an
 * EventBridge upload, and each function's doctor. Whatever the role's key did is returned as RAM requests
 * (local/ram/calls.ts), with FC's deliveries to the async destinations s.yaml configures.
 */
import { join } from 'node:path';
import { planDeployment, expectedOutputs, serverlessEnv, type DeploymentPlan } from '../../../cli/deploy/plan';
import { tokenDigest } from '../../../cli/deploy/answers';
import { serverlessDevs, type Rendered } from '../../../cli/deploy/serverless';
import { createHandler as createHttpHandler } from '../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import { createHandler as createWatcherHandler } from '../../../functions/job-watcher/index';
import { createHandler as createRenewalHandler } from '../../../functions/budget-renewal/index';
import { createAsyncInvoker, type AsyncInvoker } from '../../../local/fc/async';
import { startFcGateway } from '../../../local/fc/gateway';
import { startFcInvokeServer, type AsyncHandler } from '../../../local/fc/invoke-server';
import { startIceServer } from '../../../local/ice/server';
import { startOssServer } from '../../../local/oss/server';
import { matchesOssTrigger, UPLOAD_TRIGGER } from '../../../local/oss/trigger';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from '../../../local/dev-fixtures';
import { destinationRequest, fcRequests, iceRequests, ossRequests, type Where } from '../../../local/ram/calls';
import type { RamRequest } from '../../../local/ram/policy';
import { createFunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { parseConfig } from '../../../shared/runtime/config';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { fcContext, tempDir } from '../../helpers/local-cloud';
import { eventually } from '../../helpers/waiting';

const WHERE: Where = { region: 'cn-shanghai', account: '1234567890123456' };
const ROOT = join(__dirname, '..', '..', '..');
const BUCKET = 'yike-role-calls';
const NEXT_FUNCTION = 'yike-job-next-step';
const TOKEN = 'role-calls-token-5f0c2a';
const ROLE = LOCAL_STS_CREDENTIALS;
/** The operator's own key: what the test does as a user (uploads, the doctor's invocations) is not the role's. */
const OPERATOR = { accessKeyId: 'LTAI.LocalOperatorKey', accessKeySecret: 'local-operator-secret' };
const HOUR_MS = 3_600_000;
/** The functions' log lines are not what this harness looks at. */
const quiet = (): void => undefined;

/** The deployment under test: a next function and oss-submit-eventbridge, so every part of the policy is deployed. */
export function testPlan(): DeploymentPlan {
  return planDeployment(
    { region: 'cn-shanghai', accountId: WHERE.account, bucket: BUCKET, nextFunction: NEXT_FUNCTION, eventBridge: true },
    tokenDigest(TOKEN),
    {},
  );
}

async function renderFunctions(plan: DeploymentPlan, home: string): Promise<Rendered> {
  return serverlessDevs(ROOT, { PATH: process.env.PATH, HOME: home }, () => undefined).preview(
    plan.serverlessTemplate,
    serverlessEnv(plan, expectedOutputs(plan)),
  );
}

export async function recordRoleCalls(): Promise<{ requests: RamRequest[]; rendered: Rendered }> {
  const dir = tempDir('role-calls-');
  const home = tempDir('role-calls-home-');
  const plan = testPlan();
  const rendered = await renderFunctions(plan, home.path);
  let iceClock = Date.now();
  const invokers: Record<string, AsyncInvoker> = {};
  const oss = await startOssServer({
    dataDir: dir.path,
    buckets: [BUCKET],
    credentials: [ROLE, OPERATOR],
    onObjectCreated: (notification) => {
      if (matchesOssTrigger(notification, UPLOAD_TRIGGER)) invokers['oss-submit']!.invoke(notification.payload);
    },
  });
  const ice = await startIceServer({ finishAfterMs: 60_000, now: () => iceClock, images: { ossUrl: oss.url }, accepts: 'media-id' });
  // The FC API first (the watcher's FC_ENDPOINT), running the handlers made once its address is known.
  const byName: Record<string, AsyncHandler> = {};
  const nextEvents: Buffer[] = [];
  const fcApi = await startFcInvokeServer({
    functions: {
      ...Object.fromEntries(
        Object.values(rendered).map(({ functionName }) => [
          functionName,
          (event: Buffer, context: Record<string, unknown>) => byName[functionName]!(event, context),
        ]),
      ),
      [NEXT_FUNCTION]: async (event) => {
        nextEvents.push(event);
        return { ok: true };
      },
    },
    credentials: [ROLE, OPERATOR],
    contextCredentials: ROLE,
  });
  const envOf = (resource: string): NodeJS.ProcessEnv => ({
    ...rendered[resource]!.environmentVariables,
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    FC_ENDPOINT: fcApi.url,
    LOG_LEVEL: 'error',
  });
  const handlers = {
    'http-submit': createHttpHandler({ env: envOf('http-submit'), sink: quiet }),
    'oss-submit': createOssHandler({ env: envOf('oss-submit'), sink: quiet }),
    'oss-submit-eventbridge': createOssHandler({ env: envOf('oss-submit-eventbridge'), sink: quiet }),
    'job-watcher': createWatcherHandler({
      env: envOf('job-watcher'),
      tuning: { lifecycle: { roundSeconds: 3_600 } },
      now: () => new Date(iceClock),
      sink: quiet,
    }),
    'budget-renewal': createRenewalHandler({ env: envOf('budget-renewal'), now: () => new Date(iceClock), sink: quiet }),
  };
  for (const [resource, handler] of Object.entries(handlers)) byName[rendered[resource]!.functionName] = handler as AsyncHandler;
  for (const resource of ['oss-submit', 'oss-submit-eventbridge']) {
    invokers[resource] = createAsyncInvoker({
      handler: handlers[resource as 'oss-submit'],
      functionName: rendered[resource]!.functionName,
      credentials: ROLE,
      maxAsyncRetryAttempts: 0,
    });
  }
  const gateway = await startFcGateway({ handler: handlers['http-submit'], functionName: rendered['http-submit']!.functionName, credentials: ROLE });
  const OSS = require('ali-oss') as typeof import('ali-oss');
  const operator = new OSS({ endpoint: oss.url, bucket: BUCKET, region: 'oss-cn-shanghai', ...OPERATOR } as import('ali-oss').Options);
  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${gateway.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      redirect: 'manual',
    });
  const roleContext = (resource: string) =>
    fcContext({ function: { name: rendered[resource]!.functionName, handler: 'index.handler', memory: 256, timeout: 60 } });

  try {
    // An upload through the OSS trigger (the image form found once: a Yike asset tried, then a media id), and an event
    // oss-submit cannot use (FC hands its failure to onFailure).
    await operator.put('uploads/female/portrait.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    await eventually(() => invokers['oss-submit']!.records().length === 1, 'the upload submitted');
    await invokers['oss-submit']!.invoke(Buffer.from('{"not":"an OSS event"}')).done;
    // The page's browser upload: a PostObject form signed with the role.
    const form = (await (
      await api('/uploads', { method: 'POST', body: { app: 'male', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length } })
    ).json()) as {
      url: string;
      fields: Record<string, string>;
    };
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append('file', new Blob([TINY_PNG], { type: 'image/png' }), 'me.png');
    if ((await fetch(form.url, { method: 'POST', body })).status >= 300) throw new Error('the browser upload was refused');
    await eventually(() => invokers['oss-submit']!.records().length === 3, 'the browser upload submitted');
    // An EventBridge upload, through oss-submit-eventbridge.
    const eventBridgeUpload = await operator.put('eventbridge-uploads/female/portrait.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const event = loadEvent('eventbridge-oss-put');
    event.subject = `acs:oss:${WHERE.region}:${WHERE.account}:${BUCKET}/eventbridge-uploads/female/portrait.png`;
    Object.assign(event.data.oss, { bucket: { ...event.data.oss.bucket, name: BUCKET, arn: `acs:oss:${WHERE.region}:${WHERE.account}:${BUCKET}` } });
    // Its eTag too: an erasure deletes only the version the job was made from.
    const eTag = String((eventBridgeUpload.res.headers as Record<string, string>).etag).replace(/"/g, '');
    Object.assign(event.data.oss.object, { key: 'eventbridge-uploads/female/portrait.png', size: TINY_PNG.length, deltaSize: TINY_PNG.length, eTag });
    await invokers['oss-submit-eventbridge']!.invoke(asFcPayload(event)).done;
    // POST /jobs on an uploaded image (its HEAD), and a refresh from ICE.
    const posted = (await (
      await api('/jobs', { method: 'POST', body: { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/portrait.png' } } })
    ).json()) as { jobId: string };
    await api(`/jobs/${posted.jobId}?refresh=1`);
    // The jobs finish; the watcher copies, records and hands them on; the own copy's playUrl is fetched.
    iceClock += 2 * HOUR_MS;
    await handlers['job-watcher'](asFcPayload(loadEvent('fc3-timer')), roleContext('job-watcher'));
    await fcApi.idle();
    const job = (await (await api(`/jobs/${posted.jobId}`)).json()) as { playUrl?: string };
    if (!job.playUrl || (await fetch(job.playUrl)).status !== 200) throw new Error(`no playable copy: ${JSON.stringify(job)}`);
    // The jobs as a collection: a page of them, a redirect to an own copy (and the file), and two erasures: an upload's
    // job (its upload, copy and result object) and an EventBridge upload's.
    const page = (await (await api('/jobs?limit=10')).json()) as { data: { jobId: string; upload?: { key: string } }[] };
    const content = await api(`/jobs/${posted.jobId}/content`);
    const location = content.headers.get('location');
    if (content.status !== 302 || !location || (await fetch(location)).status !== 200) throw new Error(`no content redirect: ${content.status}`);
    for (const key of ['uploads/female/portrait.png', 'eventbridge-uploads/female/portrait.png']) {
      const erased = page.data.find((listed) => listed.upload?.key === key);
      if (!erased || (await api(`/jobs/${erased.jobId}`, { method: 'DELETE' })).status !== 204) throw new Error(`the job of ${key} was not erased`);
    }
    await handlers['budget-renewal'](asFcPayload(loadEvent('fc3-timer')), roleContext('budget-renewal'));
    // Each function's doctor, invoked by the operator as npx yike-doctor does; it checks itself with the role.
    const doctor = createFunctionInvoker({
      config: parseConfig({ FC_ENDPOINT: fcApi.url }).fc,
      credentials: () => OPERATOR,
      readTimeoutMs: 60_000,
      connectTimeoutMs: 60_000,
    });
    for (const props of Object.values(rendered)) {
      await doctor.invokeSync(props.functionName, Buffer.from(JSON.stringify({ yike: 'doctor', replyBy: new Date(Date.now() + 60_000).toISOString() })));
    }
    await oss.idle();

    const destinations = Object.entries(invokers).flatMap(([resource, invoker]) =>
      invoker.records().map((record) => {
        const config = rendered[resource]!.asyncInvokeConfig!.destinationConfig!;
        return destinationRequest(config[record.status === 'succeeded' ? 'onSuccess' : 'onFailure']!.destination, WHERE);
      }),
    );
    const fcCalls = [...fcApi.invocations().map((call) => ({ action: 'InvokeFunction', ...call })), ...fcApi.controlCalls()];
    const requests = [
      ...iceRequests(ice.calls(), WHERE),
      ...ossRequests(oss.signedRequests(), ROLE.accessKeyId, WHERE),
      ...fcRequests(fcCalls, ROLE.accessKeyId, WHERE),
      ...destinations,
    ];
    if (nextEvents.length === 0) throw new Error('the next function was never invoked');
    return { requests, rendered };
  } finally {
    await Promise.all([gateway.close(), fcApi.close(), ice.close(), oss.close()]);
    dir.remove();
    home.remove();
  }
}
