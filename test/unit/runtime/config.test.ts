import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../../shared/runtime/config';
import { envSchema } from '../../../shared/runtime/env';
import { ConfigError } from '../../../shared/runtime/errors';

/** The variables named in the first column of docs/configuration.md's "Environment variables" table. */
function documentedConfigurationVariables(): string[] {
  const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
  const section = page.split('\n## Environment variables\n')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!));
}

describe('configuration from environment variables', () => {
  it('uses the documented defaults when nothing is set', () => {
    // Act
    const config = parseConfig({});

    // Assert
    expect(config.ice).toEqual({
      region: 'cn-shanghai',
      endpoint: 'ice.cn-shanghai.aliyuncs.com',
      protocol: 'https',
      apiVersion: '2020-11-09',
      readTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      keepAliveReads: true,
      retry: { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 },
      precheck: true,
    });
    expect(config.records).toEqual({ prefix: '.yike-jobs/', bucket: undefined, resultsPrefix: '.yike-results/' });
    expect(config.uploads.maxImageBytes).toBe(20 * 1024 * 1024);
    expect(config.uploads.imageSuffixes).toEqual(['.jpg', '.jpeg', '.png', '.webp']);
    expect(config.uploads.eventNames).toEqual(['PutObject', 'PostObject', 'CompleteMultipartUpload', 'CopyObject']);
    expect(config.oss).toMatchObject({ region: 'cn-shanghai', endpoint: undefined, imageUrlMode: 'auto', keyEncoding: 'plain' });
    expect(config.http).toMatchObject({ authTokens: [], allowedBuckets: [], maxBodyBytes: 16_384, idempotencyTtlSeconds: 86_400 });
  });

  it('reads PRECHECK, MAX_IMAGE_BYTES, RESULTS_PREFIX and the yike-asset mode, and names a bad value', () => {
    // Act
    const config = parseConfig({ PRECHECK: 'off', MAX_IMAGE_BYTES: '1048576', RESULTS_PREFIX: 'out/', IMAGE_URL_MODE: 'yike-asset' });

    // Assert
    expect(config.ice.precheck).toBe(false);
    expect(config.uploads.maxImageBytes).toBe(1_048_576);
    expect(config.records.resultsPrefix).toBe('out/');
    expect(config.oss.imageUrlMode).toBe('yike-asset');
    expect(() => parseConfig({ PRECHECK: 'maybe' })).toThrow(/^Invalid configuration: PRECHECK: /);
  });

  it('points the ICE client at ICE_ENDPOINT with its protocol for local runs', () => {
    // Act
    const config = parseConfig({ ICE_ENDPOINT: 'http://127.0.0.1:9100', ICE_REGION: 'cn-beijing' });

    // Assert
    expect(config.ice).toMatchObject({ endpoint: '127.0.0.1:9100', protocol: 'http', region: 'cn-beijing' });
  });

  it('derives the ICE host from ICE_REGION when no endpoint is given', () => {
    expect(parseConfig({ ICE_REGION: 'ap-southeast-1' }).ice.endpoint).toBe('ice.ap-southeast-1.aliyuncs.com');
  });

  it('parses lists, JSON maps and event names written the way the trigger config writes them', () => {
    // Act
    const config = parseConfig({
      ALLOWED_BUCKETS: ' yike-uploads , other-bucket ,',
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"sys-ao-smith-2"}',
      YIKE_APPS: '{"my-yike-app":"LoadImage.1.SourceImage"}',
      IMAGE_SUFFIXES: '.JPG,.heic',
      EVENT_NAMES: 'oss:ObjectCreated:PutObject,ObjectCreated:PostObject',
    });

    // Assert
    expect(config.http.allowedBuckets).toEqual(['yike-uploads', 'other-bucket']);
    expect(config.uploads.appRoutes).toEqual({ 'uploads/female/': 'female', 'uploads/male/': 'sys-ao-smith-2' });
    expect(config.apps).toEqual({ 'my-yike-app': 'LoadImage.1.SourceImage' });
    expect(config.uploads.imageSuffixes).toEqual(['.jpg', '.heic']);
    expect(config.uploads.eventNames).toEqual(['PutObject', 'PostObject']);
  });

  it.each([
    [{ ICE_REGION: 'Shanghai' }, 'ICE_REGION'],
    [{ ICE_ENDPOINT: 'ftp://example.com' }, 'ICE_ENDPOINT'],
    [{ ICE_READ_TIMEOUT_MS: 'soon' }, 'ICE_READ_TIMEOUT_MS'],
    [{ ICE_MAX_ATTEMPTS: '0' }, 'ICE_MAX_ATTEMPTS'],
    [{ APP_ROUTES: '{not json' }, 'APP_ROUTES'],
    [{ IMAGE_URL_MODE: 'magic' }, 'IMAGE_URL_MODE'],
    [{ RECORDS_PREFIX: 'no-slash' }, 'RECORDS_PREFIX'],
    [{ IMAGE_SUFFIXES: 'jpg' }, 'IMAGE_SUFFIXES'],
    [{ IMAGE_URL_MODE: 'cdn' }, 'CDN_BASE_URL'],
  ])('fails fast naming the variable when %j is invalid', (env, variable) => {
    // Act
    const act = () => parseConfig(env as NodeJS.ProcessEnv);

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(new RegExp(`^Invalid configuration: .*${variable}: `));
  });

  it('parses each environment object once', () => {
    // Arrange
    const env = { ICE_REGION: 'cn-hangzhou' };

    // Act
    const first = loadConfig(env);
    env.ICE_REGION = 'cn-beijing';
    const second = loadConfig(env);

    // Assert
    expect(second).toBe(first);
    expect(second.ice.region).toBe('cn-hangzhou');
  });

  it('is documented in docs/configuration.md: one row per variable the schema reads, each listed once', () => {
    // Act
    const documented = documentedConfigurationVariables();

    // Assert
    const counts = new Map<string, number>();
    for (const name of documented) counts.set(name, (counts.get(name) ?? 0) + 1);
    expect([...counts].filter(([, count]) => count > 1)).toEqual([]);
    expect(Object.keys(envSchema.shape).filter((name) => !counts.has(name))).toEqual([]);
  });
});
