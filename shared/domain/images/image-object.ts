import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import type { ImageObjects } from '../ports';

/**
 * No paid job for a bad {bucket, key}: everything here runs before any ICE call. The key must look like an
 * image outside our own prefixes; the object must exist (HeadObject), be `image/*` and at most uploads.maxImageBytes (20 MiB).
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
/** What the key checks read: the reserved prefixes and the image suffixes. */
export type KeyRules = { records: Pick<Config['records'], 'prefix' | 'resultsPrefix'>; uploads: Pick<Config['uploads'], 'imageSuffixes'> };

/** C0 controls and DEL: never part of a sane object key, and a log-injection risk. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const IMAGE_CONTENT_TYPE = /^image\//i;

function refusal(code: string, statusCode: number, message: string, path = 'image.key'): YikeError {
  return new YikeError(code, message, { statusCode, details: [{ path, message }] });
}

/**
 * Why a key can never be submitted, or undefined. Shared by HTTP, pipeline events, uploads and the object key an
 * imageUrl names (`field` "imageUrl", the key percent-decoded).
 */
export function imageKeyRefusal(key: string, config: KeyRules, field = 'image.key'): YikeError | undefined {
  const named = field === 'image.key' ? field : `${field} (its object key)`;
  if (CONTROL_CHARACTER.test(key)) return refusal('IMAGE_KEY_INVALID', 400, `${named} contains control characters`, field);
  for (const prefix of [config.records.prefix, config.records.resultsPrefix]) {
    if (key.startsWith(prefix)) return refusal('IMAGE_KEY_INVALID', 400, `${named} is under "${prefix}", which holds this service's own records`, field);
  }
  const lowerKey = key.toLowerCase();
  if (!config.uploads.imageSuffixes.some((suffix) => lowerKey.endsWith(suffix))) {
    return refusal('NOT_AN_IMAGE', 415, `${named} must end in one of ${config.uploads.imageSuffixes.join(', ')}`, field);
  }
  return undefined;
}

export function assertImageSize(size: number, source: string, maxImageBytes: number): void {
  if (size > maxImageBytes) {
    throw refusal('IMAGE_TOO_LARGE', 413, `${source} is ${size} bytes; the limit is ${maxImageBytes}`, 'image');
  }
}

/** Key checks, then one HeadObject with the function's role: existence, Content-Type and size. */
export async function inspectImageObject(
  image: { bucket: string; key: string },
  config: InputsConfig,
  objects: Pick<ImageObjects, 'head'>,
): Promise<InspectedImage> {
  const keyProblem = imageKeyRefusal(image.key, config);
  if (keyProblem) throw keyProblem;
  const source = `oss://${image.bucket}/${image.key}`;
  const answer = await objects.head(image.bucket, image.key);
  if (answer.status === 'missing') throw refusal('IMAGE_NOT_FOUND', 404, `${source} does not exist`, 'image');
  if (answer.status === 'denied') throw refusal('IMAGE_ACCESS_DENIED', 403, `${source} cannot be read with the function's role (AccessDenied)`, 'image');
  const { contentType, size, eTag } = answer.head;
  if (!IMAGE_CONTENT_TYPE.test(contentType)) {
    throw refusal('NOT_AN_IMAGE', 415, `${source} has Content-Type "${contentType}", not image/*`, 'image');
  }
  if (size === 0) throw refusal('NOT_AN_IMAGE', 415, `${source} is empty`, 'image');
  assertImageSize(size, source, config.uploads.maxImageBytes);
  return { kind: 'oss', bucket: image.bucket, key: image.key, eTag, size, contentType };
}
