import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Config } from '../../shared/runtime/config';
import { describeError, YikeError } from '../../shared/runtime/errors';
import { sha256 } from '../../shared/domain/submissions/record-keys';
import { skipReasonForObject, type SkipReason } from '../../shared/domain/submissions/submissions';

/**
 * Backfill: submit objects that were uploaded before the trigger existed (or while it was broken) through the same
 * function the trigger invokes. Listing is ListObjects V1 (marker-based, so a checkpoint is just the last key done);
 * the function's job records make every object submit at most once however often the backfill runs.
 */

/** One entry of a ListObjects page, as ali-oss returns it (etag may still carry its quotes). */
export interface ListedObject {
  name: string;
  size: number;
  etag: string;
  lastModified: string;
}

export interface ListPage {
  objects: ListedObject[];
  /** Set when the listing continues after this page. */
  nextMarker?: string;
}

export interface BackfillProgress {
  listed: number;
  /** Items finished in this run, whatever the outcome (invoked, skipped or failed). */
  settled: number;
  invoked: number;
  skipped: number;
  failed: number;
  inFlight: number;
  /** Every key up to this one is done. */
  marker?: string;
  listingDone: boolean;
}

export interface BackfillFailure {
  key: string;
  code: string;
  message: string;
}

export interface BackfillCounts {
  listed: number;
  invoked: number;
  skipped: Partial<Record<SkipReason, number>>;
  failed: number;
}

export interface BackfillSummary {
  bucket: string;
  prefix: string;
  app?: string;
  /** Objects listed by this run. */
  listed: number;
  /** Objects handed to `submit` by this run (0 in a dry run). */
  invoked: number;
  /** Objects a dry run would have handed to `submit`. */
  wouldInvoke?: number;
  skipped: Partial<Record<SkipReason, number>>;
  failed: BackfillFailure[];
  dryRun: boolean;
  interrupted: boolean;
  /** The checkpoint marker this run started after. */
  resumedFrom?: string;
  /** Every key up to this one is done (what the checkpoint holds). */
  marker?: string;
  /** This run plus the runs it resumed. */
  totals: BackfillCounts;
  checkpointPath?: string;
  elapsedMs: number;
}

export interface BackfillClock {
  now(): number;
  /** Rejects when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface BackfillOptions {
  bucket: string;
  prefix: string;
  /** With an app, each object becomes a pipeline event for that app; without, an OSS trigger event. */
  app?: string;
  /** Submissions in flight at once. */
  concurrency: number;
  /** Submissions started per second, at most. */
  ratePerSecond: number;
  dryRun: boolean;
  checkpointPath?: string;
  list: (marker?: string) => Promise<ListPage>;
  submit: (event: Buffer, object: ListedObject) => Promise<void>;
  config: Config;
  onProgress?: (state: BackfillProgress) => void;
  signal?: AbortSignal;
  /** Default: the real clock. */
  clock?: BackfillClock;
  /** Checkpoint after this many settled items. Default CHECKPOINT_EVERY_ITEMS. */
  checkpointEvery?: number;
}

/** Often enough that an interrupted run repeats little, rarely enough that the writes cost nothing. */
export const CHECKPOINT_EVERY_ITEMS = 20;
/** A token bucket this many seconds deep lets freed slots refill at once without drifting far above the rate. */
const BURST_SECONDS = 0.25;
/** Backfilled objects are judged as if just uploaded with PutObject (always an EVENT_NAMES default). */
const BACKFILL_EVENT_NAME = 'PutObject';
const OSS_SCHEMA_VERSION = '1.0';
const EVENT_VERSION = '1.0';
/** Marks synthesized trigger events in the function's logs. */
const BACKFILL_RULE_ID = 'yike-backfill';
/** jobRequestBodySchema caps idempotencyKey at 256 characters; longer keys are replaced by their hash. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
/** Finished keys the frontier keeps before dropping them. */
const FRONTIER_COMPACT_AFTER = 1024;
/** Failures kept in the checkpoint file, so it stays small for a bucket where everything fails. */
const MAX_CHECKPOINT_FAILURES = 1000;

export const realClock: BackfillClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
};

// ---------------------------------------------------------------------------------------------- events

