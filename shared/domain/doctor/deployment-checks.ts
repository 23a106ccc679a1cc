import { parseConfig, type Config } from '../../runtime/config';
import type { DeployedFunction, DeployedTrigger, FunctionDirectory } from '../ports';
import { isSecretVariable } from './configuration';
import { REMOVED_VARIABLES } from './removed-variables';
import { fail, isReady, pass, skip, SUBMIT_NOT_TRIED, type DoctorCheck, type FunctionDoctorReport } from './report';

/**
 * What only the outside sees of a deployment (`npx yike-doctor`, with the operator's credentials): each function
 * exists and is active (GetFunction), answers the doctor (a synchronous InvokeFunction of {"yike":"doctor"}: its own
 * checks, run with its role), and has the triggers it needs (ListTriggers: the upload trigger's prefix, suffix and
 * events against APP_ROUTES, IMAGE_SUFFIXES and the creation events that submit; the watcher's timer enabled; the HTTP trigger, whose
 * address is the page's origin); the upload bucket lets that origin POST (CORS); and s.yaml, rendered, says what FC runs.
 */
export interface DeploymentCheck extends DoctorCheck {
  /** The function the line is about; none for the deployment as a whole. */
  functionName?: string;
}

export interface DeploymentDependencies {
  functionNames: readonly string[];
  functions: FunctionDirectory;
  /** A synchronous InvokeFunction of {"yike":"doctor"(, image)}: the function's own report. */
  invokeDoctor(functionName: string, request: { image?: string }): Promise<FunctionDoctorReport>;
  /** GetBucketCors of a bucket: its rules (none when it has no CORS configuration). */
  corsRules(bucket: string): Promise<{ allowedOrigin: string[]; allowedMethod: string[] }[]>;
  /** s.yaml as `s preview` renders it: each functionName's environmentVariables; or why it was not rendered. */
  template: { environments: Record<string, Record<string, string>> } | { skipped: string };
  image?: string;
  /** The page's origin when it is served from a custom domain (else the HTTP trigger's address). */
  pageOrigin?: string;
  /** The deployment's ROS stack (npm run deploy) as GetStack answers it, or why it was not read. Absent: not asked. */
  stack?: StackReading;
}

/** The stack's state and outputs, and the outputs s.yaml needs from it; or why there is none to read. */
export type StackReading =
  | { skipped: string }
  | { missing: string }
  | { name: string; status: string; outputs: Record<string, string>; needed: readonly string[] };

export interface DeploymentReport {
  ready: boolean;
  checks: DeploymentCheck[];
  /** What each function that answered runs with (secrets only as "set" / "unset"), by function name. */
  configurations: Record<string, Record<string, string>>;
}

const at = (functionName: string, checks: readonly DoctorCheck[]): DeploymentCheck[] => checks.map((check) => ({ ...check, functionName }));
const errorCode = (error: unknown) => String((error as { code?: string }).code ?? (error as Error).name ?? 'Error');

