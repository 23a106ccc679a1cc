import type { IdempotencyRecord } from './idempotency/idempotent';
import type { RecordStore } from './idempotency/store';

/**
 * The records an operator must look at: submits whose outcome is unknown (OUTCOME_UNKNOWN: ICE may or may
 * not have created the job, and nothing resubmits it), and IN_PROGRESS records whose holder never finished.
 * Domain only (a RecordStore in, plain objects out), so an operator CLI (`yike-jobs list`) can reuse it.
 */
export interface UnresolvedRecord {
  recordKey: string;
  status: 'OUTCOME_UNKNOWN' | 'IN_PROGRESS';
  /** For uploads: bucket, key, eTag; for pipeline events: source. */
  context?: Record<string, unknown>;
  error?: { code: string; message: string };
  startedAt: string;
  /** IN_PROGRESS only: when another delivery may take it over. */
  inProgressExpiresAt?: string;
}

const READ_CONCURRENCY = 8;

/** Every OUTCOME_UNKNOWN (and, with includeInProgress, IN_PROGRESS) record under the records prefix, oldest first. */
export async function listUnresolvedRecords(store: RecordStore, recordsPrefix: string, options: { includeInProgress?: boolean } = {}): Promise<UnresolvedRecord[]> {
  // Takeover locks (`<record>.takeover-<owner>`) are not records.
  const keys = (await store.list(recordsPrefix)).filter((key) => key.endsWith('.json'));
  const records: UnresolvedRecord[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const recordKey = keys[next++]!;
      const record = await store.get<IdempotencyRecord>(recordKey);
      if (!record) continue;
      const wanted = record.status === 'OUTCOME_UNKNOWN' || (options.includeInProgress === true && record.status === 'IN_PROGRESS');
      if (!wanted) continue;
      records.push({
        recordKey,
        status: record.status as UnresolvedRecord['status'],
        context: record.context,
        error: record.error,
        startedAt: record.startedAt,
        inProgressExpiresAt: record.inProgressExpiresAt,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
  return records.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.recordKey.localeCompare(b.recordKey));
}

/** Only the unknown outcomes: the submits an operator must check in ICE before deleting the record. */
export async function listUnknownOutcomes(store: RecordStore, recordsPrefix: string): Promise<UnresolvedRecord[]> {
  return listUnresolvedRecords(store, recordsPrefix);
}
