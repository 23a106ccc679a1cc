import type { Logger } from '../../runtime/logger';
import { listDeferred, deferredEntrySuffix } from '../budget/deferred';
import type { IdempotencyRecord } from '../idempotency/idempotent';
import { yikeAssetRecordKey } from '../images/yike-asset-reference';
import type { RecordStore, RecordStoreFor } from '../ports';
import { objectRecordKey } from '../submissions/record-keys';
import { createJobRecordStore, everyIndexKey, inflightKey, jobRecordKey, recordFromMarker, tombstoneKey, type JobRecord } from './job-record';
import { resultObjectLocation } from './notify';

/**
 * Erasing a job (`DELETE /jobs/{jobId}`, `yike-jobs erase`, RETENTION_DAYS): the uploads are people's photos, so
 * everything the job left in OSS goes, and a tombstone `<RECORDS_PREFIX>erased/<jobId>.json` (`{jobId, erasedAt}`)
 * stays, so nothing brings it back: the job's marker is gone, so the watcher no longer follows it (and a run that held it
 * lists the erasures before copying or notifying, watch-round.ts), reconcile and the rebuild from a marker skip it, and
 * GET /jobs/{jobId} answers 404.
 *
 * In the records bucket: the job record, its in-flight marker, its index entries, its notification claims, its
 * submit record (with takeover locks), the deferred-line entries of that record, and the upload's Yike asset record.
 * Beside the upload (else in the records bucket): the upload itself (only the version the job was made from: a newer
 * upload under the same key is another job's), the own copies and the result object (unless a newer job of the same
 * upload key has replaced them: then they are that job's).
 *
 * Order: the work list (`<RECORDS_PREFIX>erasures/<erasedAt>-<jobId>.json`, what is to be deleted), then the tombstone,
 * then the deletions, then `sweptAt` in the work list (which from then on names only the jobId). An erase that failed
 * part-way (an OSS error: the caller gets a 503) is finished by the next one, which answers as the first would have. A
 * watcher run or a `?wait` that held the job when it was erased may still write its record, a copy or a result object
 * back within its invocation: the watcher sweeps each work list again once RESWEEP_AFTER_MS has passed (longer than
 * any invocation), then deletes it (retention.ts).
 *
 * Not erased here: the budget's slots (they count money spent; they name the upload's `oss://` source and expire with
 * the `budget/` lifecycle rule), and what ICE keeps (the job, its output in ICE's storage, a media-library or Yike
 * asset registration): docs/lifecycle.md, "Erasure", says why.
 */
export interface ErasureDependencies {
  /** RECORDS_PREFIX, RESULTS_PREFIX, and RECORDS_BUCKET (where the Yike asset records of uploads live). */
  config: { records: { prefix: string; resultsPrefix: string; bucket?: string } };
  recordStore: RecordStoreFor;
  logger: Logger;
  now?: () => Date;
}

export type EraseOutcome =
  | { status: 'erased'; jobId: string; erasedAt: string; deleted: string[]; kept: { object: string; why: string }[] }
  | { status: 'not-found'; jobId: string }
  | { status: 'already-erased'; jobId: string; erasedAt: string };

/** What an erasure deletes, worked out from the job record: kept in the work list until it is swept again. */
export interface ErasureTargets {
  jobId: string;
  recordsBucket: string;
  appId: string;
  submittedAt: string;
  entryPoint?: string;
  submitRecordKey?: string;
  upload?: { bucket: string; key: string; eTag?: string };
  copies: { bucket: string; key: string }[];
}

export interface ErasureWork {
  jobId: string;
  erasedAt: string;
  targets: ErasureTargets;
  /** When the erase's own sweep ended; absent while (or if) it did not. */
  sweptAt?: string;
}

export function erasuresPrefix(recordsPrefix: string): string {
  return `${recordsPrefix}erasures/`;
}

/**
 * The jobs erased in the last RESWEEP_AFTER_MS or so (their work lists are still there): one ListObjects call, which the
 * watcher makes before copying or notifying, so a job erased while a run held it is neither copied nor notified by it.
 */
export async function recentlyErased(store: Pick<RecordStore, 'list'>, recordsPrefix: string): Promise<Set<string>> {
  const keys = await store.list(erasuresPrefix(recordsPrefix));
  return new Set(keys.map((key) => key.slice(key.lastIndexOf('/') + 1)).map((name) => name.slice(name.indexOf('-') + 1, -'.json'.length)));
}

function erasureWorkKey(recordsPrefix: string, erasedAt: string, jobId: string): string {
  return `${erasuresPrefix(recordsPrefix)}${erasedAt.replace(/[-:.]/g, '')}-${jobId}.json`;
}

function targetsOf(record: JobRecord, recordsBucket: string): ErasureTargets {
  return {
    jobId: record.jobId,
    recordsBucket,
    appId: record.appId,
    submittedAt: record.submittedAt,
    entryPoint: record.entryPoint,
    ...(record.submitRecordKey ? { submitRecordKey: record.submitRecordKey } : {}),
    ...(record.upload ? { upload: record.upload } : {}),
    copies: record.results.filter((result) => result.ownBucket && result.ownKey).map((result) => ({ bucket: result.ownBucket!, key: result.ownKey! })),
  };
}

