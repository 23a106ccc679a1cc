import type { Config } from '../../runtime/config';
import { mapWithConcurrency } from '../../runtime/concurrency';
import { describeError, IceError, isYikeError, YikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import { runIdempotent } from '../idempotency/idempotent';
import type { ImageObjects, RecordStore, RecordStoreFor } from '../ports';
import { allowedImage, type ImagePolicy } from '../images/image-policy';
import type { ImageSource } from '../images/image-reference';
import { assertImageSize, imageKeyRefusal, inspectImageObject } from '../images/image-object';
import { jobTracking, type JobTracking } from '../lifecycle/record-submission';
import { isIceInputRefusal, resolveApp, submitJobThenRecord, type JobDependencies, type JobRequest } from '../jobs/submit-job';
import { objectRecordKey, sha256 } from './record-keys';
import type { JobRequestInput, ObjectCreated, WorkItem } from './work-items';
import { isSpendingRefusal, type Payer } from '../budget/spending';
import type { DeferredEntry, DeferredItem } from '../budget/deferred';
import { uploadTokenOf } from '../budget/upload-token';

/** The invocation's result: usable by an onSuccess destination or the next pipeline step. */
export interface SubmissionResult {
  submitted: { source: string; jobId: string; requestId: string; appId: string }[];
  skipped: { source: string; reason: SkipReason; jobId?: string }[];
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
  | 'no-app-route'
  | 'duplicate'
  | 'in-progress'
  | 'image-gone';

export interface SubmissionDependencies extends JobDependencies {
  config: Pick<Config, 'uploads' | 'records' | 'http' | 'defaults'>;
  logger: Logger;
  /** Record store for a bucket (job records live in RECORDS_BUCKET, or beside the object). */
  recordStore: RecordStoreFor;
  /** HEADs pipeline events' {bucket, key} images before any ICE call. */
  imageObjects: Pick<ImageObjects, 'head'>;
  /** Enforced for pipeline events when ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS are configured. */
  imagePolicy?: ImagePolicy;
  /** Time left in this invocation: how long an IN_PROGRESS record holds others off. */
  remainingTimeMs: () => number;
  now?: () => Date;
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

/** A deferred item submitted again (budget renewal, `yike-jobs deferred release`): its image checked again, through the one-job path. */
export async function resubmitDeferred(entry: DeferredEntry, deps: SubmissionDependencies, payer: Pick<Payer, 'overBudget'> = {}): Promise<ItemOutcome> {
  return await processItem({ ...entry.item, source: entry.source } as WorkItem, deps, { ...payer, renewal: true });
}

async function processItem(item: WorkItem, deps: SubmissionDependencies, renewal?: Payer): Promise<ItemOutcome> {
  const logger = deps.logger.child({ source: item.source });
  try {
    if (item.kind === 'invalid') throw item.error;
    const outcome =
      item.kind === 'object' ? await processObject(item.object, item.source, deps, renewal) : await processRequest(item.request, item.source, deps, renewal);
    if (outcome.type === 'submitted') {
      // `requestId` in a log line is the FC request id; ICE's goes in iceRequestId.
      logger.info('job submitted', { jobId: outcome.entry.jobId, appId: outcome.entry.appId, iceRequestId: outcome.entry.requestId });
    } else if (outcome.type === 'skipped') logger.info('item skipped', { reason: outcome.entry.reason, jobId: outcome.entry.jobId });
    else if (outcome.type === 'deferred') logger.warn('item deferred: over the budget, it is submitted when the budget renews', { ...outcome.entry });
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
  if (imageKeyRefusal(object.key, config)?.code === 'IMAGE_KEY_INVALID') return 'invalid-key';
  const lowerKey = object.key.toLowerCase();
  if (!config.uploads.imageSuffixes.some((suffix) => lowerKey.endsWith(suffix))) return 'not-an-image';
  if (object.size === 0) return 'empty-object';
  return undefined;
}

/** The app for a key: the longest APP_ROUTES prefix that matches, else DEFAULT_APP. */
export function appForKey(key: string, config: Pick<Config, 'uploads' | 'defaults'>): string | undefined {
  let best: { prefix: string; app: string } | undefined;
  for (const [prefix, app] of Object.entries(config.uploads.appRoutes)) {
    if (key.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { prefix, app };
  }
  return best?.app ?? config.defaults.app;
}

async function processObject(object: ObjectCreated, source: string, deps: SubmissionDependencies, renewal?: Payer): Promise<ItemOutcome> {
  const { config } = deps;
  const skip = skipReasonForObject(object, config);
  if (skip) return { type: 'skipped', entry: { source, reason: skip } };
  const app = appForKey(object.key, config);
  if (!app) return { type: 'skipped', entry: { source, reason: 'no-app-route' } };
  // An APP_ROUTES value naming an unknown app is a deployment error: fail (and so retry/dead-letter) loudly.
  resolveApp({ app }, deps);
  // The event carries the size: no HEAD for uploads.
  assertImageSize(object.size, source, config.uploads.maxImageBytes);

  const recordsBucket = config.records.bucket ?? object.bucket;
  return await submitOnce(
    {
      store: deps.recordStore(recordsBucket),
      recordKey: objectRecordKey(config.records.prefix, object),
      idempotencyKey: `${source}#${object.eTag}`,
      context: { bucket: object.bucket, key: object.key, eTag: object.eTag, size: object.size, eventName: object.eventName, eventTime: object.eventTime },
    },
    {
      app,
      image: { kind: 'oss', bucket: object.bucket, key: object.key, eTag: object.eTag, size: object.size },
      payer: { token: uploadTokenOf(object.key), source },
    },
    source,
    { deps, renewal, item: { kind: 'object', object }, recordsBucket },
    jobTracking({
      recordStore: deps.recordStore(recordsBucket),
      bucket: recordsBucket,
      recordsPrefix: config.records.prefix,
      entryPoint: 'upload',
      upload: { bucket: object.bucket, key: object.key, eTag: object.eTag },
      logger: deps.logger.child({ source }),
    }),
    // A renewal checks the image again: the upload event carried its size, but a day has passed.
    renewal ? async (pending) => ({ ...pending, image: await stillThere(object, deps) }) : undefined,
  );
}

/** The deferred upload's object as it was: gone or replaced (another eTag has its own record) is IMAGE_GONE. */
async function stillThere(object: ObjectCreated, deps: SubmissionDependencies): Promise<ImageSource> {
  const answer = await deps.imageObjects.head(object.bucket, object.key);
  if (answer.status === 'found' && answer.head.eTag.toUpperCase() === object.eTag.toUpperCase()) {
    return { kind: 'oss', bucket: object.bucket, key: object.key, eTag: object.eTag, size: answer.head.size };
  }
  const why =
    answer.status === 'found' ? `was replaced (eTag ${answer.head.eTag}, not ${object.eTag})` : answer.status === 'missing' ? 'was deleted' : 'cannot be read';
  throw new YikeError('IMAGE_GONE', `oss://${object.bucket}/${object.key} ${why} while it waited for the budget`, { statusCode: 404 });
}

/** Why a deferred item is skipped at its renewal instead of submitted: its image is no longer there. */
const isImageGone = (error: unknown) => ['IMAGE_GONE', 'IMAGE_NOT_FOUND'].includes((error as { code?: string } | undefined)?.code ?? '');

async function processRequest(body: JobRequestInput, source: string, deps: SubmissionDependencies, renewal?: Payer): Promise<ItemOutcome> {
  const { config } = deps;
  const requested: ImageSource = body.image ? { kind: 'oss', ...body.image } : { kind: 'url', url: body.imageUrl! };
  // URL and prefix rules always apply; the allowlist only when one is configured.
  const enforceAllowlist = config.http.allowedBuckets.length > 0 || config.http.allowedImageHosts.length > 0;
  const image = deps.imagePolicy ? allowedImage(requested, deps.imagePolicy, { enforceAllowlist }) : requested;
  const request: JobRequest = { app: body.app, image, productionId: body.productionId, folderId: body.folderId, payer: { source } };
  resolveApp(request, deps);
  // Before any ICE call (but after the duplicate check): a missing, non-image or oversized object is refused, also when
  // it was named by a URL on its bucket's OSS domain.
  const inspect = async (pending: JobRequest): Promise<JobRequest> =>
    image.kind === 'oss' ? { ...pending, image: await inspectImageObject(image, config, deps.imageObjects) } : pending;
  const identity = body.idempotencyKey ?? sha256(JSON.stringify([body.app ?? null, source, body.productionId ?? null, body.folderId ?? null]));
  const recordsBucket = config.records.bucket ?? (image.kind === 'oss' ? image.bucket : undefined);
  if (!recordsBucket) {
    throw new YikeError('RECORDS_BUCKET_REQUIRED', 'RECORDS_BUCKET must be set to keep idempotency records for imageUrl pipeline events');
  }
  return await submitOnce(
    {
      store: deps.recordStore(recordsBucket),
      recordKey: `${config.records.prefix}pipeline/${sha256(identity)}.json`,
      idempotencyKey: identity,
      completedTtlMs: config.http.idempotencyTtlSeconds * 1000,
      context: { source },
    },
    request,
    source,
    { deps, renewal, item: { kind: 'request', request: body }, recordsBucket },
    jobTracking({
      recordStore: deps.recordStore(recordsBucket),
      bucket: recordsBucket,
      recordsPrefix: config.records.prefix,
      entryPoint: 'pipeline',
      logger: deps.logger.child({ source }),
    }),
    inspect,
  );
}

interface Spending {
  deps: SubmissionDependencies;
  /** Set when a deferred item is submitted again (the renewal, an operator's release). */
  renewal?: Payer;
  /** What the deferred line keeps of the item, to submit it again later. */
  item: DeferredItem;
  /** Where the item's submit record is. */
  recordsBucket: string;
}

async function submitOnce(
  record: { store: RecordStore; recordKey: string; idempotencyKey: string; completedTtlMs?: number; context: Record<string, unknown> },
  request: JobRequest,
  source: string,
  { deps, renewal, item, recordsBucket }: Spending,
  tracking: JobTracking,
  prepare: (request: JobRequest) => Promise<JobRequest> = async (pending) => pending,
): Promise<ItemOutcome> {
  let recordJob: (() => Promise<void>) | undefined;
  const payer = { ...request.payer, ...renewal };
  const outcome = await runIdempotent({
    ...record,
    inProgressTtlMs: Math.max(1_000, deps.remainingTimeMs()),
    now: deps.now,
    execute: async () => {
      try {
        const submitted = await submitJobThenRecord({ ...(await prepare(request)), payer }, deps, tracking);
        recordJob = submitted.recordJob;
        return submitted.job;
      } catch (error) {
        // Over the budget: the item joins the line before its record says DEFERRED (a renewed item keeps its place).
        // If the line cannot be written, the record goes and the item fails retryably instead: never deferred unseen.
        if (isSpendingRefusal(error) && !renewal && deps.budget) {
          const details = error.details as { day?: string; token?: string } | undefined;
          await deps.budget.defer({ recordKey: record.recordKey, recordsBucket, source, day: details?.day ?? '', code: error.code, token: payer.token, item });
        }
        throw error;
      }
    },
    isOutcomeUnknown: (error) => error instanceof IceError && error.outcome === 'unknown',
    isRejected: isIceInputRefusal,
    keepAs: (error) => (isSpendingRefusal(error) ? 'DEFERRED' : renewal && isImageGone(error) ? 'SKIPPED' : undefined),
    resumeDeferred: renewal !== undefined,
    onRecordWriteFailed: (error, stage) =>
      deps.logger.error(stage === 'completed' ? 'job submitted but its record could not be written' : 'submit failed and its record could not be updated', {
        source,
        recordKey: record.recordKey,
        error: describeError(error),
      }),
  }).catch((error: unknown) => {
    if (isSpendingRefusal(error)) {
      const details = error.details as { resetsAt?: string } | undefined;
      return { status: 'deferred' as const, code: error.code, resetsAt: details?.resetsAt };
    }
    if (renewal && isImageGone(error)) return { status: 'image-gone' as const };
    throw error;
  });
  if (outcome.status === 'deferred') return { type: 'deferred', entry: { source, code: outcome.code, resetsAt: outcome.resetsAt } };
  if (outcome.status === 'image-gone') return { type: 'skipped', entry: { source, reason: 'image-gone' } };
  if (outcome.status === 'executed') {
    // Only now that the submit is recorded as done (see submitJobThenRecord).
    await recordJob?.();
    return { type: 'submitted', entry: { source, ...outcome.result } };
  }
  if (outcome.status === 'duplicate') return { type: 'skipped', entry: { source, reason: 'duplicate', jobId: outcome.result.jobId } };
  // Not a skip: if that holder died (its record write failed, its instance stopped), nobody would submit this
  // item. Failing it makes FC retry later: by then it is COMPLETED (a duplicate) or expired (taken over).
  throw new YikeError(
    'SUBMISSION_IN_PROGRESS',
    `Another invocation is submitting this item (record ${record.recordKey} IN_PROGRESS until ${outcome.record.inProgressExpiresAt ?? '?'}); retry later`,
    { retryable: true },
  );
}
