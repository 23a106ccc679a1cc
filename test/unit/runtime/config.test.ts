import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../../shared/runtime/config';
import { envSchema } from '../../../shared/runtime/env';
import { ConfigError } from '../../../shared/runtime/errors';
import { REMOVED_VARIABLES } from '../../../shared/domain/doctor/removed-variables';

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
    expect(config.oss).toMatchObject({ region: 'cn-shanghai', endpoint: undefined, imageUrlMode: 'auto', signedUrlExpiresSeconds: 3_600, timeoutMs: 10_000 });
    expect(config.http).toMatchObject({ authTokens: [], allowedBuckets: [], maxBodyBytes: 16_384, idempotencyTtlSeconds: 86_400 });
  });

  it('reads PRECHECK and the yike-asset mode, and names a bad value', () => {
    // Act
    const config = parseConfig({ PRECHECK: 'off', IMAGE_URL_MODE: 'yike-asset' });

    // Assert
    expect(config.ice.precheck).toBe(false);
    expect(config.oss.imageUrlMode).toBe('yike-asset');
    expect(() => parseConfig({ PRECHECK: 'maybe' })).toThrow(/^Invalid configuration: PRECHECK: /);
  });

  it('reads at most 30 variables besides those the issues name, none of those it no longer reads', () => {
    // Arrange: the public contracts issues 25-28 add (WEBHOOK_ALLOWED_HOSTS: per-job webhooks, issue 25).
    const issueNamed = new Set(['WEBHOOK_ALLOWED_HOSTS', 'RETENTION_DAYS', 'TICKET_SECRET', 'CONSENT_VERSION', 'SHARE_DAYS']);

    // Act
    const variables = Object.keys(envSchema.shape);

    // Assert
    expect(variables.filter((name) => !issueNamed.has(name)).length).toBeLessThanOrEqual(30);
    expect(variables.filter((name) => name in REMOVED_VARIABLES)).toEqual([]);
  });

  it('ignores the variables it no longer reads: timeouts, limits and prefixes are constants', () => {
    // Act
    const config = parseConfig({ ICE_MAX_ATTEMPTS: '0', MAX_IMAGE_BYTES: '1', RESULTS_PREFIX: 'out/', RECORDS_PREFIX: 'no-slash', OSS_REGION: 'cn-beijing' });

    // Assert
    expect(config).toEqual(parseConfig({}));
  });

  it('lays a test’s tuning over the constants field by field, and the environment cannot change them', () => {
    // Act
    const config = parseConfig({}, { ice: { retry: { maxAttempts: 2 } }, uploads: { maxImageBytes: 1_000 }, records: { prefix: '.other/' } });

    // Assert
    expect(config.ice.retry).toEqual({ maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 5_000 });
    expect(config.uploads.maxImageBytes).toBe(1_000);
    expect(config.records).toEqual({ prefix: '.other/', bucket: undefined, resultsPrefix: '.yike-results/' });
    expect(parseConfig({}).ice.retry.maxAttempts).toBe(4);
  });

  it('takes the buckets’ region and the FC region from ICE_REGION', () => {
    // Act
    const config = parseConfig({ ICE_REGION: 'cn-beijing', FC_ACCOUNT_ID: '1234567890123456' });

    // Assert
    expect(config.oss.region).toBe('cn-beijing');
    expect(config.fc).toEqual({
      region: 'cn-beijing',
      accountId: '1234567890123456',
      endpoint: '1234567890123456.cn-beijing.fc.aliyuncs.com',
      protocol: 'https',
    });
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

  it('parses lists and JSON maps', () => {
    // Act
    const config = parseConfig({
      ALLOWED_BUCKETS: ' yike-uploads , other-bucket ,',
      APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"sys-ao-smith-2"}',
      YIKE_APPS: '{"my-yike-app":"LoadImage.1.SourceImage"}',
      IMAGE_SUFFIXES: '.JPG,.heic',
    });

    // Assert
    expect(config.http.allowedBuckets).toEqual(['yike-uploads', 'other-bucket']);
    expect(config.uploads.appRoutes).toEqual({ 'uploads/female/': 'female', 'uploads/male/': 'sys-ao-smith-2' });
    expect(config.apps).toEqual({ 'my-yike-app': 'LoadImage.1.SourceImage' });
    expect(config.uploads.imageSuffixes).toEqual(['.jpg', '.heic']);
  });

  it.each([
    [{ ICE_REGION: 'Shanghai' }, 'ICE_REGION'],
    [{ ICE_ENDPOINT: 'ftp://example.com' }, 'ICE_ENDPOINT'],
    [{ SIGNED_URL_EXPIRES_SECONDS: 'soon' }, 'SIGNED_URL_EXPIRES_SECONDS'],
    [{ SIGNED_URL_EXPIRES_SECONDS: '0' }, 'SIGNED_URL_EXPIRES_SECONDS'],
    [{ APP_ROUTES: '{not json' }, 'APP_ROUTES'],
    [{ IMAGE_URL_MODE: 'magic' }, 'IMAGE_URL_MODE'],
    [{ JOB_RESULTS: 'all' }, 'JOB_RESULTS'],
    [{ JOB_PRICE: '0.5 yuan' }, 'JOB_PRICE'],
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

  it('parses each environment object once per tuning object', () => {
    // Arrange
    const env = { ICE_REGION: 'cn-hangzhou' };
    const tuning = { ice: { readTimeoutMs: 500 } };

    // Act
    const plain = loadConfig(env);
    const tuned = loadConfig(env, tuning);

    // Assert
    expect(loadConfig(env, tuning)).toBe(tuned);
    expect(loadConfig(env)).toBe(plain);
    expect([plain.ice.readTimeoutMs, tuned.ice.readTimeoutMs]).toEqual([10_000, 500]);
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
