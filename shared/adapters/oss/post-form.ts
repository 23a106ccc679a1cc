import type { Config } from '../../runtime/config';
import type { Credentials } from '../openapi/credentials';
import { createOssClient } from './client';

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

export function signPostObjectForm(input: {
  config: Pick<Config, 'oss'>;
  credentials: Credentials;
  /** Where the browser posts (the domain's uploadFormUrl). */
  url: string;
  bucket: string;
  key: string;
  contentType: string;
  policy: object;
  /** More fields the policy pins (x-oss-meta-*), sent before the signature. */
  fields?: Record<string, string>;
}): PostObjectForm {
  const client = createOssClient(input.config.oss, input.credentials, input.bucket);
  const signed = client.calculatePostSignature(input.policy) as { OSSAccessKeyId: string; Signature: string; policy: string };
  return {
    url: input.url,
    fields: {
      key: input.key,
      'Content-Type': input.contentType,
      'x-oss-content-type': input.contentType,
      'x-oss-forbid-overwrite': 'true',
      ...input.fields,
      success_action_status: '204',
      OSSAccessKeyId: signed.OSSAccessKeyId,
      policy: signed.policy,
      Signature: signed.Signature,
      ...(input.credentials.securityToken ? { 'x-oss-security-token': input.credentials.securityToken } : {}),
    },
  };
}
