import { FIXTURE_BODY, post, startHttpHarness, TOKEN, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: bearer-token auth', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('answers 401 with a challenge when the token is missing or wrong, and 202 with the right one', async () => {
    // Arrange
    const target = await cloud.gateway({ AUTH_TOKENS: `other-token,${TOKEN}` });

    // Act
    const missing = await post(target, FIXTURE_BODY);
    const wrong = await post(target, FIXTURE_BODY, { authorization: 'Bearer nope' });
    const right = await post(target, FIXTURE_BODY, { authorization: `Bearer ${TOKEN}` });

    // Assert
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } } });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Invalid bearer token' } } });
    expect(right.status).toBe(202);
    expect(cloud.ice.jobs()).toHaveLength(1);
  });

  it('leaves /healthz open and never calls ICE for it', async () => {
    // Act
    const response = await fetch(`${(await cloud.gateway({ AUTH_TOKENS: TOKEN })).url}/healthz`);

    // Assert
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(cloud.ice.calls()).toHaveLength(0);
  });
});