export async function checkDeployment(deps: DeploymentDependencies): Promise<DeploymentReport> {
  const checks: DeploymentCheck[] = [];
  const configurations: Record<string, Record<string, string>> = {};
  let page: { origin: string; bucket?: string } | undefined;
  for (const name of deps.functionNames) {
    let deployed: DeployedFunction | undefined;
    try {
      deployed = await deps.functions.getFunction(name);
    } catch (error) {
      // A call that never left (connection refused, no such host) says nothing about permissions.
      const unreachable = (error as { outcome?: string }).outcome === 'not-sent';
      checks.push(
        ...at(name, [
          unreachable
            ? fail(
                'deploy.function',
                'the function is deployed',
                `the FC API could not be reached (${errorCode(error)}: ${(error as Error).message})`,
                'check FC_ENDPOINT (or FC_ACCOUNT_ID and ICE_REGION); with --local, is npm start running? Run the doctor command it prints (it carries moved ports)',
              )
            : fail(
                'deploy.function',
                'the function is deployed',
                `GetFunction failed (${errorCode(error)})`,
                'give your access fc:GetFunction, fc:ListTriggers and fc:InvokeFunction on the functions (docs/first-deploy.md)',
              ),
        ]),
      );
      continue;
    }
    if (!deployed) {
      checks.push(
        ...at(name, [
          fail('deploy.function', 'the function is deployed', `${name} does not exist`, `npx s deploy (or npx s <resource> deploy), with the same YIKE_REGION`),
        ]),
      );
      continue;
    }
    checks.push(...at(name, [functionCheck(deployed)]));
    const report = await deps.invokeDoctor(name, { image: deps.image }).catch((error: unknown) => error as Error);
    if (report instanceof Error || report?.yike !== 'doctor') {
      const why = report instanceof Error ? `${errorCode(report)}: ${report.message}` : 'it answered something else';
      checks.push(
        ...at(name, [
          fail(
            'doctor',
            'the function answers the doctor',
            `${name} did not answer {"yike":"doctor"} (${why})`,
            'deploy this version of the code (npx s deploy)',
          ),
        ]),
      );
      continue;
    }
    configurations[name] = report.configuration;
    checks.push(
      ...at(
        name,
        report.checks.filter((check) => check.id !== SUBMIT_NOT_TRIED.id),
      ),
    );
    const config = configOf(deployed);
    const triggers = await deps.functions.listTriggers(name).catch((error: unknown) => error as Error);
    if (triggers instanceof Error) {
      checks.push(
        ...at(name, [
          fail(
            'deploy.triggers',
            'the triggers are deployed',
            `ListTriggers failed (${errorCode(triggers)})`,
            'give your access fc:ListTriggers on the functions',
          ),
        ]),
      );
    } else if (report.kind === 'oss-submit') {
      checks.push(...at(name, [uploadTriggerCheck(triggers, config)]));
    } else if (report.kind === 'job-watcher') {
      checks.push(...at(name, [timerCheck(triggers)]));
    } else if (report.kind === 'budget-renewal') {
      checks.push(...at(name, [renewalTimerCheck(triggers, config)]));
    } else {
      const http = triggers.find((trigger) => trigger.triggerType === 'http');
      checks.push(
        ...at(name, [
          http
            ? pass('deploy.http-trigger', 'the HTTP trigger is deployed', `${http.triggerName}: ${http.urlInternet ?? 'no public address'}`)
            : fail('deploy.http-trigger', 'the HTTP trigger is deployed', 'no HTTP trigger', `npx s http-submit deploy`),
        ]),
      );
      const origin = deps.pageOrigin ?? (http?.urlInternet ? new URL(http.urlInternet).origin : undefined);
      if (origin) page = { origin, bucket: config?.uploads.bucket };
    }
    checks.push(...at(name, [templateCheck(name, deployed, deps.template)]));
  }
  checks.push(await corsCheck(page, deps));
  if (deps.stack) checks.push(stackCheck(deps.stack, page?.bucket));
  checks.push(SUBMIT_NOT_TRIED);
  return { ready: isReady(checks), checks, configurations };
}

function configOf(deployed: DeployedFunction): Config | undefined {
  try {
    return parseConfig(deployed.environmentVariables);
  } catch {
    return undefined;
  }
}

function functionCheck(deployed: DeployedFunction): DoctorCheck {
  const title = 'the function is deployed';
  const detail = `${deployed.state ?? 'state unknown'}, ${deployed.runtime ?? '?'}, ${deployed.handler ?? '?'}, last update ${deployed.lastUpdateStatus ?? '?'}`;
  if ((deployed.state && deployed.state !== 'Active') || (deployed.lastUpdateStatus && deployed.lastUpdateStatus === 'Failed')) {
    return fail('deploy.function', title, detail, 'see the function in the FC console (its state reason), then npx s deploy again');
  }
  return pass('deploy.function', title, detail);
}

