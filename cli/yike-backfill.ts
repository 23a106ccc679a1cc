import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { handler as ossSubmitHandler } from '../functions/oss-submit/index';
import { createAppRegistry } from '../shared/domain/jobs/apps';
import { runBackfill } from './backfill/backfill';
import { loadResumePoint } from './backfill/checkpoint';
import type { BackfillProgress, BackfillSummary, ListedObject, ListPage } from './backfill/types';
import { loadConfig, type Config } from '../shared/runtime/config';
import { resolveCredentials, type CredentialsProvider } from '../shared/adapters/openapi/credentials';
import { InputError } from '../shared/runtime/errors';
import { createFunctionInvoker } from '../shared/adapters/fc/invoke';
import { createLogger } from '../shared/runtime/logger';
import { OSS_BUCKET_NAME } from '../shared/triggers/events/schemas';
import { createOssClient } from '../shared/adapters/oss/client';
import { errorLine, UPLOAD_FUNCTION_NAME } from './run-cli';
import { warnAboutEnvTypos } from './env-typos';
import { guardLocalCommand } from './local-cloud';

const TOOL = 'yike-backfill';
const USAGE = `Usage: ${TOOL} --bucket BUCKET [--prefix PREFIX] [--app female|male|<AppId>] [--concurrency N] [--rate N]
                     [--dry-run] [--local] [--function NAME] [--checkpoint FILE]

Submits every image already in oss://BUCKET/PREFIX through the deployed oss-submit function, with asynchronous
InvokeFunction calls (FC API 2023-03-30), at most --rate invocations a second and --concurrency at once.
Without --app each object is sent as the OSS trigger event of its upload, so APP_ROUTES picks the app and the
upload's own job record keeps it to one job; with --app each object becomes a pipeline event for that app.
Re-running is safe: objects that already have a job are not submitted again.

  --bucket NAME       bucket to list (required)
  --prefix PREFIX     only keys starting with PREFIX (default: the whole bucket)
  --app APP           submit for this app instead of routing by APP_ROUTES
  --concurrency N     invocations in flight at once (default 4)
  --rate N            invocations started per second, at most (default 20)
  --dry-run           list and filter, invoke nothing, leave the checkpoint alone
  --local             run the oss-submit handler in this process instead of invoking FC (on npm start's local
                      cloud: it refuses to send anything to an aliyuncs.com host)
  --function NAME     function to invoke (default yike-oss-submit)
  --checkpoint FILE   progress file; a run resumes after its marker (default .backfill-checkpoint.json)

Endpoint: <FC_ACCOUNT_ID>.<ICE_REGION>.fc.aliyuncs.com, or FC_ENDPOINT (e.g. http://127.0.0.1:PORT of local/fc/invoke-server.ts).
Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET [/ ALIBABA_CLOUD_SECURITY_TOKEN].
Prints the summary as JSON on stdout. Exit 0: done; 1: error; 2: some objects failed; 130: interrupted (resumable).`;

const EXIT_ERROR = 1;
const EXIT_SOME_FAILED = 2;
/** 128 + SIGINT, what shells report for a run stopped with Ctrl-C. */
const EXIT_INTERRUPTED = 130;
/** ListObjects returns at most 1000 keys per call. */
const LIST_PAGE_SIZE = 1000;
const LIST_TIMEOUT_MS = 30_000;
/** What FC would give the function (s.yaml timeout); bounds how long an IN_PROGRESS record holds others off. */
const LOCAL_FUNCTION_TIMEOUT_SECONDS = 60;
const LOCAL_FUNCTION_MEMORY_MB = 512;
/** Redraws of the TTY progress line at most this often. */
const TTY_REDRAW_MS = 100;
/** Without a TTY, one progress line per this share of the work. */
const PLAIN_PROGRESS_STEP_PERCENT = 5;
const BAR_WIDTH = 30;

const flagsSchema = z.object({
  bucket: z.string({ error: 'is required' }).regex(OSS_BUCKET_NAME, 'must be an OSS bucket name'),
  prefix: z.string().default(''),
  app: z.string().min(1).max(128).optional(),
  concurrency: z.coerce.number().int().min(1).max(256).default(4),
  rate: z.coerce.number().positive().max(10_000).default(20),
  'dry-run': z.boolean().default(false),
  local: z.boolean().default(false),
  function: z.string().min(1).max(128).optional(),
  checkpoint: z.string().min(1).default('.backfill-checkpoint.json'),
});
type Flags = z.infer<typeof flagsSchema>;

