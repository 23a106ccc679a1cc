import { eraseJob } from '../../../../shared/domain/lifecycle/erasure';
import { createJobRecordStore, newJobRecord, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { createLogger } from '../../../../shared/runtime/logger';
import { YikeError } from '../../../../shared/runtime/errors';
import { memoryStore } from '../submissions/submit-world';

const PREFIX = '.yike-jobs/';
const BUCKET = 'yike-uploads';
const NOON = new Date('2026-12-02T04:00:00.000Z');

/** Buckets in memory (submit-world's record store, one per bucket). */
function memoryBuckets() {
  const buckets = new Map<string, ReturnType<typeof memoryStore>>();
  const bucket = (name: string) => buckets.get(name) ?? buckets.set(name, memoryStore()).get(name)!;
  return {
    storeOf: (name: string) => bucket(name).store,
    keys: (name: string) => bucket(name).keys(),
    setETag: (name: string, key: string, eTag: string) => bucket(name).setETag(key, eTag),
    refuse: (name: string, when: Parameters<ReturnType<typeof memoryStore>['refuse']>[0]) => bucket(name).refuse(when),
  };
}

describe('eraseJob: a job and what it left, erased once', () => {
  const deps = (world: ReturnType<typeof memoryBuckets>) => ({
    config: { records: { prefix: PREFIX, resultsPrefix: '.yike-results/' } },
    recordStore: world.storeOf,
    logger: createLogger({ sink: () => undefined }),
    now: () => NOON,
  });

  /** An upload's finished job with its copy and result object, as the watcher leaves it. */
  async function finishedUpload(world: ReturnType<typeof memoryBuckets>, key: string, jobId: string, submittedAt = NOON): Promise<JobRecord> {
    const store = world.storeOf(BUCKET);
    const submitRecordKey = objectRecordKey(PREFIX, { bucket: BUCKET, key, eTag: 'E1' });
    const record: JobRecord = {
      ...newJobRecord({
        jobId,
        appId: 'sys-ao-smith-1',
        source: `oss://${BUCKET}/${key}`,
        entryPoint: 'upload',
        upload: { bucket: BUCKET, key, eTag: 'E1' },
        submitRecordKey,
        now: submittedAt,
      }),
      status: 'Finished',
      results: [{ kind: 'video', outputUrl: 'https://ice.example/out.mp4', ownBucket: BUCKET, ownKey: `.yike-results/${key}/0.mp4` }],
    };
    await store.put(key, 'image');
    await store.put(submitRecordKey, { status: 'COMPLETED', result: { jobId } });
    await createJobRecordStore(store, PREFIX).create(record);
    await store.put(`.yike-results/${key}/0.mp4`, 'video');
    await store.put(`.yike-results/${key}.json`, { id: `${jobId}.finished`, job: { jobId, submittedAt: record.submittedAt } });
    return record;
  }

  it('finishes, on the next erase, an erase that stopped part-way; the one after that is already-erased', async () => {
    // Arrange: deleting the copy fails the first time
    const world = memoryBuckets();
    await finishedUpload(world, 'uploads/female/a.png', 'job-a');
    world.refuse(BUCKET, (op, key) => op === 'delete' && key.endsWith('/0.mp4'));

    // Act
    const first = eraseJob('job-a', BUCKET, deps(world), 'test').catch((error: unknown) => error);
    const firstOutcome = await first;
    world.refuse(BUCKET, undefined);
    const second = await eraseJob('job-a', BUCKET, deps(world), 'test');
    const third = await eraseJob('job-a', BUCKET, deps(world), 'test');

    // Assert
    expect(firstOutcome).toBeInstanceOf(YikeError);
    expect(second).toMatchObject({ status: 'erased', jobId: 'job-a', erasedAt: NOON.toISOString() });
    expect(third).toEqual({ status: 'already-erased', jobId: 'job-a', erasedAt: NOON.toISOString() });
    expect(world.keys(BUCKET)).toEqual([`${PREFIX}erased/job-a.json`, `${PREFIX}erasures/20261202T040000000Z-job-a.json`]);
  });

  it('keeps a newer upload under the same key, and a newer job’s copy and result object', async () => {
    // Arrange: job-old's upload was replaced, and job-new (same key, an hour later) wrote over the copy and the result object
    const world = memoryBuckets();
    const key = 'uploads/female/same-key.png';
    await finishedUpload(world, key, 'job-old');
    await finishedUpload(world, key, 'job-new', new Date(NOON.getTime() + 3_600_000));
    world.setETag(BUCKET, key, 'E2');

    // Act
    const outcome = await eraseJob('job-old', BUCKET, deps(world), 'test');

    // Assert
    expect(outcome).toMatchObject({
      status: 'erased',
      kept: [
        { object: `oss://${BUCKET}/.yike-results/${key}.json and its copies`, why: 'a newer job of the same upload key (job-new) replaced them' },
        { object: `oss://${BUCKET}/${key}`, why: 'a newer upload is there (eTag E2, the erased one was E1)' },
      ],
    });
    expect(world.keys(BUCKET)).toEqual(expect.arrayContaining([key, `.yike-results/${key}/0.mp4`, `.yike-results/${key}.json`, `${PREFIX}jobs/job-new.json`]));
    expect(world.keys(BUCKET).filter((name) => name.includes('job-old'))).toEqual([
      `${PREFIX}erased/job-old.json`,
      `${PREFIX}erasures/20261202T040000000Z-job-old.json`,
    ]);
  });

  it('finds the HTTP submit record of a job recorded before records named it', async () => {
    // Arrange: a record without submitRecordKey, its Idempotency-Key record completed at the submit
    const world = memoryBuckets();
    const store = world.storeOf(BUCKET);
    await createJobRecordStore(store, PREFIX).create(
      newJobRecord({ jobId: 'job-http', appId: 'sys-ao-smith-1', source: 'https://img.example/a.jpg', entryPoint: 'http', now: NOON }),
    );
    await store.put(`${PREFIX}http/${'a'.repeat(64)}.json`, { status: 'COMPLETED', result: { jobId: 'job-other' } });
    await store.put(`${PREFIX}http/${'b'.repeat(64)}.json`, { status: 'COMPLETED', result: { jobId: 'job-http' } });

    // Act
    const outcome = await eraseJob('job-http', BUCKET, deps(world), 'test');

    // Assert
    expect(outcome).toMatchObject({ status: 'erased', deleted: expect.arrayContaining([`oss://${BUCKET}/${PREFIX}http/${'b'.repeat(64)}.json`]) });
    expect(world.keys(BUCKET)).toContain(`${PREFIX}http/${'a'.repeat(64)}.json`);
    expect(world.keys(BUCKET)).not.toContain(`${PREFIX}http/${'b'.repeat(64)}.json`);
  });
});
