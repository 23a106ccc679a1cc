import type { SkipReason } from '../../shared/domain/submissions/submissions';
import { describeError } from '../../shared/runtime/errors';
import { loadResumePoint, writeCheckpointAtomically, type Checkpoint } from './checkpoint';
import { ossTriggerEventFor, pipelineEventFor, skipReasonForListed } from './events';
import { createRateLimiter } from './rate-limiter';
import { realClock, type BackfillCounts, type BackfillFailure, type BackfillOptions, type BackfillSummary, type ListedObject } from './types';

/**
 * Backfill: submit objects that were uploaded before the trigger existed (or while it was broken) through the same
 * function the trigger invokes. Listing is ListObjects V1 (marker-based, so a checkpoint is just the last key done);
 * the function's job records make every object submit at most once however often the backfill runs.
 */

/** Often enough that an interrupted run repeats little, rarely enough that the writes cost nothing. */
const CHECKPOINT_EVERY_ITEMS = 20;
/** Finished keys the frontier keeps before dropping them. */
const FRONTIER_COMPACT_AFTER = 1024;
/** Failures kept in the checkpoint file, so it stays small for a bucket where everything fails. */
const MAX_CHECKPOINT_FAILURES = 1000;

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
