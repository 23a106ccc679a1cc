/**
 * GET /jobs/{jobId}/content: a redirect to the job's own copy (JOB_RESULTS copy), signed; 409 while there is none yet;
 * 404 when there will be none.
 */
import { sha256, startWatcherWorld, type WatcherWorld } from './watcher-world';

const JOB_MS = 60_000;

describe('GET /jobs/{jobId}/content answers the own copy of a job’s output', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('answers 409 while the job runs and while its copy is pending, then 302 to the signed copy', async () => {
    // Arrange
    const key = 'uploads/female/content.png';
    const { jobId } = await world.upload(key);

    // Act: running; then Finished at ICE and in its record (?refresh=1), not copied yet; then the watcher copies it
    const running = await world.http('GET', `/jobs/${jobId}/content`);
    world.clock.advance(JOB_MS);
    await world.http('GET', `/jobs/${jobId}?refresh=1`);
    const pending = await world.http('GET', `/jobs/${jobId}/content`);
    await world.watch();
    const ready = await world.http('GET', `/jobs/${jobId}/content`);
    const byIndex = await world.http('GET', `/jobs/${jobId}/content?index=0`);

    // Assert
    expect({ statusCode: running.statusCode, retryAfter: running.headers.get('retry-after'), body: JSON.parse(running.text) }).toEqual({
      statusCode: 409,
      retryAfter: '10',
      body: { error: { code: 'CONTENT_PENDING', message: 'The job is Submitted: its outputs are not there yet' } },
    });
    expect({ statusCode: pending.statusCode, body: JSON.parse(pending.text) }).toEqual({
      statusCode: 409,
      body: { error: { code: 'CONTENT_PENDING', message: 'Output 0 of the job is still being copied; try again shortly' } },
    });
    expect({ statusCode: ready.statusCode, text: ready.text, cacheControl: ready.headers.get('cache-control') }).toEqual({
      statusCode: 302,
      text: '',
      cacheControl: 'no-store',
    });
    const location = ready.headers.get('location')!;
    expect(location).toMatch(
      new RegExp(
        `^${world.oss.localhostUrl}/yike-uploads/\\.yike-results/uploads/female/content\\.png/0\\.mp4\\?OSSAccessKeyId=STS\\.LocalDevAccessKeyId&Expires=\\d+&Signature=`,
      ),
    );
    expect(byIndex.headers.get('location')).toMatch(/\/0\.mp4\?/);
    const played = await fetch(location);
    const original = await fetch(`${world.ice.httpsUrl}/__local/outputs/${jobId}.mp4`);
    expect(played.status).toBe(200);
    expect(sha256(Buffer.from(await played.arrayBuffer()))).toBe(sha256(Buffer.from(await original.arrayBuffer())));
  });

  it('answers 404 for an output the job does not have, a job that failed, and a job it never had; 400 for a bad index', async () => {
    // Arrange
    const { jobId } = await world.upload('uploads/female/content-two.png');
    const failed = await world.upload('uploads/female/fail-content.png');
    world.clock.advance(JOB_MS);
    await world.watch();

    // Act
    const noSuchOutput = await world.http('GET', `/jobs/${jobId}/content?index=3`);
    const ofFailed = await world.http('GET', `/jobs/${failed.jobId}/content`);
    const unknown = await world.http('GET', '/jobs/never-made/content');
    const badIndex = await world.http('GET', `/jobs/${jobId}/content?index=-1`);

    // Assert
    expect({ statusCode: noSuchOutput.statusCode, body: JSON.parse(noSuchOutput.text) }).toEqual({
      statusCode: 404,
      body: { error: { code: 'CONTENT_NOT_FOUND', message: `No own copy of output 3 of ${jobId}: the job has 1 output` } },
    });
    expect({ statusCode: ofFailed.statusCode, body: JSON.parse(ofFailed.text) }).toEqual({
      statusCode: 404,
      body: { error: { code: 'CONTENT_NOT_FOUND', message: `No own copy of output 0 of ${failed.jobId}: the job ended Failed` } },
    });
    expect({ statusCode: unknown.statusCode, body: JSON.parse(unknown.text) }).toEqual({
      statusCode: 404,
      body: { error: { code: 'JOB_NOT_FOUND', message: 'No job record for never-made' } },
    });
    expect(badIndex.statusCode).toBe(400);
    expect(JSON.parse(badIndex.text).error).toMatchObject({ code: 'INVALID_REQUEST', details: [{ path: 'index' }] });
  });
});
