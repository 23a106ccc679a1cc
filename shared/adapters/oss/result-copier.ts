import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { Transform, type TransformCallback } from 'node:stream';
import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import type { CredentialsProvider } from '../openapi/credentials';
import { createOssClient } from './client';

/**
 * The output copies' adapter (JOB_RESULTS `copy`): one output URL streamed into an OSS object with ali-oss's putStream (PutObject; chunked when
 * the source sends no Content-Length), so the bytes pass through a 64 KiB window and are never held whole: the
 * watcher's memory does not grow with the output (`npm run bench`: a 1 GiB copy in the watcher's memory limit).
 *
 * - Only https is fetched. An `http://` URL on an OSS host (`<bucket>.oss-<region>[-internal].aliyuncs.com`, which
 *   ICE's documented OutputUrl examples are) or on loopback (the local cloud, which answers both on one port) is
 *   upgraded to https first; any other http URL is refused.
 * - The object keeps the output's Content-Type; its key is `<keyStem>.<ext>`, the extension from the URL's file
 *   name, else from the Content-Type, else `bin`.
 * - Its size is checked while it streams: a Content-Length above `maxBytes` is refused before any byte is sent; a
 *   body that ends before its Content-Length (or grows past `maxBytes`) aborts the upload, so OSS stores nothing.
 *   When the source sends Content-MD5 (OSS does for simple objects) it goes with the upload and OSS checks it.
 */
const OSS_HOST = /^(?:[a-z0-9][a-z0-9-]{1,62}\.)?oss(?:-[a-z0-9-]+)?\.aliyuncs\.com$/i;
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])$/i;
const EXTENSION = /\.([A-Za-z0-9]{1,8})$/;
const EXTENSIONS: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
};

/** The https URL a copy fetches, or RESULT_URL_REFUSED. */
export function downloadUrl(outputUrl: string): URL {
  let url: URL;
  try {
    url = new URL(outputUrl);
  } catch {
    throw new YikeError('RESULT_URL_REFUSED', 'The output URL is not a URL');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (OSS_HOST.test(url.hostname) || LOOPBACK_HOST.test(url.hostname))) {
    const upgraded = new URL(url.href);
    upgraded.protocol = 'https:';
    return upgraded;
  }
  throw new YikeError('RESULT_URL_REFUSED', `Outputs are fetched over https only, and ${url.protocol}//${url.host} is not an OSS host to upgrade`);
}

function extensionOf(url: URL, contentType: string): string {
  const fromName = EXTENSION.exec(decodeURIComponent(url.pathname.split('/').at(-1) ?? ''))?.[1];
  return (fromName ?? EXTENSIONS[contentType.split(';')[0]!.trim().toLowerCase()] ?? 'bin').toLowerCase();
}

/** Counts the bytes going through, and fails the stream (so the upload aborts) when they break the size rules. */
class SizeCheck extends Transform {
  bytes = 0;
  failure: YikeError | undefined;

  constructor(
    private readonly expected: number | undefined,
    private readonly maxBytes: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) done(this.fail(new YikeError('RESULT_TOO_LARGE', `The output grew past the copy limit (${this.maxBytes} bytes)`)));
    else if (this.expected !== undefined && this.bytes > this.expected) done(this.fail(mismatch(this.bytes, this.expected)));
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.expected !== undefined && this.bytes !== this.expected ? this.fail(mismatch(this.bytes, this.expected)) : null);
  }

  private fail(error: YikeError): YikeError {
    this.failure = error;
    return error;
  }
}

function mismatch(bytes: number, expected: number): YikeError {
  return new YikeError('RESULT_SIZE_MISMATCH', `The output sent ${bytes} bytes of the ${expected} its Content-Length announced`, { retryable: true });
}

/** Outputs of one run often sit in one ICE bucket: a download is a read, its connection is reused (by later invocations too). */
const downloads = new Agent({ keepAlive: true });

export function createResultCopier(config: Config['oss'], credentials: CredentialsProvider) {
  const agent = downloads;
  return {
    async copy(input: { sourceUrl: string; bucket: string; keyStem: string; maxBytes: number; timeoutMs: number }) {
      const url = downloadUrl(input.sourceUrl);
      const source = await download(url, agent, input.timeoutMs);
      const lengthHeader = source.headers['content-length'];
      const expected = lengthHeader === undefined ? undefined : Number(lengthHeader);
      if (expected !== undefined && expected > input.maxBytes) {
        source.destroy();
        throw new YikeError('RESULT_TOO_LARGE', `The output is ${expected} bytes, over the copy limit (${input.maxBytes} bytes)`);
      }
      const contentType = source.headers['content-type'] || 'application/octet-stream';
      const key = `${input.keyStem}.${extensionOf(url, contentType)}`;
      const check = new SizeCheck(expected, input.maxBytes);
      source.on('error', (error: Error) => check.destroy(error));
      source.pipe(check);
      const md5 = source.headers['content-md5'];
      try {
        await createOssClient(config, credentials(), input.bucket, input.timeoutMs).putStream(key, check, {
          ...(expected === undefined ? {} : { contentLength: expected }),
          headers: { 'Content-Type': contentType, ...(typeof md5 === 'string' ? { 'Content-MD5': md5 } : {}) },
          timeout: input.timeoutMs,
        } as Parameters<ReturnType<typeof createOssClient>['putStream']>[2]);
      } catch (raw) {
        source.destroy();
        if (check.failure) throw check.failure;
        const error = raw as { status?: number; code?: string; name?: string };
        throw new YikeError('RESULT_UPLOAD_FAILED', `PutObject oss://${input.bucket}/${key} failed: ${error.code ?? error.name ?? 'Error'}`, {
          retryable: true,
          statusCode: typeof error.status === 'number' && error.status > 0 ? error.status : undefined,
          cause: raw,
        });
      }
      return { key, bytes: check.bytes, contentType };
    },
  };
}

/** The GET's answer once its headers are in: 200, or RESULT_DOWNLOAD_FAILED (retryable; the URL is never quoted). */
function download(url: URL, agent: Agent, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = request(url, { method: 'GET', agent, timeout: timeoutMs }, (response) => {
      if (response.statusCode === 200) return resolve(response);
      response.resume();
      reject(
        new YikeError('RESULT_DOWNLOAD_FAILED', `GET of the output on ${url.host} answered ${response.statusCode}`, {
          retryable: true,
          statusCode: response.statusCode,
        }),
      );
    });
    get.on('timeout', () => get.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    get.on('error', (error: Error & { code?: string }) =>
      reject(
        new YikeError('RESULT_DOWNLOAD_FAILED', `GET of the output on ${url.host} failed: ${error.code ?? error.name}`, { retryable: true, cause: error }),
      ),
    );
    get.end();
  });
}
