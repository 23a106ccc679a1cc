import { runIdempotent, type IdempotencyRecord } from '../../shared/domain/idempotency/idempotent';
import { createOssRecordStore } from '../../shared/adapters/oss/record-store';
import type { RecordStore } from '../../shared/domain/ports';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { listSubmitRecords } from '../../shared/domain/lifecycle/operator';
import { inflightKey, jobRecordKey } from '../../shared/domain/lifecycle/job-record';
import { recordSubmittedJob, type JobTracking } from '../../shared/domain/lifecycle/record-submission';
import { createLogger } from '../../shared/runtime/logger';
import { logCapture, tempDir, localOssClient } from '../helpers/local-cloud';
import { eventually, gate } from '../helpers/waiting';

const BUCKET = 'records-bucket';

describe('job records when the OSS record store misbehaves (local OSS faults)', () => {
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let store: RecordStore;
  /** A client that gives up after 2 s: for a request the server holds until the test releases it. */
  let impatientStore: RecordStore;
  let n = 0;
  const nextKey = () => `.yike-faults/objects/${BUCKET}/uploads/${++n}.jpg@ETAG.json`;
  const base = { idempotencyKey: 'k', inProgressTtlMs: 30_000, isOutcomeUnknown: (error: unknown) => (error as Error).message === 'no answer' };

  beforeAll(async () => {
    dir = tempDir('record-faults-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    store = createOssRecordStore(localOssClient(oss.url, BUCKET));
    impatientStore = createOssRecordStore(localOssClient(oss.url, BUCKET, { timeout: 2_000 }));
  });
  afterAll(async () => {
    await oss.close();
    dir.remove();
  });
  afterEach(() => oss.faults.clear());

  it('runs the work once when the claim was stored but its answer was lost (reset after the request was received)', async () => {
    // Arrange
    const recordKey = nextKey();
    oss.faults.resetNext(1);
    let runs = 0;

    // Act
    const outcome = await runIdempotent({ ...base, store, recordKey, execute: async () => ++runs });

    // Assert
    expect(outcome.status).toBe('executed');
    expect(runs).toBe(1);
    expect(await store.get<IdempotencyRecord>(recordKey)).toMatchObject({ status: 'COMPLETED', result: 1 });
    expect(oss.faults.applied()).toEqual({ fail: 0, reset: 1, delay: 0 });
  });

  it('still removes the claim after a failed submit when the store answers 503 twice, so a retry can run', async () => {
    // Arrange
    const recordKey = nextKey();
    const failing = runIdempotent({
      ...base,
      store,
      recordKey,
      execute: async () => {
        oss.faults.failNext(2, 503, 'SlowDown');
        throw new Error('rejected');
      },
    });

    // Act
    await expect(failing).rejects.toThrow('rejected');
    const retried = await runIdempotent({ ...base, store, recordKey, execute: async () => 'second' });

    // Assert
    expect(retried).toMatchObject({ status: 'executed', result: 'second' });
  });

  it('keeps and lists OUTCOME_UNKNOWN after an unanswered submit even when the store first answers 500', async () => {
    // Arrange
    const recordKey = nextKey();
    const unanswered = runIdempotent({
      ...base,
      store,
      recordKey,
      context: { key: 'uploads/a.jpg' },
      execute: async () => {
        oss.faults.failNext(1, 500, 'InternalError');
        throw new Error('no answer');
      },
    });

    // Act
    await expect(unanswered).rejects.toThrow('no answer');
    const listed = await listSubmitRecords(store, '.yike-faults/', { status: 'OUTCOME_UNKNOWN' });

    // Assert
    expect(listed).toContainEqual(
      expect.objectContaining({ recordKey, kind: 'upload', status: 'OUTCOME_UNKNOWN', error: { code: 'UNKNOWN', message: 'Error: no answer' } }),
    );
  });

  it('lists a claim left IN_PROGRESS when the store stays down after a failure, for the operator', async () => {
    // Arrange
    const recordKey = nextKey();
    const failing = runIdempotent({
      ...base,
      store,
      recordKey,
      execute: async () => {
        oss.faults.failNext(3, 503, 'SlowDown');
        throw new Error('rejected');
      },
    });

    // Act
    await expect(failing).rejects.toThrow('rejected');
    const unresolved = await listSubmitRecords(store, '.yike-faults/', { status: 'IN_PROGRESS' });

    // Assert
    expect(unresolved).toContainEqual(expect.objectContaining({ recordKey, status: 'IN_PROGRESS', inProgressExpiresAt: expect.any(String) }));
    expect((await listSubmitRecords(store, '.yike-faults/', { status: 'OUTCOME_UNKNOWN' })).map((record) => record.recordKey)).not.toContain(recordKey);
  });

  it('writes a submitted job\u2019s in-flight marker, job record and index entries when OSS fails each of them twice (each write has its own attempts)', async () => {
    // Arrange: the first two requests for each object fail
    const failuresByKey = new Map<string, number>();
    oss.faults.pickWith((request) => {
      const seen = failuresByKey.get(request.key) ?? 0;
      if (seen >= 2) return undefined;
      failuresByKey.set(request.key, seen + 1);
      return { kind: 'fail', status: 503, code: 'SlowDown' };
    });
    const logs = logCapture();
    const tracking: JobTracking = {
      recordStore: store,
      bucket: BUCKET,
      recordsPrefix: '.yike-faults/',
      entryPoint: 'http',
      logger: createLogger({ sink: logs.sink }),
    };
    const jobId = '5e1f0c2a9b8d4e7f6a5b4c3d2e1f0a9b';

    // Act
    await recordSubmittedJob({ jobId, requestId: 'req-1', appId: 'sys-ao-smith-1', image: { kind: 'oss', bucket: BUCKET, key: 'uploads/a.jpg' } }, tracking);

    // Assert
    expect(await store.get(inflightKey('.yike-faults/', jobId))).toMatchObject({ jobId });
    expect(await store.get(jobRecordKey('.yike-faults/', jobId))).toMatchObject({ jobId, status: 'Submitted', source: `oss://${BUCKET}/uploads/a.jpg` });
    // Two failures each for the marker, the record and the record's two index entries (written with it).
    expect(oss.faults.applied()).toEqual({ fail: 8, reset: 0, delay: 0 });
    expect(logs.lines().filter((line) => line.level === 'error')).toEqual([]);
  });

  it('never deletes another invocation\u2019s claim when retrying the cleanup after a failed submit whose first delete answered too late', async () => {
    // Arrange: A's submit fails; its first delete is held past its client's timeout (OSS still acts on it once the
    // test releases it), and B claims the freed key before A's retried delete looks at whose the record is
    const recordKey = nextKey();
    const deleteHeld = gate();
    const retryMayRead = gate();
    let retryReading!: () => void;
    const retryStarted = new Promise<void>((resolve) => {
      retryReading = resolve;
    });
    // Only A's first DELETE of this record is held (a queued fault could hit other requests instead).
    let held = false;
    oss.faults.pickWith((request) => {
      if (held || request.method !== 'DELETE' || request.key !== recordKey) return undefined;
      held = true;
      return { kind: 'delay', until: deleteHeld.opened };
    });
    // A's store: once its first delete has failed, its reads wait for the test (B's claim is in place by then).
    let deleteFailed = false;
    const storeOfA: RecordStore = {
      ...impatientStore,
      delete: (key) =>
        impatientStore.delete(key).catch((error: unknown) => {
          deleteFailed = true;
          throw error;
        }),
      get: async (key) => {
        if (deleteFailed) {
          retryReading();
          await retryMayRead.opened;
        }
        return impatientStore.get(key);
      },
    };
    let releaseB!: () => void;
    const a = runIdempotent({
      ...base,
      store: storeOfA,
      recordKey,
      execute: async () => {
        throw new Error('rejected');
      },
    });
    const settledA = a.catch((error: Error) => error.message);
    await retryStarted;
    deleteHeld.open();
    await oss.idle(); // A's late first delete has landed: the key is free
    const freed = await store.get(recordKey);
    const b = runIdempotent({ ...base, store, recordKey, execute: () => new Promise<string>((resolve) => (releaseB = () => resolve('b'))) });
    const claimOfB = await eventually(() => store.get<IdempotencyRecord>(recordKey), "B's claim");

    // Act
    retryMayRead.open();
    expect(await settledA).toBe('rejected');
    const afterA = await store.get<IdempotencyRecord>(recordKey);
    releaseB();

    oss.faults.pickWith(undefined);

    // Assert
    expect(held).toBe(true);
    expect(freed).toBeUndefined();
    expect(claimOfB).toMatchObject({ status: 'IN_PROGRESS' });
    expect(afterA).toEqual(claimOfB);
    expect(await b).toMatchObject({ status: 'executed', result: 'b' });
  });
});
