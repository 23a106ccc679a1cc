import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { Credentials } from '../shared/adapters/openapi/credentials';
import { createOssClient } from '../shared/adapters/oss/client';
import { createOssRecordStore } from '../shared/adapters/oss/record-store';
import { parseConfig } from '../shared/runtime/config';
import { InputError } from '../shared/runtime/errors';
import {
  answersSchema,
  createToken,
  loadAnswers,
  loadTicketSecret,
  loadToken,
  saveAnswers,
  ticketSecretFor,
  tokenPath,
  type DeployAnswers,
} from './deploy/answers';
import { askAnswers, parseBudget, type Ask } from './deploy/guided';
import { deploy, dryRun, remove, type DeployDependencies } from './deploy/run';
import { serverlessDevs } from './deploy/serverless';
import { createStackApi } from './deploy/stack';
import { invalidArgument, runCli } from './run-cli';

const TOOL = 'yike-deploy';

const USAGE = `Usage: npm run deploy -- [--guided | --dry-run | --remove [--delete-objects]] [--budget N|none]
                         [--region R] [--account-id ID] [--bucket NAME] [--page-origin https://...]

A first deploy in one command (docs/first-deploy.md): the ROS stack of deploy/infrastructure.json (the functions'
role and its generated policy, the bucket, the MNS queues, the upload trigger's role) is created or updated, then
s deploy renders s.yaml with its outputs.

  --guided          ask for the region, account id, bucket, page origin, daily budget, next function and
                    EventBridge uploads; save the answers in .yike/deploy.json (later runs reuse them); make a bearer
                    token, show it once and keep it in .yike/token (readable by you only)
  --dry-run         print the stack's resources, the role's policy and each function's configuration, offline; no
                    plain secret is printed
  --remove          s remove, then delete the stack; the bucket and its objects are kept
  --delete-objects  with --remove: delete the bucket's objects and the bucket too
  --budget N|none   paid jobs a day at most (default 100); none: no limit, said out loud

Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET [/ _SECURITY_TOKEN] for ROS; \`npx s config add\` for s deploy.`;

interface Flags {
  mode: 'deploy' | 'guided' | 'dry-run' | 'remove';
  deleteObjects: boolean;
  overrides: Partial<DeployAnswers>;
}

function parseFlags(argv: string[]): Flags | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        guided: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        remove: { type: 'boolean' },
        'delete-objects': { type: 'boolean' },
        budget: { type: 'string' },
        region: { type: 'string' },
        'account-id': { type: 'string' },
        bucket: { type: 'string' },
        'page-origin': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw invalidArgument((error as Error).message, '(arguments)');
  }
  if (values.help) return 'help';
  const modes = (['guided', 'dry-run', 'remove'] as const).filter((mode) => values[mode] === true);
  if (modes.length > 1) throw invalidArgument(`--${modes.join(' and --')} do not go together`, modes[1]!);
  if (values['delete-objects'] && !values.remove) throw invalidArgument('--delete-objects goes with --remove', 'delete-objects');
  const overrides: Partial<DeployAnswers> = {};
  if (typeof values.budget === 'string') {
    const budget = parseBudget(values.budget);
    if (!budget.ok) throw invalidArgument(`--budget: ${budget.why}`, 'budget');
    overrides.budget = budget.value;
  }
  const fields = { region: values.region, accountId: values['account-id'], bucket: values.bucket, pageOrigin: values['page-origin'] };
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const parsed = answersSchema.shape[name as keyof typeof fields].safeParse(value);
    if (!parsed.success) throw invalidArgument(`--${name}: ${parsed.error.issues[0]?.message}`, name);
    Object.assign(overrides, { [name]: parsed.data });
  }
  return { mode: modes[0] ?? 'deploy', deleteObjects: values['delete-objects'] === true, overrides };
}

/**
 * The answers of this run: the saved ones, then YIKE_* from your shell, then the flags. Without an account id or a
 * bucket, a deploy stops and says what to set.
 */
