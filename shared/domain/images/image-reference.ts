import type { Config } from '../../runtime/config';
import type { ImageForm } from '../../runtime/env';
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
 * The one seam that turns an image source into the value put in AppParams, in one form: the plain OSS URL (what ICE
 * documents for same-region objects), a CDN URL, a URL signed with the role's credentials, an ICE media-library id
 * (RegisterMediaInfo) or a Yike asset id (RegisterYikeAssetMediaInfo). Which form a job uses is decided by
 * IMAGE_URL_MODE (image-modes/image-inputs.ts: a fixed one, or the one `auto` found). A URL source is used as is.
 */
export interface ImageReferenceBuilder {
  reference(source: ImageSource, form: ImageForm, target?: { productionId?: string; folderId?: string }, now?: Date): Promise<string>;
}

export interface ImageReferenceDependencies {
  config: Config['oss'];
  objects: ImageObjects;
  ice: Pick<Ice, 'resolveMediaId'>;
  resolveYikeAsset?: YikeAssetResolver;
}

export function createImageReferenceBuilder({ config, objects, ice, resolveYikeAsset }: ImageReferenceDependencies): ImageReferenceBuilder {
  return {
    async reference(source, form, target = {}, now = new Date()) {
      if (source.kind === 'url') return source.url;
      switch (form) {
        case 'public':
          return publicObjectUrl(source.bucket, config.region, source.key);
        case 'cdn':
          return `${config.cdnBaseUrl}/${encodeObjectKey(source.key)}`;
        case 'media-id':
          return ice.resolveMediaId(publicObjectUrl(source.bucket, config.region, source.key));
        case 'yike-asset': {
          if (!resolveYikeAsset) throw new Error('the yike-asset form needs a Yike asset resolver');
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
