import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT_ID, expectedUrls, FUNCTION_NAME, imageOf, jobsFor, SLOW_TEST_MS, startBackfillHarness, type BackfillHarness } from './backfill-harness';

const ROOT = join(__dirname, '..', '..', '..');
/** A small bucket: each folder's images are invoked by one command. */
const CLI_BUCKET = 'yike-cli';
const CLI_IMAGES_PER_FOLDER = 20;

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'yike-backfill.js'), ...args], { cwd: ROOT, env, timeout: 150_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('yike-backfill against local OSS, a local FC invoke endpoint and local ICE: the yike-backfill command', () => {
  let cloud: BackfillHarness;

  beforeAll(async () => {
    cloud = await startBackfillHarness({
      [CLI_BUCKET]: {
        images: ['female', 'male'].flatMap((folder) => Array.from({ length: CLI_IMAGES_PER_FOLDER }, (_, i) => `uploads/${folder}/cli-${i}.jpg`)),
        others: [{ key: 'uploads/male/readme.txt', body: Buffer.from('not an image'), reason: 'not-an-image' }],
      },
    });
  }, SLOW_TEST_MS);
  afterAll(async () => cloud?.close());

  it(
    'with --local runs the submit function in its own process and prints the summary as JSON',
    async () => {
      // Arrange
      const invocationsBefore = cloud.fc.invocations().length;
      const checkpoint = join(cloud.dir.path, 'cli-local.checkpoint.json');

      // Act
      const run = await runCli(
        ['--bucket', CLI_BUCKET, '--prefix', 'uploads/female/', '--local', '--concurrency', '8', '--rate', '500', '--checkpoint', checkpoint],
        cloud.cliEnv(),
      );

      // Assert
      expect(run).toMatchObject({ code: 0 });
      expect(JSON.parse(run.stdout)).toMatchObject({
        mode: 'local',
        bucket: CLI_BUCKET,
        listed: CLI_IMAGES_PER_FOLDER,
        invoked: CLI_IMAGES_PER_FOLDER,
        failed: [],
        interrupted: false,
      });
      const keys = Array.from({ length: CLI_IMAGES_PER_FOLDER }, (_, i) => `uploads/female/cli-${i}.jpg`);
      expect(jobsFor(cloud.ice, CLI_BUCKET).map(imageOf).sort()).toEqual(expectedUrls(CLI_BUCKET, keys));
      expect(cloud.fc.invocations()).toHaveLength(invocationsBefore);
      expect(existsSync(checkpoint)).toBe(true);
    },
    SLOW_TEST_MS,
  );

  it(
    'invokes the function asynchronously through FC_ENDPOINT end to end and prints the summary as JSON',
    async () => {
      // Arrange
      const checkpoint = join(cloud.dir.path, 'cli-async.checkpoint.json');
      const jobsBefore = jobsFor(cloud.ice, CLI_BUCKET).length;

      // Act
      const run = await runCli(
        ['--bucket', CLI_BUCKET, '--prefix', 'uploads/male/', '--concurrency', '8', '--rate', '500', '--checkpoint', checkpoint],
        cloud.cliEnv({ FC_ENDPOINT: cloud.fc.url, FC_ACCOUNT_ID: ACCOUNT_ID }),
      );
      await cloud.fc.idle();

      // Assert
      expect(run).toMatchObject({ code: 0 });
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({
        mode: 'fc-async',
        function: FUNCTION_NAME,
        listed: CLI_IMAGES_PER_FOLDER + 1,
        invoked: CLI_IMAGES_PER_FOLDER,
        skipped: { 'not-an-image': 1 },
      });
      expect(run.stderr).toMatch(/100%/);
      expect(jobsFor(cloud.ice, CLI_BUCKET)).toHaveLength(jobsBefore + CLI_IMAGES_PER_FOLDER);
    },
    SLOW_TEST_MS,
  );

  it('exits 1 with one line naming the code when the arguments are wrong', async () => {
    // Act
    const run = await runCli(['--bucket', 'Not_A_Bucket'], cloud.cliEnv());

    // Assert
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('yike-backfill: INVALID_ARGUMENTS: --bucket: must be an OSS bucket name (see --help)\n');
  });

  it('refuses an unknown --app before listing or invoking anything', async () => {
    // Arrange
    const invocationsBefore = cloud.fc.invocations().length;
    const jobsBefore = cloud.ice.jobs().length;

    // Act
    const run = await runCli(['--bucket', CLI_BUCKET, '--app', 'males'], cloud.cliEnv({ FC_ENDPOINT: cloud.fc.url, FC_ACCOUNT_ID: ACCOUNT_ID }));

    // Assert
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'yike-backfill: UNKNOWN_APP: --app: unknown app "males" (known: female, male, sys-ao-smith-1, sys-ao-smith-2; add others with YIKE_APPS)\n',
    });
    expect(cloud.fc.invocations()).toHaveLength(invocationsBefore);
    expect(cloud.ice.jobs()).toHaveLength(jobsBefore);
  });
});
