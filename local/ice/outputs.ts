import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TINY_PNG } from '../dev-fixtures';

/**
 * The finished outputs of the local ICE, served the way OSS serves an object (ICE's real outputs sit in an OSS bucket:
 * `http://outin-….oss-<region>.aliyuncs.com/….mp4` in the documented examples): GET and HEAD with Content-Type,
 * Content-Length, ETag, Content-MD5 (simple objects), Last-Modified, Accept-Ranges and byte ranges (206), and
 * OSS's XML error body. What a job produces depends on its image key, like "fail" (job-clock.ts):
 *
 *   (any other key)   one video, `outputBytes` long (default 3 MiB): the real MP4 of local/ice/fixtures padded with
 *                     a `free` box, so a browser's <video> plays it
 *   `large-output`    one video of `largeOutputBytes` (default 1 GiB), generated while it is sent (never in memory),
 *                     an object uploaded in parts (no Content-MD5, ETag "…-N"), for the copy's memory bench row
 *   `http-output`     the same video as the first, its OutputUrl `http://` (as the documented examples): the copy
 *                     must upgrade it to https (this server answers both on one port)
 *   `flaky-output`    the first GET of the video answers 500 InternalError, later ones the video
 *   `with-cover`      a video and a cover image (ImageResult, PNG)
 *
 * Sources: [API] OSS GetObject and HeadObject (headers, Range, 206/416); [ERR] OSS error responses (XML Error body).
 */
export const OUTPUTS_PATH = '/__local/outputs/';
const FIXTURE = 'local-output.mp4';
const RANGE = /^bytes=(\d*)-(\d*)$/;
const CHUNK_BYTES = 64 * 1024;
const FREE_BOX_HEADER_BYTES = 8;
const DEFAULT_OUTPUT_BYTES = 3 * 1024 * 1024;
const DEFAULT_LARGE_OUTPUT_BYTES = 1024 * 1024 * 1024;
/** OSS's own part size when its console uploads a large object (the ETag's "-N" count). */
const PART_BYTES = 8 * 1024 * 1024;

type OutputVariant = 'standard' | 'large' | 'http' | 'flaky' | 'with-cover';

/** One output of a job, as BatchGetYikeAIAppJob lists it: `Result.<group>[]` with `OutputUrl`. */
export interface LocalOutput {
  group: 'VideoResult' | 'ImageResult';
  /** `<jobId>.mp4` / `<jobId>.png` */
  file: string;
  url: string;
}

export interface LocalOutputs {
  /** The outputs of a job whose image key is `imageKey` (undefined for a media id whose URL is unknown). */
  forJob(jobId: string, imageKey: string | undefined): LocalOutput[];
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
  /** Every request for an output so far: the file, the method, the status answered, and whether it came over TLS. */
  requests(): { file: string; method: string; status: number; tls: boolean }[];
  /** Forgets which jobs produced what, which flaky outputs already failed once, and the requests. */
  reset(): void;
}

interface Body {
  size: number;
  contentType: string;
  /** Bytes [start, end] of the body, produced 64 KiB at a time. */
  stream(start: number, end: number): Readable;
  /** Hex MD5 for objects OSS stores whole (Content-MD5); undefined for a multipart object. */
  md5?: string;
  etag: string;
}

export function createLocalOutputs(options: { baseUrl: () => { http: string; https: string }; outputBytes?: number; largeOutputBytes?: number }): LocalOutputs {
  const outputBytes = options.outputBytes ?? DEFAULT_OUTPUT_BYTES;
  const largeBytes = options.largeOutputBytes ?? DEFAULT_LARGE_OUTPUT_BYTES;
  const variants = new Map<string, OutputVariant>();
  const failedOnce = new Set<string>();
  const served: { file: string; method: string; status: number; tls: boolean }[] = [];
  const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString();
  const video = paddedVideo(outputBytes);
  const large = largeVideo(largeBytes);
  const cover = wholeBody(TINY_PNG, 'image/png');

  return {
    forJob(jobId, imageKey) {
      const variant = variantOf(imageKey);
      variants.set(jobId, variant);
      const base = options.baseUrl();
      const root = variant === 'http' ? base.http : base.https;
      const outputs: LocalOutput[] = [{ group: 'VideoResult', file: `${jobId}.mp4`, url: `${root}${OUTPUTS_PATH}${jobId}.mp4` }];
      if (variant === 'with-cover') outputs.push({ group: 'ImageResult', file: `${jobId}.png`, url: `${root}${OUTPUTS_PATH}${jobId}.png` });
      return outputs;
    },

    async serve(req, res, pathname) {
      res.once('finish', () =>
        served.push({
          file: pathname.slice(OUTPUTS_PATH.length),
          method: req.method ?? '',
          status: res.statusCode,
          tls: Boolean((req.socket as { encrypted?: boolean }).encrypted),
        }),
      );
      res.setHeader('Server', 'AliyunOSS');
      res.setHeader('x-oss-request-id', createHash('md5').update(`${Date.now()}${Math.random()}`).digest('hex').slice(0, 24).toUpperCase());
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return ossError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const match = /^([A-Za-z0-9_-]{1,128})\.(mp4|png)$/.exec(pathname.slice(OUTPUTS_PATH.length));
      const variant = match ? variants.get(match[1]!) : undefined;
      const body = !match || !variant ? undefined : match[2] === 'png' ? (variant === 'with-cover' ? cover : undefined) : variant === 'large' ? large : video;
      if (!body) return ossError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      if (variant === 'flaky' && req.method === 'GET' && !failedOnce.has(match![1]!)) {
        failedOnce.add(match![1]!);
        return ossError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      const range = RANGE.exec(String(req.headers.range ?? ''));
      let start = 0;
      let end = body.size - 1;
      if (range && (range[1] || range[2])) {
        start = range[1] ? Number(range[1]) : Math.max(0, body.size - Number(range[2]));
        end = range[1] && range[2] ? Math.min(Number(range[2]), end) : end;
        if (start > end) {
          res.writeHead(416, { 'Content-Range': `bytes */${body.size}` }).end();
          return;
        }
      }
      const partial = start !== 0 || end !== body.size - 1;
      res.writeHead(partial ? 206 : 200, {
        'Content-Type': body.contentType,
        'Content-Length': end - start + 1,
        ETag: `"${body.etag}"`,
        ...(body.md5 ? { 'Content-MD5': Buffer.from(body.md5, 'hex').toString('base64') } : {}),
        'Last-Modified': lastModified,
        'Accept-Ranges': 'bytes',
        'x-oss-object-type': body.md5 ? 'Normal' : 'Multipart',
        'x-oss-storage-class': 'Standard',
        ...(partial ? { 'Content-Range': `bytes ${start}-${end}/${body.size}` } : {}),
        'Access-Control-Allow-Origin': '*',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      await pipeline(body.stream(start, end), res);
    },

    requests: () => served.map((entry) => ({ ...entry })),

    reset() {
      variants.clear();
      failedOnce.clear();
      served.length = 0;
    },
  };
}

const VARIANT_KEYS: ReadonlyArray<[RegExp, OutputVariant]> = [
  [/large-output/i, 'large'],
  [/http-output/i, 'http'],
  [/flaky-output/i, 'flaky'],
  [/with-cover/i, 'with-cover'],
];

function variantOf(imageKey: string | undefined): OutputVariant {
  return VARIANT_KEYS.find(([pattern]) => imageKey !== undefined && pattern.test(imageKey))?.[1] ?? 'standard';
}

function ossError(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = String(res.getHeader('x-oss-request-id'));
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>${requestId}</RequestId>\n  <HostId>local-ice-output.oss-cn-shanghai.aliyuncs.com</HostId>\n</Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) }).end(xml);
}

