import type { Config } from '../../runtime/config';
import { describeError, isYikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { ObjectUrlSigner, ResultCopier } from '../ports';
import type { JobRecord } from './job-record';

/**
 * JOB_RESULTS `copy`: a Finished job's outputs copied into a bucket the user owns, so the video outlives ICE's storage,
 * can be served from the user's CDN, and plays on the page (whose CSP allows https media only; ICE's examples are http).
 *
 *   where    the upload's bucket (jobs without an upload: the records bucket), at
 *            `<RESULTS_PREFIX><upload key or jobs/<jobId>>/<n>.<ext>`, n the output's index in the record's results
 *   when     once the watcher sees the job Finished, before it notifies; a failed copy is tried again on later
 *            rounds and ticks (COPY_RETRY_BASE_MS doubling, at most COPY_RETRY_MAX_MS apart, COPY_MAX_ATTEMPTS in all)
 *   waiting  the notification waits for the copy up to resultCopy.maxWaitSeconds (5 min) after the job was seen Finished;
 *            then it goes with ICE's URL and `copy: "pending"` (still trying) or `"failed"`, and a copy that succeeds
 *            later sends `yike.job.result-copied`
 *
 * Copies are not claimed: two runs copying the same output at once write the same bytes to the same key.
 */
const COPY_RETRY_BASE_MS = 10_000;
const COPY_RETRY_MAX_MS = 5 * 60_000;
const COPY_MAX_ATTEMPTS = 12;

export interface CopyContext {
  config: Pick<Config['lifecycle'], 'resultCopy'>;
  resultsPrefix: string;
  /** The bucket of the job's record: where copies of jobs without an upload go. */
  recordsBucket: string;
  copier: ResultCopier;
  logger: Logger;
  random?: () => number;
}

/** The state a job enters when it is first seen Finished: `copy: "pending"` when it has outputs to copy. */
export function startCopy(record: JobRecord, copyEnabled: boolean): JobRecord {
  if (!copyEnabled || record.status !== 'Finished' || record.copy || record.copying) return record;
  if (!record.results.some((result) => result.outputUrl && !result.ownKey)) return record;
  return { ...record, copy: 'pending', copying: { attempts: 0 } };
}

export function copyDue(record: JobRecord, now: Date): boolean {
  return record.copy === 'pending' && (!record.copying?.nextAttemptAt || Date.parse(record.copying.nextAttemptAt) <= now.getTime());
}

/** True while the outcome notification still waits for the copy (resultCopy.maxWaitSeconds after settling). */
export function waitsForCopy(record: JobRecord, now: Date, maxWaitSeconds: number): boolean {
  return record.copy === 'pending' && now.getTime() < Date.parse(record.settledAt ?? record.updatedAt) + maxWaitSeconds * 1000;
}

/** When the copy is next tried, or the notification stops waiting for it (whichever is sooner); undefined: nothing to wait for. */
export function copyWakeAt(record: JobRecord, maxWaitSeconds: number): number | undefined {
  if (record.copy !== 'pending') return undefined;
  const retry = record.copying?.nextAttemptAt ? Date.parse(record.copying.nextAttemptAt) : 0;
  const giveUp = Date.parse(record.settledAt ?? record.updatedAt) + maxWaitSeconds * 1000;
  return record.notifications && Object.values(record.notifications).every((state) => state.status !== 'pending') ? retry : Math.min(retry, giveUp);
}

/** `<RESULTS_PREFIX><upload key or jobs/<jobId>>/<n>` (the copier adds `.<ext>`) in the upload's bucket, else the records bucket. */
function copyLocation(record: JobRecord, index: number, context: Pick<CopyContext, 'resultsPrefix' | 'recordsBucket'>) {
  const bucket = record.upload?.bucket ?? context.recordsBucket;
  return { bucket, keyStem: `${context.resultsPrefix}${record.upload?.key ?? `jobs/${record.jobId}`}/${index}` };
}

/**
 * Copies every output that has no copy yet, one after another (never two large streams at once), within `timeoutMs`.
 * Returns the record with each copy's `{ownBucket, ownKey}`, and `copy` cleared once all are done, or the attempt
 * counted and the next one scheduled (or `copy: "failed"` for a refusal that will not change, or the last attempt).
 */
export async function copyOutputs(record: JobRecord, context: CopyContext, now: Date, timeoutMs: number): Promise<JobRecord> {
  const settings = context.config.resultCopy;
  if (!settings) return record;
  const results = record.results.map((result) => ({ ...result }));
  const attempts = (record.copying?.attempts ?? 0) + 1;
  for (const [index, result] of results.entries()) {
    if (!result.outputUrl || result.ownKey) continue;
    const { bucket, keyStem } = copyLocation(record, index, context);
    try {
      const copied = await context.copier.copy({ sourceUrl: result.outputUrl, bucket, keyStem, maxBytes: settings.maxBytes, timeoutMs });
      results[index] = { ...result, ownBucket: bucket, ownKey: copied.key };
      context.logger.info('output copied', { jobId: record.jobId, index, bucket, key: copied.key, bytes: copied.bytes, contentType: copied.contentType });
    } catch (error) {
      return failedAttempt({ ...record, results }, error, attempts, now, context);
    }
  }
  const { copy: _copy, ...rest } = record;
  return { ...rest, results, copying: { attempts, copiedAt: now.toISOString() }, updatedAt: now.toISOString() };
}

function failedAttempt(record: JobRecord, error: unknown, attempts: number, now: Date, context: CopyContext): JobRecord {
  const described = describeError(error);
  const lastError = `${described.code}: ${described.message}`;
  const final = !(isYikeError(error) && error.retryable) || attempts >= COPY_MAX_ATTEMPTS;
  if (final) {
    context.logger.error('output copy given up: the job keeps ICE’s URL only', { jobId: record.jobId, attempts, error: described });
    return { ...record, copy: 'failed', copying: { attempts, lastError }, updatedAt: now.toISOString() };
  }
  const delay = Math.min(COPY_RETRY_MAX_MS, COPY_RETRY_BASE_MS * 2 ** (attempts - 1)) * (1 + 0.2 * (context.random ?? Math.random)());
  const nextAttemptAt = new Date(now.getTime() + Math.round(delay)).toISOString();
  context.logger.warn('output copy failed; tried again later', { jobId: record.jobId, attempts, nextAttemptAt, error: described });
  return { ...record, copy: 'pending', copying: { attempts, nextAttemptAt, lastError } };
}

/**
 * What users get of the own copies: `playUrl`, the first video's copy (else the first copy) signed with the role's
 * credentials for SIGNED_URL_EXPIRES_SECONDS at most (never past the STS token), and when it expires.
 */
export function playUrlOf(
  record: Pick<JobRecord, 'results'>,
  sign: ObjectUrlSigner | undefined,
  expiresSeconds: number,
  now: Date,
): { playUrl?: string; playUrlExpiresAt?: string } {
  const copies = record.results.filter((result) => result.ownBucket && result.ownKey);
  const chosen = copies.find((result) => result.kind === 'video') ?? copies[0];
  if (!chosen || !sign) return {};
  const { url, expiresAt } = sign(chosen.ownBucket!, chosen.ownKey!, expiresSeconds, now);
  return { playUrl: url, playUrlExpiresAt: expiresAt };
}
