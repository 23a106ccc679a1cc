import type { Config } from '../../runtime/config';
import type { Credentials } from '../../adapters/openapi/credentials';
import { YikeError } from '../../runtime/errors';
import { createOssClient } from '../../adapters/oss/client';

/**
 * No paid job for a bad {bucket, key}: everything here runs before any ICE call. The key must look like an
 * image outside our own prefixes; the object must exist (HeadObject), be `image/*` and at most MAX_IMAGE_BYTES.
 * Uploads skip the HEAD: their event carries the size (see assertUploadSize).
 */
export interface InspectedImage {
  kind: 'oss';
  bucket: string;
  key: string;
  eTag: string;
  size: number;
  contentType: string;
}

type InputsConfig = Pick<Config, 'records' | 'uploads'>;

/** C0 controls and DEL: never part of a sane object key, and a log-injection risk. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const IMAGE_CONTENT_TYPE = /^image\//i;
const ACCESS_DENIED = 'AccessDenied';

function refusal(code: string, statusCode: number, message: string, path = 'image.key'): YikeError {
  return new YikeError(code, message, { statusCode, details: [{ path, message }] });
}

/** Why a key can never be submitted, or undefined. Shared by HTTP, pipeline events and uploads. */
export function imageKeyRefusal(key: string, config: InputsConfig): YikeError | undefined {
  if (CONTROL_CHARACTER.test(key)) return refusal('IMAGE_KEY_INVALID', 400, 'image.key contains control characters');
  for (const prefix of [config.records.prefix, config.records.resultsPrefix]) {
    if (key.startsWith(prefix)) return refusal('IMAGE_KEY_INVALID', 400, `image.key is under "${prefix}", which holds this service's own records`);
  }
  const lowerKey = key.toLowerCase();
  if (!config.uploads.imageSuffixes.some((suffix) => lowerKey.endsWith(suffix))) {
    return refusal('NOT_AN_IMAGE', 415, `image.key must end in one of ${config.uploads.imageSuffixes.join(', ')}`);
  }
  return undefined;
}

export function assertImageSize(size: number, source: string, maxImageBytes: number): void {
  if (size > maxImageBytes) {
    throw refusal('IMAGE_TOO_LARGE', 413, `${source} is ${size} bytes; the limit is ${maxImageBytes} (MAX_IMAGE_BYTES)`, 'image');
  }
}

interface OssHeadError {
  status?: number;
  code?: string;
  requestId?: string;
}

/** Key checks, then one HeadObject with the function's role: existence, Content-Type and size. */
export async function inspectImageObject(
  image: { bucket: string; key: string },
  config: InputsConfig & Pick<Config, 'oss'>,
  credentials: Credentials,
): Promise<InspectedImage> {
  const keyProblem = imageKeyRefusal(image.key, config);
  if (keyProblem) throw keyProblem;
  const source = `oss://${image.bucket}/${image.key}`;
  let headers: Record<string, string>;
  try {
    const result = await createOssClient(config.oss, credentials, image.bucket).head(image.key);
    headers = result.res.headers as Record<string, string>;
  } catch (raw) {
    const error = raw as OssHeadError;
    if (error.status === 404) throw refusal('IMAGE_NOT_FOUND', 404, `${source} does not exist`, 'image');
    if (error.status === 403 && (error.code === undefined || error.code === ACCESS_DENIED)) {
      throw refusal('IMAGE_ACCESS_DENIED', 403, `${source} cannot be read with the function's role (AccessDenied)`, 'image');
    }
    if (error.status === 403) {
      // A signature or token problem: the deployment's credentials, not the caller's image.
      throw new YikeError('OSS_AUTH_FAILED', `HeadObject ${source} was refused: ${error.code}`, { requestId: error.requestId, cause: raw });
    }
    const status = typeof error.status === 'number' ? error.status : undefined;
    throw new YikeError('OSS_UNAVAILABLE', `HeadObject ${source} failed: ${error.code ?? 'Error'}`, {
      retryable: status === undefined || status >= 500 || status === 429,
      requestId: error.requestId,
      cause: raw,
    });
  }
  const contentType = headers['content-type'] ?? '';
  const size = Number(headers['content-length'] ?? 0);
  if (!IMAGE_CONTENT_TYPE.test(contentType)) {
    throw refusal('NOT_AN_IMAGE', 415, `${source} has Content-Type "${contentType}", not image/*`, 'image');
  }
  if (size === 0) throw refusal('NOT_AN_IMAGE', 415, `${source} is empty`, 'image');
  assertImageSize(size, source, config.uploads.maxImageBytes);
  return { kind: 'oss', bucket: image.bucket, key: image.key, eTag: String(headers.etag ?? '').replace(/"/g, ''), size, contentType };
}
