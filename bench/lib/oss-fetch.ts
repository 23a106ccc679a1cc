import { canonicalizedOssHeaders, canonicalizedResource, signV1, stringToSignV1 } from '../../local/oss/signature';

export interface RawOssCall {
  /** http://127.0.0.1:PORT of the OSS endpoint: path-style requests, /<bucket>/<key>. */
  endpoint: string;
  method: 'HEAD' | 'GET' | 'PUT';
  bucket: string;
  key: string;
  body?: string;
  headers?: Record<string, string>;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

/**
 * The baseline for warm latency on the OSS side: one object request signed with OSS's V1 header signature (the
 * helpers the local OSS verifies with) and sent with fetch. Returns the status and the body text.
 */
export async function rawOssFetch(call: RawOssCall): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { date: new Date().toUTCString(), ...call.headers };
  if (call.credentials.securityToken) headers['x-oss-security-token'] = call.credentials.securityToken;
  const contentType = headers['content-type'] ?? '';
  const toSign = stringToSignV1({
    method: call.method,
    contentMd5: '',
    contentType,
    date: headers.date!,
    canonicalizedOssHeaders: canonicalizedOssHeaders(headers),
    canonicalizedResource: canonicalizedResource(call.bucket, call.key, {}),
  });
  headers.authorization = `OSS ${call.credentials.accessKeyId}:${signV1(call.credentials.accessKeySecret, toSign)}`;
  const url = new URL(`/${call.bucket}/${call.key.split('/').map(encodeURIComponent).join('/')}`, call.endpoint);
  const response = await fetch(url, { method: call.method, headers, body: call.body });
  const body = await response.text();
  if (!response.ok) throw new Error(`OSS answered ${response.status} to ${call.method} ${call.key}: ${body.slice(0, 300)}`);
  return { status: response.status, body };
}
