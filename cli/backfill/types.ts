import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../shared/runtime/config';
import type { SkipReason } from '../../shared/domain/submissions/submissions';

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

export const realClock: BackfillClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
};
