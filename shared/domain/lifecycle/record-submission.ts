import { describeError, isYikeError } from '../../runtime/errors';
import { withAttempts } from '../../runtime/retry';
import type { RecordStore } from '../ports';
import type { ImageSource } from '../images/image-reference';
import type { Logger } from '../../runtime/logger';
import { createJobRecordStore, newJobRecord, type EntryPoint, type JobRecord } from './job-record';

/** Where and how a submit records its job: given by the one submit (submissions/submit-yike-job.ts) when it has a records bucket. */
export interface JobTracking {
  /** The records bucket's store, and the bucket's name for log lines. */
  recordStore: RecordStore;
  bucket: string;
  recordsPrefix: string;
  entryPoint: EntryPoint;
  upload?: JobRecord['upload'];
  /** The submit record that holds the JobId (erased with the job). */
  submitRecordKey?: string;
  metadata?: JobRecord['metadata'];
  webhookUrl?: string;
  consent?: JobRecord['consent'];
  logger: Logger;
  now?: () => Date;
}

/** How a job record names its image: `oss://bucket/key`, or the URL the caller gave (never a signed URL we made). */
function sourceOf(image: ImageSource): string {
  return image.kind === 'oss' ? `oss://${image.bucket}/${image.key}` : image.url;
}

const WRITE_ATTEMPTS = 3;
/**
 * The marker is what gets a job followed (it carries the record's fields: the watcher writes a missing record from
 * it), so it is tried harder than the record: about 7 s in all, then reconcile (every 10 minutes) is left to find it.
 */
const MARKER_ATTEMPTS = 7;
const WRITE_PAUSE_MS = 100;
const MAX_WRITE_PAUSE_MS = 2_000;

/**
 * Writes the in-flight marker and the job record (in parallel) right after ICE accepted the submit. The job exists and is
 * paid for, so a failure here must never fail the submit (a retried invocation would submit a second job, as with
 * writeCompleted in idempotency/idempotent.ts): each write gets its own attempts (retrying the pair would need
 * both to succeed in one round), then an error log naming the job, and on we go. Neither loses the job: the watcher
 * writes a missing record from the marker, and finds a job without either from its COMPLETED submit record
 * (reconcile.ts, within lifecycle.reconcileMinutes).
 */
export async function recordSubmittedJob(
  job: { jobId: string; requestId: string; appId: string; image: ImageSource; productionId?: string; folderId?: string },
  tracking: JobTracking,
): Promise<void> {
  const record = newJobRecord({
    jobId: job.jobId,
    appId: job.appId,
    source: sourceOf(job.image),
    entryPoint: tracking.entryPoint,
    iceRequestId: job.requestId,
    upload: tracking.upload,
    productionId: job.productionId,
    folderId: job.folderId,
    submitRecordKey: tracking.submitRecordKey,
    metadata: tracking.metadata,
    webhookUrl: tracking.webhookUrl,
    consent: tracking.consent,
    now: tracking.now?.(),
  });
  const jobs = createJobRecordStore(tracking.recordStore, tracking.recordsPrefix);
  // Both at once: one round trip less before the caller gets its answer.
  const [marker, written] = await Promise.all([
    tried(() => jobs.markInflight(record), MARKER_ATTEMPTS),
    tried(() => jobs.createRecord(record), WRITE_ATTEMPTS),
  ]);
  if (!marker.ok) {
    tracking.logger.error('job submitted but its in-flight marker could not be written: the watcher finds it by reconciling (within 10 minutes)', {
      jobId: job.jobId,
      bucket: tracking.bucket,
      recordWritten: written.ok,
      error: describeError(marker.error),
    });
  } else if (!written.ok) {
    tracking.logger.warn('job submitted but its job record could not be written: the watcher writes it from the in-flight marker', {
      jobId: job.jobId,
      bucket: tracking.bucket,
      error: describeError(written.error),
    });
  }
}

/**
 * Up to `attempts` tries, pausing 100, 200, 400 … ms (at most 2 s, with up to 20 % jitter) between them; a refusal
 * that will not change (a missing bucket, no permission: not retryable) ends at once.
 */
function tried(write: () => Promise<unknown>, attempts: number): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const pauseMs = (attempt: number) => Math.min(MAX_WRITE_PAUSE_MS, WRITE_PAUSE_MS * 2 ** (attempt - 1)) * (1 + 0.2 * Math.random());
  return withAttempts(write, attempts, pauseMs, (error) => isYikeError(error) && !error.retryable).then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  );
}