export function composeAnswers(saved: DeployAnswers | undefined, env: NodeJS.ProcessEnv, overrides: Partial<DeployAnswers>): DeployAnswers {
  const fromEnv: Partial<DeployAnswers> = {
    ...(env.YIKE_ACCOUNT_ID ? { accountId: env.YIKE_ACCOUNT_ID } : {}),
    ...(env.YIKE_REGION ? { region: env.YIKE_REGION as DeployAnswers['region'] } : {}),
    ...(env.YIKE_UPLOAD_BUCKET ? { bucket: env.YIKE_UPLOAD_BUCKET } : {}),
    ...(env.YIKE_JOB_BUDGET_PER_DAY ? { budget: env.YIKE_JOB_BUDGET_PER_DAY === 'none' ? 'none' : Number(env.YIKE_JOB_BUDGET_PER_DAY) } : {}),
  };
  const merged = { region: 'cn-shanghai', ...saved, ...fromEnv, ...overrides };
  if (!merged.accountId)
    throw new InputError('ACCOUNT_ID_MISSING', 'No account id: set YIKE_ACCOUNT_ID, pass --account-id, or answer npm run deploy -- --guided', [
      { path: 'accountId', message: 'required' },
    ]);
  if (!merged.bucket)
    throw new InputError('BUCKET_MISSING', 'No bucket: set YIKE_UPLOAD_BUCKET, pass --bucket, or answer npm run deploy -- --guided', [
      { path: 'bucket', message: 'required' },
    ]);
  const parsed = answersSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new InputError('INVALID_ANSWERS', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
  }
  return parsed.data;
}

function terminalAsk(): { ask: Ask; close: () => void } {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  return { ask: (question, fallback) => terminal.question(`${question} [${fallback}]: `), close: () => terminal.close() };
}

async function emptyBucket(bucket: string, region: string, credentials: Credentials): Promise<number> {
  const config = parseConfig({ ICE_REGION: region, OSS_ENDPOINT: process.env.OSS_ENDPOINT });
  const store = createOssRecordStore(createOssClient(config.oss, credentials, bucket, 30_000));
  const keys = await store.list('');
  for (const key of keys) await store.delete(key);
  return keys.length;
}

/** The repository this tool is part of (its s.yaml and pinned `s`): the nearest folder above it holding s.yaml. */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 's.yaml')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Answers and token in the folder you run it from (the clone, for npm run deploy); s.yaml from the repository. */
function defaultDependencies(root: string): DeployDependencies {
  const out = (text: string) => process.stdout.write(text);
  return {
    root,
    env: process.env,
    out,
    serverless: serverlessDevs(repositoryRoot(), process.env, out),
    stackApi: (region, credentials) => createStackApi({ region, credentials }),
    emptyBucket,
  };
}

/** The token of this clone, made (and shown once) when there is none yet. */
function tokenFor(deps: DeployDependencies): string {
  const existing = loadToken(deps.root);
  if (existing) return existing;
  const token = createToken(deps.root);
  deps.out(
    `\nA bearer token for the page, curl and the doctor (shown this once; kept in ${tokenPath('.')}, readable by you only):\n\n  ${token}\n\nThe functions get only its sha256 digest.\n\n`,
  );
  return token;
}

export async function main(argv: string[], deps: DeployDependencies = defaultDependencies(process.cwd()), ask?: Ask): Promise<number> {
  const flags = parseFlags(argv);
  if (flags === 'help') {
    deps.out(`${USAGE}\n`);
    return 0;
  }
  const saved = loadAnswers(deps.root);
  if (flags.mode === 'dry-run') {
    const ticketSecret = loadTicketSecret(deps.root);
    await dryRun(composeAnswers(saved, deps.env, flags.overrides), loadToken(deps.root), ticketSecret ? withTicketSecret(deps, ticketSecret) : deps);
    return 0;
  }
  let answers: DeployAnswers;
  if (flags.mode === 'guided') {
    const terminal = ask ? { ask, close: () => undefined } : terminalAsk();
    try {
      answers = { ...(await askAnswers(terminal.ask, { ...saved, ...flags.overrides }, deps.env, deps.out)) };
    } finally {
      terminal.close();
    }
    saveAnswers(deps.root, answers);
  } else {
    if (!saved && flags.mode === 'deploy' && !deps.env.YIKE_ACCOUNT_ID && !flags.overrides.accountId)
      throw new InputError('NOT_CONFIGURED', 'This clone has no saved answers: run npm run deploy -- --guided first', []);
    answers = composeAnswers(saved, deps.env, flags.overrides);
  }
  // A teardown needs no token (s.yaml renders with any digest); a deploy makes one when the clone has none.
  if (flags.mode === 'remove') await remove(answers, loadToken(deps.root) ?? '', { deleteObjects: flags.deleteObjects }, deps);
  else await deploy(answers, tokenFor(deps), withTicketSecret(deps, ticketSecretFor(deps.root)));
  return 0;
}

/** http-submit's TICKET_SECRET: YIKE_TICKET_SECRET when you set one, else this clone's (.yike/ticket-secret). */
function withTicketSecret(deps: DeployDependencies, secret: string): DeployDependencies {
  return { ...deps, env: { YIKE_TICKET_SECRET: secret, ...deps.env } };
}

if (require.main === module) runCli(TOOL, (argv) => main(argv));
