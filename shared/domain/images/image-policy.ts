import type { Config } from '../../runtime/config';
import { InputError } from '../../runtime/errors';
import type { ImageSource } from './image-reference';
import { normalizeImageUrl } from './image-url';
import { ossDomain } from './oss-urls';

/**
 * Submitting a job spends money and makes ICE fetch the image, so callers may only name images in
 * allowed buckets, or https URLs on allowed hosts (default: the allowed buckets' OSS domains), never
 * under our own records/results prefixes. URLs are normalized once (shared/domain/images/image-url.ts).
 */
export interface ImagePolicy {
  allowedBuckets: ReadonlySet<string>;
  allowedHosts: ReadonlySet<string>;
  /** RECORDS_PREFIX and RESULTS_PREFIX: an image may never point at what this service writes. */
  forbiddenKeyPrefixes: readonly string[];
  allowQuery: boolean;
}

export function createImagePolicy(config: Pick<Config, 'http' | 'oss' | 'records'>): ImagePolicy {
  const buckets = config.http.allowedBuckets;
  const hosts = config.http.allowedImageHosts.length > 0 ? config.http.allowedImageHosts : buckets.map((bucket) => ossDomain(bucket, config.oss.region));
  return {
    allowedBuckets: new Set(buckets),
    allowedHosts: new Set(hosts.map((host) => host.toLowerCase())),
    forbiddenKeyPrefixes: [config.records.prefix, config.records.resultsPrefix],
    allowQuery: config.http.allowImageUrlQuery,
  };
}

/**
 * The image as it may be used: an allowed OSS object, or the normalized href of an allowed URL.
 * `enforceAllowlist: false` (pipeline events without ALLOWED_*) still applies every URL and prefix rule.
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
  return { kind: 'url', url };
}

export function assertImageAllowed(source: ImageSource, policy: ImagePolicy): void {
  allowedImage(source, policy);
}
