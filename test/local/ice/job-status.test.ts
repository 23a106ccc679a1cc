import {
  callIce,
  clientFor,
  closeIceServers,
  expectIceErrorBody,
  ice,
  IMAGE_KEY,
  IMAGE_URL,
  JOB_ID_PATTERN,
  REQUEST_ID_PATTERN,
  rejectionOf,
  submitFields,
} from './harness';

afterEach(closeIceServers);

/** ICE's documented time format: 2026-02-06T18:53:34.001+08:00. */
const ICE_TIME_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/;

describe('job status through GetYikeAIAppJob and BatchGetYikeAIAppJob', () => {
  it('reports a job Created, Queuing, Executing, then Finished with a video result on its settable clock, with the fields at the top level', async () => {
    // Arrange
    const finishAfterMs = 60_000;
    let now = Date.parse('2026-11-30T10:00:00.000Z');
    const server = await ice({ finishAfterMs, now: () => now });
    const client = clientFor(server.endpoint);
    const fields = submitFields({ ProductionId: 'pd_0617169475' });
    const { JobId } = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });

    // Act
    const created = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.2;
    const queuing = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.3;
    const executing = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.5;
    const finished = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });

    // Assert
    expect(created).toEqual({
      RequestId: expect.stringMatching(REQUEST_ID_PATTERN),
      JobId,
      AppId: 'sys-ao-smith-1',
      AppParams: fields.AppParams,
      ProductionId: 'pd_0617169475',
      Status: 'Created',
    });
    expect(queuing).toMatchObject({ Status: 'Queuing' });
    expect(queuing).not.toHaveProperty('ExecutionStartTime');
    expect(executing).toMatchObject({ Status: 'Executing', ExecutionStartTime: '2026-11-30T18:00:20.000+08:00' });
    expect(executing).not.toHaveProperty('ExecutionFinishTime');
    expect(finished).toMatchObject({
      Status: 'Finished',
      ExecutionStartTime: executing.ExecutionStartTime,
      ExecutionFinishTime: '2026-11-30T18:01:00.000+08:00',
      Result: { VideoResult: [{ MediaId: expect.stringMatching(JOB_ID_PATTERN), OutputUrl: expect.stringMatching(/^https:\/\/.+\.mp4$/) }] },
    });
  });

  it('ends a job Failed, without a result, when the image key contains "fail" (URL or registered media id)', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    const client = clientFor(server.endpoint);
    const byUrl = await callIce(client, 'SubmitYikeAIAppJob', {
      body: submitFields({ AppParams: JSON.stringify({ [IMAGE_KEY]: 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/will-fail.jpg' }) }),
    });
    const { MediaId } = await callIce(client, 'RegisterMediaInfo', {
      query: { InputURL: 'oss://yike-uploads/uploads/female/fail-me.png', MediaType: 'image' },
    });
    const byMedia = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields({ AppParams: JSON.stringify({ [IMAGE_KEY]: MediaId }) }) });
    const fine = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await callIce(client, 'BatchGetYikeAIAppJob', { query: { JobIds: [byUrl.JobId, byMedia.JobId, fine.JobId].join(',') } });

    // Assert
    expect(answer.JobList.map((job: any) => job.Status)).toEqual(['Failed', 'Failed', 'Finished']);
    expect(answer.JobList[0]).not.toHaveProperty('Result');
    expect(answer.JobList[0]).toMatchObject({ ExecutionFinishTime: expect.stringMatching(ICE_TIME_PATTERN) });
  });

  it('answers seeded jobs like submitted ones, so large fixtures need no signed submits', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    server.seedJobs([{ jobId: 'a'.repeat(32), appId: 'sys-ao-smith-1', appParamsRaw: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) }]);

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'BatchGetYikeAIAppJob', { query: { JobIds: 'a'.repeat(32) } });

    // Assert
    expect(answer.JobList).toEqual([
      expect.objectContaining({ JobId: 'a'.repeat(32), Status: 'Finished', AppInputConfig: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) }),
    ]);
  });

  it('answers ResourceNotFound with status 404 for a JobId it never issued', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'GetYikeAIAppJob', { query: { JobId: '0'.repeat(32) } }));

    // Assert
    expectIceErrorBody(error, 'ResourceNotFound', 404);
  });

  it('answers MissingParameter with status 400 for a BatchGetYikeAIAppJob without JobIds', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'BatchGetYikeAIAppJob', { query: {} }));

    // Assert
    expectIceErrorBody(error, 'MissingParameter', 400);
    expect(error.data.Message).toBe('The input parameter "JobIds" that is mandatory for processing this request is not supplied.');
    expect(server.calls()).toMatchObject([{ action: 'BatchGetYikeAIAppJob', status: 400, code: 'MissingParameter' }]);
  });

  it('lists known jobs for comma-separated JobIds, with AppInputConfig, and leaves unknown ids out', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    const client = clientFor(server.endpoint);
    const fields = submitFields();
    const first = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });
    const second = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });

    // Act
    const answer = await callIce(client, 'BatchGetYikeAIAppJob', { query: { JobIds: `${first.JobId},${'f'.repeat(32)},${second.JobId}` } });

    // Assert
    expect(answer.RequestId).toMatch(REQUEST_ID_PATTERN);
    expect(answer.JobList.map((job: any) => job.JobId)).toEqual([first.JobId, second.JobId]);
    expect(answer.JobList[0]).toMatchObject({ AppId: 'sys-ao-smith-1', AppInputConfig: fields.AppParams, Status: 'Finished' });
    expect(answer.JobList[0]).not.toHaveProperty('AppParams');
  });
});
