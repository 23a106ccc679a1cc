import { asFcPayload } from '../../../helpers/fixtures';
import { logCapture } from '../../../helpers/local-cloud';
import { BUCKET, JOB_MS, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

describe('the job lifecycle (upload → job record → watcher): a watcher without a bucket, with a bucket it cannot list, or given the wrong event', () => {
  let cloud: LifecycleHarness;

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('fails with CONFIG_INVALID naming RECORDS_BUCKET when it has no bucket to watch', async () => {
    // Arrange
    const logs = logCapture();

    // Act
    const error = await cloud
      .watcher({ ALLOWED_BUCKETS: '' }, logs.sink)(timerEvent(), watcherContext())
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('RECORDS_BUCKET') });
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it('logs a records bucket it cannot list and still settles the jobs in the others', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/female/other-buckets.png');
    cloud.iceClock += JOB_MS;
    const logs = logCapture();

    // Act
    const summary = await cloud.watcher({ ALLOWED_BUCKETS: `no-such-bucket,${BUCKET}` }, logs.sink)(timerEvent(), watcherContext());

    // Assert
    expect(summary).toMatchObject({ buckets: ['no-such-bucket', BUCKET], bucketErrors: 1, settled: 1 });
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'error', message: 'records bucket could not be watched', bucket: 'no-such-bucket' }));
    expect(cloud.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
  });

  it('rejects an event that is not a timer event, naming the field', async () => {
    // Arrange
    const logs = logCapture();

    // Act
    const error = await cloud
      .watcher({}, logs.sink)(asFcPayload({ triggerName: 'timer' }), watcherContext())
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringContaining('triggerTime') });
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'error', message: 'event rejected' }));
  });
});
