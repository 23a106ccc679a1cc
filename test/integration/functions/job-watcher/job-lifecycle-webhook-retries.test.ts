import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { logCapture } from '../../../helpers/local-cloud';
import { JOB_MS, SECRET, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

describe('the job lifecycle (upload → job record → watcher): webhook retries', () => {
  let cloud: LifecycleHarness;

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('keeps a webhook that failed and delivers it on a later tick with the same webhook-id, both attempts verified by the standardwebhooks package with the configured secret', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/female/receiver-down.png');
    cloud.iceClock += JOB_MS;
    cloud.receiverMode = 'down';
    const logs = logCapture();
    await cloud.watcher({ LOG_LEVEL: 'warn' }, logs.sink)(timerEvent(), watcherContext());
    const pending = await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId));
    const tooSoon = await cloud.watcher()(timerEvent(), watcherContext());
    cloud.receiverMode = 'up';

    // Act
    cloud.watcherClock += 3 * 60_000;
    const later = await cloud.watcher()(timerEvent(), watcherContext());

    // Assert
    expect(pending!.notifications!.webhook).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringMatching(/^HTTP 503 from http:\/\/127\.0\.0\.1:\d+$/),
      nextAttemptAt: expect.any(String),
    });
    expect(pending!.notifications!['result-object']).toMatchObject({ status: 'delivered' });
    expect(tooSoon).toMatchObject({ delivered: 0, deliveryFailures: 0, settled: 0 });
    expect(later).toMatchObject({ delivered: 1, settled: 1 });
    expect(cloud.deliveries.map((delivery) => [delivery.body.id, delivery.signatureValid])).toEqual([[`${jobId}.finished`, true]]);
    // The refused attempt and the retry: one event, one webhook-id, each signed anew for its own timestamp.
    expect(cloud.attempts.map(({ webhookId, signatureValid, answered }) => ({ webhookId, signatureValid, answered }))).toEqual([
      { webhookId: `${jobId}.finished`, signatureValid: true, answered: 503 },
      { webhookId: `${jobId}.finished`, signatureValid: true, answered: 204 },
    ]);
    expect(Number(cloud.attempts[1]!.timestamp)).toBeGreaterThanOrEqual(Number(cloud.attempts[0]!.timestamp));
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      notifications: { webhook: { status: 'delivered', attempts: 2 } },
    });
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
    expect(logs.raw()).not.toContain(SECRET);
  });

  it('records a webhook as undelivered and logs an error after its last attempt (2 here, 10 deployed)', async () => {
    // Arrange
    const { jobId } = await cloud.upload('uploads/female/receiver-gone.png');
    cloud.iceClock += JOB_MS;
    cloud.receiverMode = 'down';
    const logs = logCapture();

    // Act
    await cloud.watcher({}, logs.sink, { lifecycle: { webhook: { maxAttempts: 2 } } })(timerEvent(), watcherContext());
    cloud.watcherClock += 3 * 60_000;
    await cloud.watcher({}, logs.sink, { lifecycle: { webhook: { maxAttempts: 2 } } })(timerEvent(), watcherContext());

    // Assert
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      notifications: { webhook: { status: 'undelivered', attempts: 2 } },
    });
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'notification undelivered after its last attempt', jobId, channel: 'webhook' }),
    );
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
  });
});
