import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { startWatcherWorld, type WatcherWorld } from './watcher-world';

const PREFIX = '.yike-jobs/';
const JOB_MS = 30_000;
const MINUTE = 60_000;

describe('no job left unfollowed: a job whose record or marker was never written is found and notified', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(async () => {
    await world.reset();
    // A first pass, so the next one looks back from now (the watcher's clock and OSS's Last-Modified agree here).
    await world.watch();
  });

  it('writes the job record from the in-flight marker when the record write failed, and follows the job to its notification', async () => {
    // Arrange: the record write failed at submit; the marker (which carries the record's fields) was written
    const { jobId } = await world.upload('uploads/female/no-record.png');
    const written = (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    await world.client.delete(jobRecordKey(PREFIX, jobId));
    world.clock.advance(3 * MINUTE);

    // Act
    const summary = await world.watch();

    // Assert
    expect(summary).toMatchObject({ rebuilt: 1, settled: 1 });
    const { status, results, notifications, settledAt, updatedAt, executionStartTime, executionFinishTime, copying, notifyRound, ...seed } =
      (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    const { status: _status, results: _results, updatedAt: _updatedAt, ...submitted } = written;
    expect(seed).toEqual(submitted);
    expect(status).toBe('Finished');
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
  });

  it('finds a job whose record and marker were both never written within 10 minutes, from its COMPLETED submit record', async () => {
    // Arrange: both writes after the submit failed; only the upload's COMPLETED record names the job
    const key = 'uploads/female/no-record-no-marker.png';
    const { jobId } = await world.upload(key);
    await world.client.delete(jobRecordKey(PREFIX, jobId));
    await world.client.delete(inflightKey(PREFIX, jobId));
    world.clock.advance(2 * MINUTE);

    // Act: a tick before 10 minutes have passed since the last pass, then the one after
    const early = await world.watch();
    world.clock.advance(8 * MINUTE);
    const reconciling = await world.watch();
    const after = await world.watch();

    // Assert
    expect(early).toMatchObject({ reconciled: 0, inflight: 0 });
    expect(reconciling).toMatchObject({ reconciled: 1, settled: 1 });
    expect(after).toMatchObject({ reconciled: 0, inflight: 0 });
    expect(await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId))).toMatchObject({
      jobId,
      appId: 'sys-ao-smith-1',
      source: `oss://yike-uploads/${key}`,
      entryPoint: 'upload',
      upload: { bucket: 'yike-uploads', key },
      status: 'Finished',
      results: [{ ownKey: `.yike-results/${key}/0.mp4` }],
    });
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(await world.readJson(`${PREFIX}watcher/reconcile.json`)).toEqual({ at: expect.any(String), through: expect.any(String) });
  });

  it('writes the in-flight marker of a job whose marker write failed, and notifies it', async () => {
    // Arrange
    const { jobId } = await world.upload('uploads/female/no-marker.png');
    await world.client.delete(inflightKey(PREFIX, jobId));
    world.clock.advance(10 * MINUTE);

    // Act
    const summary = await world.watch();

    // Assert
    expect(summary).toMatchObject({ reconciled: 1, settled: 1 });
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
  });

  it('leaves alone the jobs it already follows and those already notified', async () => {
    // Arrange: one job followed to its end, one still running
    const { jobId: done } = await world.upload('uploads/female/done.png');
    world.clock.advance(JOB_MS);
    await world.watch();
    await world.upload('uploads/female/running.png');
    world.clock.advance(10 * MINUTE - JOB_MS);

    // Act
    const summary = await world.watch({}, 65, { tuning: { lifecycle: { roundSeconds: 3_600 } } });

    // Assert
    expect(summary).toMatchObject({ reconciled: 0 });
    expect(world.deliveries.map((delivery) => delivery.body.id)).toContain(`${done}.finished`);
    expect(await world.readJson(inflightKey(PREFIX, done))).toBeUndefined();
  });
});
