/**
 * How the local OSS server authenticates a request: which scheme it uses (an Authorization header, a signed URL, or
 * none), then whether it holds: a V1 signature checked by signature.ts, or anonymous GET/HEAD on a public-read
 * bucket. A PostObject form carries its own authorization (post-object.ts), and preflights are never signed (cors.ts).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { OssError } from './errors';
import type { Target } from './request-target';
import { verifyOssHeaderSignature, verifyOssSignedUrl, type CredentialLookup, type LocalCredential, type QueryParams } from './signature';
import type { AuthMode } from './types';

/** Parameters that make a request URL-signed rather than anonymous (V1, and V4's marker). */
const URL_AUTH_PARAMS = ['OSSAccessKeyId', 'Expires', 'Signature', 'x-oss-signature-version'];

export function authModeOf(headers: IncomingHttpHeaders, query: QueryParams): AuthMode {
  if (headers.authorization !== undefined) return 'header';
  return URL_AUTH_PARAMS.some((name) => name in query) ? 'url' : 'anonymous';
}

/** Throws the OssError OSS would answer when the request may not do what it asks. */
export function createAuthenticator(access: {
  /** Buckets whose objects anonymous GET/HEAD may read (ACL public-read). */
  publicRead: ReadonlySet<string>;
  lookupSecret: CredentialLookup;
}): (req: IncomingMessage, auth: AuthMode, target: Target & { bucket: string }) => void {
  return (req, auth, target) => {
    const method = req.method ?? 'GET';
    if (auth === 'anonymous') {
      if ((method === 'GET' || method === 'HEAD') && access.publicRead.has(target.bucket)) return;
      // Unverified: OSS words this differently for buckets and objects; one message serves both here.
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    const request = {
      method,
      bucket: target.bucket,
      key: target.key,
      query: target.query,
      headers: req.headers,
      lookupSecret: access.lookupSecret,
    };
    const result = auth === 'header' ? verifyOssHeaderSignature(request) : verifyOssSignedUrl(request);
    if (!result.ok) throw OssError.from(result.failure);
  };
}

/** The configured keys by AccessKey ID; a duplicate ID is a configuration error. */
export function credentialMap(credentials: readonly LocalCredential[]): Map<string, LocalCredential> {
  const map = new Map<string, LocalCredential>();
  for (const credential of credentials) {
    if (map.has(credential.accessKeyId)) throw new TypeError(`Duplicate accessKeyId ${credential.accessKeyId}`);
    map.set(credential.accessKeyId, credential);
  }
  return map;
}