function uploadTriggerCheck(triggers: readonly DeployedTrigger[], config: Config | undefined): DoctorCheck {
  const id = 'deploy.oss-trigger';
  const title = 'the upload trigger matches APP_ROUTES and IMAGE_SUFFIXES';
  const oss = triggers.find((trigger) => trigger.triggerType === 'oss');
  if (!oss) {
    if (triggers.some((trigger) => trigger.triggerType === 'eventbridge'))
      return skip(id, title, 'EventBridge trigger (its rule is checked in the EventBridge console, not here)');
    return fail(
      id,
      title,
      'no OSS trigger: uploads never reach the function',
      'npx s oss-submit deploy (it creates the trigger; the OSS service role must exist first: docs/deploy.md)',
    );
  }
  if (!config) return skip(id, title, 'the function configuration does not parse (see its configuration line)');
  const filter = (oss.triggerConfig.filter as { key?: { prefix?: string; suffix?: string } } | undefined)?.key ?? {};
  const prefix = filter.prefix ?? '';
  const suffix = (filter.suffix ?? '').toLowerCase();
  const events = ((oss.triggerConfig.events as unknown[] | undefined) ?? []).map(String);
  const problems: string[] = [];
  const routes = Object.keys(config.uploads.appRoutes);
  const outside = routes.filter((route) => !route.startsWith(prefix));
  if (outside.length > 0) problems.push(`APP_ROUTES ${outside.join(', ')} lie outside the trigger's prefix "${prefix}" (those uploads never trigger)`);
  if (routes.length === 0 && prefix !== '') problems.push(`no APP_ROUTES: uploads under "${prefix}" are all SKIPPED (UNKNOWN_APP_PREFIX)`);
  const missed = config.uploads.imageSuffixes.filter((image) => suffix !== '' && !image.endsWith(suffix));
  if (missed.length > 0) problems.push(`suffix "${filter.suffix}" lets no ${missed.join(', ')} upload through (IMAGE_SUFFIXES)`);
  const covered = (name: string) => events.some((event) => event === `oss:ObjectCreated:${name}` || event === 'oss:ObjectCreated:*');
  const uncovered = config.uploads.eventNames.filter((name) => !covered(name));
  if (uncovered.length > 0) problems.push(`events ${uncovered.join(', ')} (those that submit) are not subscribed`);
  const detail = `${oss.triggerName} on ${oss.sourceArn ?? '?'}: prefix "${prefix}", suffix "${filter.suffix ?? ''}", ${events.length} events`;
  if (problems.length > 0)
    return fail(
      id,
      title,
      `${detail}: ${problems.join('; ')}`,
      'make the trigger\u2019s filter.key prefix cover every APP_ROUTES prefix and its suffix empty (s.yaml oss-upload), then npx s oss-submit deploy',
    );
  return pass(id, title, `${detail}; covers ${routes.join(', ') || 'every key'} and ${config.uploads.imageSuffixes.join(', ')}`);
}

function timerCheck(triggers: readonly DeployedTrigger[]): DoctorCheck {
  const id = 'deploy.timer';
  const title = "the watcher's timer is enabled";
  const timer = triggers.find((trigger) => trigger.triggerType === 'timer');
  if (!timer) return fail(id, title, 'no timer trigger: no job is followed to its end', 'npx s job-watcher deploy (s.yaml every-minute)');
  const { cronExpression, enable } = timer.triggerConfig as { cronExpression?: string; enable?: boolean };
  if (enable !== true)
    return fail(id, title, `${timer.triggerName} (${cronExpression ?? '?'}) is disabled`, 'enable it (s.yaml enable: true) and npx s job-watcher deploy');
  return pass(id, title, `${timer.triggerName}: ${cronExpression ?? '?'}, enabled`);
}

/** budget-renewal's timer matters only with a budget: without one its ticks do nothing. */
function renewalTimerCheck(triggers: readonly DeployedTrigger[], config: Config | undefined): DoctorCheck {
  const id = 'deploy.renewal-timer';
  const title = "budget-renewal's timer is enabled";
  const budgeted = config !== undefined && (config.budget.perDay !== undefined || Object.keys(config.budget.tokenQuotas).length > 0);
  const timer = triggers.find((trigger) => trigger.triggerType === 'timer');
  const { cronExpression, enable } = (timer?.triggerConfig ?? {}) as { cronExpression?: string; enable?: boolean };
  if (timer && enable === true) return pass(id, title, `${timer.triggerName}: ${cronExpression ?? '?'}, enabled`);
  const missing = timer ? `${timer.triggerName} (${cronExpression ?? '?'}) is disabled` : 'no timer trigger';
  if (!budgeted) return skip(id, title, `${missing}; no JOB_BUDGET_PER_DAY or token quota, so there is nothing to renew`);
  return fail(
    id,
    title,
    `${missing}: deferred items wait for good once the day's budget is spent`,
    'npx s budget-renewal deploy (s.yaml every-minute, enable: true)',
  );
}

