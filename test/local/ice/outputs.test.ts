import { createHash } from 'node:crypto';
import { callIce, clientFor, closeIceServers, ice, IMAGE_KEY, submitFields } from './harness';

afterEach(closeIceServers);

/** A finished job's outputs (BatchGetYikeAIAppJob's Result), for an image whose key names a variant. */
async function finishedOutputs(imageKey: string, options: Parameters<typeof ice>[0] = {}) {
  let now = Date.parse('2026-11-30T10:00:00.000Z');
  const server = await ice({ finishAfterMs: 1_000, now: () => now, ...options });
  const client = clientFor(server.endpoint);
  const image = `https://yike-uploads.oss-cn-shanghai.aliyuncs.com/${imageKey}`;
  const { JobId } = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields({ AppParams: JSON.stringify({ [IMAGE_KEY]: image }) }) });
  now += 1_000;
  const { JobList } = await callIce(client, 'BatchGetYikeAIAppJob', { query: { JobIds: JobId } });
  return { server, jobId: JobId as string, result: JobList[0].Result as Record<string, { MediaId: string; OutputUrl: string }[]> };
}

describe('the local ICE outputs, served like OSS objects', () => {
  it('serves a finished video of a few MiB over https with the headers OSS GetObject sends, whose MD5 is its ETag', async () => {
    // Arrange
    const { server, jobId, result } = await finishedOutputs('uploads/female/portrait.png');
    const url = result.VideoResult![0]!.OutputUrl;

    // Act
    const response = await fetch(url);
    const bytes = Buffer.from(await response.arrayBuffer());

    // Assert
    expect(url).toBe(`${server.httpsUrl}/__local/outputs/${jobId}.mp4`);
    expect(response.status).toBe(200);
    const md5 = createHash('md5').update(bytes).digest();
    expect({
      type: response.headers.get('content-type'),
      length: response.headers.get('content-length'),
      etag: response.headers.get('etag'),
      md5: response.headers.get('content-md5'),
      ranges: response.headers.get('accept-ranges'),
      objectType: response.headers.get('x-oss-object-type'),
      server: response.headers.get('server'),
    }).toEqual({
      type: 'video/mp4',
      length: String(3 * 1024 * 1024),
      etag: `"${md5.toString('hex').toUpperCase()}"`,
      md5: md5.toString('base64'),
      ranges: 'bytes',
      objectType: 'Normal',
      server: 'AliyunOSS',
    });
    expect(bytes.length).toBe(3 * 1024 * 1024);
    // Still an MP4: the fixture first, then one free box to the end.
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(response.headers.get('last-modified')).toMatch(/GMT$/);
  });

  it('answers a byte range with 206 and Content-Range, as OSS does', async () => {
    // Arrange
    const { result } = await finishedOutputs('uploads/female/portrait.png');
    const url = result.VideoResult![0]!.OutputUrl;
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());

    // Act
    const response = await fetch(url, { headers: { Range: 'bytes=100-199' } });

    // Assert
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(whole.subarray(100, 200));
  });

  it('gives an http-output image an http:// OutputUrl on the same port, which also answers https', async () => {
    // Arrange
    const { server, jobId, result } = await finishedOutputs('uploads/female/http-output.png');
    const url = result.VideoResult![0]!.OutputUrl;

    // Act
    const overHttps = await fetch(url.replace(/^http:/, 'https:'));

    // Assert
    expect(url).toBe(`${server.url}/__local/outputs/${jobId}.mp4`);
    expect(overHttps.status).toBe(200);
    expect(server.connections().tls).toBeGreaterThanOrEqual(1);
  });

  it('fails the first download of a flaky-output video with OSS’s 500 InternalError, and serves it the next time', async () => {
    // Arrange
    const { result } = await finishedOutputs('uploads/female/flaky-output.png');
    const url = result.VideoResult![0]!.OutputUrl;

    // Act
    const first = await fetch(url);
    const firstBody = await first.text();
    const second = await fetch(url);

    // Assert
    expect(first.status).toBe(500);
    expect(first.headers.get('content-type')).toBe('application/xml');
    expect(firstBody).toContain('<Code>InternalError</Code>');
    expect(second.status).toBe(200);
    expect(Number(second.headers.get('content-length'))).toBe(3 * 1024 * 1024);
    await second.arrayBuffer();
  });

  it('lists a video and a cover image for a with-cover image, and generates a large-output video of any size without Content-MD5', async () => {
    // Arrange
    const covered = await finishedOutputs('uploads/female/with-cover.png');
    const large = await finishedOutputs('uploads/female/large-output.png', { largeOutputBytes: 20 * 1024 * 1024 + 5 });

    // Act
    const cover = await fetch(covered.result.ImageResult![0]!.OutputUrl);
    const video = await fetch(large.result.VideoResult![0]!.OutputUrl);
    const bytes = Buffer.from(await video.arrayBuffer());
    const tail = await fetch(large.result.VideoResult![0]!.OutputUrl, { headers: { Range: 'bytes=-1000' } });

    // Assert
    expect(Object.keys(covered.result)).toEqual(['VideoResult', 'ImageResult']);
    expect(cover.headers.get('content-type')).toBe('image/png');
    expect(video.headers.get('content-md5')).toBeNull();
    expect(video.headers.get('x-oss-object-type')).toBe('Multipart');
    expect(video.headers.get('etag')).toMatch(/^"[0-9A-F]{32}-3"$/);
    expect(bytes.length).toBe(20 * 1024 * 1024 + 5);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 1000));
  });

  it('answers NoSuchKey for an output no job produced', async () => {
    // Arrange
    const server = await ice();

    // Act
    const response = await fetch(`${server.httpsUrl}/__local/outputs/${'0'.repeat(32)}.mp4`);

    // Assert
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('<Code>NoSuchKey</Code>');
  });
});
