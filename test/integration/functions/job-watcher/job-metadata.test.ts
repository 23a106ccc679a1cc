import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import { FAST_RETRIES, LOCAL_CREDENTIALS, TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, JOB_MS, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

/**
 * A job's metadata (the caller's own keys and values) from `POST /jobs` and from a browser upload's signed form, through
 * the job record to GET /jobs/{jobId}, the webhook, the result object and the next function's event; and the form's
 * metadata field, which the local OSS's policy check holds to what was signed.
 */
const METADATA = { customerId: 'c-42' };
const METADATA_FIELD = 'x-oss-meta-yike-metadata';
const hex = (metadata: Record<string, string>) => Buffer.from(JSON.stringify(metadata), 'utf8').toString('hex');

describe('job metadata: POST /jobs and POST /uploads take it, and every view and notification of the job gives it back', () => {
  let cloud: LifecycleHarness;
  let gateway: LocalFcGateway;

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
    gateway = await startFcGateway({
      handler: createHttpHandler({ env: cloud.env({ HTTP_AUTH: 'none' }), tuning: FAST_RETRIES }),
      credentials: LOCAL_CREDENTIALS,
    });
  });
  afterAll(async () => {
    await gateway.close();
    await cloud.close();
  });
  beforeEach(async () => cloud.reset());

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /** The form, posted as a browser would, with `change` over its fields (undefined: left out). */
  function postForm(form: { url: string; fields: Record<string, string> }, change: Record<string, string | undefined> = {}) {
    const body = new FormData();
    for (const [name, value] of Object.entries({ ...form.fields, ...change })) if (value !== undefined) body.append(name, value);
    body.append('file', new Blob([TINY_PNG], { type: 'image/png' }), 'me.png');
    return fetch(form.url, { method: 'POST', body });
  }

  /** HeadObject requests the local OSS answered for a key. */
  const heads = (key: string) => cloud.oss.requests().filter((request) => request.method === 'HEAD' && request.key === key).length;

  /** One watcher tick after ICE finished the job, and the next function's events. */
  async function settle(): Promise<unknown[]> {
    cloud.iceClock += JOB_MS;
    await cloud.watcher()(timerEvent(), watcherContext());
    await cloud.fc.idle();
    return cloud.nextEvents.map((event) => JSON.parse(event.toString('utf8')));
  }

  it('gives POST /jobs {"metadata":{"customerId":"c-42"}} back in GET /jobs/{jobId}, the list, the webhook, the result object and the next function', async () => {
    // Arrange
    await cloud.client.put('uploads/female/api-caller.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const submitted = await call('POST', '/jobs', { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/api-caller.png' }, metadata: METADATA });
    const jobId = submitted.body.jobId as string;

    // Act
    const nextEvents = await settle();
    const job = await call('GET', `/jobs/${jobId}`);
    const listed = await call('GET', '/jobs?limit=10');

    // Assert
    expect(submitted.status).toBe(202);
    expect(listed).toMatchObject({ status: 200, body: { data: [{ jobId, status: 'Finished', metadata: METADATA }], hasMore: false } });
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({ status: 'Finished', entryPoint: 'http', metadata: METADATA });
    expect(job).toMatchObject({ status: 200, body: { jobId, status: 'Finished', metadata: METADATA } });
    const resultObject = await cloud.readJson<NotificationPayload>(`.yike-results/jobs/${jobId}.json`);
    expect(resultObject).toMatchObject({ id: `${jobId}.finished`, job: { jobId, metadata: METADATA } });
    expect(cloud.deliveries).toEqual([{ body: resultObject, signatureValid: true, deliveryHeader: `${jobId}.finished` }]);
    expect(nextEvents).toEqual([resultObject]);
  });

  it('binds POST /uploads metadata into the signed form: the upload is named meta-…, and its job, record and notifications carry the metadata', async () => {
    // Arrange
    const metadata = { customerId: 'c-42', campaign: '双十一' };
    const form = await call('POST', '/uploads', { app: 'female', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length, metadata });

    // Act
    const posted = await postForm(form.body);
    const { jobId } = await cloud.submitUploaded(form.body.key);
    const nextEvents = await settle();
    const job = await call('GET', `/jobs/${jobId}`);

    // Assert
    expect(form.status).toBe(201);
    expect(form.body.key).toMatch(/^uploads\/female\/\d{4}-\d{2}-\d{2}\/meta-[0-9a-f-]{36}\.png$/);
    expect(form.body.fields[METADATA_FIELD]).toBe(hex(metadata));
    expect(posted.status).toBe(204);
    // oss-submit's one HEAD, which read the metadata back (the trigger's event carries none).
    expect(heads(form.body.key)).toBe(1);
    expect((await cloud.client.head(form.body.key)).meta).toMatchObject({ 'yike-metadata': hex(metadata) });
    expect(job).toMatchObject({ status: 200, body: { jobId, entryPoint: 'upload', upload: { key: form.body.key }, metadata } });
    expect(cloud.deliveries.map((delivery) => delivery.body.job.metadata)).toEqual([metadata]);
    expect(nextEvents).toEqual([expect.objectContaining({ job: expect.objectContaining({ jobId, metadata }) })]);
    expect(await cloud.readJson<NotificationPayload>(`.yike-results/${form.body.key}.json`)).toMatchObject({ job: { jobId, metadata } });
  });

  it.each([
    ['changed', hex({ customerId: 'c-43' })],
    ['left out', undefined],
  ])('refuses a form whose metadata field was %s: the local OSS’s policy check answers AccessDenied and stores nothing', async (_how, value) => {
    // Arrange
    const form = await call('POST', '/uploads', { app: 'female', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length, metadata: METADATA });

    // Act
    const posted = await postForm(form.body, { [METADATA_FIELD]: value });

    // Assert
    expect(posted.status).toBe(403);
    const answer = await posted.text();
    expect(answer).toContain('<Code>AccessDenied</Code>');
    expect(answer).toContain(`Invalid according to Policy: Policy Condition failed: ["eq", "$${METADATA_FIELD}", "${hex(METADATA)}"]`);
    expect(cloud.oss.listKeys(BUCKET)).not.toContain(form.body.key);
  });

  it('leaves uploads without metadata as they were: no meta- name, no extra field, and no HEAD before the submit', async () => {
    // Arrange
    const form = await call('POST', '/uploads', { app: 'female', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length });
    await postForm(form.body);

    // Act
    const { jobId } = await cloud.submitUploaded(form.body.key);

    // Assert
    expect(form.body.key).not.toContain('/meta-');
    expect(Object.keys(form.body.fields)).not.toContain(METADATA_FIELD);
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).not.toHaveProperty('metadata');
    expect(heads(form.body.key)).toBe(0);
  });

  it.each([
    [
      'more than 16 keys',
      Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v'])),
      { path: 'metadata', message: 'at most 16 keys (17 given)' },
    ],
    ['a key over 64 characters', { ['k'.repeat(65)]: 'v' }, { path: `metadata.${'k'.repeat(65)}`, message: 'keys must be 1-64 characters (this one has 65)' }],
    ['a value over 512 characters', { note: 'x'.repeat(513) }, { path: 'metadata.note', message: 'must be at most 512 characters' }],
    ['a value that is no string', { count: 3 }, { path: 'metadata.count', message: 'must be a string' }],
  ])('answers POST /jobs with %s 400, naming the field', async (_case, metadata, detail) => {
    // Act
    const response = await call('POST', '/jobs', { app: 'female', image: { bucket: BUCKET, key: 'uploads/female/any.png' }, metadata });

    // Assert
    expect(response).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: `Invalid request body: ${detail.path}: ${detail.message}`, details: [detail] } },
    });
    expect(cloud.ice.jobs()).toEqual([]);
  });
});
