import { callIce, clientFor, closeIceServers, expectIceErrorBody, ice, JOB_ID_PATTERN, rejectionOf, STS, submitFields } from './harness';

afterEach(closeIceServers);

const MINUTE_MS = 60 * 1000;

describe('the local ICE endpoint driven by the real @alicloud/openapi-client: who may call', () => {
  it('accepts a long-term AccessKey that has no security token', async () => {
    // Arrange
    const longTerm = { accessKeyId: 'LTAI5tLocalLongTermKey', accessKeySecret: 'long-term-secret' };
    const server = await ice({ credentials: [longTerm] });

    // Act
    const answer = await callIce(clientFor(server.endpoint, longTerm), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.jobs()[0]?.accessKeyId).toBe(longTerm.accessKeyId);
  });

  it('rejects a request signed with the wrong secret with SignatureDoesNotMatch, status 400 and the server string to sign', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, accessKeySecret: 'not-the-secret' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'SignatureDoesNotMatch', 400);
    expect(error.data.Message).toMatch(/^Specified signature is not matched with our calculation\. server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toMatchObject([{ status: 400, code: 'SignatureDoesNotMatch' }]);
  });

  it('rejects an AccessKey it does not know with InvalidAccessKeyId.NotFound and status 404', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, accessKeyId: 'STS.SomeoneElse' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidAccessKeyId.NotFound', 404);
  });

  it('rejects an STS AccessKey sent without its security token with MissingSecurityToken', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'MissingSecurityToken', 400);
    expect(server.jobs()).toEqual([]);
  });

  it('rejects an STS AccessKey sent with another security token with InvalidSecurityToken.MismatchWithAccessKey', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, securityToken: 'someone-elses-token' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidSecurityToken.MismatchWithAccessKey', 400);
  });

  it('rejects an expired STS token with InvalidSecurityToken.Expired', async () => {
    // Arrange
    const expired = { ...STS, expiresAt: new Date(Date.now() - MINUTE_MS) };
    const server = await ice({ credentials: [expired] });

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidSecurityToken.Expired', 400);
  });
});
