import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFunctionDirectory } from '../shared/adapters/fc/control';
import { createFunctionInvoker } from '../shared/adapters/fc/invoke';
import { resolveCredentials, type CredentialsProvider } from '../shared/adapters/openapi/credentials';
import { createBucketInspector } from '../shared/adapters/oss/buckets';
import { checkDeployment } from '../shared/domain/doctor/deployment-checks';
import type { FunctionDoctorReport } from '../shared/domain/doctor/report';
import { loadConfig, parseConfig, type Config } from '../shared/runtime/config';
import { YikeError } from '../shared/runtime/errors';
import * as z from '../shared/runtime/zod';
import { renderTemplate } from './doctor/s-yaml';
import { readStack } from './doctor/stack';
import { renderTable } from './doctor/table';
import { invalidArgument, runCli } from './run-cli';
import { guardLocalCommand, LOCAL_PORTS, localEndpoints, localPorts } from './local-cloud';

const TOOL = 'yike-doctor';
const DEFAULT_FUNCTIONS = ['yike-http-submit', 'yike-oss-submit', 'yike-job-watcher', 'yike-budget-renewal'];
/** A function's doctor runs the discovery (a few free ICE calls) before it answers. */
const DOCTOR_READ_TIMEOUT_MS = 60_000;

const USAGE = `Usage: ${TOOL} [--functions NAME,NAME,...] [--image oss://bucket/key] [--page-origin https://...]
                   [--s-yaml PATH | --s-yaml off] [--local] [--json]

Checks a deployment without spending anything: each function (default ${DEFAULT_FUNCTIONS.join(', ')}) exists and
answers {"yike":"doctor"} (a synchronous FC InvokeFunction: it checks itself with its own role: credentials, ICE
endpoint and permissions, OSS, the image form ICE takes, webhook, next function, its configuration), and its triggers
are right (the upload trigger's prefix and suffix against APP_ROUTES and IMAGE_SUFFIXES, the watcher's timer enabled);
the upload bucket lets the page's origin POST (CORS); s.yaml, rendered with \`s preview\`, says what FC runs; the ROS
stack npm run deploy made (.yike/deploy.json) is complete and has every output s.yaml reads.
SubmitYikeAIAppJob is never called: "submit: not tried, it is paid".

  --functions    the deployed functions to check (FC 3.0 names)
  --image        the image the submit functions check (default: the newest under each upload prefix)
  --page-origin  the page's origin when it is served from a custom domain (default: the HTTP trigger's address)
  --s-yaml       the s.yaml to compare with (default ./s.yaml; off: no comparison)
  --local        npm start's local cloud: its FC API and OSS endpoint (ports ${LOCAL_PORTS.fcApi.port} and ${LOCAL_PORTS.oss.port}, or
                 ${LOCAL_PORTS.fcApi.variable} and ${LOCAL_PORTS.oss.variable}, as npm start prints the command), no s.yaml; it
                 refuses to send anything to an aliyuncs.com host
  --json         the checks as JSON instead of the table

Credentials: your access (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET [/ _SECURITY_TOKEN]) with fc:GetFunction,
fc:ListTriggers, fc:InvokeFunction on the functions, oss:GetBucketCors on the upload bucket and ros:GetStack, ros:ListStacks
(docs/first-deploy.md).
Endpoint: FC_ACCOUNT_ID (in ICE_REGION) or FC_ENDPOINT. Exit 0: ready; 1: a check failed or an error.`;

interface Flags {
  functions: string[];
  image?: string;
  pageOrigin?: string;
  sYaml?: string;
  local: boolean;
  json: boolean;
}

function parseFlags(argv: string[]): Flags | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        functions: { type: 'string' },
        image: { type: 'string' },
        'page-origin': { type: 'string' },
        's-yaml': { type: 'string' },
        local: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw invalidArgument((error as Error).message, '(arguments)');
  }
  if (values.help) return 'help';
  const functions =
    typeof values.functions === 'string'
      ? values.functions
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : DEFAULT_FUNCTIONS;
  if (functions.length === 0 || functions.some((name) => !/^[A-Za-z_][\w-]{0,127}$/.test(name)))
    throw invalidArgument('--functions: FC function names, comma-separated', 'functions');
  const image = values.image as string | undefined;
  if (image !== undefined && !/^oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+$/.test(image)) throw invalidArgument('--image: oss://bucket/key', 'image');
  const pageOrigin = values['page-origin'] as string | undefined;
  if (pageOrigin !== undefined && !/^https?:\/\/[^/]+$/.test(pageOrigin))
    throw invalidArgument('--page-origin: an origin such as https://yike.example.com', 'page-origin');
  const local = values.local === true;
  const given = values['s-yaml'] as string | undefined;
  const sYaml = given === 'off' ? undefined : (given ?? (!local && existsSync('s.yaml') ? 's.yaml' : undefined));
  return { functions, image, pageOrigin, sYaml, local, json: values.json === true };
}

