import type { Config } from '../../runtime/config';
import { mapWithConcurrency } from '../../runtime/concurrency';
import { describeError, isYikeError, YikeError } from '../../runtime/errors';
import { imageKeyRefusal } from '../images/image-object';
import { objectRecordKey, sha256 } from './record-keys';
import type { SubmittedJob } from '../jobs/submit-job';
import { submitYikeJob, type SubmitDependencies, type SubmitYikeJobInput } from './submit-yike-job';
import type { JobRequestInput, ObjectCreated, WorkItem } from './work-items';
import type { Payer } from '../budget/spending';
import type { DeferredEntry } from '../budget/deferred';
import { uploadTokenOf } from '../budget/upload-token';

/** The invocation's result: usable by an onSuccess destination or the next pipeline step. */
export interface SubmissionResult {
  submitted: ({ source: string } & SubmittedJob)[];
  skipped: { source: string; reason: SkipReason; jobId?: string; message?: string }[];
  failed: { source: string; code: string; message: string; retryable: boolean }[];
  /**
   * Only when an item was over the day's budget or its token's quota: its record says DEFERRED and it waits under
   * `<RECORDS_PREFIX>deferred/` for the renewal. Not a failure: the invocation succeeds (no retry storm).
   */
  deferred?: { source: string; code: string; resetsAt?: string }[];
}

export type SkipReason =
  | 'event-not-handled'
  | 'records-prefix'
  | 'results-prefix'
  | 'invalid-key'
  | 'not-an-image'
  | 'empty-object'
  /** Under no APP_ROUTES prefix: its record says SKIPPED with this code (one warn line; nothing sent or deferred). */
  | 'UNKNOWN_APP_PREFIX'
  | 'duplicate'
  | 'in-progress'
  | 'image-gone';

/** What the upload and pipeline paths need: the one submit's dependencies (APP_ROUTES routes the uploads). */
export interface SubmissionDependencies extends SubmitDependencies {
  config: Pick<Config, 'uploads' | 'records' | 'http' | 'lifecycle' | 'defaults'>;
  remainingTimeMs: () => number;
}

/** Work items processed at once: ICE calls are I/O bound, but a burst should not trip its throttling. */
const ITEM_CONCURRENCY = 4;

export async function processWorkItems(items: WorkItem[], deps: SubmissionDependencies): Promise<SubmissionResult> {
  const result: SubmissionResult = { submitted: [], skipped: [], failed: [] };
  const outcomes = await mapWithConcurrency(items, ITEM_CONCURRENCY, (item) => processItem(item, deps));
  for (const outcome of outcomes) {
    if (outcome.type === 'submitted') result.submitted.push(outcome.entry);
    else if (outcome.type === 'skipped') result.skipped.push(outcome.entry);
    else if (outcome.type === 'deferred') result.deferred = [...(result.deferred ?? []), outcome.entry];
    else result.failed.push(outcome.entry);
  }
  return result;
}

export type ItemOutcome =
  | { type: 'submitted'; entry: SubmissionResult['submitted'][number] }
  | { type: 'skipped'; entry: SubmissionResult['skipped'][number] }
  | { type: 'deferred'; entry: NonNullable<SubmissionResult['deferred']>[number] }
  | { type: 'failed'; entry: SubmissionResult['failed'][number] };

/** A deferred item submitted again (budget renewal, `yike-jobs deferred release`): its image checked again, through the one submit. */
export async function resubmitDeferred(entry: DeferredEntry, deps: SubmissionDependencies, payer: Pick<Payer, 'overBudget'> = {}): Promise<ItemOutcome> {
  return await processItem({ ...entry.item, source: entry.source } as WorkItem, deps, payer);
}

async function processItem(item: WorkItem, deps: SubmissionDependencies, renewal?: Pick<Payer, 'overBudget'>): Promise<ItemOutcome> {
  const logger = deps.logger.child({ source: item.source });
  try {
    if (item.kind === 'invalid') throw item.error;
    const outcome =
      item.kind === 'object' ? await processObject(item.object, item.source, deps, renewal) : await processRequest(item.request, item.source, deps, renewal);
    if (outcome.type === 'submitted') {
      // `requestId` in a log line is the FC request id; ICE's goes in iceRequestId.
      logger.info('job submitted', { jobId: outcome.entry.jobId, appId: outcome.entry.appId, iceRequestId: outcome.entry.requestId });
    } else if (outcome.type === 'skipped') {
      const { reason, jobId, message } = outcome.entry;
      if (reason === 'UNKNOWN_APP_PREFIX') logger.warn('item skipped', { reason, message });
      else logger.info('item skipped', { reason, jobId });
    } else if (outcome.type === 'deferred') logger.warn('item deferred: over the budget, it is submitted when the budget renews', { ...outcome.entry });
    return outcome;
  } catch (error) {
    const described = describeError(error);
    logger.error('item failed', { error: described, details: isYikeError(error) ? error.details : undefined });
    return { type: 'failed', entry: { source: item.source, code: described.code, message: described.message, retryable: described.retryable } };
  }
}

