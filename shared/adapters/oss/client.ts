import type OSS from 'ali-oss';
import type { Config } from '../../runtime/config';
import type { Credentials } from '../openapi/credentials';

export type OssClient = OSS;

const REFRESH_INTERVAL_MS = 300_000;

/**
 * ali-oss client for one bucket. ali-oss (and urllib under it) is large, so it is required lazily:
 * functions that never touch OSS on a given path do not pay for loading it at cold start.
 */
export function createOssClient(config: Config['oss'], credentials: Credentials, bucket: string, timeoutMs = 10_000): OSS {
  const OssConstructor = require('ali-oss') as typeof OSS;
  const options: OSS.Options & { sldEnable?: boolean } = {
    region: `oss-${config.region}`,
    // Unset: ali-oss derives https://<bucket>.oss-<region>.aliyuncs.com.
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    secure: config.endpoint ? config.endpoint.startsWith('https://') : true,
    bucket,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    stsToken: credentials.securityToken,
    timeout: timeoutMs,
    // Credentials are per invocation (FC rotates them); this only silences ali-oss's refresh advice.
    refreshSTSTokenInterval: REFRESH_INTERVAL_MS,
  };
  // A local endpoint at http://localhost:PORT is path-style (/<bucket>/<key>): ali-oss cannot sign URLs
  // for an IP endpoint, and `<bucket>.localhost` does not resolve.
  if (config.endpoint && new URL(config.endpoint).hostname === 'localhost') options.sldEnable = true;
  return new OssConstructor(options);
}
