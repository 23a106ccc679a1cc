import { createHash } from 'node:crypto';
import { mapWithConcurrency } from '../../runtime/concurrency';
import { withAttempts } from '../../runtime/retry';
import type { IdempotencyRecord } from '../idempotency/idempotent';
import type { RecordStore } from '../ports';
import type { JobRequestInput, ObjectCreated } from '../submissions/work-items';

/**
 * The line of deferred items: `<RECORDS_PREFIX>deferred/<deferred at, sortable>-<record hash>.json`, one per item
 * an upload or pipeline event could not submit within the budget (its submit record says DEFERRED). OSS lists keys
 * in lexicographic order, so a listing is the line, oldest first. The entry holds what the item needs to be
 * submitted again through the one-job path (the object, or the pipeline request), and the renewal removes it once
 * the item is submitted, skipped or failed for good.
 */
export type DeferredItem = { kind: 'object'; object: ObjectCreated } | { kind: 'request'; request: JobRequestInput };

export interface DeferredEntry {
  schemaVersion: 1;
  /** The item's submit (idempotency) record, which says DEFERRED, and its bucket. */
  recordKey: string;
  recordsBucket: string;
  source: string;
  deferredAt: string;
  /** The budget day that refused it. */
  day: string;
  code: string;
  /** The AUTH_TOKENS name the item counts against, when it has a quota. */
  token?: string;
  item: DeferredItem;
}

export type NewDeferredEntry = Omit<DeferredEntry, 'schemaVersion' | 'deferredAt'>;

const deferredPrefix = (recordsPrefix: string) => `${recordsPrefix}deferred/`;

const WRITE_ATTEMPTS = 3;
const WRITE_PAUSE_MS = 100;

/** How the key of a submit record's entry ends: a hash of the record key, so its entries are found from a listing alone. */
export function deferredEntrySuffix(recordKey: string): string {
  return `-${createHash('sha256').update(recordKey).digest('hex').slice(0, 16)}.json`;
}

/** Writes the entry (create-only, retried); returns its key. A store that keeps failing throws (the item fails retryably). */
export async function writeDeferredEntry(
  store: Pick<RecordStore, 'createIfAbsent'>,
  recordsPrefix: string,
  entry: NewDeferredEntry,
  at: Date,
): Promise<string> {
  const deferredAt = at.toISOString();
  const key = `${deferredPrefix(recordsPrefix)}${deferredAt.replace(/[-:.]/g, '')}${deferredEntrySuffix(entry.recordKey)}`;
  const body: DeferredEntry = { schemaVersion: 1, ...entry, deferredAt };
  // false: this very entry was written by an attempt whose answer was lost.
  await withAttempts(
    () => store.createIfAbsent(key, body),
    WRITE_ATTEMPTS,
    (attempt) => WRITE_PAUSE_MS * attempt,
  );
  return key;
}

/** The entries' keys, oldest first (at most `limit`). */
export async function listDeferred(store: Pick<RecordStore, 'list'>, recordsPrefix: string, limit?: number): Promise<string[]> {
  const keys = await store.list(deferredPrefix(recordsPrefix), limit === undefined ? undefined : { limit });
  return keys.filter((key) => key.endsWith('.json'));
}

/** Entries and records read at once while listing the line. */
const READ_CONCURRENCY = 8;

export interface DeferredLine {
  entryKey: string;
  deferredAt: string;
  day: string;
  code: string;
  source: string;
  token?: string;
  recordKey: string;
  /** The submit record's status now (DEFERRED while it waits). */
  status?: string;
}

/** `yike-jobs deferred list`: each entry of the line, oldest first, with its submit record's status now. */
export async function listDeferredLine(store: RecordStore, recordsPrefix: string): Promise<DeferredLine[]> {
  const keys = await listDeferred(store, recordsPrefix);
  const lines = await mapWithConcurrency(keys, READ_CONCURRENCY, async (entryKey) => {
    const entry = await store.get<DeferredEntry>(entryKey);
    if (!entry) return undefined;
    const record = await store.get<IdempotencyRecord>(entry.recordKey).catch(() => undefined);
    const line: DeferredLine = {
      entryKey,
      deferredAt: entry.deferredAt,
      day: entry.day,
      code: entry.code,
      source: entry.source,
      ...(entry.token === undefined ? {} : { token: entry.token }),
      recordKey: entry.recordKey,
      ...(record ? { status: record.status } : {}),
    };
    return line;
  });
  return lines.filter((line): line is DeferredLine => line !== undefined);
}
