/**
 * The local ICE endpoint's media library actions (server.ts dispatches to them): RegisterMediaInfo and GetMediaInfo.
 * A job's image may name an asset registered here by its media id (jobs.ts asks through has() and inputUrl()).
 *
 * Sources:
 * - [IMSERR]  ICE/IMS error code table, https://help.aliyun.com/document_detail/197855.html: ResourceNotFound (404).
 */
import { randomBytes } from 'node:crypto';
import { IceApiError, invalidParameter, missingParameter, type Answer } from './answers';
import type { Fields } from './request-fields';
import type { RegisteredMedia } from './types';

export interface IceMediaLibrary {
  register(fields: Fields, requestId: string, receivedAt: Date): Answer;
  get(fields: Fields, requestId: string): Answer;
  has(mediaId: string): boolean;
  /** The InputURL a media id was registered with. */
  inputUrl(mediaId: string): string | undefined;
  /** Copies of the registered assets. */
  assets(): RegisteredMedia[];
  reset(): void;
}

/** RegisterMediaInfo's InputURL forms (ICE docs): an OSS object URL or oss://bucket/key. */
const MEDIA_INPUT_URL = /^(https?:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\.oss-[a-z0-9-]+\.aliyuncs\.com\/.+|oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+)$/;
const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'text']);
const MEDIA_ID_BYTES = 16;
const HTTP_OK = 200;
const HTTP_NOT_FOUND = 404;

export function createMediaLibrary(): IceMediaLibrary {
  const media = new Map<string, RegisteredMedia>();
  return {
    /** RegisterMediaInfo: InputURL required; a URL already registered is refused unless Overwrite=true (ICE docs). */
    register(fields, requestId, receivedAt) {
      const inputUrl = fields.get('InputURL')?.value;
      if (!inputUrl) throw missingParameter('InputURL');
      if (!MEDIA_INPUT_URL.test(inputUrl)) throw invalidParameter('InputURL', 'It must be an OSS object URL or oss://bucket/key.');
      const mediaType = fields.get('MediaType')?.value ?? 'video';
      if (!MEDIA_TYPES.has(mediaType)) throw invalidParameter('MediaType', 'It must be image, video, audio or text.');
      const existing = [...media.values()].find((asset) => asset.inputUrl === inputUrl);
      if (existing && fields.get('Overwrite')?.value !== 'true') {
        // The refusal's code is unverified; clients should look the URL up with GetMediaInfo.
        throw invalidParameter('InputURL', 'The media asset with this InputURL is already registered.');
      }
      if (existing) media.delete(existing.mediaId);
      const asset: RegisteredMedia = { mediaId: randomBytes(MEDIA_ID_BYTES).toString('hex'), inputUrl, mediaType, registeredAt: receivedAt.toISOString() };
      media.set(asset.mediaId, asset);
      return { status: HTTP_OK, body: { RequestId: requestId, MediaId: asset.mediaId } };
    },

    /** GetMediaInfo: by MediaId, or else by InputURL. */
    get(fields, requestId) {
      const mediaId = fields.get('MediaId')?.value;
      const inputUrl = fields.get('InputURL')?.value;
      if (!mediaId && !inputUrl) throw missingParameter('MediaId');
      const asset = mediaId ? media.get(mediaId) : [...media.values()].find((candidate) => candidate.inputUrl === inputUrl);
      if (!asset)
        throw new IceApiError(
          HTTP_NOT_FOUND,
          'ResourceNotFound',
          `Resource not found: no media for ${mediaId ? `MediaId "${mediaId}"` : `InputURL "${inputUrl}"`}.`,
        );
      return { status: HTTP_OK, body: { RequestId: requestId, MediaInfo: mediaView(asset) } };
    },

    has: (mediaId) => media.has(mediaId),
    inputUrl: (mediaId) => media.get(mediaId)?.inputUrl,
    assets: () => [...media.values()].map((asset) => ({ ...asset })),
    reset: () => media.clear(),
  };
}

/** A media asset as GetMediaInfo's MediaInfo. */
function mediaView(asset: RegisteredMedia): Record<string, unknown> {
  return {
    MediaId: asset.mediaId,
    MediaBasicInfo: {
      MediaId: asset.mediaId,
      InputURL: asset.inputUrl,
      MediaType: asset.mediaType,
      Source: 'oss',
      Status: 'Normal',
      CreateTime: asset.registeredAt,
    },
  };
}
