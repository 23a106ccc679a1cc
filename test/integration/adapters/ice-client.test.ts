import { createServer } from 'node:net';
import type { CredentialsProvider } from '../../../shared/adapters/openapi/credentials';
import { IceError } from '../../../shared/runtime/errors';
import { createIceClient, type IceClient } from '../../../shared/adapters/ice/client';
import { DEFAULT_LOCAL_CREDENTIALS, startIceServer, type LocalIceServer } from '../../../local/ice/server';
import type { TuningOverrides } from '../../../shared/runtime/tuning';
import { LOCAL_CREDENTIALS, testConfig } from '../../helpers/local-cloud';
import { NEVER_ANSWERS_MS } from '../../helpers/waiting';

const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
const APP_PARAMS = JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL });
/** How long a local ICE job runs on its job clock. */
const JOB_MS = 200;

describe('the ICE client against the local ICE endpoint', () => {
  let ice: LocalIceServer;
  let retries: { attempt: number; delayMs: number; code: string }[];
  /** ICE's job clock runs this far ahead of the real one: a test moves it to finish its jobs without waiting. */
  let jobClockAheadMs = 0;
  const jobClock = () => Date.now() + jobClockAheadMs;

  beforeAll(async () => {
    ice = await startIceServer({ finishAfterMs: JOB_MS, now: jobClock });
  });
  afterAll(() => ice.close());
  beforeEach(() => {
    ice.reset();
    retries = [];
    jobClockAheadMs = 0;
  });

  function client(
    options: { env?: Record<string, string>; tuning?: TuningOverrides } = {},
    credentials: CredentialsProvider = () => LOCAL_CREDENTIALS,
  ): IceClient {
    const config = testConfig({ ICE_ENDPOINT: ice.url, ...options.env }, options.tuning);
    return createIceClient({
      config: config.ice,
      credentials,
      onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, code: error.code }),
    });
  }

  async function failure(promise: Promise<unknown>): Promise<IceError> {
    try {
      await promise;
    } catch (error) {
      return error as IceError;
    }
    throw new Error('expected the call to fail');
  }

  it('sends the four fields in the signed form body exactly as given and returns the JobId', async () => {
    // Arrange
    const appParams = JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL });

    // Act
    const result = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams, productionId: 'prod-1', folderId: 'fd-cReaEcVqQK' });

    // Assert
    const [job] = ice.jobs();
    expect(result).toEqual({ jobId: job!.jobId, requestId: job!.requestId });
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-1',
      appParamsRaw: appParams,
      productionId: 'prod-1',
      folderId: 'fd-cReaEcVqQK',
      accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
      fieldsFrom: 'body',
    });
    expect(ice.calls()).toEqual([expect.objectContaining({ action: 'SubmitYikeAIAppJob', version: '2020-11-09', method: 'POST', status: 200 })]);
  });

  it('keeps spaces, "+", "%", CJK and !*\'() exactly, in AppParams and in the ids', async () => {
    // Arrange
    const url = "https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/女/照片 1+2%25 !*'() &=.jpg";
    const appParams = JSON.stringify({ 'LoadImage.1.TargetImage': url });

    // Act
    await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-2', appParams, productionId: "项目 a+b%20!*'()", folderId: 'fd-&=?#' });

    // Assert
    const [job] = ice.jobs();
    expect(job!.appParamsRaw).toBe(appParams);
    expect(job!.appParams).toEqual({ 'LoadImage.1.TargetImage': url });
    expect(job!.productionId).toBe("项目 a+b%20!*'()");
    expect(job!.folderId).toBe('fd-&=?#');
  });

  it('is rejected with SignatureDoesNotMatch when the secret is wrong, and does not retry', async () => {
    // Act
    const error = await failure(
      client({}, () => ({ ...LOCAL_CREDENTIALS, accessKeySecret: 'not-the-secret' })).submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS }),
    );

    // Assert
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400, outcome: 'rejected', retryable: false, attempts: 1 });
    expect(error.requestId).toEqual(expect.any(String));
    expect(ice.jobs()).toHaveLength(0);
    expect(ice.calls()).toHaveLength(1);
  });

  it('is rejected when an STS key comes without its security token', async () => {
    // Act
    const error = await failure(
      client({}, () => ({ accessKeyId: LOCAL_CREDENTIALS.accessKeyId, accessKeySecret: LOCAL_CREDENTIALS.accessKeySecret })).submitYikeAIAppJob({
        appId: 'sys-ao-smith-1',
        appParams: APP_PARAMS,
      }),
    );

    // Assert
    expect(error).toMatchObject({ code: 'MissingSecurityToken', outcome: 'rejected', retryable: false });
    expect(ice.jobs()).toHaveLength(0);
  });

  it('retries throttling with backoff and then succeeds with one job', async () => {
    // Arrange
    ice.faults.throttleNext(2);

    // Act
    const result = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });

    // Assert
    expect(ice.jobs().map((job) => job.jobId)).toEqual([result.jobId]);
    expect(ice.calls().map((call) => call.status)).toEqual([400, 400, 200]);
    expect(retries.map(({ attempt, code }) => ({ attempt, code }))).toEqual([
      { attempt: 1, code: 'Throttling.User' },
      { attempt: 2, code: 'Throttling.User' },
    ]);
  });

  it('retries an ICE 503 answer', async () => {
    // Arrange
    ice.faults.failNext(1, 503, 'ServiceUnavailable');

    // Act
    await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });

    // Assert
    expect(ice.calls().map((call) => call.status)).toEqual([503, 200]);
    expect(ice.jobs()).toHaveLength(1);
  });

  it('gives up after its attempts and reports the last ICE error', async () => {
    // Arrange
    ice.faults.throttleNext(5);

    // Act
    const error = await failure(
      client({ tuning: { ice: { retry: { maxAttempts: 3 } } } }).submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS }),
    );

    // Assert
    expect(error).toMatchObject({ code: 'Throttling.User', retryable: true, attempts: 3 });
    expect(ice.calls()).toHaveLength(3);
  });

  it('does not retry a parameter error', async () => {
    // Act
    const error = await failure(client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: '{"Other.Key":"x"}' }));

    // Assert
    expect(error).toMatchObject({ code: 'InvalidParameter', statusCode: 400, retryable: false, attempts: 1 });
    expect(ice.calls()).toHaveLength(1);
  });

  it('never resends a submit whose answer timed out, because ICE already created the job', async () => {
    // Arrange
    ice.faults.delayNext(1, NEVER_ANSWERS_MS);

    // Act
    const error = await failure(client({ tuning: { ice: { readTimeoutMs: 200 } } }).submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS }));

    // Assert: the call has settled, so nothing can be sent after it
    expect(error).toMatchObject({ code: 'ICE_TIMEOUT', outcome: 'unknown', retryable: false, attempts: 1 });
    expect(retries).toEqual([]);
    expect(ice.jobs()).toHaveLength(1);
    expect(ice.calls()).toHaveLength(1);
  });

  it('never resends a submit whose connection dropped after the request was written', async () => {
    // Arrange
    ice.faults.dropNext(1);

    // Act
    const error = await failure(client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS }));

    // Assert
    expect(error).toMatchObject({ code: 'ICE_CONNECTION_RESET', outcome: 'unknown', retryable: false });
    expect(ice.calls()).toHaveLength(1);
  });

  it('does not resend a submit answered by a non-JSON 502 page (the status is lost, the outcome unknown)', async () => {
    // Arrange
    ice.faults.failNext(1, 502, 'BadGateway', { nonJsonBody: true });

    // Act
    const error = await failure(client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS }));

    // Assert
    expect(error).toMatchObject({ code: 'ICE_BAD_RESPONSE', outcome: 'unknown', retryable: false });
    expect(ice.calls()).toHaveLength(1);
  });

  it('retries a refused connection, which proves nothing was sent', async () => {
    // Arrange: a port that was free a moment ago
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });

    // Act
    const error = await failure(
      client({ env: { ICE_ENDPOINT: `http://127.0.0.1:${port}` }, tuning: { ice: { retry: { maxAttempts: 3 } } } }).submitYikeAIAppJob({
        appId: 'sys-ao-smith-1',
        appParams: '{}',
      }),
    );

    // Assert
    expect(error).toMatchObject({ code: 'ICE_CONNECTION_FAILED', outcome: 'not-sent', retryable: true, attempts: 3 });
    expect(retries.map((retry) => retry.code)).toEqual(['ICE_CONNECTION_FAILED', 'ICE_CONNECTION_FAILED']);
  });

  it('re-reads credentials once when the security token expired, then succeeds', async () => {
    // Arrange: the endpoint restarts on the same port (pooled keep-alive sockets would now be dead)
    await ice.close();
    const fresh = { accessKeyId: 'STS.Fresh', accessKeySecret: 'fresh-secret', securityToken: 'fresh-token' };
    const stale = { accessKeyId: 'STS.Stale', accessKeySecret: 'stale-secret', securityToken: 'stale-token' };
    ice = await startIceServer({
      port: ice.port,
      finishAfterMs: JOB_MS,
      now: jobClock,
      credentials: [...DEFAULT_LOCAL_CREDENTIALS, fresh, { ...stale, expiresAt: new Date(Date.now() - 1_000) }],
    });
    const handed: string[] = [];
    const provider = () => {
      const credentials = handed.length === 0 ? stale : fresh;
      handed.push(credentials.accessKeyId);
      return credentials;
    };

    // Act
    const result = await client({}, provider).submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });

    // Assert
    expect(handed).toEqual(['STS.Stale', 'STS.Fresh']);
    expect(ice.calls().map((call) => [call.status, call.code])).toEqual([
      [400, 'InvalidSecurityToken.Expired'],
      [200, undefined],
    ]);
    expect(ice.jobs()).toEqual([expect.objectContaining({ jobId: result.jobId, accessKeyId: 'STS.Fresh' })]);
  });

  it('reads a job back with GetYikeAIAppJob, retrying a timed-out read because reads are safe', async () => {
    // Arrange
    const submitted = await client().submitYikeAIAppJob({
      appId: 'sys-ao-smith-2',
      appParams: `{"LoadImage.1.TargetImage":"${IMAGE_URL}"}`,
      productionId: 'prod-1',
    });
    ice.faults.delayNext(1, NEVER_ANSWERS_MS);

    // Act
    // The first attempt never gets its answer; 2 s is far beyond what the second one takes.
    const job = await client({ tuning: { ice: { readTimeoutMs: 2_000 } } }).getYikeAIAppJob(submitted.jobId);

    // Assert
    expect(job).toMatchObject({
      jobId: submitted.jobId,
      appId: 'sys-ao-smith-2',
      productionId: 'prod-1',
      appParams: `{"LoadImage.1.TargetImage":"${IMAGE_URL}"}`,
    });
    expect(retries.map((retry) => retry.code)).toEqual(['ICE_TIMEOUT']);
  });

  it('reports a finished job with its results', async () => {
    // Arrange
    const submitted = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });
    jobClockAheadMs = JOB_MS;

    // Act
    // The first attempt never gets its answer; 2 s is far beyond what the second one takes.
    const job = await client({ tuning: { ice: { readTimeoutMs: 2_000 } } }).getYikeAIAppJob(submitted.jobId);

    // Assert
    expect(job.status).toBe('Finished');
    expect(job.results).toEqual([expect.objectContaining({ kind: 'video', mediaId: expect.any(String), outputUrl: expect.stringMatching(/^https?:\/\//) })]);
  });

  it('reads several jobs in one BatchGetYikeAIAppJob call, leaving out ids ICE does not know', async () => {
    // Arrange
    const first = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });
    const second = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-2', appParams: APP_PARAMS });
    jobClockAheadMs = JOB_MS;
    const callsBefore = ice.calls().length;

    // Act
    const answer = await client().batchGetYikeAIAppJobs([first.jobId, 'f'.repeat(32), second.jobId]);

    // Assert
    expect(ice.calls().slice(callsBefore)).toEqual([
      expect.objectContaining({ action: 'BatchGetYikeAIAppJob', status: 200, fields: { JobIds: `${first.jobId},${'f'.repeat(32)},${second.jobId}` } }),
    ]);
    expect(answer.jobs.map((job) => [job.jobId, job.appId, job.status, job.appParams])).toEqual([
      [first.jobId, 'sys-ao-smith-1', 'Finished', APP_PARAMS],
      [second.jobId, 'sys-ao-smith-2', 'Finished', APP_PARAMS],
    ]);
    expect(answer.jobs[0]!.results).toEqual([expect.objectContaining({ kind: 'video', outputUrl: expect.stringMatching(/\.mp4$/) })]);
  });

  it('retries a throttled BatchGetYikeAIAppJob like any read and refuses more than 10 ids before calling ICE', async () => {
    // Arrange
    const submitted = await client().submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: APP_PARAMS });
    ice.faults.throttleNext(1);

    // Act
    const answer = await client().batchGetYikeAIAppJobs([submitted.jobId]);
    const tooMany = await failure(client().batchGetYikeAIAppJobs(Array.from({ length: 11 }, (_, index) => String(index))));

    // Assert
    expect(answer.jobs).toEqual([expect.objectContaining({ jobId: submitted.jobId, appParams: APP_PARAMS, requestId: answer.requestId })]);
    expect(tooMany).toBeInstanceOf(RangeError);
  });

  it('reports an unknown job as a rejected, non-retryable error', async () => {
    // Act
    const error = await failure(client().getYikeAIAppJob('0123456789abcdef0123456789abcdef'));

    // Assert
    expect(error).toMatchObject({ outcome: 'rejected', statusCode: 404, retryable: false });
  });
});