export function stripETagQuotes(etag: string): string {
  return etag.replace(/"/g, '');
}

/** The OSS trigger payload the function would have received for this upload: same field set as the FC sample. */
export function ossTriggerEventFor(bucket: string, object: ListedObject, config: Config): Buffer {
  const accountId = config.fc.accountId ?? '';
  const region = config.oss.region;
  const record = {
    eventName: `ObjectCreated:${BACKFILL_EVENT_NAME}`,
    eventSource: 'acs:oss',
    eventTime: new Date(object.lastModified).toISOString(),
    eventVersion: EVENT_VERSION,
    oss: {
      bucket: { arn: `acs:oss:${region}:${accountId}:${bucket}`, name: bucket, ownerIdentity: accountId },
      object: { deltaSize: object.size, eTag: stripETagQuotes(object.etag), key: eventKey(object.name, config), size: object.size },
      ossSchemaVersion: OSS_SCHEMA_VERSION,
      ruleId: BACKFILL_RULE_ID,
    },
    region,
    requestParameters: { sourceIPAddress: '' },
    responseElements: { requestId: randomUUID() },
    userIdentity: { principalId: accountId },
  };
  return Buffer.from(JSON.stringify({ events: [record] }));
}

/** With OSS_KEY_ENCODING=url the function decodes keys, so they are sent encoded to arrive unchanged. */
function eventKey(key: string, config: Config): string {
  return config.oss.keyEncoding === 'url' ? key.split('/').map(encodeURIComponent).join('/') : key;
}

/** One key per object version and app: a re-run replays the first answer instead of submitting again. */
export function backfillIdempotencyKey(bucket: string, object: ListedObject, app: string): string {
  const key = `backfill:${bucket}/${object.name}@${stripETagQuotes(object.etag)}:${app}`;
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH ? key : `backfill:sha256:${sha256(key)}`;
}

export function pipelineEventFor(bucket: string, object: ListedObject, app: string): Buffer {
  return Buffer.from(JSON.stringify({ image: { bucket, key: object.name }, app, idempotencyKey: backfillIdempotencyKey(bucket, object, app) }));
}

/** Why the function would skip this object; such objects are never invoked. */
export function skipReasonForListed(bucket: string, object: ListedObject, config: Config): SkipReason | undefined {
  return skipReasonForObject(
    {
      bucket,
      key: object.name,
      eTag: stripETagQuotes(object.etag),
      size: object.size,
      eventName: BACKFILL_EVENT_NAME,
      region: config.oss.region,
      eventTime: object.lastModified,
    },
    config,
  );
}

// ---------------------------------------------------------------------------------------------- rate limit

export interface RateLimiter {
  /** Resolves when a call may start; rejects when the signal aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

/** A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Callers are served in order. */
export function createRateLimiter(options: { ratePerSecond: number; burst?: number; clock?: BackfillClock }): RateLimiter {
  const clock = options.clock ?? realClock;
  const rate = options.ratePerSecond;
  if (!(rate > 0)) throw new RangeError(`ratePerSecond must be positive, got ${rate}`);
  const capacity = options.burst ?? Math.max(1, Math.ceil(rate * BURST_SECONDS));
  let tokens = capacity;
  let refilledAt = clock.now();
  let turn: Promise<void> = Promise.resolve();

  const refill = (): void => {
    const now = clock.now();
    tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * rate);
    refilledAt = now;
  };
  const takeOne = async (signal?: AbortSignal): Promise<void> => {
    refill();
    if (tokens < 1) {
      await clock.sleep(Math.ceil(((1 - tokens) / rate) * 1000), signal);
      refill();
    }
    tokens -= 1;
  };
  return {
    take(signal) {
      const mine = turn.then(() => takeOne(signal));
      turn = mine.catch(() => undefined);
      return mine;
    },
  };
}

// ---------------------------------------------------------------------------------------------- checkpoint

const countSchema = z.number().int().nonnegative();

export const checkpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  prefix: z.string(),
  app: z.string().nullable(),
  /** Every key up to and including this one is done; null before the first. */
  marker: z.string().nullable(),
  /** The listing reached its end: a new run starts from the beginning. */
  completed: z.boolean(),
  updatedAt: z.string(),
  totals: z.object({ listed: countSchema, invoked: countSchema, skipped: z.record(z.string(), countSchema), failed: countSchema }),
  failures: z.array(z.object({ key: z.string(), code: z.string(), message: z.string() })),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export interface CheckpointIdentity {
  bucket: string;
  prefix: string;
  app?: string;
}

/** Where a run resumes: after the checkpoint's marker, unless there is none or it completed. */
export interface ResumePoint {
  marker?: string;
  previous?: Checkpoint;
}

/**
 * Reads the checkpoint for this bucket/prefix/app. An unfinished checkpoint of another listing is refused rather
 * than overwritten: it is somebody's progress. A completed one is history, and this run starts afresh.
 */
export function loadResumePoint(path: string | undefined, identity: CheckpointIdentity): ResumePoint {
  if (!path || !existsSync(path)) return {};
  let checkpoint: Checkpoint;
  try {
    checkpoint = checkpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new YikeError(
      'CHECKPOINT_INVALID',
      `${path} is not a backfill checkpoint (${describeError(error).message.split('\n')[0]}); delete it or pass another --checkpoint`,
    );
  }
  const sameListing = checkpoint.bucket === identity.bucket && checkpoint.prefix === identity.prefix && checkpoint.app === (identity.app ?? null);
  if (!sameListing && checkpoint.completed) return {};
  if (!sameListing) {
    throw new YikeError(
      'CHECKPOINT_MISMATCH',
      `${path} belongs to bucket "${checkpoint.bucket}", prefix "${checkpoint.prefix}", app ${checkpoint.app ?? '(routes)'}; pass another --checkpoint or delete it`,
    );
  }
  if (checkpoint.completed) return { previous: checkpoint };
  return { marker: checkpoint.marker ?? undefined, previous: checkpoint };
}

/** Temp file + rename: a crash mid-write leaves the previous checkpoint, never half of one. */
export function writeCheckpointAtomically(path: string, checkpoint: Checkpoint): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(temp, path);
}

