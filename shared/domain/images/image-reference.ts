import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import type { CredentialsProvider } from '../../adapters/openapi/credentials';
import type { IceClient } from '../../adapters/ice/client';
import { createOssClient, encodeObjectKey, publicObjectUrl } from '../../adapters/oss/client';

/**
 * Where the input image is: an OSS object (with its eTag and size once known: the upload event's, or a HEAD's),
 * or a URL the caller already vetted.
 */
export type ImageSource = { kind: 'oss'; bucket: string; key: string; eTag?: string; size?: number } | { kind: 'url'; url: string };

/** Registers an object version as a Yike asset (shared/domain/images/yike-asset-reference.ts) and answers its MediaId. */
export type YikeAssetResolver = (object: {
  bucket: string;
  key: string;
  eTag: string;
  inputUrl: string;
  productionId?: string;
  folderId?: string;
}) => Promise<string>;

export function describeImageSource(source: ImageSource): string {
  return source.kind === 'oss' ? `oss://${source.bucket}/${source.key}` : source.url;
}

/** Margin kept between a signed URL's expiry and the STS token's, for clock skew. */
const TOKEN_EXPIRY_MARGIN_SECONDS = 60;

/**
 * The one seam that turns an image source into the value put in AppParams. Modes: the plain OSS URL
 * (default; what ICE documents for same-region objects), a CDN URL, a URL signed with the role's
 * credentials, or an ICE media id (the object registered with RegisterMediaInfo first: every documented
 * example of LoadImage.1.TargetImage holds a media id).
 */
export interface ImageReferenceBuilder {
  reference(source: ImageSource, now?: Date, target?: { productionId?: string; folderId?: string }): Promise<string>;
}

export function createImageReferenceBuilder(
  config: Config['oss'],
  credentials: CredentialsProvider,
  ice: Pick<IceClient, 'resolveMediaId'>,
  resolveYikeAsset?: YikeAssetResolver,
): ImageReferenceBuilder {
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
          const eTag = source.eTag ?? (await headETag(config, credentials, source.bucket, source.key));
          const inputUrl = publicObjectUrl(source.bucket, config.region, source.key);
          return resolveYikeAsset({ bucket: source.bucket, key: source.key, eTag: String(eTag).replace(/"/g, ''), inputUrl, ...target });
        }
        case 'signed': {
          const creds = credentials();
          const expires = signedUrlLifetimeSeconds(config.signedUrlExpiresSeconds, creds.expiresAt, now);
          return createOssClient(config, creds, source.bucket).signatureUrl(source.key, { expires, method: 'GET' });
        }
      }
    },
  };
}

/** The object's eTag (CLI sources carry none); a missing object is IMAGE_NOT_FOUND. */
async function headETag(config: Config['oss'], credentials: CredentialsProvider, bucket: string, key: string): Promise<string> {
  try {
    return String(((await createOssClient(config, credentials(), bucket).head(key)).res.headers as Record<string, string>).etag ?? '');
  } catch (error) {
    if ((error as { status?: number }).status === 404) throw new YikeError('IMAGE_NOT_FOUND', `oss://${bucket}/${key} does not exist`, { statusCode: 404 });
    throw error;
  }
}

/** A signed URL made with STS credentials dies with the token: never ask for a longer life than it has. */
export function signedUrlLifetimeSeconds(configured: number, tokenExpiresAt: Date | undefined, now: Date): number {
  if (!tokenExpiresAt) return configured;
  const tokenLeft = Math.floor((tokenExpiresAt.getTime() - now.getTime()) / 1000) - TOKEN_EXPIRY_MARGIN_SECONDS;
  return Math.max(1, Math.min(configured, tokenLeft));
}
