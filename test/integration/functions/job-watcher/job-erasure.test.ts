/**
 * DELETE /jobs/{jobId}: a job and everything it left in OSS erased, a tombstone kept, and nothing brought back by the
 * watcher's later ticks or its reconcile. Made the real way: an upload, oss-submit, ICE, the watcher's copy, result
 * object and webhook, then the DELETE through http-submit behind the local FC gateway.
 */
import { TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, startWatcherWorld, type WatcherWorld } from './watcher-world';

const PREFIX = '.yike-jobs/';
const JOB_MS = 60_000;
/** Past the erasure's sweep-again delay (10 minutes) and reconcile's pace (10 minutes). */
const ELEVEN_MINUTES_MS = 11 * 60_000;
/** One round per run (a round as long as the function's timeout): the test moves the clock between ticks. */
const ONE_ROUND = { lifecycle: { roundSeconds: 3_600 } };

describe('DELETE /jobs/{jobId} erases a job and everything it left', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  /** Every key of the bucket that names the job or its upload. */
  const objectsOf = (jobId: string, uploadKey: string) => world.oss.listKeys(BUCKET).filter((key) => key.includes(jobId) || key.includes(uploadKey));

  it('leaves no object of a finished job but its tombstone, brings none back on later ticks or reconcile, and answers 404 after', async () => {
    // Arrange: two finished jobs, copied, notified and listed
    const erasedKey = 'uploads/female/erase-me.png';
    const keptKey = 'uploads/female/keep-me.png';
    const { jobId } = await world.upload(erasedKey);
    const kept = await world.upload(keptKey);
    world.clock.advance(JOB_MS);
    expect(await world.watch()).toMatchObject({ settled: 2, copied: 2 });
    const before = objectsOf(jobId, erasedKey);
    const keptBefore = objectsOf(kept.jobId, keptKey);
    expect(before).toEqual(
      expect.arrayContaining([
        erasedKey,
        `.yike-results/${erasedKey}/0.mp4`,
        `.yike-results/${erasedKey}.json`,
        `${PREFIX}jobs/${jobId}.json`,
        expect.stringMatching(new RegExp(`^${PREFIX.replace('.', '\\.')}objects/${BUCKET}/uploads/female/erase-me\\.png@[0-9A-F]+\\.json$`)),
        expect.stringMatching(new RegExp(`index/jobs/\\d{13}-${jobId}$`)),
        expect.stringMatching(new RegExp(`index/status/Finished/\\d{13}-${jobId}$`)),
        `${PREFIX}claims/${jobId}/0`,
      ]),
    );

    // Act
    const erased = await world.http('DELETE', `/jobs/${jobId}`);
    const afterDelete = objectsOf(jobId, erasedKey);
    const again = await world.http('DELETE', `/jobs/${jobId}`);
    const read = await world.getJob(jobId);
    const listed = await world.http('GET', '/jobs');
    const work = await world.readJson<Record<string, unknown>>(afterDelete.find((key) => key.includes('/erasures/'))!);
    world.clock.advance(ELEVEN_MINUTES_MS);
    const tick = await world.watch();
    const afterTick = objectsOf(jobId, erasedKey);

    // Assert: 204 with no body, then 404; the whole bucket holds the tombstone and the swept work list (jobId only) ...
    expect({ statusCode: erased.statusCode, text: erased.text }).toEqual({ statusCode: 204, text: '' });
    expect(again.statusCode).toBe(404);
    expect(JSON.parse(again.text)).toEqual({ error: { code: 'JOB_NOT_FOUND', message: `No job record for ${jobId}` } });
    expect(read.statusCode).toBe(404);
    expect(JSON.parse(listed.text).data.map((job: { jobId: string }) => job.jobId)).toEqual([kept.jobId]);
    expect(afterDelete).toEqual([
      `${PREFIX}erased/${jobId}.json`,
      expect.stringMatching(new RegExp(`^${PREFIX.replace('.', '\\.')}erasures/\\d{8}T\\d{9}Z-${jobId}\\.json$`)),
    ]);
    expect(await world.readJson(`${PREFIX}erased/${jobId}.json`)).toEqual({ jobId, erasedAt: expect.any(String) });
    expect(work).toEqual({
      jobId,
      erasedAt: expect.any(String),
      sweptAt: expect.any(String),
      targets: { jobId, recordsBucket: BUCKET, appId: 'sys-ao-smith-1', submittedAt: expect.any(String), copies: [] },
    });
    // ... and after a tick 11 minutes later (which reconciled and swept the erasure again) the tombstone alone
    expect(tick).toMatchObject({ reswept: 1 });
    expect(await world.readJson<{ at: string }>(`${PREFIX}watcher/reconcile.json`)).toMatchObject({ at: new Date(world.clock.now()).toISOString() });
    expect(afterTick).toEqual([`${PREFIX}erased/${jobId}.json`]);
    // The other job is untouched.
    expect(objectsOf(kept.jobId, keptKey)).toEqual(keptBefore);
    expect(world.deliveries.map((delivery) => delivery.body.job.jobId).sort()).toEqual([jobId, kept.jobId].sort());
  });

  it('erases a job still running in ICE: its output is never copied and nobody is notified', async () => {
    // Arrange: the job is running, and the watcher follows it
    const key = 'uploads/male/still-running.png';
    const { jobId } = await world.upload(key);
    world.clock.advance(JOB_MS / 2);
    expect(await world.watch({}, 65, { tuning: ONE_ROUND })).toMatchObject({ inflight: 1, settled: 0 });

    // Act: erased, then ICE finishes it and the watcher ticks on
    const erased = await world.http('DELETE', `/jobs/${jobId}`);
    world.clock.advance(JOB_MS);
    const summary = await world.watch({}, 65, { tuning: ONE_ROUND });

    // Assert
    expect(erased.statusCode).toBe(204);
    expect(summary).toMatchObject({ inflight: 0, settled: 0, copied: 0, delivered: 0 });
    expect(world.deliveries).toEqual([]);
    expect(objectsOf(jobId, key)).toEqual([`${PREFIX}erased/${jobId}.json`, expect.stringContaining(`${PREFIX}erasures/`)]);
    expect(world.oss.requests().filter((request) => request.method === 'PUT' && request.key?.startsWith(`.yike-results/${key}`))).toEqual([]);
  });

  it('erases a POST /jobs job: its Idempotency-Key record, copy and result object, leaving the image the caller named', async () => {
    // Arrange
    const image = 'uploads/named/caller-image.png';
    await world.client.put(image, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const posted = await world.http('POST', '/jobs', { app: 'female', image: { bucket: BUCKET, key: image } }, { 'Idempotency-Key': 'order-42' });
    const { jobId } = JSON.parse(posted.text) as { jobId: string };
    world.clock.advance(JOB_MS);
    expect(await world.watch({}, 65, { tuning: ONE_ROUND })).toMatchObject({ settled: 1, copied: 1 });
    const record = await world.readJson<{ submitRecordKey: string }>(`${PREFIX}jobs/${jobId}.json`);
    expect(record!.submitRecordKey).toMatch(/^\.yike-jobs\/http\/[0-9a-f]{64}\.json$/);
    const before = world.oss.listKeys(BUCKET);

    // Act
    const erased = await world.http('DELETE', `/jobs/${jobId}`);

    // Assert
    expect(erased.statusCode).toBe(204);
    const gone = before.filter((key) => !world.oss.listKeys(BUCKET).includes(key));
    expect(gone).toEqual(
      expect.arrayContaining([record!.submitRecordKey, `${PREFIX}jobs/${jobId}.json`, `.yike-results/jobs/${jobId}/0.mp4`, `.yike-results/jobs/${jobId}.json`]),
    );
    expect(world.oss.listKeys(BUCKET).filter((key) => key.includes(jobId))).toEqual([`${PREFIX}erased/${jobId}.json`, expect.stringContaining('/erasures/')]);
    expect(world.oss.listKeys(BUCKET)).toContain(image);
  });

  it('answers 404 for a job it never had, and 400 for a jobId that cannot be one', async () => {
    // Act
    const unknown = await world.http('DELETE', '/jobs/never-made');
    const invalid = await world.http('DELETE', '/jobs/bad%20id');

    // Assert
    expect({ statusCode: unknown.statusCode, body: JSON.parse(unknown.text) }).toEqual({
      statusCode: 404,
      body: { error: { code: 'JOB_NOT_FOUND', message: 'No job record for never-made' } },
    });
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.text).error.code).toBe('INVALID_JOB_ID');
  });
});
