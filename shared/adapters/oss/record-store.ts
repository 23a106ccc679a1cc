import type { OssClient } from './client';
import { YikeError } from '../../runtime/errors';

/**
 * Where idempotency/job records live. One adapter: OSS itself (shared by every FC instance, no extra
 * service to run); `createIfAbsent` is a conditional write with `x-oss-forbid-overwrite: true`.
 */
export interface RecordStore {
  /** Writes only if no object exists at `key`: true when written, false when one already exists. */
  createIfAbsent(key: string, body: unknown): Promise<boolean>;
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, body: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}

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
  return new YikeError('RECORD_STORE_FAILED', `Job record ${operation} failed for ${key}: ${error.code ?? 'Error'} ${error.message ?? ''}`.trim(), {
    retryable,
    statusCode: status,
    requestId: error.requestId,
    cause: raw,
  });
}

export function createOssRecordStore(oss: OssClient): RecordStore {
  return {
    async createIfAbsent(key, body) {
      try {
        await oss.put(key, Buffer.from(JSON.stringify(body)), { headers: { ...JSON_HEADERS, 'x-oss-forbid-overwrite': 'true' } });
        return true;
      } catch (error) {
        if ((error as OssError).code === FILE_ALREADY_EXISTS) return false;
        throw storeError('create', key, error);
      }
    },
    async get<T>(key: string) {
      try {
        const result = await oss.get(key);
        return JSON.parse(Buffer.from(result.content as Buffer).toString('utf8')) as T;
      } catch (error) {
        if ((error as OssError).code === NO_SUCH_KEY || (error as OssError).status === 404) return undefined;
        throw storeError('read', key, error);
      }
    },
    async put(key, body) {
      try {
        await oss.put(key, Buffer.from(JSON.stringify(body)), { headers: JSON_HEADERS });
      } catch (error) {
        throw storeError('write', key, error);
      }
    },
    async delete(key) {
      try {
        await oss.delete(key);
      } catch (error) {
        throw storeError('delete', key, error);
      }
    },
    async list(prefix) {
      const keys: string[] = [];
      let marker: string | undefined;
      try {
        do {
          const page = await oss.list({ prefix, marker, 'max-keys': 1000 }, {});
          for (const object of page.objects ?? []) keys.push(object.name);
          marker = page.isTruncated ? page.nextMarker : undefined;
        } while (marker);
      } catch (error) {
        throw storeError('list', prefix, error);
      }
      return keys;
    },
  };
}
