import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import type { Ice, ImageObjects } from '../ports';
import { encodeObjectKey, publicObjectUrl } from './oss-urls';

/**
 * Where the input image is: an OSS object (with its eTag and size once known: the upload event's, or a HEAD's),
 * or a URL the caller already vetted.
 */
export type ImageSource = { kind: 'oss'; bucket: string; key: string; eTag?: string; size?: number } | { kind: 'url'; url: string };

/** Registers an object version as a Yike asset (yike-asset-reference.ts) and answers its MediaId. */
type YikeAssetResolver = (object: { bucket: string; key: string; eTag: string; inputUrl: string; productionId?: string; folderId?: string }) => Promise<string>;

/**
 * The one seam that turns an image source into the value put in AppParams. Modes: the plain OSS URL
 * (default; what ICE documents for same-region objects), a CDN URL, a URL signed with the role's
 * credentials, or an ICE media id (the object registered with RegisterMediaInfo first: every documented
 * example of LoadImage.1.TargetImage holds a media id).
 */
export interface ImageReferenceBuilder {
  reference(source: ImageSource, now?: Date, target?: { productionId?: string; folderId?: string }): Promise<string>;
}

export interface ImageReferenceDependencies {
  config: Config['oss'];
  objects: ImageObjects;
  ice: Pick<Ice, 'resolveMediaId'>;
  resolveYikeAsset?: YikeAssetResolver;
}

export function createImageReferenceBuilder({ config, objects, ice, resolveYikeAsset }: ImageReferenceDependencies): ImageReferenceBuilder {
  return {
    async reference(source, now = new Date(), target = {}) {
      if (source.kind === 'url') return source.url;
      switch (config.imageUrlMode) {
        case 'public':
          return publicObjectUrl(source.bucket, config.region, source.key);
        case 'cdn':
          return `${config.cdnBaseUrl}/${encodeObjectKey(source.key)}`;
        case 'media-id':
          return ice.resolveMediaId(publicObjectUrl(source.bucket, config.region, source.key));
        case 'yike-asset': {
          if (!resolveYikeAsset) throw new Error('IMAGE_URL_MODE=yike-asset needs a Yike asset resolver');
          // The object version names the asset; without an eTag (CLI) one HEAD finds it.
          const eTag = source.eTag ?? (await headETag(objects, source.bucket, source.key));
          const inputUrl = publicObjectUrl(source.bucket, config.region, source.key);
          return resolveYikeAsset({ bucket: source.bucket, key: source.key, eTag: String(eTag).replace(/"/g, ''), inputUrl, ...target });
        }
        case 'signed':
          return objects.signedUrl(source.bucket, source.key, config.signedUrlExpiresSeconds, now);
      }
    },
  };
}

/** The object's eTag (CLI sources carry none); a missing object is IMAGE_NOT_FOUND. */
async function headETag(objects: ImageObjects, bucket: string, key: string): Promise<string> {
  const answer = await objects.head(bucket, key);
  if (answer.status === 'found') return answer.head.eTag;
  if (answer.status === 'missing') throw new YikeError('IMAGE_NOT_FOUND', `oss://${bucket}/${key} does not exist`, { statusCode: 404 });
  throw new YikeError('IMAGE_ACCESS_DENIED', `oss://${bucket}/${key} cannot be read with the function's role (AccessDenied)`, { statusCode: 403 });
}
