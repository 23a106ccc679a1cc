import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import type { CredentialsProvider } from '../openapi/credentials';
import { createOssClient } from './client';
import { signedUrlLifetimeSeconds } from './signed-urls';

/**
 * The image objects, read with the function's role: one HeadObject, and GET URLs signed with the role's STS
 * credentials (IMAGE_URL_MODE=signed). A 404 and a 403 AccessDenied are answers about the image; any other failure
 * is the deployment's (OSS_AUTH_FAILED) or OSS's (OSS_UNAVAILABLE, retryable).
 */
interface OssHeadError {
  status?: number;
  code?: string;
  requestId?: string;
}

type HeadAnswer =
  | { status: 'found'; head: { eTag: string; size: number; contentType: string; userMetadata: Record<string, string> } }
  | { status: 'missing' }
  | { status: 'denied' };

const USER_METADATA_PREFIX = 'x-oss-meta-';

const ACCESS_DENIED = 'AccessDenied';

export function createImageObjects(config: Config['oss'], credentials: CredentialsProvider) {
  return {
    async head(bucket: string, key: string): Promise<HeadAnswer> {
      const source = `oss://${bucket}/${key}`;
      let headers: Record<string, string>;
      try {
        headers = (await createOssClient(config, credentials(), bucket).head(key)).res.headers as Record<string, string>;
      } catch (raw) {
        const error = raw as OssHeadError;
        if (error.status === 404) return { status: 'missing' };
        if (error.status === 403 && (error.code === undefined || error.code === ACCESS_DENIED)) return { status: 'denied' };
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
      return {
        status: 'found',
        head: {
          eTag: String(headers.etag ?? '').replace(/"/g, ''),
          size: Number(headers['content-length'] ?? 0),
          contentType: headers['content-type'] ?? '',
          // Node gives header names in lower case, as OSS stores user metadata names.
          userMetadata: Object.fromEntries(
            Object.entries(headers)
              .filter(([name]) => name.startsWith(USER_METADATA_PREFIX))
              .map(([name, value]) => [name.slice(USER_METADATA_PREFIX.length), String(value)]),
          ),
        },
      };
    },

    signedUrl(bucket: string, key: string, expiresSeconds: number, now: Date): string {
      const creds = credentials();
      const expires = signedUrlLifetimeSeconds(expiresSeconds, creds.expiresAt, now);
      return createOssClient(config, creds, bucket).signatureUrl(key, { expires, method: 'GET' });
    },
  };
}
