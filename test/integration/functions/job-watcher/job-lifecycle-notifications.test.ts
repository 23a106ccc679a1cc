import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { BUCKET, JOB_MS, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

describe('the job lifecycle (upload → job record → watcher): what a settled job notifies, as the result object, the webhook and the next function', () => {
  let cloud: LifecycleHarness;

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('follows one upload to a Finished job record with the video URL, writes the result object, and sends a signed webhook and the next function the same payload', async () => {
    // Arrange
    const key = 'uploads/female/portrait-lifecycle.png';
    const { jobId, eTag } = await cloud.upload(key);
    const submitted = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    cloud.iceClock += JOB_MS * 0.5;
    const midway = await cloud.watcher()(timerEvent(), watcherContext());
    const executing = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));

    // Act
    cloud.iceClock += JOB_MS;
    const summary = await cloud.watcher()(timerEvent(), watcherContext());
    await cloud.fc.idle();

    // Assert
    expect(submitted).toMatchObject({
      jobId,
      status: 'Submitted',
      entryPoint: 'upload',
      source: `oss://${BUCKET}/${key}`,
      upload: { bucket: BUCKET, key, eTag },
      results: [],
    });
    expect(midway).toMatchObject({ inflight: 1, changed: 1, settled: 0, iceCalls: 1 });
    expect(executing).toMatchObject({ status: 'Executing', executionStartTime: expect.stringMatching(/\+08:00$/) });
    const record = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    const outputUrl = `${cloud.ice.httpsUrl}/__local/outputs/${jobId}.mp4`;
    // JOB_RESULTS=copy,object (the default): the video was copied beside the upload, under the results prefix, before notifying.
    const ownKey = `.yike-results/${key}/0.mp4`;
    expect(record).toMatchObject({
      status: 'Finished',
      results: [{ kind: 'video', outputUrl, ownBucket: BUCKET, ownKey }],
      settledAt: new Date(cloud.watcherClock).toISOString(),
      notifications: {
        'result-object': { status: 'delivered', attempts: 1 },
        webhook: { status: 'delivered', attempts: 1, deliveryId: `${jobId}.finished` },
        'next-function': { status: 'delivered', attempts: 1 },
      },
    });
    expect(record).not.toHaveProperty('copy');
    expect(summary).toMatchObject({ inflight: 1, settled: 1, delivered: 3, deliveryFailures: 0, copied: 1, stoppedEarly: false });
    const resultObject = await cloud.readJson<NotificationPayload>(`.yike-results/${key}.json`);
    expect(resultObject).toEqual({
      id: `${jobId}.finished`,
      type: 'yike.job.finished',
      time: record!.settledAt,
      job: expect.objectContaining({
        jobId,
        status: 'Finished',
        results: [{ kind: 'video', mediaId: expect.any(String), outputUrl, ownBucket: BUCKET, ownKey }],
        playUrl: expect.stringMatching(
          new RegExp(`^${cloud.oss.localhostUrl}/${BUCKET}/\\.yike-results/uploads/female/portrait-lifecycle\\.png/0\\.mp4\\?OSSAccessKeyId=`),
        ),
        playUrlExpiresAt: expect.any(String),
      }),
    });
    expect(resultObject!.job).not.toHaveProperty('notifications');
    expect(cloud.deliveries).toEqual([{ body: resultObject, signatureValid: true, deliveryHeader: `${jobId}.finished` }]);
    expect(cloud.nextEvents.map((event) => JSON.parse(event.toString('utf8')))).toEqual([resultObject]);
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
    // The upload's idempotency record still names the job, and the result object cloud.triggered nothing.
    expect(await cloud.readJson(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key, eTag }))).toMatchObject({ status: 'COMPLETED', result: { jobId } });
    expect(cloud.triggered.map((event) => event.key)).toEqual([key]);
  });

  it('reports a job whose image ICE fails as Failed, with yike.job.failed everywhere', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/female/will-fail.png');
    cloud.iceClock += JOB_MS;

    // Act
    await cloud.watcher()(timerEvent(), watcherContext());
    await cloud.fc.idle();

    // Assert
    const record = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    expect(record).toMatchObject({ status: 'Failed', results: [], error: { code: 'JOB_FAILED' } });
    expect(cloud.deliveries.map((delivery) => [delivery.body.type, delivery.body.id, delivery.signatureValid])).toEqual([
      ['yike.job.failed', `${jobId}.failed`, true],
    ]);
    expect(await cloud.readJson(`.yike-results/uploads/female/will-fail.png.json`)).toMatchObject({
      type: 'yike.job.failed',
      job: { jobId, status: 'Failed' },
    });
    expect(cloud.nextEvents).toHaveLength(1);
  });

  it('notifies a job whose record another reader already marked Finished (GET /jobs/{jobId}?refresh=1) before the watcher saw it', async () => {
    // Arrange (its made-up output URL cannot be copied: JOB_RESULTS without copy)
    const { jobId } = await cloud.upload('uploads/female/refreshed.png');
    const record = (await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId)))!;
    await cloud.client.put(
      jobRecordKey('.yike-jobs/', jobId),
      Buffer.from(JSON.stringify({ ...record, status: 'Finished', results: [{ kind: 'video', outputUrl: 'https://x/y.mp4' }] })),
    );

    // Act
    const summary = await cloud.watcher({ JOB_RESULTS: 'object' })(timerEvent(), watcherContext());

    // Assert
    expect(summary).toMatchObject({ iceCalls: 0, settled: 1, delivered: 3 });
    expect(cloud.deliveries.map((delivery) => [delivery.body.type, delivery.body.job.results])).toEqual([
      ['yike.job.finished', [{ kind: 'video', outputUrl: 'https://x/y.mp4' }]],
    ]);
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      settledAt: expect.any(String),
      notifications: { webhook: { status: 'delivered' } },
    });
  });
});
