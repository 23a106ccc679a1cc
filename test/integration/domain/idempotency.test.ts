import { runIdempotent, type IdempotencyRecord } from '../../../shared/domain/idempotency/idempotent';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import type { RecordStore } from '../../../shared/domain/ports';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { tempDir, localOssClient } from '../../helpers/local-cloud';
import { gate } from '../../helpers/waiting';

const BUCKET = 'records-bucket';

describe('exactly-once records in OSS', () => {
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let store: RecordStore;
  let n = 0;
  const nextKey = () => `.yike-jobs/test/${++n}.json`;

  beforeAll(async () => {
    dir = tempDir('idempotency-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    store = createOssRecordStore(localOssClient(oss.url, BUCKET));
  });
  afterAll(async () => {
    await oss.close();
    dir.remove();
  });

  const base = { idempotencyKey: 'k', inProgressTtlMs: 30_000, isOutcomeUnknown: () => false };

  it('creates the claim with a conditional write that OSS refuses to repeat', async () => {
    // Arrange
    const recordKey = nextKey();

    // Act
    const first = await store.createIfAbsent(recordKey, { a: 1 });
    const second = await store.createIfAbsent(recordKey, { a: 2 });

    // Assert
    expect([first, second]).toEqual([true, false]);
    expect(await store.get(recordKey)).toEqual({ a: 1 });
    expect(
      oss
        .requests()
        .filter((r) => r.key === recordKey && r.method === 'PUT')
        .map((r) => [r.status, r.code]),
    ).toEqual([
      [200, undefined],
      [409, 'FileAlreadyExists'],
    ]);
  });

  it('writes timestamps as ISO strings with the in-progress expiry exactly ttl milliseconds after the start', async () => {
    // Arrange
    const recordKey = nextKey();
    const now = new Date('2026-11-24T10:00:00.000Z');
    let seen: IdempotencyRecord | undefined;

    // Act
    await runIdempotent({
      ...base,
      store,
      recordKey,
      inProgressTtlMs: 45_500,
      now: () => now,
      execute: async () => {
        seen = await store.get<IdempotencyRecord>(recordKey);
        return 'done';
      },
    });

    // Assert
    expect(seen).toMatchObject({ status: 'IN_PROGRESS', startedAt: '2026-11-24T10:00:00.000Z', inProgressExpiresAt: '2026-11-24T10:00:45.500Z' });
    expect(await store.get(recordKey)).toMatchObject({ status: 'COMPLETED', completedAt: '2026-11-24T10:00:00.000Z', result: 'done' });
  });

  it('expires a COMPLETED record after its ttl so the key can run again', async () => {
    // Arrange
    const recordKey = nextKey();
    let clock = new Date('2026-11-24T10:00:00.000Z');
    await runIdempotent({ ...base, store, recordKey, completedTtlMs: 60_000, now: () => clock, execute: async () => 'first' });

    // Act
    clock = new Date('2026-11-24T10:00:59.999Z');
    const within = await runIdempotent({ ...base, store, recordKey, completedTtlMs: 60_000, now: () => clock, execute: async () => 'second' });
    clock = new Date('2026-11-24T10:01:00.000Z');
    const after = await runIdempotent({ ...base, store, recordKey, completedTtlMs: 60_000, now: () => clock, execute: async () => 'third' });

    // Assert
    expect(within).toMatchObject({ status: 'duplicate', result: 'first' });
    expect(after).toMatchObject({ status: 'executed', result: 'third' });
  });

  it('deletes the claim when the work fails so a retry runs again', async () => {
    // Arrange
    const recordKey = nextKey();

    // Act
    const failing = runIdempotent({ ...base, store, recordKey, execute: async () => Promise.reject(new Error('boom')) });
    await expect(failing).rejects.toThrow('boom');
    const retried = await runIdempotent({ ...base, store, recordKey, execute: async () => 'ok' });

    // Assert
    expect(retried).toMatchObject({ status: 'executed', result: 'ok' });
  });

  it('lets exactly one of two concurrent takers replace an expired claim', async () => {
    // Arrange
    const recordKey = nextKey();
    await store.put(recordKey, {
      schemaVersion: 1,
      status: 'IN_PROGRESS',
      idempotencyKey: 'k',
      owner: 'gone',
      startedAt: '2026-01-01T00:00:00.000Z',
      inProgressExpiresAt: '2026-01-01T00:01:00.000Z',
    });
    // The work holds until the taker that does not run it has ended (or until a second run of it: then both end).
    let executions = 0;
    const done = gate();
    const work = async () => {
      if (++executions > 1) done.open();
      await done.opened;
      return 'job';
    };

    // Act
    const takers = [runIdempotent({ ...base, store, recordKey, execute: work }), runIdempotent({ ...base, store, recordKey, execute: work })];
    await Promise.race(takers);
    done.open();
    const outcomes = await Promise.all(takers);

    // Assert
    expect(executions).toBe(1);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['executed', 'in-progress']);
  });

  it('returns the result of finished work even when the COMPLETED record cannot be written', async () => {
    // Arrange: a store whose overwrites fail (an OSS outage after the submit)
    const recordKey = nextKey();
    const failures: unknown[] = [];
    const flaky: RecordStore = { ...store, put: async () => Promise.reject(Object.assign(new Error('down'), { code: 'ServiceUnavailable' })) };

    // Act
    const outcome = await runIdempotent({
      ...base,
      store: flaky,
      recordKey,
      execute: async () => 'job-1',
      onRecordWriteFailed: (error) => failures.push(error),
    });

    // Assert
    expect(outcome).toMatchObject({ status: 'executed', result: 'job-1' });
    expect(failures).toHaveLength(1);
  });
});
