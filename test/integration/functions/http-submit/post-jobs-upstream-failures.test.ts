import { LOCAL_CREDENTIALS } from '../../../helpers/local-cloud';
import { NEVER_ANSWERS_MS } from '../../../helpers/waiting';
import { FIXTURE_BODY, IMAGE_URL, post, startHttpHarness, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: POST /jobs when ICE fails, the role credentials are refused or the function is misconfigured', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('passes ICE parameter errors through as 422 with the ICE code', async () => {
    // Arrange: an app this deployment knows but ICE does not
    const target = await cloud.gateway({ YIKE_APPS: '{"sys-unknown-app":"LoadImage.1.TargetImage"}' });

    // Act
    const response = await post(target, { app: 'sys-unknown-app', imageUrl: IMAGE_URL });

    // Assert
    expect(response.status).toBe(422);
    expect(response.body.error).toEqual({
      code: 'InvalidParameter',
      message: expect.stringContaining('AppId'),
      details: { iceRequestId: cloud.ice.calls()[0]!.requestId },
    });
  });

  it('answers 429 with Retry-After when ICE still throttles after the retries', async () => {
    // Arrange
    const target = await cloud.gateway();
    cloud.ice.faults.throttleNext(3);

    // Act
    const response = await post(target, FIXTURE_BODY);

    // Assert
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.body.error.code).toBe('Throttling.User');
    expect(cloud.ice.calls()).toHaveLength(3);
  });

  it('answers 503 when ICE keeps failing with 5xx', async () => {
    // Arrange
    const target = await cloud.gateway();
    cloud.ice.faults.failNext(3, 503, 'ServiceUnavailable');

    // Act
    const response = await post(target, FIXTURE_BODY);

    // Assert
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'ICE_UNAVAILABLE', message: 'ICE is unavailable; try again later' } } });
  });

  it('answers 502 without internals when ICE does not answer in time', async () => {
    // Arrange
    const target = await cloud.gateway({}, LOCAL_CREDENTIALS, { ice: { readTimeoutMs: 2_000 } });
    cloud.ice.faults.delayNext(1, 0); // the precheck answers at once
    cloud.ice.faults.delayNext(1, NEVER_ANSWERS_MS); // the submit's answer never comes

    // Act
    const response = await post(target, FIXTURE_BODY);

    // Assert
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('ICE_TIMEOUT');
    expect(JSON.stringify(response.body)).not.toMatch(/127\.0\.0\.1|stack|at /);
    expect(cloud.ice.calls().map((call) => call.action)).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
  });

  it('answers 502 UPSTREAM_AUTH_FAILED when the cloud rejects the role credentials (OSS, asked first about the image), without leaking them', async () => {
    // Arrange
    const target = await cloud.gateway({}, { ...LOCAL_CREDENTIALS, accessKeySecret: 'rotated-away' });

    // Act
    const response = await post(target, FIXTURE_BODY);

    // Assert
    expect(response).toMatchObject({ status: 502, body: { error: { code: 'UPSTREAM_AUTH_FAILED', message: "OSS rejected the function's credentials" } } });
    expect(cloud.ice.calls()).toHaveLength(0);
    expect(cloud.logs.raw()).not.toContain('rotated-away');
  });

  it('answers 502 UPSTREAM_AUTH_FAILED when ICE rejects the role credentials for an imageUrl on another allowed host (no OSS call first)', async () => {
    // Arrange
    const target = await cloud.gateway({ ALLOWED_IMAGE_HOSTS: 'images.yike.example' }, { ...LOCAL_CREDENTIALS, accessKeySecret: 'rotated-away' });

    // Act
    const response = await post(target, { app: 'female', imageUrl: 'https://images.yike.example/uploads/female/portrait-001.jpg' });

    // Assert
    expect(response).toMatchObject({ status: 502, body: { error: { code: 'UPSTREAM_AUTH_FAILED', message: "ICE rejected the function's credentials" } } });
    expect(cloud.ice.calls().map((call) => [call.action, call.code])).toEqual([['PrecheckYikeAIAppJob', 'SignatureDoesNotMatch']]);
  });

  it('answers 500 with a generic body when the function is misconfigured', async () => {
    // Act
    const response = await post(await cloud.gateway({ ICE_REGION: 'nowhere' }), FIXTURE_BODY);

    // Assert
    expect(response).toEqual(expect.objectContaining({ status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } }));
    expect(cloud.logs.lines()[0]).toMatchObject({
      level: 'error',
      message: 'configuration invalid',
      error: { code: 'CONFIG_INVALID', message: expect.stringContaining('ICE_REGION') },
    });
  });
});
