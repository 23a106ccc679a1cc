import type { Config } from '../../runtime/config';
import type { CredentialsProvider } from '../openapi/credentials';
import { createOssClient } from './client';

/** Margin kept between a signed URL's expiry and the STS token's, for clock skew. */
const TOKEN_EXPIRY_MARGIN_SECONDS = 60;

/** A signed URL made with STS credentials dies with the token: never ask for a longer life than it has. */
export function signedUrlLifetimeSeconds(configured: number, tokenExpiresAt: Date | undefined, now: Date): number {
  if (!tokenExpiresAt) return configured;
  const tokenLeft = Math.floor((tokenExpiresAt.getTime() - now.getTime()) / 1000) - TOKEN_EXPIRY_MARGIN_SECONDS;
  return Math.max(1, Math.min(configured, tokenLeft));
}

/**
 * GET URLs of objects signed with the role's credentials (OSS signature V1 in the query, ali-oss `signatureUrl`):
 * the own copies' `playUrl`. The URL carries the STS token (`security-token`), as every STS-signed OSS URL does, so
 * the role needs oss:GetObject on the copies, and the URL works only until the token expires.
 */
export function createObjectUrlSigner(config: Config['oss'], credentials: CredentialsProvider) {
  return (bucket: string, key: string, expiresSeconds: number, now: Date): { url: string; expiresAt: string } => {
    const creds = credentials();
    const expires = signedUrlLifetimeSeconds(expiresSeconds, creds.expiresAt, now);
    // ali-oss counts the expiry from the real clock (Expires = now + expires, in seconds).
    const expiresAt = new Date((Math.round(Date.now() / 1000) + expires) * 1000).toISOString();
    return { url: createOssClient(config, creds, bucket).signatureUrl(key, { expires, method: 'GET' }), expiresAt };
  };
}
