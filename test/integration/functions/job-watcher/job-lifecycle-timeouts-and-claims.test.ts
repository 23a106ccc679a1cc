import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { claimKey } from '../../../../shared/domain/lifecycle/watcher';
import { HOUR_MS, JOB_MS, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

describe('the job lifecycle (upload → job record → watcher): timeouts and claims', () => {
  let cloud: LifecycleHarness;

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('times out a job still Executing after 6 hours and notifies yike.job.timed-out', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/male/slow.png');
    cloud.iceClock += JOB_MS * 0.5;
    cloud.watcherClock += 6 * HOUR_MS + 1_000;

    // Act
    const summary = await cloud.watcher()(timerEvent(), watcherContext());

    // Assert
    const record = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    expect(summary).toMatchObject({ timedOut: 1, settled: 1 });
    expect(record).toMatchObject({
      status: 'TimedOut',
      error: { code: 'JOB_TIMED_OUT', message: 'The job was still Executing 21600 s after it was submitted' },
    });
    expect(cloud.deliveries.map((delivery) => delivery.body.type)).toEqual(['yike.job.timed-out']);
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
  });

  it('does not time a job out on a tick when ICE could not be asked about it (it may have finished)', async () => {
    // Arrange: past the 6 hours, and ICE answers BatchGetYikeAIAppJob with 503 on every attempt
    const { jobId } = await cloud.upload('uploads/male/unasked.png');
    cloud.iceClock += JOB_MS * 0.5;
    cloud.watcherClock += 6 * HOUR_MS + 1_000;
    cloud.ice.faults.failNext(2, 503, 'ServiceUnavailable');

    // Act
    const summary = await cloud.watcher({}, undefined, { ice: { retry: { maxAttempts: 2 } } })(timerEvent(), watcherContext());

    // Assert
    expect(summary).toMatchObject({ iceErrors: 1, timedOut: 0, settled: 0 });
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ status: 'Submitted' });
    expect(cloud.deliveries).toEqual([]);
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toMatchObject({ jobId });
  });

  it('notifies once when two watcher runs handle the same finished job at the same time', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/female/twice.png');
    cloud.iceClock += JOB_MS;

    // Act
    const summaries = await Promise.all([cloud.watcher()(timerEvent(), watcherContext()), cloud.watcher()(timerEvent(), watcherContext())]);
    await cloud.fc.idle();

    // Assert
    expect(cloud.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(cloud.nextEvents).toHaveLength(1);
    expect(
      cloud.oss
        .requests()
        .filter((request) => request.method === 'PUT' && request.key === '.yike-results/uploads/female/twice.png.json' && request.status === 200),
    ).toHaveLength(1);
    expect(summaries.map((summary) => summary.delivered).sort()).toEqual([0, 3]);
    expect(await cloud.readJson(claimKey('.yike-jobs/', jobId, 0))).toMatchObject({ claimedAt: expect.any(String) });
  });

  it('leaves a job to a run holding a fresh claim, and takes over a claim whose run died more than 5 minutes ago', async () => {
    // Arrange: a claim for round 0 as a run that crashed mid-delivery would leave it
    const { jobId } = await cloud.upload('uploads/female/crashed-run.png');
    cloud.iceClock += JOB_MS;
    await cloud.client.put(
      claimKey('.yike-jobs/', jobId, 0),
      Buffer.from(JSON.stringify({ owner: 'crashed', claimedAt: new Date(cloud.watcherClock).toISOString() })),
    );

    // Act
    const whileFresh = await cloud.watcher()(timerEvent(), watcherContext());
    cloud.watcherClock += 6 * 60_000;
    const afterLease = await cloud.watcher()(timerEvent(), watcherContext());

    // Assert
    expect(whileFresh).toMatchObject({ claimedElsewhere: 1, delivered: 0, settled: 0 });
    expect(afterLease).toMatchObject({ delivered: 3, settled: 1 });
    expect(cloud.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ notifyRound: 2 });
  });
});
