import { createAppRegistry } from '../../../../shared/domain/jobs/apps';
import { parseConfig } from '../../../../shared/runtime/config';
import { planUpload, uploadableApps } from '../../../../shared/domain/uploads/upload-plan';

const ROUTES = '{"uploads/female/":"female","uploads/male/":"male"}';
const NOW = new Date('2026-11-30T10:00:00.000Z');
const REQUEST = { app: 'male', fileName: 'me.JPEG', contentType: 'image/JPEG', size: 1000 };

function setup(env: Record<string, string> = {}) {
  const config = parseConfig({ ALLOWED_BUCKETS: 'yike-uploads', APP_ROUTES: ROUTES, ...env });
  return { config, apps: createAppRegistry(config.apps) };
}

describe('upload plans (POST /uploads)', () => {
  it('names the key after the app route, the UTC day and a fresh id, with the suffix lower-cased', () => {
    // Arrange
    const { config, apps } = setup();

    // Act
    const plan = planUpload(REQUEST, config, apps, { now: NOW, newId: () => 'id-1' });

    // Assert
    expect(plan).toMatchObject({
      bucket: 'yike-uploads',
      key: 'uploads/male/2026-11-30/id-1.jpeg',
      appName: 'male',
      contentType: 'image/jpeg',
      maxBytes: 20971520,
    });
    expect(plan.expiresAt.toISOString()).toBe('2026-11-30T10:10:00.000Z');
  });

  it('finds the routed name when the caller names the app by its AppId', () => {
    // Arrange
    const { config, apps } = setup();

    // Act
    const plan = planUpload({ ...REQUEST, app: 'sys-ao-smith-2' }, config, apps, { now: NOW, newId: () => 'id-2' });

    // Assert
    expect(plan.key).toBe('uploads/male/2026-11-30/id-2.jpeg');
    expect(plan.app.appId).toBe('sys-ao-smith-2');
  });

  it('binds metadata into the form: a meta- name, the x-oss-meta-yike-metadata field (hex of its JSON), and an eq condition that pins it', () => {
    // Arrange
    const { config, apps } = setup();
    const value = Buffer.from('{"customerId":"c-42"}', 'utf8').toString('hex');

    // Act
    const plan = planUpload({ ...REQUEST, metadata: { customerId: 'c-42' } }, config, apps, { now: NOW, newId: () => 'id-3' });

    // Assert
    expect(plan.key).toBe('uploads/male/2026-11-30/meta-id-3.jpeg');
    expect(plan.fields).toEqual({ 'x-oss-meta-yike-metadata': value });
    expect(plan.policy.conditions).toContainEqual(['eq', '$x-oss-meta-yike-metadata', value]);
    // No metadata (or an empty one): the plan is as it always was.
    expect(planUpload({ ...REQUEST, metadata: {} }, config, apps, { now: NOW, newId: () => 'id-4' })).toMatchObject({
      key: 'uploads/male/2026-11-30/id-4.jpeg',
      fields: {},
    });
  });

  it('refuses metadata that OSS could not keep as the object’s user metadata (under 8 KB), naming metadata', () => {
    // Arrange
    const { config, apps } = setup();
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key-${index}`, 'v'.repeat(300)]));

    // Act
    const plan = () => planUpload({ ...REQUEST, metadata }, config, apps, { now: NOW });

    // Assert
    expect(plan).toThrow(
      expect.objectContaining({
        code: 'METADATA_TOO_LARGE',
        statusCode: 400,
        details: [
          {
            path: 'metadata',
            message: expect.stringMatching(
              /^a browser upload keeps its metadata in the object's user metadata, which OSS limits to 8 KB: this metadata is \d+ bytes as JSON, at most 4083 fit$/,
            ),
          },
        ],
      }),
    );
  });

  it('refuses to sign when the role credentials expire within a minute (a form that dies before the upload)', () => {
    // Arrange
    const { config, apps } = setup();

    // Act
    const plan = () => planUpload(REQUEST, config, apps, { now: NOW, credentialsExpireAt: new Date(NOW.getTime() + 30_000) });

    // Assert
    expect(plan).toThrow(expect.objectContaining({ code: 'CREDENTIALS_EXPIRING', statusCode: 503, retryable: true }));
  });

  it('lists no app when no uploads/<name>/ prefix routes anywhere (there is no default app)', () => {
    // Arrange
    const { config, apps } = setup({ APP_ROUTES: '{}' });

    // Act
    const listed = uploadableApps(config, apps);

    // Assert
    expect(listed).toEqual([]);
  });

  it('lists only the app an empty APP_ROUTES prefix sends every key to', () => {
    // Arrange
    const { config, apps } = setup({ APP_ROUTES: '{"":"male"}' });

    // Act
    const listed = uploadableApps(config, apps);

    // Assert
    expect(listed).toEqual([{ name: 'male', appId: 'sys-ao-smith-2', description: 'AOSmith character replacement (male)' }]);
  });

  it('signs browser uploads for the first ALLOWED_BUCKETS, so the page can always follow them (GET /jobs/by-object answers for allowed buckets)', () => {
    // Act
    const config = parseConfig({ ALLOWED_BUCKETS: 'yike-uploads,yike-archive' });

    // Assert
    expect(config.uploads.bucket).toBe('yike-uploads');
  });

  it('has no upload bucket without ALLOWED_BUCKETS', () => {
    // Act
    const config = parseConfig({ RECORDS_BUCKET: 'yike-records' });

    // Assert
    expect(config.uploads.bucket).toBeUndefined();
  });

  it('refuses an http UPLOAD_FORM_URL outside loopback (the form carries the STS token and the image)', () => {
    // Act
    const parse = () => parseConfig({ ALLOWED_BUCKETS: 'yike-uploads', UPLOAD_FORM_URL: 'http://uploads.example.com' });

    // Assert
    expect(parse).toThrow('UPLOAD_FORM_URL: must be https (http only for 127.0.0.1, ::1 or localhost)');
  });
});