// ---------------------------------------------------------------------------------------------- the run

/** Tracks which listed keys are done, so the checkpoint marker only passes keys that are all finished. */
class Frontier {
  /** Keys from the oldest unfinished one on; `base` is the index of keys[0]. */
  private keys: string[] = [];
  private done: boolean[] = [];
  private base = 0;
  private head = 0;
  marker: string | undefined;

  constructor(start: string | undefined) {
    this.marker = start;
  }

  add(key: string): number {
    this.keys.push(key);
    this.done.push(false);
    return this.base + this.keys.length - 1;
  }

  finish(index: number): void {
    this.done[index - this.base] = true;
    while (this.head < this.keys.length && this.done[this.head]) {
      this.marker = this.keys[this.head];
      this.head += 1;
    }
    // Forget finished keys now and then, so a run over millions of objects holds only the in-flight window.
    if (this.head >= FRONTIER_COMPACT_AFTER) {
      this.keys = this.keys.slice(this.head);
      this.done = this.done.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}

interface RunState {
  counts: BackfillCounts;
  wouldInvoke: number;
  failures: BackfillFailure[];
  settled: number;
  inFlight: Set<Promise<void>>;
  frontier: Frontier;
  listingDone: boolean;
}

function addSkip(skipped: BackfillCounts['skipped'], reason: SkipReason): void {
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}

function skippedTotal(skipped: BackfillCounts['skipped']): number {
  return Object.values(skipped).reduce((sum, count) => sum + (count ?? 0), 0);
}

function mergeCounts(previous: Checkpoint['totals'] | undefined, current: BackfillCounts): BackfillCounts {
  const skipped: BackfillCounts['skipped'] = { ...(previous?.skipped as BackfillCounts['skipped']) };
  for (const [reason, count] of Object.entries(current.skipped)) skipped[reason as SkipReason] = (skipped[reason as SkipReason] ?? 0) + (count ?? 0);
  return {
    listed: (previous?.listed ?? 0) + current.listed,
    invoked: (previous?.invoked ?? 0) + current.invoked,
    skipped,
    failed: (previous?.failed ?? 0) + current.failed,
  };
}

function eventFor(options: BackfillOptions, object: ListedObject): Buffer {
  return options.app ? pipelineEventFor(options.bucket, object, options.app) : ossTriggerEventFor(options.bucket, object, options.config);
}

/** Resolves when a slot is free; throws the abort reason when the signal aborts first. */
async function waitForSlot(state: RunState, concurrency: number, signal: AbortSignal | undefined): Promise<void> {
  while (state.inFlight.size >= concurrency) {
    signal?.throwIfAborted();
    const aborted = abortWaiter(signal);
    try {
      await Promise.race([...state.inFlight, aborted.promise]);
    } finally {
      aborted.dispose();
    }
  }
  signal?.throwIfAborted();
}

/** Resolves (never rejects, so an unused one cannot become an unhandled rejection) when the signal aborts. */
function abortWaiter(signal: AbortSignal | undefined): { promise: Promise<void>; dispose: () => void } {
  let dispose = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve();
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose };
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (error === signal.reason || (error as Error)?.name === 'AbortError');
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const clock = options.clock ?? realClock;
  const startedAt = clock.now();
  const resume = loadResumePoint(options.checkpointPath, { bucket: options.bucket, prefix: options.prefix, app: options.app });
  // A completed checkpoint is history: this run starts over and counts afresh.
  const carried = resume.previous && !resume.previous.completed ? resume.previous : undefined;
  const limiter = createRateLimiter({ ratePerSecond: options.ratePerSecond, clock });
  const checkpointEvery = options.checkpointEvery ?? CHECKPOINT_EVERY_ITEMS;
  const state: RunState = {
    counts: { listed: 0, invoked: 0, skipped: {}, failed: 0 },
    wouldInvoke: 0,
    failures: [],
    settled: 0,
    inFlight: new Set(),
    frontier: new Frontier(resume.marker),
    listingDone: false,
  };
  let settledSinceCheckpoint = 0;
  /** A checkpoint that cannot be written stops the run: progress that cannot be saved is progress lost. */
  let checkpointError: unknown;

  const progress = (): void =>
    options.onProgress?.({
      listed: state.counts.listed,
      settled: state.settled,
      invoked: state.counts.invoked,
      skipped: skippedTotal(state.counts.skipped),
      failed: state.counts.failed,
      inFlight: state.inFlight.size,
      marker: state.frontier.marker,
      listingDone: state.listingDone,
    });

  const saveCheckpoint = (completed: boolean): void => {
    // A dry run changes nothing, so it must not move a real run's progress either.
    if (!options.checkpointPath || options.dryRun) return;
    writeCheckpointAtomically(options.checkpointPath, {
      version: 1,
      bucket: options.bucket,
      prefix: options.prefix,
      app: options.app ?? null,
      marker: state.frontier.marker ?? null,
      completed,
      updatedAt: new Date(clock.now()).toISOString(),
      totals: mergeCounts(carried?.totals, state.counts) as Checkpoint['totals'],
      failures: [...(carried?.failures ?? []), ...state.failures].slice(0, MAX_CHECKPOINT_FAILURES),
    });
  };

  const settle = (index: number): void => {
    state.frontier.finish(index);
    state.settled += 1;
    settledSinceCheckpoint += 1;
    if (settledSinceCheckpoint >= checkpointEvery) {
      settledSinceCheckpoint = 0;
      try {
        saveCheckpoint(false);
      } catch (error) {
        checkpointError ??= error;
      }
    }
    progress();
  };

  const submitOne = async (object: ListedObject, index: number): Promise<void> => {
    try {
      await options.submit(eventFor(options, object), object);
    } catch (error) {
      const { code, message } = describeError(error);
      state.counts.failed += 1;
      state.failures.push({ key: object.name, code, message });
    }
    settle(index);
  };

  const schedule = async (object: ListedObject): Promise<void> => {
    if (checkpointError !== undefined) throw checkpointError;
    const index = state.frontier.add(object.name);
    const reason = skipReasonForListed(options.bucket, object, options.config);
    if (reason) {
      state.counts.listed += 1;
      addSkip(state.counts.skipped, reason);
      return settle(index);
    }
    if (options.dryRun) {
      state.counts.listed += 1;
      state.wouldInvoke += 1;
      return settle(index);
    }
    await waitForSlot(state, options.concurrency, options.signal);
    await limiter.take(options.signal);
    // Counted only once it goes out: an object still waiting when the run stops is listed again on resume.
    state.counts.listed += 1;
    state.counts.invoked += 1;
    const task = submitOne(object, index).finally(() => state.inFlight.delete(task));
    state.inFlight.add(task);
  };

  const listAndSchedule = async (): Promise<void> => {
    let marker = resume.marker;
    do {
      options.signal?.throwIfAborted();
      const page = await options.list(marker);
      for (const object of page.objects) {
        options.signal?.throwIfAborted();
        await schedule(object);
      }
      marker = page.nextMarker;
      progress();
    } while (marker !== undefined);
    state.listingDone = true;
  };

  let interrupted = false;
  let failure: unknown;
  try {
    await listAndSchedule();
  } catch (error) {
    if (isAbort(error, options.signal)) interrupted = true;
    else failure = error;
  }
  // Whatever stopped the loop, what was started finishes and is recorded.
  await Promise.all([...state.inFlight]);
  saveCheckpoint(state.listingDone);
  progress();
  if (failure !== undefined) throw failure;

  return {
    bucket: options.bucket,
    prefix: options.prefix,
    ...(options.app ? { app: options.app } : {}),
    listed: state.counts.listed,
    invoked: state.counts.invoked,
    ...(options.dryRun ? { wouldInvoke: state.wouldInvoke } : {}),
    skipped: state.counts.skipped,
    failed: state.failures,
    dryRun: options.dryRun,
    interrupted,
    ...(resume.marker !== undefined ? { resumedFrom: resume.marker } : {}),
    ...(state.frontier.marker !== undefined ? { marker: state.frontier.marker } : {}),
    totals: mergeCounts(carried?.totals, state.counts),
    ...(options.checkpointPath && !options.dryRun ? { checkpointPath: options.checkpointPath } : {}),
    elapsedMs: clock.now() - startedAt,
  };
}
