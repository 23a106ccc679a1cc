import type { Config } from '../../runtime/config';
import type { Credentials } from '../openapi/credentials';
import { createOssClient, ossDomain } from './client';

/**
 * An OSS PostObject form (signature V1) for one object: the browser posts these fields, then the file, to `url`.
 * The policy is signed by ali-oss (`calculatePostSignature`) with the function role's STS credentials, so the
 * form carries `x-oss-security-token`; OSS refuses the form once the policy or the token has expired.
 */
export interface PostObjectForm {
  url: string;
  /** Form fields in the order they must be sent; `file` goes last, after all of them. */
  fields: Record<string, string>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Where browsers post: UPLOAD_FORM_URL, else the bucket's public domain (path-style on a local OSS endpoint). */
export function uploadFormUrl(config: Pick<Config, 'oss' | 'uploads'>, bucket: string): string {
  if (config.uploads.formUrl) return config.uploads.formUrl;
  const endpoint = config.oss.endpoint;
  // The function's own endpoint may be an internal one browsers cannot reach; only a local one is reused.
  if (endpoint && LOOPBACK_HOSTS.has(new URL(endpoint).hostname)) return `${endpoint}/${bucket}`;
  return `https://${ossDomain(bucket, config.oss.region)}`;
}

export function signPostObjectForm(input: {
  config: Pick<Config, 'oss' | 'uploads'>;
  credentials: Credentials;
  bucket: string;
  key: string;
  contentType: string;
  policy: object;
}): PostObjectForm {
  const client = createOssClient(input.config.oss, input.credentials, input.bucket);
  const signed = client.calculatePostSignature(input.policy) as { OSSAccessKeyId: string; Signature: string; policy: string };
  return {
    url: uploadFormUrl(input.config, input.bucket),
    fields: {
      key: input.key,
      'Content-Type': input.contentType,
      'x-oss-content-type': input.contentType,
      'x-oss-forbid-overwrite': 'true',
      success_action_status: '204',
      OSSAccessKeyId: signed.OSSAccessKeyId,
      policy: signed.policy,
      Signature: signed.Signature,
      ...(input.credentials.securityToken ? { 'x-oss-security-token': input.credentials.securityToken } : {}),
    },
  };
}
