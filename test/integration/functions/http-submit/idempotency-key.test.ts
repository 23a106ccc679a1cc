import { FIXTURE_BODY, IMAGE_URL, post, startHttpHarness, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: Idempotency-Key', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('replays the first answer for the same key and body, and ICE sees one submission', async () => {
    // Arrange
    const target = await cloud.gateway();
    const headers = { 'idempotency-key': 'order-42' };

    // Act
    const first = await post(target, FIXTURE_BODY, headers);
    const second = await post(target, FIXTURE_BODY, headers);

    // Assert
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(cloud.ice.jobs()).toHaveLength(1);
  });

  it('refuses the same key with a different body with 422', async () => {
    // Arrange
    const target = await cloud.gateway();
    await post(target, FIXTURE_BODY, { 'idempotency-key': 'order-43' });

    // Act
    const response = await post(target, { app: 'male', imageUrl: IMAGE_URL }, { 'idempotency-key': 'order-43' });

    // Assert
    expect(response).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
    expect(cloud.ice.jobs()).toHaveLength(1);
  });

  it('submits once when the same key arrives concurrently', async () => {
    // Arrange
    const target = await cloud.gateway();

    // Act
    const responses = await Promise.all(Array.from({ length: 4 }, () => post(target, FIXTURE_BODY, { 'idempotency-key': 'order-44' })));

    // Assert
    expect(cloud.ice.jobs()).toHaveLength(1);
    expect(responses.map((r) => r.status).sort()).toEqual(expect.arrayContaining([202]));
    expect(responses.every((r) => r.status === 202 || (r.status === 409 && r.body.error.code === 'IDEMPOTENCY_IN_PROGRESS'))).toBe(true);
  });

  it('answers 400 INVALID_IDEMPOTENCY_KEY for a key outside printable ASCII, and never reaches ICE', async () => {
    // Act
    const response = await post(await cloud.gateway(), FIXTURE_BODY, { 'idempotency-key': 'order 46' });

    // Assert
    expect(response).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_IDEMPOTENCY_KEY', message: 'Idempotency-Key must be 1-255 printable ASCII characters' } },
    });
    expect(cloud.ice.calls()).toHaveLength(0);
  });
});
