import type { Config } from './config';
import { InputError } from './errors';
import type { ImageSource } from './image';
import { ossDomain } from './oss/client';

/**
 * Submitting a job spends money and makes ICE fetch the image, so callers may only name images in
 * allowed buckets, or https URLs on allowed hosts (default: the allowed buckets' OSS domains).
 */
export interface ImagePolicy {
  allowedBuckets: ReadonlySet<string>;
  allowedHosts: ReadonlySet<string>;
}

export function createImagePolicy(config: Pick<Config, 'http' | 'oss'>): ImagePolicy {
  const buckets = config.http.allowedBuckets;
  const hosts = config.http.allowedImageHosts.length > 0 ? config.http.allowedImageHosts : buckets.map((bucket) => ossDomain(bucket, config.oss.region));
  return { allowedBuckets: new Set(buckets), allowedHosts: new Set(hosts.map((host) => host.toLowerCase())) };
}

export function assertImageAllowed(source: ImageSource, policy: ImagePolicy): void {
  if (source.kind === 'oss') {
    if (!policy.allowedBuckets.has(source.bucket)) {
      throw new InputError('IMAGE_NOT_ALLOWED', `image.bucket: bucket "${source.bucket}" is not in ALLOWED_BUCKETS`, [
        { path: 'image.bucket', message: 'bucket not allowed' },
      ]);
    }
    return;
  }
  const url = new URL(source.url);
  if (url.protocol !== 'https:' || url.username || url.password || url.port || !policy.allowedHosts.has(url.hostname.toLowerCase())) {
    throw new InputError('IMAGE_NOT_ALLOWED', `imageUrl: host "${url.host}" is not in ALLOWED_IMAGE_HOSTS (https only, default port)`, [
      { path: 'imageUrl', message: 'host not allowed' },
    ]);
  }
}
