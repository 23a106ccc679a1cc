import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalCloud, type LocalCloud } from '../../../local/cloud';
import { runCli, tempDir, TINY_PNG } from '../../helpers/local-cloud';

/**
 * `npm run upload` (dist/scripts/upload.js, what the npm script runs after its build) against a local cloud on free
 * ports: it checks the file first (suffix, size, magic number, app and route) and uploads nothing it can refuse
 * itself; a refusal the function makes is read back from the submit record, in the function's own words; every
 * refusal exits 1.
 */
const UPLOAD = join(__dirname, '..', '..', '..', 'dist', 'scripts', 'upload.js');
const MAX_IMAGE_MIB = 20;

describe('npm run upload: checks first, then tells the truth', () => {
  jest.setTimeout(120_000);
  const dirs: ReturnType<typeof tempDir>[] = [];
  let files: ReturnType<typeof tempDir>;
  let cloud: LocalCloud;
  /** A cloud whose ICE refuses the public form (precheck) and whose APP_ROUTES has no male route: the function refuses. */
  let strict: LocalCloud;

  const start = (env: NodeJS.ProcessEnv = {}, accepts: 'any' | 'media-id' = 'any') =>
    startLocalCloud({
      dataDir: dirs[dirs.push(tempDir('upload-script-data-')) - 1]!.path,
      env: { LOG_LEVEL: 'error', ...env },
      jobMs: 1_000,
      watcherIntervalMs: 60_000,
      accepts,
      timerTrigger: false,
    });
  const file = (name: string, body: Buffer) => {
    const path = join(files.path, name);
    writeFileSync(path, body);
    return path;
  };
  const upload = (target: LocalCloud, args: string[], env: Record<string, string> = {}) =>
    runCli(UPLOAD, args, { LOCAL_OSS_PORT: new URL(target.oss.url).port, ...env });
  const puts = (target: LocalCloud) => target.oss.requests().filter((request) => request.method === 'PUT' || request.method === 'POST');

  beforeAll(async () => {
    files = tempDir('upload-script-files-');
    [cloud, strict] = await Promise.all([start(), start({ IMAGE_URL_MODE: 'public', APP_ROUTES: '{"uploads/female/":"female"}' }, 'media-id')]);
  });
  afterAll(async () => {
    await Promise.all([cloud?.close(), strict?.close()]);
    for (const dir of [...dirs, files]) dir?.remove();
  });

  it('uploads an image and prints its submit record: COMPLETED, exit 0', async () => {
    // Act
    const result = await upload(cloud, [file('portrait.png', TINY_PNG), '--app', 'male']);

    // Assert
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ bucket: 'yike-uploads', key: 'uploads/male/portrait.png', status: 'COMPLETED', appId: 'sys-ao-smith-2' });
  });

  it.each([
    [
      'a .txt file',
      'notes.txt',
      Buffer.from('not an image'),
      ['--app', 'female'],
      'NOT_AN_IMAGE: file: uploads/female/notes.txt must end in one of .jpg, .jpeg, .png, .webp',
    ],
    [
      `a ${MAX_IMAGE_MIB + 5} MB image`,
      'huge.png',
      Buffer.concat([TINY_PNG, Buffer.alloc((MAX_IMAGE_MIB + 5) * 1024 * 1024 - TINY_PNG.length)]),
      ['--app', 'female'],
      `IMAGE_TOO_LARGE: huge.png is ${(MAX_IMAGE_MIB + 5) * 1024 * 1024} bytes; the limit is ${MAX_IMAGE_MIB * 1024 * 1024}`,
    ],
    [
      'a fake .jpg (text inside)',
      'fake.jpg',
      Buffer.from('this is not a JPEG'),
      ['--app', 'female'],
      'NOT_AN_IMAGE: file: fake.jpg is not an image: its first bytes are no JPEG, PNG, GIF, WebP or BMP',
    ],
    [
      'an unknown app',
      'portrait.png',
      TINY_PNG,
      ['--app', 'males'],
      'UNKNOWN_APP: --app: unknown app "males" (known: female, male, sys-ao-smith-1, sys-ao-smith-2; add others with YIKE_APPS)',
    ],
    [
      'a key under no APP_ROUTES prefix',
      'portrait.png',
      TINY_PNG,
      ['--key', 'uploads/males/portrait.png'],
      'UNKNOWN_APP_PREFIX: uploads/males/portrait.png is under no APP_ROUTES prefix (APP_ROUTES names "uploads/female/", "uploads/male/"): not submitted to any app',
    ],
    ['no app at all', 'portrait.png', TINY_PNG, [], 'APP_REQUIRED: --app: required: name the app (female, male or an AppId); there is no default app'],
  ])('refuses %s with the function’s code and reason, exits 1 and uploads nothing', async (_case, name, body, args, reason) => {
    // Arrange
    const path = file(name, body);
    const before = puts(cloud).length;

    // Act
    const result = await upload(cloud, [path, ...args]);

    // Assert
    expect(result).toEqual({ code: 1, stdout: '', stderr: `upload: ${reason}\n` });
    expect(puts(cloud)).toHaveLength(before);
  });

  it('names the path of a file that does not exist', async () => {
    // Act
    const result = await upload(cloud, [join(files.path, 'nowhere.png'), '--app', 'female']);

    // Assert
    expect(result).toEqual({ code: 1, stdout: '', stderr: `upload: FILE_NOT_FOUND: no file at ${join(files.path, 'nowhere.png')}\n` });
  });

  it("exits 1 with ICE's precheck refusal from the submit record (REJECTED, PRECHECK_FAILED) after the upload", async () => {
    // Act: the bytes are a PNG, but this ICE takes media ids only, so its precheck refuses the public URL
    const result = await upload(strict, [file('refused.png', TINY_PNG), '--app', 'female']);

    // Assert
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: 'uploads/female/refused.png', status: 'REJECTED', error: { code: 'PRECHECK_FAILED' } });
    expect(result.stderr).toMatch(
      /\nupload: PRECHECK_FAILED: REJECTED: ICE's precheck refused the job's inputs \(LoadImage\.1\.TargetImage: ImageCheckFailed\)\n$/,
    );
    expect(strict.ice.jobs()).toEqual([]);
  });

  it('exits 1 with the function’s UNKNOWN_APP_PREFIX from a SKIPPED record when the function routes the key nowhere', async () => {
    // Act: the script knows the local routes (female and male); this function routes female only
    const result = await upload(strict, [file('male.png', TINY_PNG), '--app', 'male']);

    // Assert
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: 'uploads/male/male.png', status: 'SKIPPED', error: { code: 'UNKNOWN_APP_PREFIX' } });
    expect(result.stderr).toMatch(
      /\nupload: UNKNOWN_APP_PREFIX: SKIPPED: uploads\/male\/male\.png is under no APP_ROUTES prefix \(APP_ROUTES names "uploads\/female\/"\): not submitted to any app\n$/,
    );
  });

  it('refuses an OSS_ENDPOINT on the real cloud without --cloud, before reading the file or sending anything', async () => {
    // Act
    const result = await upload(cloud, [file('portrait.png', TINY_PNG), '--app', 'female'], { OSS_ENDPOINT: 'https://oss-cn-shanghai.aliyuncs.com' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "upload: LOCAL_ONLY: upload uploads to the local cloud (without --cloud), so it sends nothing to the real cloud, but OSS_ENDPOINT is oss-cn-shanghai.aliyuncs.com: set OSS_ENDPOINT to the local cloud's (npm start prints them)\n",
    });
  });
});
