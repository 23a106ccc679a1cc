import { createHandler as createOssHandler } from '../../../../functions/oss-submit/index';
import { createOssClient } from '../../../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../../../shared/adapters/oss/record-store';
import { inflightKey, jobRecordKey } from '../../../../shared/domain/lifecycle/job-record';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, testConfig } from '../../../helpers/local-cloud';
import { BUCKET, FIXTURE_BODY, IMAGE_URL, post, startHttpHarness, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: routes', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    // Arrange
    const target = await cloud.gateway();

    // Act
    const unknown = await fetch(`${target.url}/nope`);
    const wrongMethod = await fetch(`${target.url}/jobs`, { method: 'DELETE' });

    // Assert
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for /nope' } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
    expect(await wrongMethod.json()).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /jobs' } });
  });

  it('reports a job ICE knows but no record holds from GetYikeAIAppJob when asked with refresh=1', async () => {
    // Arrange: a submit writes a job record; remove it, as if OSS had refused that write three times
    const target = await cloud.gateway();
    const created = await post(target, FIXTURE_BODY);
    const records = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: cloud.oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
    const recordKey = jobRecordKey('.yike-jobs/', created.body.jobId);
    expect(await records.get(recordKey)).toMatchObject({ jobId: created.body.jobId });
    await records.delete(recordKey);
    await records.delete(inflightKey('.yike-jobs/', created.body.jobId));

    // Act
    const response = await fetch(`${target.url}/jobs/${created.body.jobId}?refresh=1`);

    // Assert
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      jobId: created.body.jobId,
      appId: 'sys-ao-smith-1',
      source: IMAGE_URL,
      status: expect.stringMatching(/^(Created|Queuing|Executing|Finished)$/),
      results: expect.any(Array),
      recorded: false,
    });
    expect(await records.get(recordKey)).toBeUndefined();
  });

  it('answers 404 for a job neither the records nor ICE know and 400 for a malformed job id', async () => {
    // Arrange
    const target = await cloud.gateway();

    // Act
    const unknown = await fetch(`${target.url}/jobs/0123456789abcdef0123456789abcdef?refresh=1`);
    const malformed = await fetch(`${target.url}/jobs/${encodeURIComponent('a b')}`);

    // Assert
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('JOB_NOT_FOUND');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.code).toBe('INVALID_JOB_ID');
  });

  it('finds the job the upload function recorded for an object', async () => {
    // Arrange: the OSS function processes an upload first
    await createOssHandler({ env: cloud.env({ APP_ROUTES: '{"uploads/female/":"female"}' }), sink: cloud.logs.sink })(
      asFcPayload(loadEvent('oss-trigger-put')),
      fcContext(),
    );
    const target = await cloud.gateway();

    // Act
    const response = await fetch(`${target.url}/jobs/by-object?bucket=${BUCKET}&key=${encodeURIComponent('uploads/female/portrait-001.jpg')}`);
    const missing = await fetch(`${target.url}/jobs/by-object?bucket=${BUCKET}&key=uploads/none.jpg`);

    // Assert
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      bucket: BUCKET,
      key: 'uploads/female/portrait-001.jpg',
      eTag: '688A7BF4F233DC9C88A80BF985AB7329',
      status: 'COMPLETED',
      jobId: cloud.ice.jobs()[0]!.jobId,
      appId: 'sys-ao-smith-1',
    });
    expect(missing.status).toBe(404);
  });
});