describe('media ids for IMAGE_URL_MODE=media-id', () => {
  let ice: LocalIceServer;
  beforeAll(async () => {
    ice = await startIceServer();
  });
  afterAll(() => ice.close());

  it('registers an image once, then finds it by its URL', async () => {
    // Arrange
    const client = createIceClient({ config: testConfig({ ICE_ENDPOINT: ice.url }).ice, credentials: () => LOCAL_CREDENTIALS });
    const url = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/%E5%A5%B3/a%201.jpg';

    // Act
    const first = await client.resolveMediaId(url);
    const second = await client.resolveMediaId(url);

    // Assert
    expect(second).toBe(first);
    expect(ice.media()).toEqual([expect.objectContaining({ mediaId: first, inputUrl: url, mediaType: 'image' })]);
    expect(ice.calls().map((call) => [call.action, call.status, call.fields.InputURL])).toEqual([
      ['GetMediaInfo', 404, url],
      ['RegisterMediaInfo', 200, url],
      ['GetMediaInfo', 200, url],
    ]);
  });

  it('reports a URL ICE refuses to register as its parameter error', async () => {
    // Arrange
    const client = createIceClient({ config: testConfig({ ICE_ENDPOINT: ice.url }).ice, credentials: () => LOCAL_CREDENTIALS });

    // Act / Assert
    await expect(client.resolveMediaId('https://cdn.example.com/a.jpg')).rejects.toMatchObject({ code: 'InvalidParameter', outcome: 'rejected' });
  });
});