/** Why an uploaded object is not submitted, or undefined when it should be. */
export function skipReasonForObject(object: ObjectCreated, config: Pick<Config, 'uploads' | 'records'>): SkipReason | undefined {
  if (!config.uploads.eventNames.includes(object.eventName)) return 'event-not-handled';
  // Recursion guard: our own job records are written into buckets we may be listening to.
  if (object.key.startsWith(config.records.prefix)) return 'records-prefix';
  // Result objects the job watcher writes beside uploads must never submit again.
  if (object.key.startsWith(config.records.resultsPrefix)) return 'results-prefix';
  // The key checks every image gets (the prefixes are past): control characters, then IMAGE_SUFFIXES.
  const refused = imageKeyRefusal(object.key, config)?.code;
  if (refused === 'IMAGE_KEY_INVALID') return 'invalid-key';
  if (refused === 'NOT_AN_IMAGE') return 'not-an-image';
  if (object.size === 0) return 'empty-object';
  return undefined;
}

async function processObject(object: ObjectCreated, source: string, deps: SubmissionDependencies, renewal?: Pick<Payer, 'overBudget'>): Promise<ItemOutcome> {
  const { config } = deps;
  const skip = skipReasonForObject(object, config);
  if (skip) return { type: 'skipped', entry: { source, reason: skip } };
  const { bucket, key, eTag, size } = object;
  return await submitItem(
    {
      source,
      // The app is the key's APP_ROUTES route, which the one submit reads itself.
      job: { payer: { token: uploadTokenOf(key), source } },
      image: { uploaded: { bucket, key, eTag, size } },
      once: {
        recordKey: objectRecordKey(config.records.prefix, object),
        idempotencyKey: `${source}#${eTag}`,
        context: { bucket, key, eTag, size, eventName: object.eventName, eventTime: object.eventTime },
      },
      overBudget: { defer: { kind: 'object', object } },
      renewal,
      entryPoint: 'upload',
    },
    deps,
  );
}

async function processRequest(body: JobRequestInput, source: string, deps: SubmissionDependencies, renewal?: Pick<Payer, 'overBudget'>): Promise<ItemOutcome> {
  const { config } = deps;
  const identity = body.idempotencyKey ?? sha256(JSON.stringify([body.app ?? null, source, body.productionId ?? null, body.folderId ?? null]));
  return await submitItem(
    {
      source,
      job: { app: body.app, productionId: body.productionId, folderId: body.folderId, payer: { source } },
      image: { named: body.image ? { kind: 'oss', ...body.image } : { kind: 'url', url: body.imageUrl! }, allowlist: 'when-configured' },
      once: {
        recordKey: `${config.records.prefix}pipeline/${sha256(identity)}.json`,
        idempotencyKey: identity,
        completedTtlMs: config.http.idempotencyTtlSeconds * 1000,
        context: { source },
      },
      overBudget: { defer: { kind: 'request', request: body } },
      renewal,
      entryPoint: 'pipeline',
    },
    deps,
  );
}

/** An upload or pipeline item through the one submit (its records beside its image without RECORDS_BUCKET), and its outcome as the invocation's result reports it. */
async function submitItem(input: SubmitYikeJobInput & Required<Pick<SubmitYikeJobInput, 'once'>>, deps: SubmissionDependencies): Promise<ItemOutcome> {
  const { source } = input;
  const outcome = await submitYikeJob(input, deps);
  if (outcome.status === 'executed') return { type: 'submitted', entry: { source, ...outcome.result } };
  if (outcome.status === 'duplicate') return { type: 'skipped', entry: { source, reason: 'duplicate', jobId: outcome.result.jobId } };
  if (outcome.status === 'deferred') return { type: 'deferred', entry: { source, code: outcome.code, resetsAt: outcome.resetsAt } };
  if (outcome.status === 'image-gone') return { type: 'skipped', entry: { source, reason: 'image-gone' } };
  if (outcome.status === 'skipped') return { type: 'skipped', entry: { source, reason: outcome.code, message: outcome.message } };
  // Not a skip: if that holder died (its record write failed, its instance stopped), nobody would submit this
  // item. Failing it makes FC retry later: by then it is COMPLETED (a duplicate) or expired (taken over).
  throw new YikeError(
    'SUBMISSION_IN_PROGRESS',
    `Another invocation is submitting this item (record ${input.once.recordKey} IN_PROGRESS until ${outcome.record.inProgressExpiresAt ?? '?'}); retry later`,
    { retryable: true },
  );
}
