import { jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import type { NotificationPayload } from '../../../../shared/domain/lifecycle/notify';
import { TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, sha256, startWatcherWorld, type WatcherWorld } from './watcher-world';

const PREFIX = '.yike-jobs/';
const JOB_MS = 60_000;
const MIB = 1024 * 1024;

async function bytesOf(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

describe('JOB_RESULTS copy: a Finished job’s outputs copied beside the upload before it is notified', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('gives a Finished job an own copy, byte for byte, and a signed playUrl in GET /jobs/{jobId} and in the webhook', async () => {
    // Arrange
    const key = 'uploads/female/own-copy.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act
    const summary = await world.watch();
    const beforeView = Date.now();
    const view = await world.getJob(jobId);
    const afterView = Date.now();

    // Assert: the copy sits beside the upload under the results prefix, with ICE's bytes and Content-Type
    const outputUrl = `${world.ice.httpsUrl}/__local/outputs/${jobId}.mp4`;
    const ownKey = `.yike-results/${key}/0.mp4`;
    const record = (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    expect(record.results).toEqual([{ kind: 'video', mediaId: expect.any(String), outputUrl, ownBucket: BUCKET, ownKey }]);
    const original = await bytesOf(outputUrl);
    const copy = await world.client.get(ownKey);
    expect(copy.content.length).toBe(3 * MIB);
    expect(sha256(copy.content)).toBe(sha256(original.bytes));
    expect((copy.res.headers as Record<string, string>)['content-type']).toBe('video/mp4');
    // The stand-in received one signed PutObject of that key (streamed, with ICE's Content-MD5 checked).
    expect(world.oss.requests().filter((request) => request.key === ownKey && request.method === 'PUT')).toEqual([
      { method: 'PUT', bucket: BUCKET, key: ownKey, status: 200, auth: 'header' },
    ]);
    expect(summary).toMatchObject({ copied: 1, copyFailures: 0, settled: 1 });

    // GET /jobs/{jobId}: playUrl is the own copy, signed for at most SIGNED_URL_EXPIRES_SECONDS (3,600 s)
    expect(view.statusCode).toBe(200);
    expect(view.body).toMatchObject({ jobId, status: 'Finished', results: [{ ownBucket: BUCKET, ownKey }] });
    expect(view.body).not.toHaveProperty('copy');
    expect(view.body.playUrl).toMatch(
      new RegExp(
        `^${world.oss.localhostUrl}/${BUCKET}/\\.yike-results/uploads/female/own-copy\\.png/0\\.mp4\\?OSSAccessKeyId=STS\\.LocalDevAccessKeyId&Expires=\\d+&Signature=`,
      ),
    );
    // 3,600 s from when GET /jobs signed it (between beforeView and afterView), in whole seconds
    const wholeSecond = (ms: number) => Math.round(ms / 1000) * 1000;
    expect(Date.parse(view.body.playUrlExpiresAt)).toBeGreaterThanOrEqual(wholeSecond(beforeView) + 3_600_000);
    expect(Date.parse(view.body.playUrlExpiresAt)).toBeLessThanOrEqual(wholeSecond(afterView) + 3_600_000);
    expect(Number(new URL(view.body.playUrl).searchParams.get('Expires')) * 1000).toBe(Date.parse(view.body.playUrlExpiresAt));
    const played = await bytesOf(view.body.playUrl);
    expect({ status: played.status, type: played.type, sha256: sha256(played.bytes) }).toEqual({
      status: 200,
      type: 'video/mp4',
      sha256: sha256(original.bytes),
    });

    // The webhook (signed) and the result object carry the copy's key and a signed URL that plays it
    expect(world.deliveries.map((delivery) => [delivery.body.type, delivery.signatureValid])).toEqual([['yike.job.finished', true]]);
    const delivered = world.deliveries[0]!.body.job;
    expect(delivered.results[0]).toMatchObject({ ownBucket: BUCKET, ownKey, outputUrl });
    expect(sha256((await bytesOf(delivered.playUrl!)).bytes)).toBe(sha256(original.bytes));
    const resultObject = (await world.readJson<NotificationPayload>(`.yike-results/${key}.json`))!;
    expect(resultObject.job).toMatchObject({ results: [{ ownBucket: BUCKET, ownKey }], playUrl: expect.stringContaining(ownKey.replace(/\//g, '/')) });
  });

  it('retries a copy whose download failed (500) on a later round, and notifies the job once, with the copy', async () => {
    // Arrange: the local ICE answers 500 to the first GET of this job's video
    const key = 'uploads/female/flaky-output.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act: one run: the copy fails, the notification waits, a later round copies and notifies
    const first = await world.watch();
    const second = await world.watch();

    // Assert
    expect(first).toMatchObject({ copyFailures: 1, copied: 1, settled: 1, delivered: 2 });
    expect(first.rounds).toBeGreaterThan(1);
    expect(second).toMatchObject({ inflight: 0, delivered: 0, rounds: 1 });
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(world.deliveries[0]!.body.job).toMatchObject({ results: [{ ownKey: `.yike-results/${key}/0.mp4` }], playUrl: expect.any(String) });
    expect(world.deliveries[0]!.body.job).not.toHaveProperty('copy');
    const record = (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    expect(record.copying).toEqual({ attempts: 2, copiedAt: expect.any(String) });
    expect(record).not.toHaveProperty('copy');
  });

  it('notifies with ICE’s URL and copy "pending" once the wait for the copy is over, then sends yike.job.result-copied', async () => {
    // Arrange: the first download fails and the next try is 10-12 s later, past a 5 s wait (3 s rounds)
    const key = 'uploads/female/flaky-output-late.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act
    const summary = await world.watch({}, 65, { tuning: { lifecycle: { roundSeconds: 3, resultCopy: { maxWaitSeconds: 5 } } } });

    // Assert
    const outputUrl = `${world.ice.httpsUrl}/__local/outputs/${jobId}.mp4`;
    expect(world.deliveries.map((delivery) => [delivery.body.id, delivery.body.type])).toEqual([
      [`${jobId}.finished`, 'yike.job.finished'],
      [`${jobId}.result-copied`, 'yike.job.result-copied'],
    ]);
    const [finished, copied] = world.deliveries.map((delivery) => delivery.body);
    expect(finished!.job).toMatchObject({ copy: 'pending', results: [{ outputUrl }] });
    expect(finished!.job).not.toHaveProperty('playUrl');
    expect(finished!.job.results[0]).not.toHaveProperty('ownKey');
    expect(copied!.job).toMatchObject({ results: [{ outputUrl, ownKey: `.yike-results/${key}/0.mp4` }], playUrl: expect.any(String) });
    expect(copied!.job).not.toHaveProperty('copy');
    expect(Date.parse(copied!.time)).toBeGreaterThan(Date.parse(finished!.time));
    // The result object names the copy now too; the job is settled (its marker gone).
    expect(await world.readJson<NotificationPayload>(`.yike-results/${key}.json`)).toMatchObject({ type: 'yike.job.result-copied' });
    expect(summary).toMatchObject({ settled: 1 });
    expect(await world.readJson(`${PREFIX}inflight/${jobId}`)).toBeUndefined();
  });

  it('upgrades an http:// OutputUrl to https before copying it', async () => {
    // Arrange
    const key = 'uploads/female/http-output.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act
    await world.watch();

    // Assert: ICE's own URL is kept as ICE gave it; the copy was fetched over TLS
    const record = (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    expect(record.results[0]).toMatchObject({ outputUrl: `${world.ice.url}/__local/outputs/${jobId}.mp4`, ownKey: `.yike-results/${key}/0.mp4` });
    expect(world.ice.outputRequests()).toEqual([{ file: `${jobId}.mp4`, method: 'GET', status: 200, tls: true }]);
    const copy = await world.client.get(`.yike-results/${key}/0.mp4`);
    expect(copy.content.length).toBe(3 * MIB);
  });

  it('does not copy an output over the copy limit (1 MiB here, 2 GiB deployed): copy "failed", notified at once with ICE’s URL', async () => {
    // Arrange
    const key = 'uploads/female/too-large.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act
    const summary = await world.watch({}, 65, { tuning: { lifecycle: { resultCopy: { maxBytes: MIB } } } });

    // Assert
    expect(summary).toMatchObject({ copied: 0, copyFailures: 1, settled: 1, rounds: 1 });
    expect(world.deliveries.map((delivery) => delivery.body.job.copy)).toEqual(['failed']);
    const record = (await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!;
    expect(record).toMatchObject({ copy: 'failed', copying: { attempts: 1, lastError: expect.stringMatching(/^RESULT_TOO_LARGE: /) } });
    expect(world.oss.listKeys(BUCKET).filter((name) => name.startsWith(`.yike-results/${key}/`))).toEqual([]);
    expect((await world.getJob(jobId)).body).toMatchObject({ copy: 'failed' });
  });

  it('copies every output (a video and its cover) beside the upload as <n>.<ext> with their Content-Types', async () => {
    // Arrange
    const key = 'uploads/female/with-cover.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS);

    // Act
    await world.watch();

    // Assert
    const video = await world.client.get(`.yike-results/${key}/0.mp4`);
    const cover = await world.client.get(`.yike-results/${key}/1.png`);
    expect((video.res.headers as Record<string, string>)['content-type']).toBe('video/mp4');
    expect(cover.content).toEqual(TINY_PNG);
    expect((cover.res.headers as Record<string, string>)['content-type']).toBe('image/png');
    expect((await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!.results.map((result) => [result.kind, result.ownBucket, result.ownKey])).toEqual([
      ['video', BUCKET, `.yike-results/${key}/0.mp4`],
      ['image', BUCKET, `.yike-results/${key}/1.png`],
    ]);
  });

  it('copies the output of a job without an upload (POST /jobs) under jobs/<jobId>/ in the records bucket', async () => {
    // Arrange: the image exists in the bucket, but no upload trigger submitted it
    await world.client.put('uploads/female/by-url.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const submitted = await world.postJob({ app: 'female', imageUrl: 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/by-url.png' });
    world.clock.advance(JOB_MS);

    // Act
    await world.watch();

    // Assert
    const { jobId } = submitted.body as { jobId: string };
    expect(submitted.statusCode).toBe(202);
    expect((await world.readJson<JobRecord>(jobRecordKey(PREFIX, jobId)))!.results[0]).toMatchObject({
      ownBucket: BUCKET,
      ownKey: `.yike-results/jobs/${jobId}/0.mp4`,
    });
    expect((await world.client.get(`.yike-results/jobs/${jobId}/0.mp4`)).content.length).toBe(3 * MIB);
  });

  it('says copy "pending" in GET /jobs/{jobId} while a Finished job waits for the watcher, then gives its playUrl', async () => {
    // Arrange: ICE reports the job Finished, and GET ?refresh=1 records it before the watcher runs
    const { jobId } = await world.upload('uploads/female/refreshed-copy.png');
    world.clock.advance(JOB_MS);

    // Act
    const before = await world.getJob(`${jobId}?refresh=1`);
    await world.watch();
    const after = await world.getJob(jobId);

    // Assert
    expect(before.body).toMatchObject({ status: 'Finished', copy: 'pending' });
    expect(before.body).not.toHaveProperty('playUrl');
    expect(after.body).toMatchObject({ status: 'Finished', playUrl: expect.any(String) });
    expect(after.body).not.toHaveProperty('copy');
  });
});