/** The flags, or 'help' when --help was given (then nothing else is checked). */
function parseFlags(argv: string[]): Flags | 'help' {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        app: { type: 'string' },
        concurrency: { type: 'string' },
        rate: { type: 'string' },
        'dry-run': { type: 'boolean' },
        local: { type: 'boolean' },
        function: { type: 'string' },
        checkpoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new InputError('INVALID_ARGUMENTS', `${(error as Error).message} (see --help)`);
  }
  if (values.help) return 'help';
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: `--${String(issue.path[0] ?? '')}`, message: issue.message }));
    throw new InputError('INVALID_ARGUMENTS', `${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')} (see --help)`, issues);
  }
  return parsed.data;
}

/** ListObjects V1 pages through ali-oss, keys after `marker`. */
function ossLister(config: Config, credentials: CredentialsProvider, bucket: string, prefix: string): (marker?: string) => Promise<ListPage> {
  const client = createOssClient(config.oss, credentials(), bucket, LIST_TIMEOUT_MS);
  return async (marker) => {
    const result = await client.list({ prefix, marker, 'max-keys': LIST_PAGE_SIZE }, {});
    const objects: ListedObject[] = (result.objects ?? []).map((object) => ({
      name: object.name,
      size: Number(object.size),
      etag: object.etag,
      lastModified: object.lastModified,
    }));
    const last = objects[objects.length - 1]?.name;
    return { objects, nextMarker: result.isTruncated ? result.nextMarker || last : undefined };
  };
}

/** Counts what is left to list, so the progress bar has a total (cheap: a thousand keys per call). */
async function countRemaining(list: (marker?: string) => Promise<ListPage>, marker: string | undefined, signal: AbortSignal): Promise<number> {
  let total = 0;
  let next = marker;
  do {
    signal.throwIfAborted();
    const page = await list(next);
    total += page.objects.length;
    next = page.nextMarker;
  } while (next !== undefined);
  return total;
}

/** Hands each event to FC's async queue through InvokeFunction (2023-03-30). */
function remoteSubmitter(config: Config, credentials: CredentialsProvider, functionName: string): (event: Buffer) => Promise<void> {
  const invoker = createFunctionInvoker({
    config: config.fc,
    credentials,
    logger: createLogger({ level: config.logLevel, sink: (line) => process.stderr.write(`${line}\n`), fields: { tool: TOOL } }),
  });
  return async (event) => {
    await invoker.invokeAsync(functionName, event);
  };
}

/** Runs the oss-submit handler in this process, with the context FC would build from the role's credentials. */
function localSubmitter(config: Config, credentials: CredentialsProvider, functionName: string): (event: Buffer) => Promise<void> {
  return async (event) => {
    const { accessKeyId, accessKeySecret, securityToken } = credentials();
    const context = {
      requestId: randomUUID(),
      credentials: { accessKeyId, accessKeySecret, securityToken },
      function: { name: functionName, handler: 'index.handler', memory: LOCAL_FUNCTION_MEMORY_MB, timeout: LOCAL_FUNCTION_TIMEOUT_SECONDS },
      region: config.fc.region,
      accountId: config.fc.accountId,
      retryCount: 0,
    };
    await ossSubmitHandler(event, context);
  };
}

/** A `\r`-redrawn bar on a TTY; otherwise a plain line every few percent (CI logs stay readable). */
function progressReporter(total: number, isTty: boolean, write: (text: string) => void): { update(state: BackfillProgress): void; end(): void } {
  let lastDraw = 0;
  let lastStep = -1;
  let latest: BackfillProgress | undefined;
  const describe = (state: BackfillProgress): string => {
    const percent = total > 0 ? Math.min(100, Math.floor((state.settled / total) * 100)) : 100;
    const bar = `[${'#'.repeat(Math.round((percent / 100) * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${String(percent).padStart(3)}%`;
    return `${bar} ${state.settled}/${total} invoked ${state.invoked} skipped ${state.skipped} failed ${state.failed}`;
  };
  return {
    update(state) {
      latest = state;
      if (isTty) {
        const now = Date.now();
        if (now - lastDraw < TTY_REDRAW_MS) return;
        lastDraw = now;
        write(`\r${describe(state)}`);
        return;
      }
      const step = total > 0 ? Math.floor(((state.settled / total) * 100) / PLAIN_PROGRESS_STEP_PERCENT) : 0;
      if (step <= lastStep) return;
      lastStep = step;
      write(`${describe(state)}\n`);
    },
    end() {
      // Redraws are throttled, so the last state may not be on screen yet.
      if (isTty && latest) write(`\r${describe(latest)}\n`);
    },
  };
}

