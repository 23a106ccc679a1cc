import { join } from 'node:path';
import { runCli, tempDir } from '../../helpers/local-cloud';
import { startDoctorCloud, type DoctorCloud } from './harness';

/**
 * s.yaml's rendered variables (s preview, offline) against what FC runs: the local cloud runs its own environment, so
 * compared with the repository's s.yaml the line is ✖ and names each difference, secrets only as set/unset. Its
 * functions also still carry WATCH_ROUND_SECONDS, as a deployment made with an older s.yaml would.
 */
const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'yike-doctor.js');
const DEPLOYED_TOKEN = 'deployed-token-that-must-not-print';

describe('npx yike-doctor --s-yaml', () => {
  let world: DoctorCloud;
  let home: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    world = await startDoctorCloud({ env: { WATCH_ROUND_SECONDS: '60' } });
    home = tempDir('yike-doctor-home-');
  });
  afterAll(async () => {
    await world.close();
    home.remove();
  });

  it('names the variables s.yaml renders differently from what FC runs, secrets as set/unset only', async () => {
    // Act
    const { code, stdout } = await runCli(BIN, ['--local', '--json', '--functions', 'yike-job-watcher', '--s-yaml', join(ROOT, 's.yaml')], {
      FC_ENDPOINT: world.cloud.fcApi.url,
      OSS_ENDPOINT: world.cloud.oss.localhostUrl,
      HOME: home.path,
      YIKE_ACCOUNT_ID: '123456789012',
      YIKE_UPLOAD_BUCKET: 'yike-uploads',
      YIKE_AUTH_TOKENS: DEPLOYED_TOKEN,
      YIKE_JOB_WEBHOOK_SECRET: 'a-secret-only-in-s-yaml-0123456789',
    });

    // Assert
    expect(code).toBe(1);
    const line = JSON.parse(stdout).checks.find((check: { id: string }) => check.id === 'deploy.s-yaml');
    expect(line).toMatchObject({ status: 'fail', functionName: 'yike-job-watcher', fix: expect.stringContaining('npx s deploy') });
    expect(line.detail).toMatch(/^differs: /);
    expect(line.detail).toContain('JOB_WEBHOOK_SECRET (secret: set in s.yaml, unset in FC)');
    expect(line.detail).toContain('ALLOWED_BUCKETS (s.yaml "", FC "yike-uploads")');
    expect(line.detail).toContain('WATCH_ROUND_SECONDS (no longer read, now constant: 10 s; FC "60")');
    expect(stdout).not.toContain(DEPLOYED_TOKEN);
    expect(stdout).not.toContain('a-secret-only-in-s-yaml-0123456789');
  }, 90_000);

  it('names a variable the function still has set but no longer reads on its configuration line, and runs without it', async () => {
    // Act
    const { report } = await world.doctor(['--json', '--functions', 'yike-job-watcher', '--s-yaml', 'off']);

    // Assert
    const line = report!.checks.find((check) => check.id === 'configuration')!;
    expect(line).toMatchObject({ status: 'pass', functionName: 'yike-job-watcher' });
    expect(line.detail).toMatch(/; set but no longer read \(docs\/configuration\.md#removed-variables\): WATCH_ROUND_SECONDS$/);
  }, 90_000);
});
