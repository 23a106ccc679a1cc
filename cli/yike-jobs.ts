import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { handler as ossSubmitHandler } from '../functions/oss-submit/index';
import { ossTriggerEventFor, stripETagQuotes } from './backfill/events';
import { loadConfig, type Config } from '../shared/runtime/config';
import { resolveCredentials, type CredentialsProvider } from '../shared/adapters/openapi/credentials';
import { InputError, YikeError } from '../shared/runtime/errors';
import { OSS_BUCKET_NAME } from '../shared/triggers/events/schemas';
import { createFunctionInvoker } from '../shared/adapters/fc/invoke';
import { createIceClient } from '../shared/adapters/ice/client';
import { createOssRecordStore } from '../shared/adapters/oss/record-store';
import { createJobRecordStore } from '../shared/domain/lifecycle/job-record';
import { refreshJobRecord } from '../shared/domain/lifecycle/job-view';
import {
  forgetUnsettledRecord,
  listJobRecords,
  listSubmitRecords,
  readUnsettledRecord,
  reindexJobRecords,
  resolveWithJobId,
  SUBMIT_RECORD_STATUSES,
} from '../shared/domain/lifecycle/operator';
import { eraseJob } from '../shared/domain/lifecycle/erasure';
import { JOB_STATUSES } from '../shared/domain/lifecycle/job-record';
import { createLogger } from '../shared/runtime/logger';
import { createOssClient } from '../shared/adapters/oss/client';
import { createAppRegistry } from '../shared/domain/jobs/apps';
import { imageModeCommand } from './image-mode';
import type { SubmissionResult } from '../shared/domain/submissions/submissions';
import type { RecordStatus } from '../shared/domain/idempotency/idempotent';
import { operatorUsage, releaseDeferredLine } from './budget-commands';
import { listDeferredLine } from '../shared/domain/budget/deferred';
import { runCli, UPLOAD_FUNCTION_NAME } from './run-cli';
import { guardLocalCommand, type CloudService } from './local-cloud';

const TOOL = 'yike-jobs';
const USAGE = `Usage: ${TOOL} list [--status STATUS] [--app female|male|<AppId>] [--since ISO-8601]
       ${TOOL} show <jobId> [--refresh]
       ${TOOL} erase <jobId>
       ${TOOL} reindex
       ${TOOL} resolve <recordKey> (--job-id JOBID | --resubmit [--local] [--function NAME])
       ${TOOL} image-mode [--app female|male|<AppId>] [--reset]
       ${TOOL} deferred list | deferred release [--limit N] [--over-budget]
       ${TOOL} usage
Common: [--bucket RECORDS_BUCKET] [--prefix PREFIX]

Looks after the job records in oss://<bucket>/<prefix> (defaults: RECORDS_BUCKET, and .yike-jobs/).

  list        one JSON line per job (oldest first), read from the job index as GET /jobs reads it (jobs
              recorded before the index: run reindex once). --status ${JOB_STATUSES.join('|')} and --app
              filter jobs; --status ${SUBMIT_RECORD_STATUSES.join('|')} lists submit (idempotency) records
              instead, e.g. OUTCOME_UNKNOWN: submits that got no answer from ICE and block their upload or
              Idempotency-Key. --since keeps what was submitted at or after that time.
  show        the job record as JSON; --refresh asks ICE first and saves what changed.
  erase       erases the job as DELETE /jobs/{jobId} does: its upload, own copies, result object and records
              go, a tombstone stays; prints what was deleted (and what was kept, with why).
  reindex     writes the job index entries of every job record (records written before the index existed).
  resolve     settles an OUTCOME_UNKNOWN record (its key, as list prints it):
    --job-id ID   the job exists at ICE (checked with GetYikeAIAppJob): the record becomes COMPLETED with that
                  JobId, retries replay it, and the job gets its job record.
    --resubmit    no job was created: the record is deleted and the upload is submitted again through the
                  one-job path (the deployed oss-submit function, invoked synchronously with the upload's OSS
                  event; --local runs that handler in this process, on the local cloud only: it refuses
                  aliyuncs.com hosts). HTTP and pipeline records keep no request
                  body: they are deleted and the caller's next retry submits once.
  image-mode  the form IMAGE_URL_MODE=auto found for each app (<prefix>settings/image-modes/<appId>.json), one
              JSON line each; --reset deletes it (all apps, or --app's), so the next job finds the form again.
  deferred list     the items waiting for the budget (oldest first): one JSON line each.
  deferred release  submits the oldest deferred items now, in this process, each image checked again: within
                    today's JOB_BUDGET_PER_DAY, or with --over-budget past it (counted, and logged as the
                    operator's override). --limit N: at most N items.
  usage       today's count against JOB_BUDGET_PER_DAY and every token quota, as GET /usage answers it.

Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET [/ ALIBABA_CLOUD_SECURITY_TOKEN].
Endpoints: OSS_ENDPOINT, ICE_ENDPOINT, FC_ENDPOINT or FC_ACCOUNT_ID (see docs/configuration.md). Exit 0: done; 1: error.`;