let fixture: Buffer | undefined;

/** Found beside the sources (tests) or two levels up from dist/local (npm start). */
function fixtureVideo(): Buffer {
  if (!fixture) {
    const candidates = [join(__dirname, 'fixtures', FIXTURE), join(__dirname, '..', '..', 'local', 'ice', 'fixtures', FIXTURE)];
    const found = candidates.find((path) => existsSync(path));
    if (!found) throw new Error(`local ICE: ${FIXTURE} not found in ${candidates.join(', ')}`);
    fixture = readFileSync(found);
  }
  return fixture;
}

function wholeBody(bytes: Buffer, contentType: string): Body {
  const md5 = createHash('md5').update(bytes).digest('hex');
  return { size: bytes.length, contentType, md5, etag: md5.toUpperCase(), stream: (start, end) => Readable.from([bytes.subarray(start, end + 1)]) };
}

/**
 * The fixture MP4, then one `free` box (ISO/IEC 14496-12 8.1.2: players skip it) filling the rest: the file plays and
 * is exactly `size` bytes. Small enough to keep whole.
 */
function paddedVideo(size: number): Body {
  const head = fixtureVideo();
  if (size < head.length + FREE_BOX_HEADER_BYTES) return wholeBody(head, 'video/mp4');
  return wholeBody(Buffer.concat([head, freeBoxHeader(size - head.length), filler(0, size - head.length - FREE_BOX_HEADER_BYTES)]), 'video/mp4');
}

/** The same layout at any size, generated chunk by chunk as it is read. */
function largeVideo(size: number): Body {
  const head = Buffer.concat([fixtureVideo(), freeBoxHeader(size - fixtureVideo().length)]);
  const parts = Math.ceil(size / PART_BYTES);
  return {
    size,
    contentType: 'video/mp4',
    etag: `${createHash('md5').update(`local-large-output-${size}`).digest('hex').toUpperCase()}-${parts}`,
    stream(start, end) {
      let offset = start;
      return new Readable({
        read() {
          if (offset > end) {
            this.push(null);
            return;
          }
          const length = Math.min(CHUNK_BYTES, end - offset + 1);
          const chunk =
            offset + length <= head.length
              ? head.subarray(offset, offset + length)
              : Buffer.concat([
                  head.subarray(Math.min(offset, head.length)),
                  filler(Math.max(0, offset - head.length), length - Math.max(0, head.length - offset)),
                ]);
          offset += length;
          this.push(chunk);
        },
      });
    },
  };
}

/** A 32-bit `free` box header for a box of `boxSize` bytes (header included). */
function freeBoxHeader(boxSize: number): Buffer {
  const header = Buffer.alloc(FREE_BOX_HEADER_BYTES);
  header.writeUInt32BE(boxSize, 0);
  header.write('free', 4, 'latin1');
  return header;
}

/** A prime period, so the filler never lines up with chunk or part boundaries. */
const FILLER_PERIOD = 65_521;
let pattern: Buffer | undefined;

/** Deterministic filler bytes: byte i of the filler is the same whoever asks, so copies compare byte for byte. */
function filler(from: number, length: number): Buffer {
  if (!pattern) {
    pattern = Buffer.allocUnsafe(FILLER_PERIOD);
    for (let i = 0; i < FILLER_PERIOD; i++) pattern[i] = (i * 2654435761) >>> 24;
  }
  const bytes = Buffer.allocUnsafe(length);
  let written = 0;
  while (written < length) {
    const at = (from + written) % FILLER_PERIOD;
    written += pattern.copy(bytes, written, at, Math.min(FILLER_PERIOD, at + length - written));
  }
  return bytes;
}
