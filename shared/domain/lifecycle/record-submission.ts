import { describeError } from '../../runtime/errors';
import type { RecordStore } from '../ports';
import type { ImageSource } from '../images/image-reference';
import type { Logger } from '../../runtime/logger';
import { createJobRecordStore, newJobRecord, type EntryPoint, type JobRecord, type JobRecordStore } from './job-record';

/** Where and how a submit records its job: given to submitJob by every entry point that has a records bucket. */
export interface JobTracking {
  store: JobRecordStore;
  /** The records bucket, for log lines. */
  bucket: string;
  entryPoint: EntryPoint;
  upload?: JobRecord['upload'];
  logger: Logger;
  now?: () => Date;
}

export function jobTracking(options: {
  recordStore: RecordStore;
  bucket: string;
  recordsPrefix: string;
  entryPoint: EntryPoint;
  upload?: JobRecord['upload'];
  logger: Logger;
}): JobTracking {
  return {
    store: createJobRecordStore(options.recordStore, options.recordsPrefix),
    bucket: options.bucket,
    entryPoint: options.entryPoint,
    upload: options.upload,
    logger: options.logger,
  };
}

/** How a job record names its image: `oss://bucket/key`, or the URL the caller gave (never a signed URL we made). */
function sourceOf(image: ImageSource): string {
  return image.kind === 'oss' ? `oss://${image.bucket}/${image.key}` : image.url;
}

const WRITE_ATTEMPTS = 3;
const WRITE_PAUSE_MS = 100;

/**
 * Writes the in-flight marker and the job record (in parallel) right after ICE accepted the submit. The job exists and is
 * paid for, so a failure here must never fail the submit (a retried invocation would submit a second job, as with
 * writeCompleted in idempotency/idempotent.ts): each write gets its own few attempts (retrying the pair would need
 * both to succeed in one round), then an error log naming the job, and on we go.
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
    now: tracking.now?.(),
  });
  // Both at once: one round trip less before the caller gets its answer.
  const [marker, written] = await Promise.all([
    withAttempts(() => tracking.store.markInflight(record)),
    withAttempts(() => tracking.store.createRecord(record)),
  ]);
  if (!written.ok) {
    tracking.logger.error('job submitted but its job record could not be written: the watcher will not follow it', {
      jobId: job.jobId,
      bucket: tracking.bucket,
      error: describeError(written.error),
    });
  } else if (!marker.ok) {
    tracking.logger.error('job submitted but its in-flight marker could not be written: the watcher will not follow it', {
      jobId: job.jobId,
      bucket: tracking.bucket,
      error: describeError(marker.error),
    });
  }
}

async function withAttempts(write: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return { ok: true };
    } catch (error) {
      if (attempt === WRITE_ATTEMPTS) return { ok: false, error };
      await new Promise((resolve) => setTimeout(resolve, WRITE_PAUSE_MS * attempt));
    }
  }
}
