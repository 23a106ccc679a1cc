import type { Config } from '../../runtime/config';
import type { Ice, IceJob, ObjectUrlSigner } from '../ports';
import { applyIceJob, isTerminal, type JobRecord, type JobRecordStore } from './job-record';
import { playUrlOf } from './result-copy';

/**
 * What users see of a job (HTTP API, yike-jobs): the record's lifecycle fields, without the watcher's
 * bookkeeping (notification state) or the record's schema version. Every time in it is UTC (`…Z`): ICE writes its
 * execution times in China Standard Time (`+08:00`), our own times are UTC, and one answer uses one form.
 */
export interface JobView {
  jobId: string;
  appId: string;
  source: string;
  status: string;
  /** True for Finished, Failed and TimedOut: nothing changes any more. */
  terminal: boolean;
  submittedAt?: string;
  updatedAt?: string;
  executionStartTime?: string;
  executionFinishTime?: string;
  results: JobRecord['results'];
  error?: JobRecord['error'];
  entryPoint?: JobRecord['entryPoint'];
  upload?: JobRecord['upload'];
  productionId?: string;
  folderId?: string;
  /** The caller's own keys and values, as given with the job. */
  metadata?: JobRecord['metadata'];
  /** The consent given with a ticketed upload. */
  consent?: JobRecord['consent'];
  /** JOB_RESULTS `copy`: `pending` while a Finished job's outputs are being copied, `failed` once given up. */
  copy?: 'pending' | 'failed';
  /** The own copy (video first), signed with the role's credentials; see playUrlOf (result-copy.ts). */
  playUrl?: string;
  playUrlExpiresAt?: string;
}

/**
 * What GET /jobs/{jobId} answers of a job record: its view, its `playUrl` once it has an own copy, and `copy:
 * "pending"` for a Finished job whose copy has not been made yet (the watcher has not got to it, or is retrying).
 */
export function jobViewWithCopy(record: JobRecord, deps: { config: Pick<Config, 'lifecycle' | 'oss'>; signUrl?: ObjectUrlSigner; now?: Date }): JobView {
  const { lifecycle, oss } = deps.config;
  const awaitingCopy =
    lifecycle.resultCopy !== undefined && record.status === 'Finished' && record.results.some((result) => result.outputUrl && !result.ownKey);
  const copy = record.copy ?? (awaitingCopy && !record.copying ? 'pending' : undefined);
  return dropUndefined({ ...toJobView(record), copy, ...playUrlOf(record, deps.signUrl, oss.signedUrlExpiresSeconds, deps.now ?? new Date()) });
}

export function toJobView(record: JobRecord): JobView {
  return dropUndefined({
    jobId: record.jobId,
    appId: record.appId,
    source: record.source,
    status: record.status,
    terminal: isTerminal(record.status),
    submittedAt: record.submittedAt,
    updatedAt: record.updatedAt,
    executionStartTime: utc(record.executionStartTime),
    executionFinishTime: utc(record.executionFinishTime),
    results: record.results,
    error: record.error,
    entryPoint: record.entryPoint,
    upload: record.upload,
    productionId: record.productionId,
    folderId: record.folderId,
    metadata: record.metadata,
    consent: record.consent,
  });
}

/** A job ICE knows but we hold no record of (submitted before records existed, or elsewhere): ICE's answer only. */
export function iceJobView(job: IceJob): JobView {
  const image = imageOf(job.appParams);
  return dropUndefined({
    jobId: job.jobId,
    appId: job.appId ?? '',
    source: image ?? '',
    status: job.status,
    terminal: isTerminal(job.status),
    executionStartTime: utc(job.executionStartTime),
    executionFinishTime: utc(job.executionFinishTime),
    results: job.results,
    error: job.status === 'Failed' ? { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' } : undefined,
    productionId: job.productionId,
    folderId: job.folderId,
  });
}

/** The image an AppParams JSON names (the first string value), for jobs we only know from ICE. */
export function imageOf(appParams: string | undefined): string | undefined {
  if (!appParams) return undefined;
  try {
    const params = JSON.parse(appParams) as Record<string, unknown>;
    return Object.values(params).find((value): value is string => typeof value === 'string');
  } catch {
    return undefined;
  }
}

/**
 * Asks ICE about the job now and writes what changed into its record. No notification here: the watcher
 * notifies terminal jobs from its in-flight list, and this leaves the in-flight marker in place for it.
 */
export async function refreshJobRecord(
  record: JobRecord,
  deps: { ice: Pick<Ice, 'getYikeAIAppJob'>; jobs: JobRecordStore; now?: () => Date },
): Promise<JobRecord> {
  if (isTerminal(record.status)) return record;
  const job = await deps.ice.getYikeAIAppJob(record.jobId);
  // Merged into the record as it is now, not the caller's copy (a ?wait=N holds one for seconds): the watcher may
  // have written it meanwhile, and a terminal record carrying its notification state is never overwritten.
  const latest = (await deps.jobs.get(record.jobId)) ?? record;
  const { record: next, changed } = applyIceJob(latest, job, deps.now?.() ?? new Date());
  if (changed) await deps.jobs.save(next);
  return next;
}

/** An ISO-8601 time with any offset as UTC (`2026-02-06T18:53:34.001+08:00` → `2026-02-06T10:53:34.001Z`); anything else as it is. */
function utc(time: string | undefined): string | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return /^\d{4}-\d{2}-\d{2}T/.test(time) && !Number.isNaN(ms) ? new Date(ms).toISOString() : time;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