/** What FC would give the function; bounds how long the IN_PROGRESS record of a --local resubmit holds others off. */
const LOCAL_FUNCTION_TIMEOUT_SECONDS = 60;
const LOCAL_FUNCTION_MEMORY_MB = 512;

interface Flags {
  command: 'list' | 'show' | 'resolve' | 'image-mode' | 'deferred' | 'usage' | 'erase' | 'reindex';
  target?: string;
  bucket: string;
  prefix: string;
  status?: string;
  since?: Date;
  refresh: boolean;
  jobId?: string;
  resubmit: boolean;
  local: boolean;
  functionName?: string;
  app?: string;
  reset: boolean;
  limit?: number;
  overBudget: boolean;
}

function invalid(message: string, path: string): InputError {
  return new InputError('INVALID_ARGUMENTS', `${message} (see --help)`, [{ path, message }]);
}

const FLAGS = {
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  refresh: { type: 'boolean' },
  'job-id': { type: 'string' },
  resubmit: { type: 'boolean' },
  local: { type: 'boolean' },
  function: { type: 'string' },
  app: { type: 'string' },
  reset: { type: 'boolean' },
  limit: { type: 'string' },
  'over-budget': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS = ['list', 'show', 'resolve', 'image-mode', 'deferred', 'usage', 'erase', 'reindex'] as const;

function parseFlags(argv: string[], config: Config): Flags | 'help' {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...FLAGS,
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw invalid((error as Error).message, '(arguments)');
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return 'help';
  const [name, target, ...extra] = positionals;
  const command = COMMANDS.find((known) => known === name);
  if (!command) throw invalid(`unknown command "${name}"`, 'command');
  if (extra.length > 0 || ((command === 'list' || command === 'usage' || command === 'image-mode' || command === 'reindex') && target !== undefined))
    throw invalid(`unexpected argument "${extra[0] ?? target}"`, 'arguments');
  if (values.reset && command !== 'image-mode') throw invalid('--reset only applies to image-mode', 'image-mode');
  if (values.app !== undefined && command !== 'image-mode' && command !== 'list') throw invalid('--app only applies to list and image-mode', 'app');
  if (command === 'deferred' && target !== 'list' && target !== 'release') throw invalid('deferred needs "list" or "release"', 'target');
  if ((command === 'show' || command === 'resolve' || command === 'erase') && !target)
    throw invalid(`${command} needs ${command === 'resolve' ? 'a record key' : 'a jobId'}`, 'target');
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw invalid('--limit: a whole number of items, 1 or more', 'limit');

  const bucket = values.bucket ?? config.records.bucket;
  if (!bucket || !OSS_BUCKET_NAME.test(bucket)) throw invalid('--bucket: an OSS bucket name is required (or set RECORDS_BUCKET)', 'bucket');
  const prefix = values.prefix ?? config.records.prefix;
  if (!prefix.endsWith('/') || prefix.startsWith('/')) throw invalid('--prefix: must end in "/" and not start with it', 'prefix');
  const known: readonly string[] = [...JOB_STATUSES, ...SUBMIT_RECORD_STATUSES];
  if (values.status !== undefined && !known.includes(values.status)) throw invalid(`--status: one of ${known.join(', ')}`, 'status');
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values.since) || Number.isNaN(since.getTime()))
      throw invalid('--since: an ISO-8601 time such as 2026-11-30T00:00:00Z', 'since');
  }
  if (command === 'resolve' && Boolean(values['job-id']) === Boolean(values.resubmit))
    throw invalid('resolve needs exactly one of --job-id or --resubmit', 'resolve');
  return {
    command,
    target,
    bucket,
    prefix,
    status: values.status,
    since,
    refresh: values.refresh ?? false,
    jobId: values['job-id'],
    resubmit: values.resubmit ?? false,
    local: values.local ?? false,
    functionName: values.function,
    app: values.app,
    reset: values.reset ?? false,
    limit,
    overBudget: values['over-budget'] ?? false,
  };
}

function printLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Sends the upload's OSS event to the one-job path: the deployed function (sync), or its handler here (--local). */
function uploadSubmitter(config: Config, credentials: CredentialsProvider, flags: Flags): (event: Buffer) => Promise<SubmissionResult> {
  const functionName = flags.functionName ?? UPLOAD_FUNCTION_NAME;
  if (flags.local) {
    return async (event) => {
      const { accessKeyId, accessKeySecret, securityToken } = credentials();
      // The handler logs to stdout as on FC; stdout here is for the answer, so its lines go to stderr.
      const write = process.stdout.write;
      process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
      try {
        return await ossSubmitHandler(event, {
          requestId: randomUUID(),
          credentials: { accessKeyId, accessKeySecret, securityToken },
          function: { name: functionName, handler: 'index.handler', memory: LOCAL_FUNCTION_MEMORY_MB, timeout: LOCAL_FUNCTION_TIMEOUT_SECONDS },
          region: config.fc.region,
          retryCount: 0,
        } as Parameters<typeof ossSubmitHandler>[1]);
      } finally {
        process.stdout.write = write;
      }
    };
  }
  const invoker = createFunctionInvoker({
    config: config.fc,
    credentials,
    logger: createLogger({ level: config.logLevel, sink: (line) => process.stderr.write(`${line}\n`), fields: { tool: TOOL } }),
  });
  return async (event) => {
    const answer = await invoker.invokeSync(functionName, event);
    const body = answer.body.toString('utf8');
    if (answer.errorType) throw new YikeError('RESUBMIT_FAILED', `${functionName} failed (${answer.errorType}): ${body}`);
    return JSON.parse(body) as SubmissionResult;
  };
}

async function resolve(flags: Flags, config: Config, credentials: CredentialsProvider): Promise<void> {
  const store = createOssRecordStore(createOssClient(config.oss, credentials(), flags.bucket));
  const jobs = createJobRecordStore(store, flags.prefix);
  const recordKey = flags.target!;
  if (flags.jobId) {
    const ice = createIceClient({ config: config.ice, credentials });
    const { record, job, jobRecordCreated } = await resolveWithJobId({
      store,
      jobs,
      ice,
      recordsPrefix: flags.prefix,
      recordKey,
      jobId: flags.jobId,
      replayTtlMs: config.http.idempotencyTtlSeconds * 1000,
    });
    printLine({ recordKey, resolved: 'job-id', status: record.status, jobId: job.jobId, jobStatus: job.status, jobRecordCreated });
    return;
  }
  const { kind, record } = await readUnsettledRecord(store, flags.prefix, recordKey);
  if (kind !== 'upload') {
    await forgetUnsettledRecord(store, flags.prefix, recordKey);
    printLine({
      recordKey,
      resolved: 'deleted',
      resubmitted: false,
      note: `${kind} records keep no request body: the caller's next retry (same Idempotency-Key or event) submits once`,
    });
    return;
  }
  const context = record.context ?? {};
  const bucket = String(context.bucket);
  const key = String(context.key);
  const eTag = String(context.eTag);
  // Only the same object version may be submitted again; a newer upload has (or gets) its own record.
  const head = await createOssClient(config.oss, credentials(), bucket)
    .head(key)
    .catch((error: { status?: number }) => {
      if (error.status === 404) throw new YikeError('OBJECT_GONE', `oss://${bucket}/${key} no longer exists; the record is left as it was`);
      throw error;
    });
  const headers = head.res.headers as Record<string, string>;
  const currentETag = stripETagQuotes(headers.etag ?? '');
  if (currentETag.toUpperCase() !== eTag.toUpperCase()) {
    throw new YikeError('OBJECT_CHANGED', `oss://${bucket}/${key} is now eTag ${currentETag}, not ${eTag}; the record is left as it was`);
  }
  const event = ossTriggerEventFor(
    bucket,
    { name: key, size: Number(headers['content-length'] ?? context.size ?? 0), etag: eTag, lastModified: headers['last-modified'] ?? new Date().toISOString() },
    config,
  );
  await forgetUnsettledRecord(store, flags.prefix, recordKey);
  const result = await uploadSubmitter(config, credentials, flags)(event);
  const submitted = result.submitted[0] ?? result.skipped[0];
  if (!submitted?.jobId) throw new YikeError('RESUBMIT_FAILED', `The resubmit of oss://${bucket}/${key} did not submit: ${JSON.stringify(result)}`);
  printLine({ recordKey, resolved: 'resubmitted', resubmitted: true, jobId: submitted.jobId, via: flags.local ? 'local' : 'fc-sync', result });
}

