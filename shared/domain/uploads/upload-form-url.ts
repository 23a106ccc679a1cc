import type { Config } from '../../runtime/config';
import { ossDomain } from '../images/oss-urls';

// A module of its own, free of schemas: the page (page.js, loaded on GET / only) needs this and no zod.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Where browsers post: UPLOAD_FORM_URL, else the bucket's public domain (path-style on a local OSS endpoint). */
export function uploadFormUrl(config: Pick<Config, 'oss' | 'uploads'>, bucket: string): string {
  if (config.uploads.formUrl) return config.uploads.formUrl;
  const endpoint = config.oss.endpoint;
  // The function's own endpoint may be an internal one browsers cannot reach; only a local one is reused.
  if (endpoint && LOOPBACK_HOSTS.has(new URL(endpoint).hostname)) return `${endpoint}/${bucket}`;
  return `https://${ossDomain(bucket, config.oss.region)}`;
}
