import { LOCAL_CREDENTIALS } from '../../../helpers/local-cloud';
import { BUCKET, FIXTURE_BODY, IMAGE_URL, post, startHttpHarness, type HttpHarness } from './harness';

describe('the HTTP function through the local FC gateway: POST /jobs', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('answers 202 with the JobId for the documented request body, and ICE receives the exact job', async () => {
    // Arrange
    const target = await cloud.gateway({ PRODUCTION_ID: 'prod-9', FOLDER_ID: 'fd-1' });

    // Act
    const response = await post(target, FIXTURE_BODY);

    // Assert
    const [job] = cloud.ice.jobs();
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' });
    expect(job).toMatchObject({
      appId: 'sys-ao-smith-1',
      appParamsRaw: JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL }),
      productionId: 'prod-9',
      folderId: 'fd-1',
    });
  });

  it('lets the request choose the app, ProductionId and FolderId', async () => {
    // Arrange
    const target = await cloud.gateway({ PRODUCTION_ID: 'prod-default' });

    // Act
    const response = await post(target, { app: 'male', imageUrl: IMAGE_URL, productionId: 'prod-x', folderId: 'fd-x' });

    // Assert
    expect(response.status).toBe(202);
    expect(cloud.ice.jobs()[0]).toMatchObject({
      appId: 'sys-ao-smith-2',
      productionId: 'prod-x',
      folderId: 'fd-x',
      appParams: { 'LoadImage.1.TargetImage': IMAGE_URL },
    });
  });

  it('answers 400 with every invalid field path and never calls ICE', async () => {
    // Arrange
    const target = await cloud.gateway();

    // Act
    const response = await post(target, { app: '', image: { bucket: 'Bad_Bucket', key: '/abs' }, extra: 1 });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_REQUEST');
    expect(response.body.error.details.map((issue: { path: string }) => issue.path).sort()).toEqual(['(root)', 'app', 'image.bucket', 'image.key']);
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it('answers 400 when both or neither image forms are given', async () => {
    // Arrange
    const target = await cloud.gateway();

    // Act
    const neither = await post(target, { app: 'female' });
    const both = await post(target, { app: 'female', imageUrl: IMAGE_URL, image: { bucket: BUCKET, key: 'a.jpg' } });

    // Assert
    for (const response of [neither, both]) {
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([{ path: 'image', message: 'exactly one of "image" ({bucket, key}) or "imageUrl" is required' }]);
    }
  });

  it('answers 400 for an unknown app, naming it', async () => {
    const response = await post(await cloud.gateway(), { app: 'robot', imageUrl: IMAGE_URL });
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'UNKNOWN_APP', details: [{ path: 'app', message: 'unknown app "robot"' }] } } });
  });

  it('answers 400 APP_REQUIRED naming the field when the body names no app, and calls nothing (there is no default app)', async () => {
    // Act
    const response = await post(await cloud.gateway(), { imageUrl: IMAGE_URL });

    // Assert
    expect(response).toEqual(
      expect.objectContaining({
        status: 400,
        body: {
          error: {
            code: 'APP_REQUIRED',
            message: 'app: required: name the app (female, male or an AppId); there is no default app',
            details: [{ path: 'app', message: 'required' }],
          },
        },
      }),
    );
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it('answers 400 for "image" given as a URL string, suggesting imageUrl', async () => {
    // Act
    const response = await post(await cloud.gateway(), { app: 'female', image: IMAGE_URL });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([
      { path: 'image', message: 'expected {"bucket", "key"}; for a URL use "imageUrl": {"imageUrl": "https://…"}' },
    ]);
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post(await cloud.gateway(), '{"app":');
    expect(response).toEqual(expect.objectContaining({ status: 400, body: { error: { code: 'INVALID_JSON', message: 'The body is not valid JSON' } } }));
  });

  it('answers 415 for a non-JSON content type', async () => {
    const response = await post(await cloud.gateway(), 'app=female', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response).toEqual(
      expect.objectContaining({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' } } }),
    );
  });

  it('answers 413 for a body over the body limit (100 bytes here, 16 KiB deployed)', async () => {
    // Act
    const response = await post(await cloud.gateway({}, LOCAL_CREDENTIALS, { http: { maxBodyBytes: 100 } }), {
      app: 'female',
      imageUrl: `${IMAGE_URL}?${'x'.repeat(200)}`,
    });

    // Assert
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a bucket off the allowlist and never reaches ICE', async () => {
    // Act
    const response = await post(await cloud.gateway(), { app: 'female', image: { bucket: 'someone-elses-bucket', key: 'a.jpg' } });

    // Assert
    expect(response).toEqual(
      expect.objectContaining({
        status: 400,
        body: {
          error: {
            code: 'IMAGE_NOT_ALLOWED',
            message: 'image.bucket: bucket "someone-elses-bucket" is not in ALLOWED_BUCKETS',
            details: [{ path: 'image.bucket', message: 'bucket not allowed' }],
          },
        },
      }),
    );
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it.each([
    ['an arbitrary host', 'https://evil.example.com/a.jpg'],
    ['an allowed host with credentials', 'https://user:pw@yike-uploads.oss-cn-shanghai.aliyuncs.com/a.jpg'],
    ['an allowed host on another port', 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com:8443/a.jpg'],
    ['a bucket domain in another region', 'https://yike-uploads.oss-cn-beijing.aliyuncs.com/a.jpg'],
  ])('refuses an imageUrl on %s and never reaches ICE', async (_name, url) => {
    // Act
    const response = await post(await cloud.gateway(), { app: 'female', imageUrl: url });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('IMAGE_NOT_ALLOWED');
    expect(cloud.ice.calls()).toHaveLength(0);
  });

  it('refuses a plain-http imageUrl', async () => {
    const response = await post(await cloud.gateway(), { app: 'female', imageUrl: 'http://yike-uploads.oss-cn-shanghai.aliyuncs.com/a.jpg' });
    expect(response).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', details: [{ path: 'imageUrl', message: 'must be an https URL' }] } },
    });
  });

  it('accepts an imageUrl host from ALLOWED_IMAGE_HOSTS', async () => {
    const response = await post(await cloud.gateway({ ALLOWED_IMAGE_HOSTS: 'media.example.com' }), {
      app: 'female',
      imageUrl: 'https://media.example.com/a.jpg',
    });
    expect(response.status).toBe(202);
  });
});