/** `erase <jobId>`: the domain's erasure (the same as DELETE /jobs/{jobId}), in the records bucket --bucket names. */
async function erase(flags: Flags, config: Config, credentials: CredentialsProvider): Promise<void> {
  const stores = new Map<string, ReturnType<typeof createOssRecordStore>>();
  const recordStore = (bucket: string) => {
    if (!stores.has(bucket)) stores.set(bucket, createOssRecordStore(createOssClient(config.oss, credentials(), bucket)));
    return stores.get(bucket)!;
  };
  const logger = createLogger({ level: 'warn', sink: (line) => process.stderr.write(`${line}\n`), fields: { tool: TOOL } });
  const recordsConfig = { records: { ...config.records, prefix: flags.prefix } };
  const outcome = await eraseJob(flags.target!, flags.bucket, { config: recordsConfig, recordStore, logger }, 'yike-jobs erase');
  if (outcome.status === 'not-found') throw new YikeError('JOB_NOT_FOUND', `No job record for ${flags.target} in oss://${flags.bucket}/${flags.prefix}jobs/`);
  if (outcome.status === 'already-erased') throw new YikeError('JOB_NOT_FOUND', `Job ${flags.target} was erased at ${outcome.erasedAt}`);
  printLine(outcome);
}

/** The services a command calls: the records (OSS) always; ICE to ask about jobs or submit; FC for a remote resubmit. */
function servicesOf(flags: Flags): CloudService[] {
  const asksIce = flags.command === 'resolve' || (flags.command === 'show' && flags.refresh) || (flags.command === 'deferred' && flags.target === 'release');
  const invokesFc = flags.command === 'resolve' && flags.resubmit && !flags.local;
  return ['oss', ...(asksIce ? (['ice'] as const) : []), ...(invokesFc ? (['fc'] as const) : [])];
}

async function main(argv: string[]): Promise<number> {
  const config = loadConfig(process.env);
  const flags = parseFlags(argv, config);
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const credentials: CredentialsProvider = () => resolveCredentials({ env: process.env });
  guardLocalCommand(TOOL, config, process.env, {
    uses: servicesOf(flags),
    bucket: flags.bucket,
    declared: flags.local ? 'runs the upload function here (--local)' : undefined,
  });
  if (flags.command === 'resolve') {
    await resolve(flags, config, credentials);
    return 0;
  }
  const store = createOssRecordStore(createOssClient(config.oss, credentials(), flags.bucket));
  if (flags.command === 'image-mode') {
    await imageModeCommand(flags, { store, bucket: flags.bucket, prefix: flags.prefix, apps: createAppRegistry(config.apps) }, printLine);
    return 0;
  }
  if (flags.command === 'usage') {
    printLine(await operatorUsage(store, config, flags.prefix));
    return 0;
  }
  if (flags.command === 'deferred' && flags.target === 'list') {
    for (const line of await listDeferredLine(store, flags.prefix)) printLine(line);
    return 0;
  }
  if (flags.command === 'deferred') {
    const sink = (line: string) => process.stderr.write(`${line}\n`);
    printLine(await releaseDeferredLine({ bucket: flags.bucket, prefix: flags.prefix, limit: flags.limit, overBudget: flags.overBudget, sink }));
    return 0;
  }
  const jobs = createJobRecordStore(store, flags.prefix);
  if (flags.command === 'erase') {
    await erase(flags, config, credentials);
    return 0;
  }
  if (flags.command === 'reindex') {
    printLine(await reindexJobRecords(jobs, store, flags.prefix));
    return 0;
  }
  if (flags.command === 'show') {
    let record = await jobs.get(flags.target!);
    if (!record) throw new YikeError('JOB_NOT_FOUND', `No job record for ${flags.target} in oss://${flags.bucket}/${flags.prefix}jobs/`);
    if (flags.refresh) record = await refreshJobRecord(record, { ice: createIceClient({ config: config.ice, credentials }), jobs });
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return 0;
  }
  if (flags.status && (SUBMIT_RECORD_STATUSES as readonly string[]).includes(flags.status)) {
    for (const summary of await listSubmitRecords(store, flags.prefix, { status: flags.status as RecordStatus, since: flags.since })) printLine(summary);
    return 0;
  }
  const appId = flags.app === undefined ? undefined : createAppRegistry(config.apps).resolve(flags.app, '--app').appId;
  for (const record of await listJobRecords({ store, recordsPrefix: flags.prefix }, { status: flags.status, appId, since: flags.since })) {
    printLine({
      jobId: record.jobId,
      status: record.status,
      appId: record.appId,
      source: record.source,
      submittedAt: record.submittedAt,
      updatedAt: record.updatedAt,
      outputUrls: record.results.map((r) => r.outputUrl).filter(Boolean),
      error: record.error,
    });
  }
  return 0;
}

runCli(TOOL, main);
