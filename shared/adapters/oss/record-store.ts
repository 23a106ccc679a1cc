import type { OssClient } from './client';
import { plainMessage, YikeError } from '../../runtime/errors';

/**
 * The record store (the domain's RecordStore port) on OSS itself: shared by every FC instance, no extra service to
 * run. `createIfAbsent` is a conditional write with `x-oss-forbid-overwrite: true`; a missing object reads as
 * undefined; every other failure is RECORD_STORE_FAILED, retryable when OSS (not the request) was at fault.
 */
const FILE_ALREADY_EXISTS = 'FileAlreadyExists';
const NO_SUCH_KEY = 'NoSuchKey';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

interface OssError {
  code?: string;
  status?: number;
  requestId?: string;
  message?: string;
}

function storeError(operation: string, key: string, raw: unknown): YikeError {
  const error = raw as OssError;
  const status = typeof error.status === 'number' ? error.status : undefined;
  // Throttling, 5xx and network failures are worth FC's retry; 4xx (permissions, bucket) are not.
  const retryable = status === undefined || status >= 500 || status === 429 || error.code === 'RequestTimeout';
  return new YikeError(
    'RECORD_STORE_FAILED',
    `Job record ${operation} failed for ${key}: ${error.code ?? 'Error'} ${plainMessage(error.message ?? '')}`.trim(),
    {
      retryable,
      statusCode: status,
      requestId: error.requestId,
      cause: raw,
    },
  );
}

/**
 * The objects under a prefix (after `after`, at most `limit`), 1,000 a page (ListObjects), with their Last-Modified
 * times as ISO-8601.
 */
async function listObjects(oss: OssClient, prefix: string, options: { limit?: number; after?: string } = {}): Promise<{ key: string; lastModified: string }[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const objects: { key: string; lastModified: string }[] = [];
  let marker: string | undefined = options.after;
  try {
    do {
      const page = await oss.list({ prefix, marker, 'max-keys': Math.min(1000, limit - objects.length) }, {});
      for (const object of page.objects ?? []) objects.push({ key: object.name, lastModified: new Date(object.lastModified).toISOString() });
      marker = page.isTruncated && objects.length < limit ? page.nextMarker : undefined;
    } while (marker);
  } catch (error) {
    throw storeError('list', prefix, error);
  }
  return objects;
}

export function createOssRecordStore(oss: OssClient) {
  return {
    async createIfAbsent(key: string, body: unknown): Promise<boolean> {
      try {
        await oss.put(key, Buffer.from(JSON.stringify(body)), { headers: { ...JSON_HEADERS, 'x-oss-forbid-overwrite': 'true' } });
        return true;
      } catch (error) {
        if ((error as OssError).code === FILE_ALREADY_EXISTS) return false;
        throw storeError('create', key, error);
      }
    },
    async get<T>(key: string): Promise<T | undefined> {
      try {
        const result = await oss.get(key);
        return JSON.parse(Buffer.from(result.content as Buffer).toString('utf8')) as T;
      } catch (error) {
        if ((error as OssError).code === NO_SUCH_KEY || (error as OssError).status === 404) return undefined;
        throw storeError('read', key, error);
      }
    },
    async put(key: string, body: unknown): Promise<void> {
      try {
        await oss.put(key, Buffer.from(JSON.stringify(body)), { headers: JSON_HEADERS });
      } catch (error) {
        throw storeError('write', key, error);
      }
    },
    async delete(key: string): Promise<void> {
      try {
        await oss.delete(key);
      } catch (error) {
        throw storeError('delete', key, error);
      }
    },
    async list(prefix: string, options: { limit?: number; after?: string } = {}): Promise<string[]> {
      return (await listObjects(oss, prefix, options)).map((object) => object.key);
    },
    listWithTimes: (prefix: string, options: { limit?: number; after?: string } = {}) => listObjects(oss, prefix, options),
    async eTagOf(key: string): Promise<string | undefined> {
      try {
        const head = await oss.head(key);
        return String((head.res.headers as Record<string, string>).etag ?? '').replace(/"/g, '');
      } catch (error) {
        if ((error as OssError).code === NO_SUCH_KEY || (error as OssError).status === 404) return undefined;
        throw storeError('head', key, error);
      }
    },
  };
}