function templateCheck(name: string, deployed: DeployedFunction, template: DeploymentDependencies['template']): DoctorCheck {
  const id = 'deploy.s-yaml';
  const title = "s.yaml's rendered variables are what FC runs";
  if ('skipped' in template) return skip(id, title, template.skipped);
  const rendered = template.environments[name];
  if (!rendered) return skip(id, title, `s.yaml renders no function named ${name}`);
  const running = deployed.environmentVariables;
  const names = [...new Set([...Object.keys(rendered), ...Object.keys(running)])].sort();
  const differences = names.flatMap((variable) => {
    const want = rendered[variable] ?? '';
    const have = running[variable] ?? '';
    if (want === have) return [];
    if (isSecretVariable(variable))
      return [`${variable} (secret: ${want ? 'set' : 'unset'} in s.yaml, ${have ? 'set' : 'unset'} in FC${want && have ? ', different' : ''})`];
    if (variable in REMOVED_VARIABLES && want === '') return [`${variable} (no longer read, now ${REMOVED_VARIABLES[variable]}; FC "${have}")`];
    return [`${variable} (s.yaml "${want}", FC "${have}")`];
  });
  if (differences.length > 0) {
    return fail(
      id,
      title,
      `differs: ${differences.join(', ')}`,
      'deploy again (npx s deploy) with the YIKE_* you mean exported, or export the ones you deployed with before running the doctor',
    );
  }
  return pass(id, title, `${Object.keys(rendered).length} variables, all as s.yaml renders them`);
}

/** The stack `npm run deploy` made: complete, every output s.yaml reads, and the bucket the functions use. */
function stackCheck(stack: StackReading, functionsBucket: string | undefined): DeploymentCheck {
  const id = 'deploy.stack';
  const title = 'the ROS stack is complete and gives s.yaml its outputs';
  if ('skipped' in stack) return skip(id, title, stack.skipped);
  if ('missing' in stack) return fail(id, title, stack.missing, 'npm run deploy (it creates the stack: docs/first-deploy.md)');
  if (!/_COMPLETE$/.test(stack.status) || /ROLLBACK|DELETE/.test(stack.status))
    return fail(id, title, `${stack.name} is ${stack.status}`, "see the stack's events in the ROS console, then npm run deploy");
  const missing = stack.needed.filter((name) => !stack.outputs[name]);
  if (missing.length > 0)
    return fail(
      id,
      title,
      `${stack.name} (${stack.status}) has no output ${missing.join(', ')}`,
      'npm run deploy (it updates the stack to deploy/infrastructure.json)',
    );
  const bucket = stack.outputs.BucketName;
  if (functionsBucket && bucket && functionsBucket !== bucket)
    return fail(
      id,
      title,
      `the functions use bucket ${functionsBucket}, the stack made ${bucket}`,
      "npm run deploy (s.yaml is rendered with the stack's outputs)",
    );
  return pass(id, title, `${stack.name} ${stack.status}: ${stack.needed.map((name) => `${name} ${stack.outputs[name]}`).join(', ')}`);
}

async function corsCheck(page: { origin: string; bucket?: string } | undefined, deps: DeploymentDependencies): Promise<DeploymentCheck> {
  const id = 'deploy.cors';
  const title = "the upload bucket lets the page's origin POST (CORS)";
  if (!page) return skip(id, title, 'no page origin (no HTTP trigger address; pass --page-origin for a custom domain)');
  if (!page.bucket) return skip(id, title, 'no upload bucket (the first ALLOWED_BUCKETS of http-submit)');
  let rules: { allowedOrigin: string[]; allowedMethod: string[] }[];
  try {
    rules = await deps.corsRules(page.bucket);
  } catch (error) {
    return fail(id, title, `GetBucketCors of ${page.bucket} failed (${errorCode(error)})`, `give your access oss:GetBucketCors on acs:oss:*:*:${page.bucket}`);
  }
  const allows = rules.some(
    (rule) =>
      rule.allowedMethod.map((method) => method.toUpperCase()).includes('POST') && rule.allowedOrigin.some((origin) => originMatches(origin, page.origin)),
  );
  if (allows) return pass(id, title, `${page.bucket} allows POST from ${page.origin}`);
  return fail(
    id,
    title,
    `${page.bucket} has ${rules.length} CORS rule${rules.length === 1 ? '' : 's'}, none allowing POST from ${page.origin}`,
    `add a CORS rule to ${page.bucket}: AllowedOrigin ${page.origin}, AllowedMethod POST, AllowedHeader * (docs/page.md, "What the deployment needs")`,
  );
}

/** OSS CORS origins: exact, or with one "*" wildcard. */
function originMatches(pattern: string, origin: string): boolean {
  if (pattern === '*' || pattern === origin) return true;
  const star = pattern.indexOf('*');
  return star !== -1 && origin.startsWith(pattern.slice(0, star)) && origin.endsWith(pattern.slice(star + 1)) && origin.length >= pattern.length - 1;
}
