import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, tempDir } from '../../helpers/local-cloud';

const run = promisify(execFile);
const START = join(__dirname, '..', '..', '..', 'dist', 'local', 'start.js');
const YIKE_SUBMIT = join(__dirname, '..', '..', '..', 'bin', 'yike-submit.js');
/** npm start is killed after this long: it only ends a hang (a run takes ~5 s alone, ~15 s on a busy machine). */
const NPM_START_DEADLINE_MS = 150_000;
/** Free ports and a fresh data folder, as on a new machine. */
const freshMachineEnv = (dataDir: string) => ({
  PATH: process.env.PATH,
  LOCAL_FC_PORT: '0',
  LOCAL_ICE_PORT: '0',
  LOCAL_OSS_PORT: '0',
  LOCAL_FC_API_PORT: '0',
  LOCAL_DATA_DIR: dataDir,
});

describe('npm start (the main job on the local cloud)', () => {
  jest.setTimeout(NPM_START_DEADLINE_MS + 30_000);

  it('uploads the demo image, prints its JobId, follows it to the finished video URL, prints the commands to try, and exits 0 with --once', async () => {
    // Arrange
    const data = tempDir('npm-start-');

    // Act
    const { stdout } = await run(process.execPath, [START, '--once', '--quiet'], { env: freshMachineEnv(data.path), timeout: NPM_START_DEADLINE_MS });
    data.remove();

    // Assert
    expect(stdout).toMatch(/^Local cloud is up/);
    expect(stdout).toMatch(
      /Job submitted: JobId [0-9a-f]{32} \(app sys-ao-smith-1\); record yike-uploads\/\.yike-jobs\/objects\/yike-uploads\/uploads\/female\/demo-/,
    );
    const jobId = /Job submitted: JobId ([0-9a-f]{32})/.exec(stdout)![1];
    // The job watcher (fired like its timer trigger) saw the job finish; the demo ends with the video's URL.
    // The local ICE serves a real MP4 for every finished job over https, and the watcher copied it into the bucket.
    const videoUrl = new RegExp(`Job ${jobId} Finished: (https://127\\.0\\.0\\.1:\\d+/__local/outputs/${jobId}\\.mp4)\n`).exec(stdout)?.[1];
    expect(videoUrl).toBeDefined();
    expect(stdout).toMatch(
      new RegExp(`  own copy: yike-uploads/\\.yike-results/uploads/female/demo-[^ ]+\\.png/0\\.mp4 \\(GET /jobs/${jobId} gives its signed playUrl\\)\n`),
    );
    expect(stdout).toMatch(/\(\d+\.\d s from npm start to the video URL; result object yike-uploads\/\.yike-results\/uploads\/female\/demo-[^ ]+\.png\.json\)/);
    expect(stdout).toContain('npx yike-jobs list');
    expect(stdout).toContain('npx yike-submit --image');
    expect(stdout).toContain('npx yike-backfill --bucket yike-uploads --prefix uploads/');
  });

  it('shows function log lines only for runs that did something, and prints the page, its token and the commands last', async () => {
    // Arrange: no --quiet; fast jobs and ticks, so idle watcher runs happen before and after the job
    const data = tempDir('npm-start-');

    // Act
    const { stdout } = await run(process.execPath, [START, '--once'], {
      env: { ...freshMachineEnv(data.path), LOCAL_ICE_JOB_SECONDS: '1', LOCAL_WATCHER_SECONDS: '0.5' },
      timeout: NPM_START_DEADLINE_MS,
    });
    data.remove();

    // Assert: every run shown submitted or settled something (an idle tick has nothing to show)
    const runs = new Map<string, Record<string, unknown>[]>();
    for (const match of stdout.matchAll(/^ {2}\[[a-z-]+\] (\{.*\})$/gm)) {
      const line = JSON.parse(match[1]!) as Record<string, unknown>;
      runs.set(String(line.requestId), [...(runs.get(String(line.requestId)) ?? []), line]);
    }
    expect(runs.size).toBeGreaterThanOrEqual(2);
    for (const lines of runs.values()) {
      expect(lines.map((line) => line.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^(job submitted|job settled)$/)]));
    }
    expect(stdout).not.toMatch(/"inflight":0/);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.findIndex((line) => line.startsWith('Try it in a browser: '))).toBeGreaterThan(lines.findIndex((line) => / Finished: https:/.test(line)));
    expect(lines.at(-1)).toMatch(/npx yike-backfill --bucket yike-uploads --prefix uploads\/$/);
  });

  it.each([
    ['signed', 'url'],
    ['cdn', 'url'],
    ['media-id', 'media-id'],
    ['yike-asset', 'yike-asset'],
  ])('yields a job with IMAGE_URL_MODE=%s (precheck on) from an ICE that takes %s, and exits 0 with --once', async (mode, accepts) => {
    // Arrange
    const data = tempDir('npm-start-');

    // Act
    const { stdout } = await run(process.execPath, [START, '--once', '--quiet'], {
      env: { ...freshMachineEnv(data.path), IMAGE_URL_MODE: mode, LOCAL_ICE_ACCEPTS: accepts, LOCAL_ICE_JOB_SECONDS: '1', LOCAL_WATCHER_SECONDS: '0.5' },
      timeout: NPM_START_DEADLINE_MS,
    });
    data.remove();

    // Assert
    expect(stdout).toMatch(/Job submitted: JobId [0-9a-f]{32} \(app sys-ao-smith-1\)/);
    expect(stdout).toMatch(/Job [0-9a-f]{32} Finished: https:\/\/127\.0\.0\.1:\d+\/__local\/outputs\/[0-9a-f]{32}\.mp4/);
  });

  it('keeps running; the curl it prints returns 202 with a JobId, and the yike-submit it prints follows a job to its video', async () => {
    // Arrange
    const data = tempDir('npm-start-');
    const child = spawn(process.execPath, [START, '--quiet'], { env: freshMachineEnv(data.path), stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Press Ctrl-C to stop.')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${stdout}`)));
      });
      const curl = /curl -s -X POST (\S+) -H 'Content-Type: application\/json' -H 'Authorization: (Bearer local-[0-9a-f]{32})' -d '([^']+)'/.exec(stdout)!;

      const submit = /^ {2}ICE_ENDPOINT=(\S+) OSS_ENDPOINT=(\S+) npx yike-submit (.+)$/m.exec(stdout)!;

      // Act: what the printed curl sends, the same without its token, and the printed yike-submit (the printed export's
      // credentials are the local STS triple runCli sets)
      const response = await fetch(curl[1]!, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: curl[2]! }, body: curl[3] });
      const anonymous = await fetch(curl[1]!, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: curl[3] });
      const cli = await runCli(YIKE_SUBMIT, submit[3]!.split(' '), { ICE_ENDPOINT: submit[1]!, OSS_ENDPOINT: submit[2]! });

      // Assert
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ jobId: expect.stringMatching(/^[0-9a-f]{32}$/), requestId: expect.any(String), appId: 'sys-ao-smith-1' });
      expect(anonymous.status).toBe(401);
      expect(submit[3]).toMatch(/^--image oss:\/\/yike-uploads\/uploads\/female\/demo-\S+\.png --app female --wait$/);
      const [submitted, videoUrl] = cli.stdout.trimEnd().split('\n');
      expect(cli.code).toBe(0);
      expect(cli.stderr).toMatch(/\+\d+\.\ds Finished\n$/);
      const { jobId } = JSON.parse(submitted!) as { jobId: string };
      expect(videoUrl).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:\\d+/__local/outputs/${jobId}\\.mp4$`));
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
      data.remove();
    }
  });
});
