import { randomUUID } from 'node:crypto';
import { canonicalRequest, formatAcsDate, sha256Hex, sign, stringToSign, ACS3_ALGORITHM } from '../../local/acs3';

export interface RawIceCall {
  /** http://host:port of the ICE endpoint. */
  endpoint: string;
  action: string;
  version: string;
  /** RPC parameters, sent as a form body (as the official SDK does). */
  body: Record<string, string>;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

/**
 * The baseline for warm latency: the smallest correct ICE call, a fetch signed with ACS3-HMAC-SHA256 (signing
 * helpers shared with the local ICE endpoint, which verifies them). Returns the parsed JSON body.
 */
export async function rawIceFetch(call: RawIceCall): Promise<unknown> {
  const url = new URL('/', call.endpoint);
  const body = new URLSearchParams(call.body).toString();
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/x-www-form-urlencoded',
    'x-acs-action': call.action,
    'x-acs-version': call.version,
    'x-acs-date': formatAcsDate(new Date()),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
  };
  if (call.credentials.securityToken) headers['x-acs-security-token'] = call.credentials.securityToken;
  const signedHeaders = Object.keys(headers).sort();
  const canonical = canonicalRequest({ method: 'POST', path: '/', query: {}, headers }, signedHeaders, headers['x-acs-content-sha256']!);
  const signature = sign(call.credentials.accessKeySecret, stringToSign(canonical));
  headers.authorization = `${ACS3_ALGORITHM} Credential=${call.credentials.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  // fetch sets Host itself, from the URL: the value signed above.
  const sent = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'host'));
  const response = await fetch(url, { method: 'POST', headers: sent, body });
  const json = (await response.json()) as unknown;
  if (!response.ok) throw new Error(`ICE answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}
