import { asFcPayload } from '../../../helpers/fixtures';
import { logCapture } from '../../../helpers/local-cloud';
import { BUCKET, startWatcherWorld, type WatcherWorld } from './harness';

const JOB_MS = 60_000;

describe('the job watcher’s buckets and event', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('fails with CONFIG_INVALID naming RECORDS_BUCKET when it has no bucket to watch', async () => {
    // Arrange
    const logs = logCapture();

    // Act
    const error = await world.watch({ ALLOWED_BUCKETS: '' }, 65, { sink: logs.sink }).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('RECORDS_BUCKET') });
    expect(world.ice.calls()).toHaveLength(0);
  });

  it('logs a records bucket it cannot list and still settles the jobs in the others', async () => {
    // Arrange
    const { jobId } = await world.upload('uploads/female/other-buckets.png');
    world.clock.advance(JOB_MS);
    const logs = logCapture();

    // Act
    const summary = await world.watch({ WATCH_BUCKETS: `no-such-bucket,${BUCKET}`, RECORDS_BUCKET: '' }, 65, { sink: logs.sink });

    // Assert
    expect(summary).toMatchObject({ buckets: ['no-such-bucket', BUCKET], bucketErrors: 1, settled: 1 });
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'error', message: 'records bucket could not be watched', bucket: 'no-such-bucket' }));
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
  });

  it('rejects an event that is not a timer event, naming the field', async () => {
    // Arrange
    const logs = logCapture();

    // Act
    const error = await world.watch({}, 65, { sink: logs.sink, event: asFcPayload({ triggerName: 'timer' }) }).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringContaining('triggerTime') });
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'error', message: 'event rejected' }));
  });
});