/** --local points the endpoints at npm start's stand-ins (cli/local-cloud.ts: its ports) unless they are set. */
function configFor(flags: Flags): Config {
  if (!flags.local) return loadConfig(process.env);
  const local = localEndpoints(localPorts(process.env));
  return parseConfig({ ...process.env, FC_ENDPOINT: process.env.FC_ENDPOINT || local.fcApi, OSS_ENDPOINT: process.env.OSS_ENDPOINT || local.ossPathStyle });
}

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = configFor(flags);
  guardLocalCommand(TOOL, config, process.env, { uses: ['fc', 'oss'], declared: flags.local ? 'checks the local cloud (--local)' : undefined });
  const credentials: CredentialsProvider = () => resolveCredentials({ env: process.env });
  credentials();
  const directory = createFunctionDirectory({ config: config.fc, credentials });
  const invoker = createFunctionInvoker({
    config: config.fc,
    credentials,
    readTimeoutMs: DOCTOR_READ_TIMEOUT_MS,
    // httpx hands the connect timeout to Node as the request's socket idle timeout, which also runs while the function
    // works (docs/platform-facts.md): the watcher's answer alone waits for its delay probe (5 s and more).
    connectTimeoutMs: DOCTOR_READ_TIMEOUT_MS,
    retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 1_000 },
  });
  const buckets = createBucketInspector(config.oss, credentials);
  if (!flags.json)
    process.stderr.write(`${TOOL}: checking ${flags.functions.join(', ')} (${config.fc.protocol}://${config.fc.endpoint}); nothing is submitted\n`);
  const report = await checkDeployment({
    functionNames: flags.functions,
    functions: directory,
    invokeDoctor: async (name, request) => {
      // replyBy: how long this call waits; a function runs the doctor only before it (an async delivery runs nothing).
      const replyBy = new Date(Date.now() + DOCTOR_READ_TIMEOUT_MS).toISOString();
      const event = { yike: 'doctor', replyBy, ...(request.image ? { image: request.image } : {}) };
      const answer = await invoker.invokeSync(name, Buffer.from(JSON.stringify(event)));
      const body = answer.body.toString('utf8');
      if (answer.errorType)
        throw new YikeError('DOCTOR_FAILED', `${answer.errorType}: ${(JSON.parse(body) as { errorMessage?: string }).errorMessage ?? body}`);
      return parseDoctorAnswer(name, body);
    },
    corsRules: (bucket) => buckets.corsRules(bucket),
    template:
      flags.local && flags.sYaml === undefined
        ? { skipped: 'not compared: the local cloud runs its own environment (--s-yaml PATH to compare anyway)' }
        : await renderTemplate(flags.sYaml),
    image: flags.image,
    pageOrigin: flags.pageOrigin,
    // The local cloud has no ROS stack: no line for it.
    stack: flags.local ? undefined : await readStack(process.cwd(), process.env),
  });
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report.checks));
  return report.ready ? 0 : 1;
}

const checkSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(['pass', 'fail', 'skip']),
  required: z.boolean(),
  detail: z.string(),
  fix: z.optional(z.string()),
});
const reportSchema = z.object({
  yike: z.literal('doctor'),
  kind: z.enum(['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal']),
  functionName: z.optional(z.string()),
  checkedAt: z.string(),
  checks: z.array(checkSchema),
  configuration: z.record(z.string(), z.string()),
});
const notRunSchema = z.object({ yike: z.literal('doctor'), ran: z.literal(false), reason: z.string() });

/** A function's answer, checked: its report, or a DOCTOR_FAILED error saying what came back instead. */
function parseDoctorAnswer(name: string, body: string): FunctionDoctorReport {
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch {
    throw new YikeError('DOCTOR_FAILED', `${name} answered something that is not JSON`);
  }
  const notRun = notRunSchema.safeParse(value);
  if (notRun.success) throw new YikeError('DOCTOR_NOT_RUN', notRun.data.reason);
  const report = reportSchema.safeParse(value);
  if (!report.success) {
    throw new YikeError(
      'DOCTOR_FAILED',
      `${name} answered no doctor report (${report.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ')})`,
    );
  }
  return report.data;
}

runCli(TOOL, main);
