import { DEFAULT_MAX_APP_PARAMS_LENGTH, MAX_ID_FIELD_LENGTH } from '../../../local/ice/server';
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
  STS,
  submitFields,
} from './harness';

afterEach(closeIceServers);

describe('the local ICE endpoint driven by the real @alicloud/openapi-client: request fields, parameters, action and version', () => {
  it('accepts a SubmitYikeAIAppJob form body and records exactly the fields it received', async () => {
    // Arrange
    const server = await ice();
    const fields = submitFields({ ProductionId: 'pd_0617169475', FolderId: 'fd-cReaEcVqQK' });

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: fields });

    // Assert
    expect(answer).toEqual({ RequestId: expect.stringMatching(REQUEST_ID_PATTERN), JobId: expect.stringMatching(JOB_ID_PATTERN) });
    expect(server.jobs()).toEqual([
      {
        jobId: answer.JobId,
        requestId: answer.RequestId,
        appId: 'sys-ao-smith-1',
        appParams: { [IMAGE_KEY]: IMAGE_URL },
        appParamsRaw: fields.AppParams,
        productionId: 'pd_0617169475',
        folderId: 'fd-cReaEcVqQK',
        accessKeyId: STS.accessKeyId,
        fieldsFrom: 'body',
        receivedAt: expect.any(String),
      },
    ]);
    expect(server.calls()).toEqual([
      {
        action: 'SubmitYikeAIAppJob',
        version: '2020-11-09',
        method: 'POST',
        fields,
        placement: { AppId: 'body', AppParams: 'body', ProductionId: 'body', FolderId: 'body' },
        status: 200,
        requestId: answer.RequestId,
        connection: 1,
        tls: false,
      },
    ]);
  });

  it('accepts the same fields in the query string, as RPC endpoints do', async () => {
    // Arrange
    const server = await ice();
    const fields = submitFields({ FolderId: 'fd-cReaEcVqQK' });

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { query: fields });

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.jobs()).toMatchObject([{ appId: 'sys-ao-smith-1', appParamsRaw: fields.AppParams, folderId: 'fd-cReaEcVqQK', fieldsFrom: 'query' }]);
    expect(server.jobs()[0]).not.toHaveProperty('productionId');
  });

  it.each(['body', 'query'] as const)('keeps spaces, plus and percent signs, CJK and reserved characters exactly when they travel in the %s', async (place) => {
    // Arrange
    const server = await ice();
    const image = "https://yike-uploads.oss-cn-shanghai.aliyuncs.com/图片/女 1.jpg?a=b+c%20d&e=f=g!*'()";
    const fields = submitFields({
      AppParams: JSON.stringify({ [IMAGE_KEY]: image, note: '100% real + fake & more=yes' }),
      ProductionId: "proj 1+2%3&x=y!*'()",
      FolderId: '文件夹/女 1',
    });

    // Act
    await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { [place]: fields });

    // Assert
    const [job] = server.jobs();
    expect(job?.appParamsRaw).toBe(fields.AppParams);
    expect(job?.appParams[IMAGE_KEY]).toBe(image);
    expect(job?.productionId).toBe(fields.ProductionId);
    expect(job?.folderId).toBe(fields.FolderId);
    expect(job?.fieldsFrom).toBe(place);
  });

  it('accepts a GET with the fields in the query string', async () => {
    // Arrange
    const server = await ice();

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { query: submitFields() }, undefined, 'GET');

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.calls()).toMatchObject([{ method: 'GET', status: 200 }]);
  });

  it('catches a client that hashes a form body it then does not send (a GET with a body) with ContentSha256NotMatched', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }, undefined, 'GET'));

    // Assert
    expectIceErrorBody(error, 'ContentSha256NotMatched', 400);
    expect(server.jobs()).toEqual([]);
  });

  it('answers MissingParameter naming AppId when the request has no AppId', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(
      callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: { AppParams: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) } }),
    );

    // Assert
    expectIceErrorBody(error, 'MissingParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
    expect(server.jobs()).toEqual([]);
  });

  it('answers InvalidParameter naming AppId for an app that does not exist', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ AppId: 'sys-ao-smith-3' }) }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
  });

  it.each([
    ['has no AppParams', {}],
    ['has an empty AppParams', { AppParams: '' }],
  ])('answers MissingParameter naming AppParams, and creates no job, when a SubmitYikeAIAppJob %s', async (_case, appParams) => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: { AppId: 'sys-ao-smith-1', ...appParams } }));

    // Assert
    expectIceErrorBody(error, 'MissingParameter', 400);
    expect(error.data.Message).toBe('The input parameter "AppParams" that is mandatory for processing this request is not supplied.');
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toMatchObject([{ action: 'SubmitYikeAIAppJob', status: 400, code: 'MissingParameter' }]);
  });

  it.each([
    ['is not JSON', `{${IMAGE_KEY}: ${IMAGE_URL}}`],
    ['is JSON null', 'null'],
    ['is a JSON array', JSON.stringify([IMAGE_URL])],
    ['is a JSON string', JSON.stringify(IMAGE_URL)],
    ['lacks the image key', JSON.stringify({ 'LoadImage.2.TargetImage': IMAGE_URL })],
    ['holds an empty image', JSON.stringify({ [IMAGE_KEY]: ' ' })],
    ['holds the image as an object', JSON.stringify({ [IMAGE_KEY]: { url: IMAGE_URL } })],
    ['is longer than the limit', JSON.stringify({ [IMAGE_KEY]: IMAGE_URL, padding: 'x'.repeat(DEFAULT_MAX_APP_PARAMS_LENGTH) })],
  ])('answers InvalidParameter naming AppParams when AppParams %s', async (_case, appParams) => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ AppParams: appParams }) }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppParams"');
    expect(server.jobs()).toEqual([]);
  });

  it('answers InvalidParameter naming ProductionId when it is longer than the local limit', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(
      callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ ProductionId: 'p'.repeat(MAX_ID_FIELD_LENGTH + 1) }) }),
    );

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"ProductionId"');
  });

  it('refuses a field given in both the body and the query with different values', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields(), query: { AppId: 'sys-ao-smith-2' } }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
  });

  it('answers InvalidApi.NotFound with status 404 for an action ICE does not have', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'CancelYikeAIAppJob', { query: { JobId: 'x' } }));

    // Assert
    expectIceErrorBody(error, 'InvalidApi.NotFound', 404);
  });

  it('answers InvalidVersion for the same action under another API version', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }, '2026-03-19'));

    // Assert
    expectIceErrorBody(error, 'InvalidVersion', 400);
    expect(server.jobs()).toEqual([]);
  });
});
