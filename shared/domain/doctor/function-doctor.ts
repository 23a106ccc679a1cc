import { randomBytes } from 'node:crypto';
import type { Config } from '../../runtime/config';
import type { ImageInputs } from '../images/image-modes/image-inputs';
import type { AppRegistry } from '../jobs/apps';
import type { BucketInspector, FunctionDirectory, FunctionInvoker, IceActionProbe, ImageObjects, RecordStoreFor, WebhookSender } from '../ports';
import { describeConfiguration } from './configuration';
import { delayCheck } from './delay-check';
import { removedVariablesSet } from './removed-variables';
import { iceChecks } from './ice-checks';
import { imageModeChecks } from './image-mode-check';
import { recordsCheck, regionCheck, resultsCheck } from './oss-checks';
import { fail, guarded, pass, skip, SUBMIT_NOT_TRIED, type DoctorCheck, type FunctionDoctorReport, type FunctionKind } from './report';

/**
 * The checks a function runs on itself, with its own role, when it gets {"yike":"doctor"} (shared/triggers/events/doctor.ts)
 * or, for http-submit, GET /doctor: credentials, ICE (endpoint, permissions), OSS (records, regions, an image), the image
 * form ICE takes (submit functions), results, webhook and next function (the watcher), the webhook of the budget's
 * alerts (budget-renewal), and the configuration it runs with. Nothing here submits a job.
 */
export interface FunctionDoctorDependencies {
  kind: FunctionKind;
  functionName?: string;
  env: NodeJS.ProcessEnv;
  /** What the checks use, or why the configuration does not parse (then only the configuration line is checked). */
  ports: DoctorPorts | { invalid: string };
  /** oss://bucket/key to run the image checks on (else the newest upload). */
  image?: string;
  now?: () => Date;
}

export interface DoctorPorts {
  config: Config;
  /** Where the role's credentials come from; throws CredentialsError when there are none. */
  credentials: () => { source: string; expiresAt?: Date };
  probe: IceActionProbe;
  recordStore: RecordStoreFor;
  buckets: BucketInspector;
  apps: AppRegistry;
  submission?: { imageInputs: ImageInputs; imageObjects: Pick<ImageObjects, 'head'> };
  /** `self`: the watcher's own function, for the delay probe (delay-check.ts). */
  watcher?: { sendWebhook: WebhookSender; functions?: FunctionDirectory; self?: { functionName: string; invoker: FunctionInvoker } };
  /** budget-renewal: its budget alerts go through the job webhook. */
  alerts?: { sendWebhook: WebhookSender };
}

