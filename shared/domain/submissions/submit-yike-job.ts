import type { Config } from '../../runtime/config';
import { describeError, IceError, YikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import { runIdempotent, type IdempotencyRecord } from '../idempotency/idempotent';
import type { ImageObjects, RecordStoreFor } from '../ports';
import { allowedImage, type ImagePolicy } from '../images/image-policy';
import type { ImageSource } from '../images/image-reference';
import { assertImageSize, inspectImageObject } from '../images/image-object';
import { recordSubmittedJob } from '../lifecycle/record-submission';
import type { EntryPoint } from '../lifecycle/job-record';
import { isIceInputRefusal, resolveApp, sendSubmit, type JobDependencies, type JobRequest, type SentJob, type SubmittedJob } from '../jobs/submit-job';
import { routedApp, unknownAppPrefix } from '../jobs/apps';
import { isSpendingRefusal, type Payer } from '../budget/spending';
import type { DeferredItem } from '../budget/deferred';
import { sharedRecordsBucket } from './record-keys';
import { presentMetadata, type JobMetadata } from '../jobs/metadata';
import { carriesMetadata, consentOfObject, metadataOfObject } from '../uploads/upload-metadata';
import type { JobConsent } from '../tickets/ticket';
import { assertJobWebhookAllowed } from '../lifecycle/job-webhook';

/**
 * The one paid submit, whatever asked for it (an upload, a pipeline event, the budget's renewal, `POST /jobs`,
 * `yike-submit`): check → budget → idempotent submit → record → track.
 *
 * 1. Check, before any ICE call: the app (named by the caller, or an upload's APP_ROUTES route: there is no default
 *    app), the image (an upload's size from its event; a named image's URL rules, allowlist and, after the claim,
 *    HEAD) and a job webhook's URL (WEBHOOK_ALLOWED_HOSTS). An upload under no APP_ROUTES prefix is SKIPPED
 *    (UNKNOWN_APP_PREFIX): its record says so, nothing is sent or deferred. The caller's metadata is given, or, for an
 *    upload whose form carried some, read with one HEAD (uploads/upload-metadata.ts).
 * 2. With `once`: claim the submit record (create-only), so a redelivery or a retry never pays twice.
 * 3. The paid step (shared/domain/jobs/submit-job.ts): AppParams and the precheck, then SubmitYikeAIAppJob inside the
 *    spending limit. Over it, the item is deferred or refused (`overBudget`).
 * 4. The submit record says how it ended: COMPLETED (replayed to later deliveries), REJECTED (ICE refuses that input),
 *    OUTCOME_UNKNOWN (the answer was lost: never sent again), DEFERRED or SKIPPED; any other failure frees it.
 * 5. Track: only once the record says COMPLETED, the job record and its in-flight marker, for the job watcher. The
 *    metadata and the job's webhook go in the job record, and in the submit record too (reconcile rebuilds from it).
 *
 * Entry points differ only in the data they hand in and in how they answer the outcome in their platform's shape;
 * refusals are thrown as typed errors (a stable `code`, an HTTP status where one fits).
 */
export interface SubmitYikeJobInput {
  /** Names the item in logs and in the deferred line: an upload's `oss://bucket/key`, a pipeline source, `POST /jobs`. */
  source: string;
  /**
   * The app (required: APP_REQUIRED without one; an upload's is its key's APP_ROUTES route, so `app` is not read for
   * it), ProductionId and FolderId (else the configured ones), and whose budget it spends.
   */
  job: Omit<JobRequest, 'image'>;
  image: ImageToCheck;
  /** At most once per key (absent: `POST /jobs` without an Idempotency-Key, `yike-submit`). */
  once?: SubmitRecord;
  /**
   * Over the day's budget or the payer's quota: `refuse` (BUDGET_EXHAUSTED / QUOTA_EXHAUSTED thrown: nothing stored), or
   * `defer`: the item joins the deferred line (it keeps what is needed to submit it again) and its record says DEFERRED.
   */
  overBudget: 'refuse' | { defer: DeferredItem };
  /**
   * A deferred item submitted again (the renewal, `yike-jobs deferred release [--over-budget]`): it takes its DEFERRED
   * record over, spends before new work, keeps its place in the line while still over, and is skipped if its image is gone.
   */
  renewal?: Pick<Payer, 'overBudget'>;
  /**
   * Who asks: the job record says it, and it decides where the records go when RECORDS_BUCKET is unset: beside the image
   * (an upload, a pipeline event), in the first ALLOWED_BUCKETS bucket (`http`), or nowhere (`cli`: no job record).
   */
  entryPoint: EntryPoint;
  /** The caller's own keys and values (`POST /jobs`); an upload's are read from its object when its form carried some. */
  metadata?: JobMetadata;
  /** `POST /jobs` `webhookUrl`: this job's notifications go there too; refused unless WEBHOOK_ALLOWED_HOSTS names its host. */
  webhookUrl?: string;
}

/**
 * - `uploaded`: an upload's object, as its event described it: the size is checked from the event (no HEAD); a renewal
 *   HEADs it again, and an object deleted or replaced meanwhile is IMAGE_GONE.
 * - `named`: an image a caller named: the URL rules and reserved prefixes, the allowlist (`always`, or only when
 *   ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS are set), then, after the claim (a replay answers as the first time did), the
 *   HEAD of any {bucket, key} (it exists, is image/*, not empty, not over MAX_IMAGE_BYTES).
 */
type ImageToCheck = { uploaded: { bucket: string; key: string; eTag: string; size: number } } | { named: ImageSource; allowlist: 'always' | 'when-configured' };

/** The submit (idempotency) record: its key (record-keys.ts), in the records bucket. */
interface SubmitRecord {
  recordKey: string;
  idempotencyKey: string;
  /** The same key with another body is refused (IDEMPOTENCY_KEY_REUSED, 422): `POST /jobs`. */
  payloadHash?: string;
  /** How long a COMPLETED record answers replays; absent: for good (one job per upload). */
  completedTtlMs?: number;
  context?: Record<string, unknown>;
}

/** Sent now (`executed`), or an earlier submit of the same item answered again (`duplicate`: nothing sent). */
type Submitted = { status: 'executed'; result: SubmittedJob } | { status: 'duplicate'; result: SubmittedJob };
/** Another invocation holds the claim (until `record.inProgressExpiresAt`): nothing sent. */
type InProgress = { status: 'in-progress'; record: Pick<IdempotencyRecord, 'inProgressExpiresAt'> };
export type SubmitYikeJobOutcome =
  | Submitted
  | InProgress
  /** Over the budget (`overBudget: defer`): waiting in the deferred line. */
  | { status: 'deferred'; code: string; resetsAt?: string }
  /** A renewal whose image is gone: its record says SKIPPED and why. */
  | { status: 'image-gone' }
  /** An upload under no APP_ROUTES prefix: its record says SKIPPED, UNKNOWN_APP_PREFIX; no ICE call, nothing deferred. */
  | { status: 'skipped'; code: 'UNKNOWN_APP_PREFIX'; message: string };

export interface SubmitDependencies extends JobDependencies {
  /** `lifecycle`: WEBHOOK_ALLOWED_HOSTS (lifecycle.jobWebhooks). */
  config: Pick<Config, 'uploads' | 'records' | 'http' | 'lifecycle'>;
  logger: Logger;
  /** The record store of a bucket (submit and job records live in RECORDS_BUCKET, or as `entryPoint` says). */
  recordStore: RecordStoreFor;
  /** HEADs {bucket, key} images before any ICE call. */
  imageObjects: Pick<ImageObjects, 'head'>;
  /** ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS and the reserved prefixes. */
  imagePolicy: ImagePolicy;
  /** Time left in this invocation: how long a claim holds others off (only with `once`). */
  remainingTimeMs?: () => number;
  now?: () => Date;
}

/** The shortest a claim holds others off, however little of the invocation is left. */
const MIN_CLAIM_MS = 1_000;

/** Without a claim (`yike-submit`, `POST /jobs` without Idempotency-Key) the only answer is the job sent: the rest is thrown. */
export async function submitYikeJob(
  input: SubmitYikeJobInput & { once?: undefined; overBudget: 'refuse'; renewal?: undefined },
  deps: SubmitDependencies,
): Promise<{ status: 'executed'; result: SubmittedJob }>;
/** Refused over the budget (`POST /jobs`): never deferred. */
export async function submitYikeJob(
  input: SubmitYikeJobInput & { overBudget: 'refuse'; renewal?: undefined },
  deps: SubmitDependencies,
): Promise<Submitted | InProgress>;
export async function submitYikeJob(input: SubmitYikeJobInput, deps: SubmitDependencies): Promise<SubmitYikeJobOutcome>;
export async function submitYikeJob(input: SubmitYikeJobInput, deps: SubmitDependencies): Promise<SubmitYikeJobOutcome> {
  const { source, overBudget, renewal, webhookUrl } = input;
  const upload = 'uploaded' in input.image ? input.image.uploaded : undefined;
  const job = upload ? { ...input.job, app: routedApp(upload.key, deps.config.uploads.appRoutes) } : input.job;
  const image = checkedImage(input, job, deps);
  if (webhookUrl !== undefined) assertJobWebhookAllowed(webhookUrl, deps.config.lifecycle.jobWebhooks.allowedHosts);
  const bucket = recordsBucketFor(input, image, deps);
  const logger = deps.logger.child({ source });
  const fromForm = await uploadFormFields(input, deps);
  const metadata = presentMetadata(input.metadata) ?? fromForm.metadata;
  const { consent } = fromForm;
  // The submit record keeps them too: a job whose job record and marker were lost is rebuilt from it (reconcile).
  const once =
    input.once && (metadata || webhookUrl || consent) ? { ...input.once, context: { ...input.once.context, metadata, webhookUrl, consent } } : input.once;
  const payer: Payer = { ...job.payer, ...(renewal && { ...renewal, renewal: true }) };
  const deferring = overBudget !== 'refuse';
  let sent: SentJob | undefined;
  const send = async () => {
    if (upload && job.app === undefined) throw unknownAppPrefix(upload.key, deps.config.uploads.appRoutes);
    sent = await sendSubmit({ ...job, image: await prepared(input, image, deps), payer }, deps);
    return sent.job;
  };
  const outcome: SubmitYikeJobOutcome = !once
    ? { status: 'executed', result: await send() }
    : await runIdempotent<SubmittedJob>({
        store: deps.recordStore(bucket!),
        ...once,
        inProgressTtlMs: Math.max(MIN_CLAIM_MS, deps.remainingTimeMs?.() ?? MIN_CLAIM_MS),
        now: deps.now,
        execute: async () => {
          try {
            return await send();
          } catch (error) {
            // Over the budget: the item joins the line before its record says DEFERRED (a renewed item keeps its place).
            // If the line cannot be written, the record goes and the item fails retryably instead: never deferred unseen.
            if (isSpendingRefusal(error) && deferring && !renewal && deps.budget) {
              const day = (error.details as { day?: string } | undefined)?.day ?? '';
              await deps.budget.defer({
                recordKey: once.recordKey,
                recordsBucket: bucket!,
                source,
                day,
                code: error.code,
                token: payer.token,
                item: overBudget.defer,
              });
            }
            throw error;
          }
        },
        isOutcomeUnknown: (error) => error instanceof IceError && error.outcome === 'unknown',
        isRejected: isIceInputRefusal,
        keepAs: (error) =>
          isSpendingRefusal(error) && deferring ? 'DEFERRED' : (renewal && isImageGone(error)) || isUnknownAppPrefix(error) ? 'SKIPPED' : undefined,
        resumeDeferred: renewal !== undefined,
        onRecordWriteFailed: (error, stage) =>
          logger.error(
            stage === 'completed' ? 'job submitted but its submit record could not be written' : 'submit failed and its submit record could not be updated',
            {
              recordKey: once.recordKey,
              error: describeError(error),
            },
          ),
      }).catch((error: unknown) => {
        if (isSpendingRefusal(error) && deferring)
          return { status: 'deferred', code: error.code, resetsAt: (error.details as { resetsAt?: string } | undefined)?.resetsAt };
        if (renewal && isImageGone(error)) return { status: 'image-gone' };
        if (isUnknownAppPrefix(error)) return { status: 'skipped', code: 'UNKNOWN_APP_PREFIX', message: (error as Error).message };
        throw error;
      });
  // Only now that the record says COMPLETED: an instance stopped in between can never lead to a second paid job (at worst
  // the job misses its record, and the watcher's reconcile finds it from the COMPLETED record). Never fails the submit.
  if (outcome.status === 'executed' && bucket !== undefined) {
    const upload = 'uploaded' in input.image ? input.image.uploaded : undefined;
    await recordSubmittedJob(
      { ...sent!.job, ...sent! },
      {
        recordStore: deps.recordStore(bucket),
        bucket,
        recordsPrefix: deps.config.records.prefix,
        entryPoint: input.entryPoint,
        upload: upload && { bucket: upload.bucket, key: upload.key, eTag: upload.eTag },
        submitRecordKey: once?.recordKey,
        metadata,
        webhookUrl,
        consent,
        logger,
        now: deps.now,
      },
    );
  }
  return outcome;
}

/**
 * An upload's metadata and consent (a ticket's): its form's (uploads/upload-metadata.ts), read with one HEAD, and only
 * for an upload whose name says its form carried some. Before the claim, so the submit record keeps them. An object
 * gone or replaced by now (its eTag differs) has none to give for this event.
 */
async function uploadFormFields(input: SubmitYikeJobInput, deps: SubmitDependencies): Promise<{ metadata?: JobMetadata; consent?: JobConsent }> {
  if (!('uploaded' in input.image) || !carriesMetadata(input.image.uploaded.key)) return {};
  const { bucket, key } = input.image.uploaded;
  const answer = await deps.imageObjects.head(bucket, key);
  if (answer.status !== 'found' || answer.head.eTag.toUpperCase() !== input.image.uploaded.eTag.toUpperCase()) return {};
  return { metadata: metadataOfObject(answer.head.userMetadata, input.source), consent: consentOfObject(answer.head.userMetadata) };
}

/** The image as it may be used, after the checks that need no ICE call (and no HEAD: that comes after the claim). */
function checkedImage(input: SubmitYikeJobInput, job: SubmitYikeJobInput['job'], deps: SubmitDependencies): ImageSource {
  const { config } = deps;
  if ('uploaded' in input.image) {
    // An APP_ROUTES value naming an unknown app is a deployment error: it fails (and so retries or dead-letters) loudly.
    // A key under no route is not an error: it is SKIPPED after the claim (send), so its record says why.
    if (job.app !== undefined) resolveApp(job, deps);
    assertImageSize(input.image.uploaded.size, input.source, config.uploads.maxImageBytes);
    return { kind: 'oss', ...input.image.uploaded };
  }
  // URL and prefix rules always apply; the allowlist per `allowlist`. ICE only ever gets the normalized form.
  const configured = config.http.allowedBuckets.length > 0 || config.http.allowedImageHosts.length > 0;
  const image = allowedImage(input.image.named, deps.imagePolicy, { enforceAllowlist: input.image.allowlist === 'always' || configured });
  resolveApp(job, deps);
  return image;
}

function recordsBucketFor(input: SubmitYikeJobInput, image: ImageSource, deps: SubmitDependencies): string | undefined {
  const { config } = deps;
  const { entryPoint } = input;
  const bucket =
    entryPoint === 'http' ? sharedRecordsBucket(config) : (config.records.bucket ?? (entryPoint !== 'cli' && image.kind === 'oss' ? image.bucket : undefined));
  if (bucket !== undefined) return bucket;
  if (input.once) throw new YikeError('RECORDS_BUCKET_REQUIRED', `RECORDS_BUCKET must be set to keep the submit record of ${input.source}`);
  if (entryPoint === 'http') deps.logger.warn('no RECORDS_BUCKET or ALLOWED_BUCKETS: the job gets no job record and is not watched');
  return undefined;
}

/** The image checks that read the bucket: a named {bucket, key}'s HEAD; a renewed upload's HEAD for the same version. */
async function prepared(input: SubmitYikeJobInput, image: ImageSource, deps: SubmitDependencies): Promise<ImageSource> {
  if ('uploaded' in input.image) return input.renewal ? await stillThere(input.image.uploaded, deps) : image;
  return image.kind === 'oss' ? await inspectImageObject(image, deps.config, deps.imageObjects) : image;
}

/** The deferred upload's object as it was: gone or replaced (another eTag has its own record) is IMAGE_GONE. */
async function stillThere(object: { bucket: string; key: string; eTag: string }, deps: SubmitDependencies): Promise<ImageSource> {
  const answer = await deps.imageObjects.head(object.bucket, object.key);
  if (answer.status === 'found' && answer.head.eTag.toUpperCase() === object.eTag.toUpperCase()) {
    return { kind: 'oss', ...object, size: answer.head.size };
  }
  const why =
    answer.status === 'found' ? `was replaced (eTag ${answer.head.eTag}, not ${object.eTag})` : answer.status === 'missing' ? 'was deleted' : 'cannot be read';
  throw new YikeError('IMAGE_GONE', `oss://${object.bucket}/${object.key} ${why} while it waited for the budget`, { statusCode: 404 });
}

const isUnknownAppPrefix = (error: unknown) => (error as { code?: string } | undefined)?.code === 'UNKNOWN_APP_PREFIX';

/** Why a deferred item is skipped at its renewal instead of submitted: its image is no longer there. */
const isImageGone = (error: unknown) => ['IMAGE_GONE', 'IMAGE_NOT_FOUND'].includes((error as { code?: string } | undefined)?.code ?? '');
