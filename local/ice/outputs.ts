import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The finished videos of the local ICE: every job "produces" the same short MP4 (local/ice/fixtures/local-output.mp4),
 * served at `/__local/outputs/<jobId>.mp4` with Range support, so a browser's <video> really plays on the local
 * cloud. Real ICE puts outputs in an OSS bucket; only the URL differs.
 */
export const OUTPUTS_PATH = '/__local/outputs/';
const FIXTURE = 'local-output.mp4';
const RANGE = /^bytes=(\d*)-(\d*)$/;

let cached: Buffer | undefined;

/** Found beside the sources (tests) or two levels up from dist/local (npm start). */
function outputVideo(): Buffer {
  if (!cached) {
    const candidates = [join(__dirname, 'fixtures', FIXTURE), join(__dirname, '..', '..', 'local', 'ice', 'fixtures', FIXTURE)];
    const found = candidates.find((path) => existsSync(path));
    if (!found) throw new Error(`local ICE: ${FIXTURE} not found in ${candidates.join(', ')}`);
    cached = readFileSync(found);
  }
  return cached;
}

export function serveOutput(req: IncomingMessage, res: ServerResponse, pathname: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (!/^[A-Za-z0-9_-]{1,128}\.mp4$/.test(pathname.slice(OUTPUTS_PATH.length))) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such output');
    return;
  }
  const video = outputVideo();
  const range = RANGE.exec(String(req.headers.range ?? ''));
  let start = 0;
  let end = video.length - 1;
  if (range && (range[1] || range[2])) {
    start = range[1] ? Number(range[1]) : Math.max(0, video.length - Number(range[2]));
    end = range[1] && range[2] ? Math.min(Number(range[2]), end) : end;
    if (start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${video.length}` }).end();
      return;
    }
  }
  const partial = start !== 0 || end !== video.length - 1;
  res.writeHead(partial ? 206 : 200, {
    'Content-Type': 'video/mp4',
    'Accept-Ranges': 'bytes',
    'Content-Length': end - start + 1,
    ...(partial ? { 'Content-Range': `bytes ${start}-${end}/${video.length}` } : {}),
    'Access-Control-Allow-Origin': '*',
  });
  res.end(req.method === 'HEAD' ? undefined : video.subarray(start, end + 1));
}
