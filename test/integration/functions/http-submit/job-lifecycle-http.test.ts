import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { createOssRecordStore } from '../../../../shared/adapters/oss/record-store';
import { createJobRecordStore, newJobRecord, type JobRecordStore } from '../../../../shared/domain/lifecycle/job-record';
import { createOssClient } from '../../../../shared/adapters/oss/client';
import { tuningWith, type TuningOverrides } from '../../../../shared/runtime/tuning';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir, testConfig } from '../../../helpers/local-cloud';
import { NEVER_ANSWERS_MS, simulatedClock } from '../../../helpers/waiting';

const BUCKET = 'yike-uploads';
const PREFIX = '.yike-jobs/';
const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
/** Local ICE jobs finish this long after their submit (Created for the first tenth, Queuing to a third, then Executing). */
const FAST_JOB_MS = 1500;
/** Between `?wait=N` polls http-submit pauses 1 s, then 2 s, then 3 s (shared/triggers/http/jobs-routes.ts). */
const FIRST_PAUSES_MS = [1000, 2000];

describe('GET /jobs/{jobId} and /jobs/by-object answer the job lifecycle from the job records', () => {
  let ice: LocalIceServer;
  let slowIce: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let jobs: JobRecordStore;
  const gateways: LocalFcGateway[] = [];
  let logs: ReturnType<typeof logCapture>;
  /**
   * The simulated time (epoch ms) of ICE's jobs and of http-submit's invocations: a `?wait=N` moves it by its pauses
   * instead of waiting, so what a wait does is counted in polls and simulated seconds, not measured on the machine.
   */
  const clock = simulatedClock();

  function env(iceServer: LocalIceServer, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: iceServer.url,
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: BUCKET,
      HTTP_AUTH: 'none',
      ...overrides,
    };
  }

  /** `tuning` over a 2 s ICE read timeout and fast retries; the simulated clock unless `realClock`. */
  async function gateway(
    iceServer: LocalIceServer = ice,
    options: { timeoutSeconds?: number; env?: Record<string, string>; tuning?: TuningOverrides; realClock?: boolean } = {},
  ): Promise<LocalFcGateway> {
    const tuning = tuningWith({ ice: { readTimeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 2 } } }, options.tuning ?? {});
    const started = await startFcGateway({
      handler: createHttpHandler({
        env: env(iceServer, options.env),
        tuning,
        sink: logs.sink,
        ...(options.realClock ? {} : { now: clock.now, sleep: clock.sleep }),
      }),
      credentials: LOCAL_CREDENTIALS,
      timeoutSeconds: options.timeoutSeconds,
    });
    gateways.push(started);
    return started;
  }

  /** A job accepted by ICE through POST /jobs, which writes its job record (in the first ALLOWED_BUCKETS bucket). */
  async function submitted(target: LocalFcGateway): Promise<string> {
    const response = await fetch(`${target.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'female', imageUrl: IMAGE_URL }),
    });
    const { jobId } = (await response.json()) as { jobId: string };
    expect(response.status).toBe(202);
    // An imageUrl on an allowed bucket's own domain is that object.
    const source = 'oss://yike-uploads/uploads/female/portrait-001.jpg';
    expect(await jobs.get(jobId)).toMatchObject({ jobId, appId: 'sys-ao-smith-1', source, status: 'Submitted', entryPoint: 'http' });
    return jobId;
  }

  async function get(target: LocalFcGateway, path: string) {
    const response = await fetch(`${target.url}${path}`);
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    dir = tempDir('job-lifecycle-http-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // ICE's precheck (PRECHECK=on by default) reads the images from the local OSS.
    ice = await startIceServer({ finishAfterMs: FAST_JOB_MS, now: clock.ms, images: { ossUrl: oss.url } });
    slowIce = await startIceServer({ finishAfterMs: 600_000, now: clock.ms, images: { ossUrl: oss.url } });
    await putLocalObject(oss.url, BUCKET, 'uploads/female/portrait-001.jpg');
    const config = testConfig({ OSS_ENDPOINT: oss.localhostUrl });
    jobs = createJobRecordStore(createOssRecordStore(createOssClient(config.oss, LOCAL_CREDENTIALS, BUCKET)), PREFIX);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), slowIce.close(), oss.close(), ...gateways.map((g) => g.close())]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    slowIce.reset();
    logs = logCapture();
  });

  it('answers from the job record without calling ICE', async () => {
    // Arrange
    const target = await gateway();
    const record = newJobRecord({
      jobId: 'job-from-record-1',
      appId: 'sys-ao-smith-2',
      source: 'oss://yike-uploads/uploads/male/a.jpg',
      entryPoint: 'upload',
      upload: { bucket: BUCKET, key: 'uploads/male/a.jpg', eTag: 'E1' },
    });
    await jobs.create(record);

    // Act
    const response = await get(target, '/jobs/job-from-record-1');

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({
      jobId: 'job-from-record-1',
      appId: 'sys-ao-smith-2',
      source: 'oss://yike-uploads/uploads/male/a.jpg',
      status: 'Submitted',
      terminal: false,
      submittedAt: record.submittedAt,
      updatedAt: record.updatedAt,
      results: [],
      entryPoint: 'upload',
      upload: { bucket: BUCKET, key: 'uploads/male/a.jpg', eTag: 'E1' },
      recorded: true,
    });
    expect(ice.calls()).toEqual([]);
  });

  it('answers 404 JOB_NOT_FOUND without a record, and asks ICE only with refresh=1', async () => {
    // Arrange: a job ICE knows that no job record holds (submitted elsewhere, e.g. in the console)
    const target = await gateway();
    const jobId = 'fedcba9876543210fedcba9876543210';
    ice.seedJobs([{ jobId, appId: 'sys-ao-smith-1', appParamsRaw: JSON.stringify({ 'LoadImage.1.TargetImage': IMAGE_URL }) }]);
    const callsBefore = ice.calls().length;

    // Act
    const plain = await get(target, `/jobs/${jobId}`);
    const callsAfterPlain = ice.calls().length;
    const refreshed = await get(target, `/jobs/${jobId}?refresh=1`);
    const unknown = await get(target, '/jobs/0123456789abcdef0123456789abcdef?refresh=1');

    // Assert
    expect(plain).toMatchObject({ status: 404, body: { error: { code: 'JOB_NOT_FOUND', message: `No job record for ${jobId} (add ?refresh=1 to ask ICE)` } } });
    expect(callsAfterPlain).toBe(callsBefore);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({
      jobId,
      appId: 'sys-ao-smith-1',
      source: IMAGE_URL,
      status: expect.stringMatching(/^(Created|Queuing|Executing|Finished)$/),
      recorded: false,
    });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'JOB_NOT_FOUND' } } });
    expect(await jobs.get(jobId)).toBeUndefined();
  });

  it('with refresh=1 asks ICE now and saves the change into the job record', async () => {
    // Arrange
    const target = await gateway();
    const jobId = await submitted(target);

    // Act
    const response = await get(target, `/jobs/${jobId}?refresh=1`);

    // Assert
    const saved = await jobs.get(jobId);
    expect(response.status).toBe(200);
    expect(response.body.status).toMatch(/^(Created|Queuing|Executing|Finished)$/);
    expect(saved!.status).toBe(response.body.status);
    expect(response.body).toMatchObject({ jobId, recorded: true, updatedAt: saved!.updatedAt });
    expect(ice.calls().filter((call) => call.action === 'GetYikeAIAppJob')).toHaveLength(1);
  });

  it('with wait=N returns as soon as the job is Finished, saves it and leaves the in-flight marker to the watcher', async () => {
    // Arrange
    const target = await gateway();
    const jobId = await submitted(target);
    const submittedAt = clock.ms();

    // Act
    const response = await get(target, `/jobs/${jobId}?wait=20`);

    // Assert: polled at 0 s (Created), 1 s (Executing) and 3 s (Finished), and answered then
    expect(ice.calls().filter((call) => call.action === 'GetYikeAIAppJob')).toHaveLength(3);
    expect(clock.ms() - submittedAt).toBe(FIRST_PAUSES_MS[0]! + FIRST_PAUSES_MS[1]!);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      jobId,
      status: 'Finished',
      terminal: true,
      // ICE writes these in China Standard Time (+08:00): the answer gives every time in one form, UTC.
      executionStartTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      executionFinishTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      results: [{ kind: 'video', mediaId: expect.any(String), outputUrl: `${ice.httpsUrl}/__local/outputs/${jobId}.mp4` }],
    });
    const times = JSON.stringify(response.body).match(/"\d{4}-\d\d-\d\dT[^"]*"/g) ?? [];
    expect(times.length).toBeGreaterThanOrEqual(4);
    expect(times.filter((time) => !/\.\d{3}Z"$/.test(time))).toEqual([]);
    const saved = (await jobs.get(jobId))!;
    expect(Date.parse(response.body.executionFinishTime)).toBe(Date.parse(saved.executionFinishTime!));
    expect((await jobs.get(jobId))!.status).toBe('Finished');
    expect(await jobs.listInflight()).toContain(jobId);
  });

  it('with wait=N answers the unfinished job when N seconds run out', async () => {
    // Arrange
    const target = await gateway(slowIce);
    const jobId = await submitted(target);
    const askedAt = clock.ms();

    // Act
    const response = await get(target, `/jobs/${jobId}?wait=2`);

    // Assert: polled at 0, 1 and 2 s (the last pause cut to the deadline), and answered at exactly 2 s
    expect(clock.ms() - askedAt).toBe(2000);
    expect(slowIce.calls().filter((call) => call.action === 'GetYikeAIAppJob')).toHaveLength(3);
    expect(response).toMatchObject({ status: 200, body: { jobId, status: 'Created', terminal: false } });
    expect((await jobs.get(jobId))!.status).toBe('Created');
  });

  it('never waits past the invocation’s remaining time', async () => {
    // Arrange: a 5 s function with a 1 s ICE read timeout (and 1 s kept for the answer) may wait 3 s
    const target = await gateway(slowIce, { timeoutSeconds: 5, tuning: { ice: { readTimeoutMs: 1_000 } } });
    const jobId = await submitted(target);
    const askedAt = clock.ms();

    // Act
    const response = await get(target, `/jobs/${jobId}?wait=25`);

    // Assert: polled at 0, 1 and 3 s, and answered then, not at 25 s
    expect(clock.ms() - askedAt).toBe(3000);
    expect(slowIce.calls().filter((call) => call.action === 'GetYikeAIAppJob')).toHaveLength(3);
    expect(response).toMatchObject({ status: 200, body: { jobId, status: 'Created' } });
  });

  it('answers before the invocation ends even when every ICE poll times out and is retried', async () => {
    // Arrange: a 5 s function on the real clock (the local FC gateway ends it after 5 s); GetYikeAIAppJob never
    // answers, against a 1 s read timeout, and a poll makes 6 attempts: one poll alone would outlast the invocation
    const target = await gateway(slowIce, { timeoutSeconds: 5, tuning: { ice: { readTimeoutMs: 1_000, retry: { maxAttempts: 6 } } }, realClock: true });
    const jobId = await submitted(target);
    slowIce.faults.delayNext(12, NEVER_ANSWERS_MS);

    // Act
    const response = await get(target, `/jobs/${jobId}?wait=25`);

    // Assert: our answer with the last known status, not FC's timeout (the gateway's function error)
    expect(response).toMatchObject({ status: 200, body: { jobId, status: 'Submitted', terminal: false } });
  });

  it('answers 400 naming the parameter for a wait over 25 s or not a number, and for a bad refresh', async () => {
    // Arrange
    const target = await gateway();

    // Act
    const tooLong = await get(target, '/jobs/job-1?wait=26');
    const notNumber = await get(target, '/jobs/job-1?wait=soon');
    const badRefresh = await get(target, '/jobs/job-1?refresh=yes&wait=-1');

    // Assert
    expect(tooLong).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', details: [{ path: 'wait', message: 'must be a whole number of seconds from 0 to 25' }] } },
    });
    expect(notNumber.body.error.details).toEqual([{ path: 'wait', message: 'must be a whole number of seconds from 0 to 25' }]);
    expect(badRefresh.body.error.details.map((issue: { path: string }) => issue.path)).toEqual(['refresh', 'wait']);
    expect(ice.calls()).toEqual([]);
  });

  it('includes the job’s lifecycle in GET /jobs/by-object', async () => {
    // Arrange: the upload function submits and writes the job record; later the job record says where the job is
    await createOssHandler({ env: env(ice, { APP_ROUTES: '{"uploads/female/":"female"}' }), sink: logs.sink })(
      asFcPayload(loadEvent('oss-trigger-put')),
      fcContext(),
    );
    const jobId = ice.jobs()[0]!.jobId;
    const upload = { bucket: BUCKET, key: 'uploads/female/portrait-001.jpg', eTag: '688A7BF4F233DC9C88A80BF985AB7329' };
    const record = await jobs.get(jobId);
    expect(record).toMatchObject({ jobId, appId: 'sys-ao-smith-1', source: `oss://${BUCKET}/${upload.key}`, entryPoint: 'upload', upload });
    await jobs.save({ ...record!, status: 'Failed', error: { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' } });
    const target = await gateway();

    // Act
    const response = await get(target, `/jobs/by-object?bucket=${BUCKET}&key=${encodeURIComponent(upload.key)}`);

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      ...upload,
      status: 'COMPLETED',
      jobId,
      job: { jobId, status: 'Failed', terminal: true, results: [], error: { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' }, upload },
    });
  });
});