export async function runFunctionDoctor(deps: FunctionDoctorDependencies): Promise<FunctionDoctorReport> {
  const now = deps.now ?? (() => new Date());
  const report = (checks: DoctorCheck[]): FunctionDoctorReport => ({
    yike: 'doctor',
    kind: deps.kind,
    functionName: deps.functionName,
    checkedAt: now().toISOString(),
    checks: [...checks, SUBMIT_NOT_TRIED],
    configuration: describeConfiguration(deps.env),
  });
  if ('invalid' in deps.ports) {
    return report([
      fail(
        'configuration',
        'the configuration parses',
        deps.ports.invalid,
        'fix the variable it names (docs/configuration.md) in s.yaml or YIKE_*, and deploy',
      ),
    ]);
  }
  const ports = deps.ports;
  const { config } = ports;
  const checks: DoctorCheck[] = [configurationCheck(deps.kind, config, removedVariablesSet(deps.env))];
  const credentials = credentialsCheck(ports);
  checks.push(credentials);
  if (credentials.status === 'fail') return report(checks);

  // The app the (free) permission probes name: the first routed one, else the first built-in app.
  const app = ports.apps.resolve(Object.values(config.uploads.appRoutes)[0] ?? 'female', 'APP_ROUTES');
  checks.push(...(await guarded('ice.permissions', 'ICE actions the function needs are permitted', () => iceChecks(deps.kind, config, app, ports.probe))));
  const recordsBuckets = recordsBucketsOf(deps.kind, config);
  const probeName = `${deps.kind}-${now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
  checks.push(
    ...(await guarded('oss.records', 'the records prefix takes a write, a read and a delete', () =>
      recordsCheck(config, recordsBuckets, ports.recordStore, probeName),
    )),
  );
  checks.push(...(await guarded('oss.region', "each bucket is in ICE's region", () => regionCheck(config, bucketsOf(deps.kind, config), ports.buckets))));
  if (ports.submission) {
    const submission = ports.submission;
    checks.push(
      ...(await guarded('image-mode', 'the image form ICE takes', () =>
        imageModeChecks({
          config,
          apps: ports.apps,
          imageInputs: submission.imageInputs,
          imageObjects: submission.imageObjects,
          buckets: ports.buckets,
          image: deps.image,
        }),
      )),
    );
  }
  if (ports.watcher) {
    const watcher = ports.watcher;
    checks.push(
      ...(await guarded('oss.results', 'the results prefix is writable', () => resultsCheck(config, bucketsOf(deps.kind, config), ports.recordStore))),
    );
    checks.push(...(await guarded('webhook', 'the webhook answers a signed test delivery', () => webhookCheck(config, watcher.sendWebhook, now))));
    checks.push(...(await guarded('next-function', 'the next function exists', () => nextFunctionCheck(config, watcher.functions))));
    checks.push(
      ...(await guarded('fc.async-delay', "FC delays the watcher's own invocations", () =>
        delayCheck({ config, self: watcher.self, recordStore: ports.recordStore, now }),
      )),
    );
    checks.push(retentionCheck(config));
  } else if (ports.alerts) {
    const alerts = ports.alerts;
    checks.push(...(await guarded('webhook', 'the webhook answers a signed test delivery', () => webhookCheck(config, alerts.sendWebhook, now))));
  }
  return report(checks);
}

/** `removed`: variables the function no longer reads but still has set (ignored; said so, never a failure). */
function configurationCheck(kind: FunctionKind, config: Config, removed: string[]): DoctorCheck {
  const parts = [`ICE_REGION=${config.ice.region}`, `PRECHECK=${config.ice.precheck ? 'on' : 'off'}`];
  if (kind !== 'job-watcher') parts.unshift(`IMAGE_URL_MODE=${config.oss.imageUrlMode}`);
  if (config.records.bucket) parts.push(`RECORDS_BUCKET=${config.records.bucket}`);
  if (kind === 'http-submit')
    parts.push(`HTTP_AUTH=${config.http.authMode} (${config.http.authTokens.length} token${config.http.authTokens.length === 1 ? '' : 's'})`);
  return pass(
    'configuration',
    'the configuration parses',
    `${parts.join(', ')} (every variable it runs with, secrets only as set/unset: "configuration" in --json)${
      removed.length > 0 ? `; set but no longer read (docs/configuration.md#removed-variables): ${removed.join(', ')}` : ''
    }`,
  );
}

function credentialsCheck(ports: DoctorPorts): DoctorCheck {
  const title = "the role's credentials are present";
  try {
    const { source, expiresAt } = ports.credentials();
    return pass('credentials', title, `from ${source}${expiresAt ? `, valid until ${expiresAt.toISOString()}` : ''}`);
  } catch (error) {
    return fail(
      'credentials',
      title,
      (error as Error).message,
      'give the function its role in s.yaml (role: acs:ram::<account>:role/yike-fc-role, trusted by fc.aliyuncs.com), and deploy',
    );
  }
}

/** The buckets the function reads or writes: records, allowed and upload buckets (and the watched ones). */
function bucketsOf(kind: FunctionKind, config: Config): string[] {
  const buckets = [
    config.records.bucket,
    config.uploads.bucket,
    ...config.http.allowedBuckets,
    ...(kind === 'job-watcher' ? config.lifecycle.watchBuckets : []),
  ];
  return [...new Set(buckets.filter((bucket): bucket is string => Boolean(bucket)))];
}

function recordsBucketsOf(kind: FunctionKind, config: Config): string[] {
  if (kind === 'job-watcher') return config.lifecycle.watchBuckets;
  const bucket = config.records.bucket ?? (kind === 'http-submit' ? config.http.allowedBuckets[0] : config.uploads.bucket);
  return bucket ? [bucket] : [];
}

async function webhookCheck(config: Config, sendWebhook: WebhookSender, now: () => Date): Promise<DoctorCheck> {
  const id = 'webhook';
  const title = 'the webhook answers a signed test delivery';
  const webhook = config.lifecycle.webhook;
  if (!webhook) return skip(id, title, 'no JOB_WEBHOOK_URL');
  const deliveryId = `yike.test.${randomBytes(6).toString('hex')}`;
  const body = JSON.stringify({ id: deliveryId, type: 'yike.test', time: now().toISOString() });
  const origin = new URL(webhook.url).origin;
  const outcome = await sendWebhook({ url: webhook.url, secret: webhook.secret, body, deliveryId, timeoutMs: webhook.timeoutMs });
  if (outcome.ok) return pass(id, title, `${origin} answered ${outcome.status} to a signed yike.test delivery`);
  return fail(
    id,
    title,
    `${origin}: ${outcome.error}`,
    'make the receiver answer 2xx to a POST it can verify (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature; docs/lifecycle.md; ignore type "yike.test"), or unset YIKE_JOB_WEBHOOK_URL',
  );
}

/** Whether the watcher erases old jobs (RETENTION_DAYS): said either way, never a failure. */
function retentionCheck(config: Config): DoctorCheck {
  const id = 'retention';
  const title = 'jobs older than RETENTION_DAYS are erased';
  const days = config.lifecycle.retentionDays;
  if (days === undefined) return skip(id, title, 'no RETENTION_DAYS: jobs, uploads and copies are kept until erased (DELETE /jobs/{jobId}, yike-jobs erase)');
  return pass(
    id,
    title,
    `RETENTION_DAYS=${days}: each tick erases jobs submitted more than ${days} day${days === 1 ? '' : 's'} ago, with their uploads and copies`,
  );
}

async function nextFunctionCheck(config: Config, functions: FunctionDirectory | undefined): Promise<DoctorCheck> {
  const id = 'next-function';
  const title = 'the next function exists';
  const name = config.lifecycle.nextFunction;
  if (!name) return skip(id, title, 'no JOB_NEXT_FUNCTION');
  if (!functions) return fail(id, title, `${name}: no FC endpoint to ask`, 'set FC_ACCOUNT_ID (or FC_ENDPOINT) on the watcher');
  try {
    const found = await functions.getFunction(name);
    if (found) return pass(id, title, `${name}: ${found.state ?? 'exists'}${found.runtime ? `, ${found.runtime}` : ''}`);
    return fail(
      id,
      title,
      `${name} does not exist in ${config.fc.region}`,
      `deploy ${name}, or set YIKE_JOB_NEXT_FUNCTION to a function that exists (or to nothing)`,
    );
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'Error';
    return fail(
      id,
      title,
      `${name} could not be read (${code})`,
      `grant the role fc:GetFunction (and fc:InvokeFunction) on acs:fc:${config.fc.region}:<account>:functions/${name} (npm run deploy grants it when JOB_NEXT_FUNCTION is set: deploy/infrastructure.json)`,
    );
  }
}