/**
 * Erases the job whose records are in `recordsBucket`. `not-found` when neither a record nor an in-flight marker
 * names it; `already-erased` when its tombstone is there (a second DELETE is a 404).
 */
export async function eraseJob(jobId: string, recordsBucket: string, deps: ErasureDependencies, reason: string): Promise<EraseOutcome> {
  const prefix = deps.config.records.prefix;
  const store = deps.recordStore(recordsBucket);
  const jobs = createJobRecordStore(store, prefix);
  const [erasedAt, record, marker] = await Promise.all([jobs.erasedAt(jobId), jobs.get(jobId), jobs.getMarker(jobId)]);
  if (erasedAt !== undefined) {
    const unfinished = await store.get<ErasureWork>(erasureWorkKey(prefix, erasedAt, jobId));
    if (!unfinished || unfinished.sweptAt) return { status: 'already-erased', jobId, erasedAt };
    return finish(unfinished, store, deps, `${reason} (finishing an erase that stopped part-way)`);
  }
  // A job whose record write failed is known from its marker alone.
  const known = record ?? (marker && recordFromMarker(marker));
  if (!known) return { status: 'not-found', jobId };
  const at = (deps.now?.() ?? new Date()).toISOString();
  const work: ErasureWork = { jobId, erasedAt: at, targets: targetsOf(known, recordsBucket) };
  await store.put(erasureWorkKey(prefix, at, jobId), work);
  if (!(await store.createIfAbsent(tombstoneKey(prefix, jobId), { jobId, erasedAt: at }))) {
    // Another erase got there first: it deletes the job, and its work list is swept again like ours.
    await store.delete(erasureWorkKey(prefix, at, jobId));
    return { status: 'already-erased', jobId, erasedAt: (await jobs.erasedAt(jobId)) ?? at };
  }
  return finish(work, store, deps, reason);
}

async function finish(work: ErasureWork, store: RecordStore, deps: ErasureDependencies, reason: string): Promise<EraseOutcome> {
  const swept = await sweep(work.targets, deps);
  // Swept: the list keeps only what names no upload or copy (what a run may write back is found from the jobId, or from
  // the record it wrote back).
  const { jobId, recordsBucket, appId, submittedAt } = work.targets;
  const done: ErasureWork = {
    jobId,
    erasedAt: work.erasedAt,
    sweptAt: (deps.now?.() ?? new Date()).toISOString(),
    targets: { jobId, recordsBucket, appId, submittedAt, copies: [] },
  };
  await store.put(erasureWorkKey(deps.config.records.prefix, work.erasedAt, work.jobId), done);
  deps.logger.info('job erased', { jobId: work.jobId, reason, deleted: swept.deleted.length, kept: swept.kept });
  return { status: 'erased', jobId: work.jobId, erasedAt: work.erasedAt, ...swept };
}

/**
 * Deletes what the targets name (and a record written back since, with what it names): idempotent, so the watcher
 * runs it again on each work list. Returns the objects deleted (`oss://bucket/key`) and those kept, with why.
 */
export async function sweep(listed: ErasureTargets, deps: ErasureDependencies): Promise<{ deleted: string[]; kept: { object: string; why: string }[] }> {
  const { prefix, resultsPrefix } = deps.config.records;
  const records = deps.recordStore(listed.recordsBucket);
  const recordedAgain = await records.get<JobRecord>(jobRecordKey(prefix, listed.jobId));
  const targets = recordedAgain ? { ...listed, ...targetsOf(recordedAgain, listed.recordsBucket) } : listed;
  const copies = [...listed.copies, ...targets.copies];
  const submitRecordKey = targets.submitRecordKey ?? (await legacySubmitRecordKey(targets, records, prefix));
  const eraser = newEraser(deps);
  const { remove, kept } = eraser;

  // The records bucket: everything keyed by the jobId.
  const claims = await records.list(`${prefix}claims/${targets.jobId}/`);
  const byJobId = [inflightKey(prefix, targets.jobId), jobRecordKey(prefix, targets.jobId), ...everyIndexKey(prefix, targets), ...claims];
  await Promise.all(byJobId.map((key) => remove(targets.recordsBucket, key)));
  const upload = targets.upload;

  // Beside the upload (jobs without one: the records bucket): the upload, the copies and the result object.
  const results = resultObjectLocation({ jobId: targets.jobId, upload } as JobRecord, resultsPrefix, targets.recordsBucket);
  const resultsStore = deps.recordStore(results.bucket);
  const resultObject = await resultsStore.get<{ job?: { jobId?: string; submittedAt?: string } }>(results.key);
  const newerJob =
    resultObject?.job?.jobId !== undefined && resultObject.job.jobId !== targets.jobId && (resultObject.job.submittedAt ?? '') > targets.submittedAt;
  if (newerJob) {
    kept.push({
      object: `oss://${results.bucket}/${results.key} and its copies`,
      why: `a newer job of the same upload key (${resultObject.job!.jobId}) replaced them`,
    });
  } else {
    const copyFolder = `${results.key.slice(0, -'.json'.length)}/`;
    const unrecorded = (await resultsStore.list(copyFolder)).map((key) => ({ bucket: results.bucket, key }));
    const ownResultObject = resultObject?.job?.jobId === targets.jobId ? [{ bucket: results.bucket, key: results.key }] : [];
    await Promise.all(uniqueObjects([...copies, ...unrecorded, ...ownResultObject]).map(({ bucket, key }) => remove(bucket, key)));
  }
  await eraseSubmission({ recordsBucket: targets.recordsBucket, submitRecordKey, upload }, deps, eraser);
  return { deleted: eraser.deleted, kept };
}

