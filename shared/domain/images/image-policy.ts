import type { Config } from '../../runtime/config';
import { InputError } from '../../runtime/errors';
import { imageKeyRefusal, type KeyRules } from './image-object';
import type { ImageSource } from './image-reference';
import { normalizeImageUrl, objectKeyOfUrl } from './image-url';
import { ossDomain } from './oss-urls';

/**
 * Submitting a job spends money and makes ICE fetch the image, so callers may only name images in
 * allowed buckets, or https URLs on allowed hosts (default: the allowed buckets' OSS domains), never
 * under our own records/results prefixes. URLs are normalized once (shared/domain/images/image-url.ts).
 * An imageUrl gets the same key checks as {bucket, key}: on an allowed bucket's own OSS domain it IS that
 * {bucket, key} (and so gets the HEAD too, inspectImageObject); on any other host its decoded path must still look
 * like an image key (suffix, reserved prefixes, control characters).
 */
export interface ImagePolicy {
  allowedBuckets: ReadonlySet<string>;
  allowedHosts: ReadonlySet<string>;
  /** RECORDS_PREFIX and RESULTS_PREFIX: an image may never point at what this service writes. */
  forbiddenKeyPrefixes: readonly string[];
  allowQuery: boolean;
  /** <bucket>.oss-<ICE_REGION>.aliyuncs.com -> bucket, for each allowed bucket. */
  bucketDomains: ReadonlyMap<string, string>;
  /** The key checks an image URL's object key gets (IMAGE_SUFFIXES and the reserved prefixes). */
  keyRules: KeyRules;
}

export function createImagePolicy(config: Pick<Config, 'http' | 'oss' | 'records' | 'uploads'>): ImagePolicy {
  const buckets = config.http.allowedBuckets;
  const hosts = config.http.allowedImageHosts.length > 0 ? config.http.allowedImageHosts : buckets.map((bucket) => ossDomain(bucket, config.oss.region));
  return {
    allowedBuckets: new Set(buckets),
    allowedHosts: new Set(hosts.map((host) => host.toLowerCase())),
    forbiddenKeyPrefixes: [config.records.prefix, config.records.resultsPrefix],
    allowQuery: config.http.allowImageUrlQuery,
    bucketDomains: new Map(buckets.map((bucket) => [ossDomain(bucket, config.oss.region), bucket])),
    keyRules: { records: config.records, uploads: config.uploads },
  };
}

/**
 * The image as it may be used: an allowed OSS object, or the normalized href of an allowed URL.
 * `enforceAllowlist: false` (pipeline events without ALLOWED_*) still applies every URL and prefix rule.
 * A URL on an allowed bucket's OSS domain comes back as that {bucket, key} (unless it carries a query string, which
 * ALLOW_IMAGE_URL_QUERY allows: then it is sent as given); the caller HEADs every {bucket, key} it gets.
 */
export function allowedImage(source: ImageSource, policy: ImagePolicy, options: { enforceAllowlist?: boolean } = {}): ImageSource {
  const enforce = options.enforceAllowlist ?? true;
  if (source.kind === 'oss') {
    if (enforce && !policy.allowedBuckets.has(source.bucket)) {
      throw new InputError('IMAGE_NOT_ALLOWED', `image.bucket: bucket "${source.bucket}" is not in ALLOWED_BUCKETS`, [
        { path: 'image.bucket', message: 'bucket not allowed' },
      ]);
    }
    const forbidden = policy.forbiddenKeyPrefixes.find((prefix) => source.key.startsWith(prefix));
    if (forbidden) {
      // The same code as the key checks before the HEAD (inputs/image-object.ts): one refusal, one code.
      throw new InputError('IMAGE_KEY_INVALID', `image.key: points under "${forbidden}", where this service keeps its own records`, [
        { path: 'image.key', message: 'reserved prefix' },
      ]);
    }
    return source;
  }
  const url = normalizeImageUrl(source.url, {
    allowedHosts: enforce ? policy.allowedHosts : undefined,
    forbiddenKeyPrefixes: policy.forbiddenKeyPrefixes,
    allowQuery: policy.allowQuery,
  });
  const parsed = new URL(url);
  const key = objectKeyOfUrl(url);
  const bucket = policy.bucketDomains.get(parsed.hostname);
  if (bucket !== undefined && parsed.search === '') return allowedImage({ kind: 'oss', bucket, key }, policy, options);
  const refusal = imageKeyRefusal(key, policy.keyRules, 'imageUrl');
  if (refusal) throw refusal;
  return { kind: 'url', url };
}

export function assertImageAllowed(source: ImageSource, policy: ImagePolicy): void {
  allowedImage(source, policy);
}
