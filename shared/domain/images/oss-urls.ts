/**
 * How OSS names objects on the public internet (help.aliyun.com "OSS domain names"): the product decides image
 * references and allowed hosts from these; the OSS adapter signs and sends through ali-oss.
 */

/** Path of an object in a URL: each segment percent-encoded as UTF-8, "/" kept. */
export function encodeObjectKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** <bucket>.oss-<region>.aliyuncs.com: a bucket's public endpoint. */
export function ossDomain(bucket: string, region: string): string {
  return `${bucket}.oss-${region}.aliyuncs.com`;
}

/** https://<bucket>.oss-<region>.aliyuncs.com/<key>: the plain object URL ICE accepts in its own region. */
export function publicObjectUrl(bucket: string, region: string, key: string): string {
  return `https://${ossDomain(bucket, region)}/${encodeObjectKey(key)}`;
}
