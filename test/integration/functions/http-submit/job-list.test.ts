/**
 * GET /jobs: 25 jobs made through POST /jobs, one a second on the functions' clock, some left running, some finished and
 * some failed by one watcher tick, read back newest first a page at a time and through each filter.
 */
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startIceServer, type LocalIceServer } from '../../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir } from '../../../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const JOB_MS = 60_000;
const T0 = Date.parse('2026-12-01T08:00:00.000Z');
const FEMALE_APP = 'sys-ao-smith-1';
const MALE_APP = 'sys-ao-smith-2';

describe('GET /jobs lists jobs newest first, a page at a time, by status and by app', () => {
  let dir: ReturnType<typeof tempDir>;
  let oss: LocalOssServer;
  let ice: LocalIceServer;
  let gateway: LocalFcGateway;
  let clock = T0;
  const logs = logCapture();
  /** The jobs in the order they were made: job i at T0 + i s, male when i is odd, failing when i is a multiple of 5. */
  const made: { jobId: string; appId: string }[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    IMAGE_URL_MODE: 'public',
    ALLOWED_BUCKETS: BUCKET,
    HTTP_AUTH: 'none',
    JOB_RESULTS: 'none',
    LOG_LEVEL: 'error',
  });
  const get = async (query: string) => {
    const response = await fetch(`${gateway.url}/jobs${query}`);
    return { status: response.status, body: (await response.json()) as any };
  };
  const ids = (indexes: number[]) => indexes.map((index) => made[index]!.jobId);
  const newestFirst = (filter: (index: number) => boolean) =>
    ids(
      made
        .map((_, index) => index)
        .filter(filter)
        .reverse(),
    );

  beforeAll(async () => {
    dir = tempDir('job-list-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ finishAfterMs: JOB_MS, now: () => clock, images: { ossUrl: oss.url } });
    for (const key of ['uploads/portrait.jpg', 'uploads/fail-portrait.jpg']) await putLocalObject(oss.url, BUCKET, key);
    const handler = createHttpHandler({ env: env(), sink: logs.sink, now: () => new Date(clock) });
    gateway = await startFcGateway({ handler, credentials: LOCAL_CREDENTIALS });

    // 25 jobs, a second apart; then ICE's clock runs on until jobs 0-19 have ended and 20-24 are Executing, and one
    // watcher tick records that (Finished, or Failed for the failing image).
    for (let index = 0; index < 25; index++) {
      clock = T0 + index * 1_000;
      const app = index % 2 === 1 ? 'male' : 'female';
      const image = { bucket: BUCKET, key: index % 5 === 0 ? 'uploads/fail-portrait.jpg' : 'uploads/portrait.jpg' };
      const response = await fetch(`${gateway.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app, image }),
      });
      expect(response.status).toBe(202);
      const { jobId, appId } = (await response.json()) as { jobId: string; appId: string };
      made.push({ jobId, appId });
    }
    clock = T0 + 19_000 + JOB_MS;
    const watcher = createWatcherHandler({ env: env(), tuning: { lifecycle: { roundSeconds: 3_600 } }, now: () => new Date(clock), sink: logs.sink });
    const context = fcContext({ function: { name: 'yike-job-watcher', handler: 'index.handler', memory: 512, timeout: 60 } });
    const summary = await watcher(asFcPayload(loadEvent('fc3-timer')), context);
    expect(summary).toMatchObject({ settled: 20 });
  });
  afterAll(async () => {
    await Promise.all([gateway.close(), ice.close(), oss.close()]);
    dir.remove();
  });

  it('reads 25 jobs with limit=10 as three pages that hold each job exactly once, newest first', async () => {
    // Act
    const first = await get('?limit=10');
    const second = await get(`?limit=10&after=${first.body.lastId}`);
    const third = await get(`?limit=10&after=${second.body.lastId}`);

    // Assert
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    const pages = [first.body, second.body, third.body];
    expect(pages.map((page) => page.data.length)).toEqual([10, 10, 5]);
    expect(pages.map((page) => page.hasMore)).toEqual([true, true, false]);
    expect(pages.map((page) => page.lastId)).toEqual(ids([15, 5, 0]));
    expect(pages.flatMap((page) => page.data.map((job: { jobId: string }) => job.jobId))).toEqual(newestFirst(() => true));
  });

  it('answers each job on a page as GET /jobs/{jobId} answers it', async () => {
    // Act
    const page = await get('?limit=1');
    const single = await fetch(`${gateway.url}/jobs/${made[24]!.jobId}`);

    // Assert
    expect(page.body).toEqual({ data: [await single.json()], hasMore: true, lastId: made[24]!.jobId });
    expect(page.body.data[0]).toMatchObject({ jobId: made[24]!.jobId, appId: FEMALE_APP, status: 'Executing', terminal: false, recorded: true });
  });

  it('filters by final status, by a status before the end, by app, and by both', async () => {
    // Act
    const failed = await get('?status=Failed');
    const executing = await get('?status=Executing&limit=3');
    const executingRest = await get(`?status=Executing&limit=3&after=${executing.body.lastId}`);
    const male = await get('?app=male');
    const femaleFinished = await get(`?app=${FEMALE_APP}&status=Finished`);

    // Assert
    expect(failed.body).toEqual({ data: expect.any(Array), hasMore: false, lastId: made[0]!.jobId });
    expect(failed.body.data.map((job: { jobId: string }) => job.jobId)).toEqual(ids([15, 10, 5, 0]));
    expect(failed.body.data.every((job: { status: string }) => job.status === 'Failed')).toBe(true);
    expect([...executing.body.data, ...executingRest.body.data].map((job: { jobId: string }) => job.jobId)).toEqual(ids([24, 23, 22, 21, 20]));
    expect([executing.body.hasMore, executingRest.body.hasMore]).toEqual([true, false]);
    expect(male.body.data.map((job: { jobId: string }) => job.jobId)).toEqual(newestFirst((index) => index % 2 === 1));
    expect(male.body.data.every((job: { appId: string }) => job.appId === MALE_APP)).toBe(true);
    expect(femaleFinished.body.data.map((job: { jobId: string }) => job.jobId)).toEqual(ids([18, 16, 14, 12, 8, 6, 4, 2]));
  });

  it('costs one listing call and limit + 1 record reads per page, however many jobs there are', async () => {
    // Arrange
    const before = oss.requests().length;

    // Act
    const page = await get(`?limit=5&after=${made[20]!.jobId}`);
    // A streamed object is recorded once its stream has ended, which may be after the function has read it.
    await oss.idle();

    // Assert: the cursor's record, one ListObjects, six records (the sixth says whether there is more)
    expect(page.body.data.map((job: { jobId: string }) => job.jobId)).toEqual(ids([19, 18, 17, 16, 15]));
    const calls = oss.requests().slice(before);
    expect(calls.filter((call) => call.method === 'GET' && !call.key)).toHaveLength(1);
    expect(calls.filter((call) => call.method === 'GET' && call.key?.startsWith('.yike-jobs/jobs/'))).toHaveLength(7);
    expect(calls).toHaveLength(8);
  });

  it('refuses a bad limit, status, app or cursor with a 400 that names it', async () => {
    // Act
    const tooMany = await get('?limit=101');
    const status = await get('?status=Done');
    const app = await get('?app=robot');
    const cursor = await get('?after=no-such-job');

    // Assert
    expect(tooMany).toEqual({
      status: 400,
      body: {
        error: {
          code: 'INVALID_REQUEST',
          message: 'Invalid query: limit: limit is at most 100',
          details: [{ path: 'limit', message: 'limit is at most 100' }],
        },
      },
    });
    expect(status.status).toBe(400);
    expect(status.body.error).toMatchObject({ code: 'INVALID_REQUEST', details: [{ path: 'status' }] });
    expect(app.status).toBe(400);
    expect(app.body.error).toMatchObject({ code: 'UNKNOWN_APP' });
    expect(cursor).toEqual({
      status: 400,
      body: {
        error: {
          code: 'INVALID_CURSOR',
          message: 'after: no job no-such-job (erased since that page?): list again from the start',
          details: [{ path: 'after', message: 'names no job' }],
        },
      },
    });
  });
});
