import { jobRecordFromSubmitRecord } from '../../../../shared/domain/lifecycle/operator';
import { submitYikeJob } from '../../../../shared/domain/submissions/submit-yike-job';
import { postJobs, PREFIX, submitWorld, upload, UPLOADS } from './submit-world';

/** The caller's metadata and a job's own webhook, through the one submit into the job record and the submit record. */
const METADATA = { customerId: 'c-42' };
const HEX = Buffer.from(JSON.stringify(METADATA), 'utf8').toString('hex');
const IMAGE = { kind: 'oss' as const, bucket: UPLOADS, key: 'uploads/female/a.png' };

describe('submitYikeJob: metadata and a job webhook go into the job record and the submit record', () => {
  it('records POST /jobs metadata and webhookUrl in the job record and in the submit record, which reconcile rebuilds the job from', async () => {
    // Arrange
    const world = submitWorld();
    world.config.lifecycle.jobWebhooks.allowedHosts = ['hooks.example.com'];
    world.images.put(UPLOADS, IMAGE.key);
    const webhookUrl = 'https://hooks.example.com/yike?token=t';

    // Act
    await submitYikeJob({ ...postJobs(IMAGE, 'scope-1'), metadata: METADATA, webhookUrl }, world.deps);

    // Assert
    const store = world.bucket(UPLOADS);
    expect(store.read(`${PREFIX}jobs/job-1.json`)).toMatchObject({ jobId: 'job-1', metadata: METADATA, webhookUrl });
    expect(store.read(`${PREFIX}inflight/job-1`)).toMatchObject({ jobId: 'job-1', metadata: METADATA, webhookUrl });
    const submitRecord = store.read(`${PREFIX}http/scope-1.json`);
    expect(submitRecord).toMatchObject({ status: 'COMPLETED', context: { metadata: METADATA, webhookUrl } });
    expect(jobRecordFromSubmitRecord(PREFIX, `${PREFIX}http/scope-1.json`, submitRecord)).toMatchObject({ jobId: 'job-1', metadata: METADATA, webhookUrl });
  });

  it.each([
    [[], 'per-job webhooks are off: set WEBHOOK_ALLOWED_HOSTS (e.g. hooks.example.com, or *.example.com) on http-submit and job-watcher to allow them'],
    [['hooks.example.com'], 'host "elsewhere.example.com" is not in WEBHOOK_ALLOWED_HOSTS'],
  ])('refuses a webhookUrl with WEBHOOK_ALLOWED_HOSTS=%j before any ICE call or record, naming webhookUrl', async (hosts, message) => {
    // Arrange
    const world = submitWorld();
    world.config.lifecycle.jobWebhooks.allowedHosts = hosts;

    // Act
    const refused = await submitYikeJob({ ...postJobs(IMAGE, 'scope-2'), webhookUrl: 'https://elsewhere.example.com/yike' }, world.deps).catch(
      (error) => error,
    );

    // Assert
    expect(refused).toMatchObject({
      code: 'WEBHOOK_URL_NOT_ALLOWED',
      statusCode: 400,
      message: `webhookUrl: ${message}`,
      details: [{ path: 'webhookUrl', message }],
    });
    expect(world.ice.calls).toEqual([]);
    expect(world.bucket(UPLOADS).writes).toEqual([]);
  });

  it('takes *.example.com for any name under it, and not for example.com itself', async () => {
    // Arrange
    const world = submitWorld();
    world.config.lifecycle.jobWebhooks.allowedHosts = ['*.example.com'];
    world.images.put(UPLOADS, IMAGE.key);

    // Act
    const allowed = await submitYikeJob({ ...postJobs(IMAGE), webhookUrl: 'https://tenant-7.example.com/yike' }, world.deps);
    const refused = await submitYikeJob({ ...postJobs(IMAGE), webhookUrl: 'https://example.com/yike' }, world.deps).catch((error) => error);

    // Assert
    expect(allowed.status).toBe('executed');
    expect(refused).toMatchObject({ code: 'WEBHOOK_URL_NOT_ALLOWED', message: 'webhookUrl: host "example.com" is not in WEBHOOK_ALLOWED_HOSTS' });
  });

  it('reads an upload’s metadata with one HEAD only when its form carried some (its name starts with meta-), and keeps it', async () => {
    // Arrange
    const world = submitWorld();
    const withMetadata = 'uploads/female/2026-12-02/meta-0f9e.png';
    world.images.put(UPLOADS, withMetadata, 'E1', 1024, { 'yike-metadata': HEX });

    // Act
    await submitYikeJob(upload(withMetadata), world.deps);
    await submitYikeJob(upload('uploads/female/2026-12-02/plain.png'), world.deps);

    // Assert
    expect(world.images.headed).toEqual([`oss://${UPLOADS}/${withMetadata}`]);
    const store = world.bucket(UPLOADS);
    expect(store.read(`${PREFIX}jobs/job-1.json`)).toMatchObject({ upload: { key: withMetadata }, metadata: METADATA });
    expect(store.read(`${PREFIX}jobs/job-2.json`)).not.toHaveProperty('metadata');
    expect(store.keys(`${PREFIX}objects/`).map((key) => store.read(key).context?.metadata)).toEqual([METADATA, undefined]);
  });

  it('fails an upload whose user metadata no form of ours wrote, before any ICE call, and frees nothing it did not claim', async () => {
    // Arrange
    const world = submitWorld();
    const key = 'uploads/female/2026-12-02/meta-bad.png';
    world.images.put(UPLOADS, key, 'E1', 1024, { 'yike-metadata': 'not-hex' });

    // Act
    const failed = await submitYikeJob(upload(key), world.deps).catch((error) => error);

    // Assert
    expect(failed).toMatchObject({ code: 'METADATA_INVALID' });
    expect(world.ice.calls).toEqual([]);
    expect(world.bucket(UPLOADS).writes).toEqual([]);
  });
});