interface Eraser {
  remove(bucket: string, key: string): Promise<void>;
  deleted: string[];
  kept: { object: string; why: string }[];
}

function newEraser(deps: Pick<ErasureDependencies, 'recordStore'>): Eraser {
  const eraser: Eraser = {
    deleted: [],
    kept: [],
    async remove(bucket, key) {
      await deps.recordStore(bucket).delete(key);
      eraser.deleted.push(`oss://${bucket}/${key}`);
    },
  };
  return eraser;
}

/**
 * What a submission leaves, job or not: its submit record (with takeover locks), the deferred-line entries of that
 * record, the upload's Yike asset record, and the upload itself, only while it is still the version submitted (a newer
 * upload under the same key is another submission's).
 */
async function eraseSubmission(
  submission: { recordsBucket: string; submitRecordKey?: string; upload?: { bucket: string; key: string; eTag?: string } },
  deps: ErasureDependencies,
  eraser: Eraser,
): Promise<void> {
  const { recordsBucket, submitRecordKey, upload } = submission;
  const prefix = deps.config.records.prefix;
  const records = deps.recordStore(recordsBucket);
  const submitRecords = submitRecordKey ? await records.list(submitRecordKey) : [];
  const deferred = submitRecordKey ? (await listDeferred(records, prefix)).filter((key) => key.endsWith(deferredEntrySuffix(submitRecordKey))) : [];
  const asset = upload?.eTag ? yikeAssetRecordKey(prefix, { bucket: upload.bucket, key: upload.key, eTag: upload.eTag }) : undefined;
  await Promise.all([...submitRecords, ...deferred, ...(asset ? [asset] : [])].map((key) => eraser.remove(recordsBucket, key)));
  if (!upload) return;
  const eTag = await deps.recordStore(upload.bucket).eTagOf(upload.key);
  if (eTag !== undefined && upload.eTag !== undefined && eTag.toUpperCase() !== upload.eTag.toUpperCase()) {
    eraser.kept.push({ object: `oss://${upload.bucket}/${upload.key}`, why: `a newer upload is there (eTag ${eTag}, the erased one was ${upload.eTag})` });
  } else if (eTag !== undefined) await eraser.remove(upload.bucket, upload.key);
}

/**
 * RETENTION_DAYS for an upload that made no job (refused, skipped, deferred, its outcome unknown): the upload and what
 * its submit record names. Returns the objects deleted (`oss://bucket/key`).
 */
export async function eraseUploadSubmission(
  recordsBucket: string,
  submitRecordKey: string,
  upload: { bucket: string; key: string; eTag?: string },
  deps: ErasureDependencies,
): Promise<string[]> {
  const eraser = newEraser(deps);
  await eraseSubmission({ recordsBucket, submitRecordKey, upload }, deps, eraser);
  return eraser.deleted;
}

function uniqueObjects(objects: { bucket: string; key: string }[]): { bucket: string; key: string }[] {
  const seen = new Set<string>();
  return objects.filter(({ bucket, key }) => !seen.has(`${bucket}/${key}`) && seen.add(`${bucket}/${key}`));
}

/** How far from the job's submit time a record written before submitRecordKey existed may have been completed. */
const LEGACY_WINDOW_MS = 10 * 60_000;

/**
 * The submit record of a job recorded before its record named it: an upload's from its object version; an HTTP or
 * pipeline one found among those completed within LEGACY_WINDOW_MS of the submit (their keys are hashes).
 */
async function legacySubmitRecordKey(targets: ErasureTargets, records: RecordStore, prefix: string): Promise<string | undefined> {
  const { upload } = targets;
  if (upload?.eTag) return objectRecordKey(prefix, { bucket: upload.bucket, key: upload.key, eTag: upload.eTag });
  const folder = targets.entryPoint === 'http' ? 'http/' : targets.entryPoint === 'pipeline' ? 'pipeline/' : undefined;
  if (!folder) return undefined;
  const submitted = Date.parse(targets.submittedAt);
  const near = (await records.listWithTimes(`${prefix}${folder}`)).filter(
    ({ key, lastModified }) => key.endsWith('.json') && Math.abs(Date.parse(lastModified) - submitted) <= LEGACY_WINDOW_MS,
  );
  for (const { key } of near) {
    const record = await records.get<IdempotencyRecord<{ jobId?: string }>>(key).catch(() => undefined);
    if (record?.result?.jobId === targets.jobId) return key;
  }
  return undefined;
}
