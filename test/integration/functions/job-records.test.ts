import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type OSS from 'ali-oss';
import { createHandler as createHttpHandler } from '../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { inflightKey, jobRecordKey, type JobRecord } from '../../../shared/domain/lifecycle/job-record';
import { asFcPayload } from '../../helpers/fixtures';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir, localOssClient } from '../../helpers/local-cloud';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-submit.js');
const UPLOADS = 'yike-uploads';
const RECORDS = 'yike-records';
const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';

/** Every entry point writes `<RECORDS_PREFIX>jobs/<jobId>.json` and its in-flight marker right after the submit. */
describe('job records written at submit time by every entry point', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  const gateways: LocalFcGateway[] = [];

  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ICE_ENDPOINT: ice.url,
    IMAGE_URL_MODE: 'public',
    OSS_ENDPOINT: oss.localhostUrl,
    ALLOWED_BUCKETS: UPLOADS,
    // The gateway has no tokens to send: in-function auth off, as behind authType function.
    HTTP_AUTH: 'none',
    LOG_LEVEL: 'error',
    ...overrides,
  });

  function bucket(name: string): OSS {
    return localOssClient(oss.url, name);
  }

  async function readJson<T>(bucketName: string, key: string): Promise<T | undefined> {
    try {
      return JSON.parse((await bucket(bucketName).get(key)).content.toString('utf8')) as T;
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  async function postJob(overrides: Record<string, string>, body: unknown, sink?: (line: string) => void) {
    const gateway = await startFcGateway({ handler: createHttpHandler({ env: env(overrides), tuning: FAST_RETRIES, sink }), credentials: LOCAL_CREDENTIALS });
    gateways.push(gateway);
    const response = await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { jobId: string; requestId: string } };
  }

  beforeAll(async () => {
    dir = tempDir('job-records-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [UPLOADS, RECORDS] });
    // ICE's precheck reads the images from the local OSS; a pipeline event's object must exist (HeadObject).
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    for (const key of ['uploads/female/portrait-001.jpg', 'uploads/male/p.jpg']) await putLocalObject(oss.url, UPLOADS, key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), ...gateways.map((gateway) => gateway.close())]);
    dir.remove();
  });
  beforeEach(() => ice.reset());

  it('POST /jobs records the job in the first ALLOWED_BUCKETS bucket when RECORDS_BUCKET is unset', async () => {
    // Act
    const response = await postJob({}, { app: 'female', imageUrl: IMAGE_URL, productionId: 'prod-1' });

    // Assert
    const { jobId, requestId } = response.body;
    expect(response.status).toBe(202);
    expect(await readJson<JobRecord>(UPLOADS, jobRecordKey('.yike-jobs/', jobId))).toEqual({
      schemaVersion: 1,
      jobId,
      appId: 'sys-ao-smith-1',
      // An imageUrl on an allowed bucket's own domain is that object.
      source: `oss://${UPLOADS}/uploads/female/portrait-001.jpg`,
      status: 'Submitted',
      submittedAt: expect.any(String),
      updatedAt: expect.any(String),
      results: [],
      entryPoint: 'http',
      productionId: 'prod-1',
      iceRequestId: requestId,
    });
    // The marker carries the record's fields, so the watcher can write the record from it if its write failed.
    expect(await readJson(UPLOADS, inflightKey('.yike-jobs/', jobId))).toEqual({
      jobId,
      submittedAt: expect.any(String),
      appId: 'sys-ao-smith-1',
      source: `oss://${UPLOADS}/uploads/female/portrait-001.jpg`,
      entryPoint: 'http',
      productionId: 'prod-1',
      iceRequestId: requestId,
    });
  });

  it('a pipeline event records its job in RECORDS_BUCKET', async () => {
    // Act
    const result = await createOssHandler({ env: env({ RECORDS_BUCKET: RECORDS }) })(
      asFcPayload({ image: { bucket: UPLOADS, key: 'uploads/male/p.jpg' }, app: 'male' }),
      fcContext(),
    );

    // Assert
    const { jobId } = result.submitted[0]!;
    expect(await readJson<JobRecord>(RECORDS, jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      jobId,
      appId: 'sys-ao-smith-2',
      entryPoint: 'pipeline',
      source: `oss://${UPLOADS}/uploads/male/p.jpg`,
      status: 'Submitted',
    });
    expect(await readJson(RECORDS, inflightKey('.yike-jobs/', jobId))).toMatchObject({ jobId });
  });

  it('yike-submit records its job when RECORDS_BUCKET is set', async () => {
    // Act
    const { stdout } = await run(process.execPath, [BIN, '--image', IMAGE_URL, '--app', 'female'], {
      env: {
        PATH: process.env.PATH,
        ICE_ENDPOINT: ice.url,
        OSS_ENDPOINT: oss.localhostUrl,
        RECORDS_BUCKET: RECORDS,
        ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_CREDENTIALS.accessKeySecret,
        ALIBABA_CLOUD_SECURITY_TOKEN: LOCAL_CREDENTIALS.securityToken,
      },
    });

    // Assert
    const { jobId } = JSON.parse(stdout) as { jobId: string };
    expect(await readJson<JobRecord>(RECORDS, jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      jobId,
      entryPoint: 'cli',
      source: IMAGE_URL,
      status: 'Submitted',
    });
  });

  it('still answers 202 and submits once when the job record cannot be written, and logs an error naming the job', async () => {
    // Arrange: a records bucket that does not exist
    const logs = logCapture();

    // Act
    const response = await postJob({ RECORDS_BUCKET: 'no-such-bucket' }, { app: 'female', imageUrl: IMAGE_URL }, logs.sink);

    // Assert
    expect(response.status).toBe(202);
    expect(ice.jobs()).toHaveLength(1);
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'job submitted but its in-flight marker could not be written: the watcher finds it by reconciling (within 10 minutes)',
        jobId: response.body.jobId,
        bucket: 'no-such-bucket',
      }),
    );
  });
});
