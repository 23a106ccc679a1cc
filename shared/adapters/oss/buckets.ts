import type { Config } from '../../runtime/config';
import type { CredentialsProvider } from '../openapi/credentials';
import { createOssClient } from './client';

/**
 * What the doctor reads about buckets, with ali-oss: GetBucketLocation (`<LocationConstraint>oss-cn-hangzhou</…>`,
 * OSS API reference "GetBucketLocation"), one ListObjects page, and GetBucketCors (the CLI's CORS check; a bucket
 * without a configuration answers 404 NoSuchCORSConfiguration, which reads as no rules).
 */
const MAX_KEYS = 1000;
const NO_CORS = 'NoSuchCORSConfiguration';

export interface BucketCorsRule {
  allowedOrigin: string[];
  allowedMethod: string[];
}

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined || value === null ? [] : [String(value)]);

export function createBucketInspector(config: Config['oss'], credentials: CredentialsProvider, timeoutMs = config.timeoutMs) {
  const client = (bucket: string) => createOssClient(config, credentials(), bucket, timeoutMs);
  return {
    async region(bucket: string): Promise<string> {
      const { location } = await client(bucket).getBucketLocation(bucket);
      // xml2js gives the element's text, or {_: text} when the element carries attributes (an xmlns).
      const text = typeof location === 'string' ? location : String((location as { _?: unknown } | undefined)?._ ?? '');
      return text.trim().replace(/^oss-/, '');
    },
    async recent(bucket: string, prefix: string): Promise<{ key: string; lastModified: string }[]> {
      const page = await client(bucket).list({ prefix, 'max-keys': MAX_KEYS }, {});
      return (page.objects ?? [])
        .map((object) => ({ key: object.name, lastModified: new Date(object.lastModified).toISOString() }))
        .sort((a, b) => b.lastModified.localeCompare(a.lastModified));
    },
    async corsRules(bucket: string): Promise<BucketCorsRule[]> {
      try {
        const { rules } = await client(bucket).getBucketCORS(bucket);
        return (rules as unknown as Record<string, unknown>[]).map((rule) => ({
          allowedOrigin: asList(rule.allowedOrigin),
          allowedMethod: asList(rule.allowedMethod),
        }));
      } catch (error) {
        if ((error as { code?: string }).code === NO_CORS) return [];
        throw error;
      }
    },
  };
}