function exitCodeFor(summary: BackfillSummary): number {
  if (summary.interrupted) return EXIT_INTERRUPTED;
  return summary.totals.failed > 0 ? EXIT_SOME_FAILED : 0;
}

/** First Ctrl-C: finish what is in flight, save the checkpoint. Second: stop at once. */
function abortOnSigint(controller: AbortController): void {
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    process.stderr.write(`\n${TOOL}: interrupted; finishing the invocations in flight and saving the checkpoint (Ctrl-C again to quit now)\n`);
    controller.abort();
  });
}

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (flags.local) keepStdoutForTheSummary();
  // The handler run by --local logs every item; warnings and errors are what a backfill operator needs.
  if (flags.local && !process.env.LOG_LEVEL) process.env.LOG_LEVEL = 'warn';
  const config = loadConfig(process.env);
  const credentials: CredentialsProvider = () => resolveCredentials({ env: process.env });
  if (flags.app) createAppRegistry(config.apps).resolve(flags.app, '--app');
  guardLocalCommand(TOOL, config, process.env, {
    uses: ['oss', flags.local ? 'ice' : 'fc'],
    bucket: flags.bucket,
    declared: flags.local ? 'runs the function here (--local)' : undefined,
  });
  const functionName = flags.function ?? UPLOAD_FUNCTION_NAME;
  const submit = flags['dry-run']
    ? async () => undefined
    : flags.local
      ? localSubmitter(config, credentials, functionName)
      : remoteSubmitter(config, credentials, functionName);

  const controller = new AbortController();
  abortOnSigint(controller);
  const list = ossLister(config, credentials, flags.bucket, flags.prefix);
  const resume = loadResumePoint(flags.checkpoint, { bucket: flags.bucket, prefix: flags.prefix, app: flags.app });
  const total = await countRemaining(list, resume.marker, controller.signal);
  const reporter = progressReporter(total, process.stderr.isTTY === true, (text) => process.stderr.write(text));
  if (resume.marker) process.stderr.write(`${TOOL}: resuming after ${resume.marker} (${flags.checkpoint})\n`);

  const summary = await runBackfill({
    bucket: flags.bucket,
    prefix: flags.prefix,
    app: flags.app,
    concurrency: flags.concurrency,
    ratePerSecond: flags.rate,
    dryRun: flags['dry-run'],
    checkpointPath: flags.checkpoint,
    list,
    submit,
    config,
    onProgress: (state) => reporter.update(state),
    signal: controller.signal,
  });
  reporter.end();
  writeStdout(`${JSON.stringify({ ...summary, mode: flags.local ? 'local' : 'fc-async', function: functionName })}\n`);
  if (summary.interrupted) {
    process.stderr.write(`${TOOL}: stopped after ${summary.marker ?? '(nothing finished)'}; run the same command again to resume from ${flags.checkpoint}\n`);
  }
  if (summary.failed.length > 0) process.stderr.write(`${TOOL}: ${summary.failed.length} object(s) failed; see "failed" in the summary\n`);
  return exitCodeFor(summary);
}

/**
 * stdout carries one JSON document. The in-process handler of --local logs to stdout as it does on FC, so its
 * lines are sent to stderr and the summary is written through the saved stdout.
 */
const stdoutWrite = process.stdout.write.bind(process.stdout);
function writeStdout(text: string): void {
  stdoutWrite(text);
}
function keepStdoutForTheSummary(): void {
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
}

warnAboutEnvTypos(TOOL);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Ctrl-C while counting, before anything was invoked: nothing to resume, but still an interruption.
    if ((error as Error)?.name === 'AbortError') {
      process.stderr.write(`${TOOL}: INTERRUPTED: stopped before the first invocation\n`);
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    process.stderr.write(errorLine(TOOL, error));
    process.exitCode = EXIT_ERROR;
  },
);
