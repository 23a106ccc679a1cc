import { createHandler, type PartialFailureError } from '../../../../functions/oss-submit/index';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext } from '../../../helpers/local-cloud';
import { tuningWith } from '../../../../shared/runtime/tuning';
import { NEVER_ANSWERS_MS } from '../../../helpers/waiting';
import { BUCKET, FEMALE_KEY, FIXTURE_ETAG, startUploadHarness, THREE_FAST_ATTEMPTS, type UploadHarness } from './harness';

describe('the OSS upload function against the local ICE and OSS endpoints: duplicate deliveries and retries', () => {
  let cloud: UploadHarness;

  beforeAll(async () => {
    cloud = await startUploadHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(async () => cloud.reset());

  it('submits one job when the same event is delivered twice', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));

    // Act
    const first = await handler(payload, fcContext());
    const second = await handler(payload, fcContext({ retryCount: 1 }));

    // Assert
    expect(cloud.ice.jobs()).toHaveLength(1);
    expect(second).toEqual({
      submitted: [],
      skipped: [{ source: `oss://${BUCKET}/${FEMALE_KEY}`, reason: 'duplicate', jobId: first.submitted[0]!.jobId }],
      failed: [],
    });
  });

  it('submits one job when the same event is delivered five times at once', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));

    // Act
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => handler(payload, fcContext())));

    // Assert: one submits; the others skip it as a duplicate or fail retryably while it is in progress (FC retries them)
    const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as PartialFailureError] : []));
    expect(cloud.ice.jobs()).toHaveLength(1);
    expect(results.flatMap((result) => result.submitted)).toHaveLength(1);
    expect(results.flatMap((result) => result.skipped.map((item) => item.reason)).every((reason) => reason === 'duplicate')).toBe(true);
    expect(failures.flatMap((failure) => failure.result.failed.map((item) => [item.code, item.retryable]))).toEqual(
      failures.map(() => ['SUBMISSION_IN_PROGRESS', true]),
    );
  });

  it('fails the invocation when ICE keeps throttling, then one job and a COMPLETED record on FC’s retry', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env(), tuning: THREE_FAST_ATTEMPTS });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));
    cloud.ice.faults.throttleNext(3);

    // Act
    const firstAttempt = handler(payload, fcContext());
    await expect(firstAttempt).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', retryable: true });
    const retried = await handler(payload, fcContext({ retryCount: 1 }));

    // Assert
    expect(cloud.ice.calls().map((call) => [call.action, call.status])).toEqual([
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 400],
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
    ]);
    expect(cloud.ice.jobs()).toHaveLength(1);
    expect(retried.submitted).toHaveLength(1);
    expect(await cloud.readRecord(FEMALE_KEY, FIXTURE_ETAG)).toMatchObject({ status: 'COMPLETED', result: { jobId: cloud.ice.jobs()[0]!.jobId } });
  });

  it('keeps an OUTCOME_UNKNOWN record after a timed-out submit and never resubmits on retry', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env(), tuning: tuningWith(THREE_FAST_ATTEMPTS, { ice: { readTimeoutMs: 2_000 } }) });
    const payload = asFcPayload(loadEvent('oss-trigger-put'));
    cloud.ice.faults.delayNext(1, 0); // the precheck answers at once
    cloud.ice.faults.delayNext(1, NEVER_ANSWERS_MS); // the submit's answer never comes

    // Act
    const first = handler(payload, fcContext());
    await expect(first).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', retryable: false, message: expect.stringContaining('ICE_TIMEOUT') });
    const retry = handler(payload, fcContext({ retryCount: 1 }));

    // Assert: both invocations have ended, so nothing can be sent after them
    await expect(retry).rejects.toMatchObject({ code: 'PARTIAL_FAILURE', message: expect.stringContaining('OUTCOME_UNKNOWN') });
    expect(cloud.ice.jobs()).toHaveLength(1);
    expect(await cloud.readRecord(FEMALE_KEY, FIXTURE_ETAG)).toMatchObject({ status: 'OUTCOME_UNKNOWN', error: { code: 'ICE_TIMEOUT' } });
  });

  it('leaves an unexpired IN_PROGRESS record to its owner and fails retryably, so FC comes back rather than dropping the upload', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });
    const live = {
      schemaVersion: 1,
      status: 'IN_PROGRESS',
      idempotencyKey: 'x',
      owner: 'live-owner',
      startedAt: new Date().toISOString(),
      inProgressExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await cloud.client.put(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key: FEMALE_KEY, eTag: FIXTURE_ETAG }), Buffer.from(JSON.stringify(live)));

    // Act
    const run = handler(asFcPayload(loadEvent('oss-trigger-put')), fcContext());

    // Assert
    await expect(run).rejects.toMatchObject({
      code: 'PARTIAL_FAILURE',
      retryable: true,
      result: { failed: [expect.objectContaining({ source: `oss://${BUCKET}/${FEMALE_KEY}`, code: 'SUBMISSION_IN_PROGRESS' })] },
    });
    expect(cloud.ice.calls()).toHaveLength(0);
  });
});
