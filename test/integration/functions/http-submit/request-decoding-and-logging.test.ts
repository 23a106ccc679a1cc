import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS } from '../../../helpers/local-cloud';
import { FIXTURE_BODY, post, startHttpHarness, TOKEN, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: request decoding and logging', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('decodes a base64 body (isBase64Encoded) as FC delivers binary-typed requests', async () => {
    // Arrange
    const event = loadEvent('fc3-http-post-jobs');
    event.body = Buffer.from(FIXTURE_BODY).toString('base64');
    event.isBase64Encoded = true;
    delete event.headers.Authorization;

    // Act
    const response = await createHttpHandler({ env: cloud.env(), sink: cloud.logs.sink })(asFcPayload(event), fcContext({ credentials: LOCAL_CREDENTIALS }));

    // Assert
    expect(response).toMatchObject({ statusCode: 202, isBase64Encoded: false, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(JSON.parse(response.body)).toEqual({ jobId: cloud.ice.jobs()[0]!.jobId, requestId: cloud.ice.jobs()[0]!.requestId, appId: 'sys-ao-smith-1' });
  });

  it('writes one JSON log line per request with the FC request id, route, status, jobId and latency, and no secrets', async () => {
    // Arrange
    const target = await cloud.gateway({ AUTH_TOKENS: TOKEN });

    // Act
    const response = await post(target, FIXTURE_BODY, { authorization: `Bearer ${TOKEN}` });

    // Assert
    const requestLines = cloud.logs.lines().filter((line) => line.message === 'http request');
    expect(requestLines).toEqual([
      expect.objectContaining({
        level: 'info',
        requestId: target.invocations()[0]!.requestId,
        method: 'POST',
        route: 'POST /jobs',
        status: 202,
        jobId: response.body.jobId,
        latencyMs: expect.any(Number),
      }),
    ]);
    expect(cloud.logs.raw()).not.toContain(TOKEN);
    expect(cloud.logs.raw()).not.toContain(LOCAL_CREDENTIALS.accessKeySecret);
    expect(cloud.logs.raw()).not.toContain(LOCAL_CREDENTIALS.securityToken);
  });
});
