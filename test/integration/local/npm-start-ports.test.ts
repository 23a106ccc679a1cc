import { spawn, execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { LOCAL_STS_CREDENTIALS } from '../../../local/dev-fixtures';
import { startNpmStart, type RunningLocalCloud } from '../../helpers/npm-start';
import { tempDir, TINY_PNG } from '../../helpers/local-cloud';

/**
 * npm start on ports of the test's choosing: a taken port stops it at once (it exits on its own, non-zero, naming the
 * port, the variable that moves it and the process holding it), and with all four ports moved every command it
 * prints works as printed: run by a shell, exactly as printed, but for `npm run upload --` and `npx <tool>`, which
 * become what they run (`node dist/scripts/upload.js`, `node bin/<tool>.js`: the npm script's build would rewrite
 * dist/ under the other tests).
 */
const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'dist', 'local', 'start.js');
/** Only ends a hang: a refused port exits at once, measured by the process's own exit, never by a clock. */
const EXIT_DEADLINE_MS = 60_000;

async function listening(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** Four ports free right now (held together, then released). */
async function freePorts(): Promise<number[]> {
  const held = await Promise.all([listening(), listening(), listening(), listening()]);
  await Promise.all(held.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  return held.map(({ port }) => port);
}

describe('npm start with ports it cannot have, and with moved ports', () => {
  jest.setTimeout(EXIT_DEADLINE_MS + 120_000);

  it.each([['LOCAL_FC_PORT'], ['LOCAL_ICE_PORT'], ['LOCAL_OSS_PORT'], ['LOCAL_FC_API_PORT']])(
    'exits on its own, non-zero, when the port of %s is taken, naming the port, the variable and this test as its holder',
    async (variable) => {
      // Arrange: this process holds the port; the other stand-ins take free ones
      const holder = await listening();
      const data = tempDir('npm-start-busy-');
      const env = { PATH: process.env.PATH, LOCAL_FC_PORT: '0', LOCAL_ICE_PORT: '0', LOCAL_OSS_PORT: '0', LOCAL_FC_API_PORT: '0', LOCAL_DATA_DIR: data.path };

      // Act
      const child = spawn(process.execPath, [START], { env: { ...env, [variable]: String(holder.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const deadline = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (...exit) => resolve(exit)));
      clearTimeout(deadline);
      await new Promise((resolve) => holder.server.close(resolve));
      data.remove();

      // Assert: it ended by itself (a hang would be SIGKILLed at the deadline)
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      expect(stdout).toBe('');
      expect(stderr).toContain(`npm start: port ${holder.port} is taken, so `);
      expect(stderr).toContain(`: it is held by pid ${process.pid} (`);
      expect(stderr).toContain(`move the port: ${variable}=<free port> npm start; every port has one: LOCAL_FC_PORT (`);
      for (const name of ['LOCAL_FC_PORT', 'LOCAL_ICE_PORT', 'LOCAL_OSS_PORT', 'LOCAL_FC_API_PORT']) expect(stderr).toContain(name);
    },
  );

  describe('with all four ports moved', () => {
    let ports: number[];
    let cloud: RunningLocalCloud;
    let cwd: ReturnType<typeof tempDir>;
    /** The printed commands, by what they run. */
    const printed: Record<string, string> = {};

    beforeAll(async () => {
      ports = await freePorts();
      const [fc, ice, oss, fcApi] = ports.map(String);
      cloud = await startNpmStart({
        LOCAL_FC_PORT: fc!,
        LOCAL_ICE_PORT: ice!,
        LOCAL_OSS_PORT: oss!,
        LOCAL_FC_API_PORT: fcApi!,
        LOCAL_ICE_JOB_SECONDS: '1',
        LOCAL_WATCHER_SECONDS: '1',
      });
      cwd = tempDir('npm-start-commands-');
      writeFileSync(join(cwd.path, 'photo.jpg'), TINY_PNG);
      const lines = cloud
        .stdout()
        .split('Try it:\n')[1]!
        .split('\n')
        .map((line) => line.trim());
      for (const [name, pattern] of Object.entries({
        post: /^curl -s -X POST /,
        wait: /^curl -s '.*<jobId>\?wait=25'/,
        upload: /npm run upload -- /,
        credentials: /^export ALIBABA_CLOUD_ACCESS_KEY_ID=/,
        doctor: /npx yike-doctor --local/,
        submit: /npx yike-submit /,
        jobs: /npx yike-jobs list$/,
        backfill: /npx yike-backfill /,
      })) {
        printed[name] = lines.find((line) => pattern.test(line))!.replace(/\s+\(checks this local cloud.*$/, '');
      }
    }, 200_000);
    afterAll(async () => {
      await cloud?.stop();
      cwd?.remove();
    });

    /** The printed line in a shell (after the printed export, as a user pastes both), in a folder holding ./photo.jpg. */
    function run(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
      const command = line
        .replace(/^(.*?)npm run upload -- /, `$1node ${join(ROOT, 'dist', 'scripts', 'upload.js')} `)
        .replace(/npx (yike-[a-z]+)/, `node ${join(ROOT, 'bin')}/$1.js`);
      return new Promise((resolve) => {
        execFile(
          'sh',
          ['-c', `${printed.credentials}\n${command}`],
          { cwd: cwd.path, env: { PATH: process.env.PATH }, timeout: 150_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    }

    it('prints every command with the ports in use', () => {
      const [fc, ice, oss, fcApi] = ports;
      expect(printed.post).toContain(`http://127.0.0.1:${fc}/jobs`);
      expect(printed.upload).toBe(`LOCAL_OSS_PORT=${oss} npm run upload -- ./photo.jpg --app male`);
      expect(printed.credentials).toBe(
        `export ALIBABA_CLOUD_ACCESS_KEY_ID=${LOCAL_STS_CREDENTIALS.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${LOCAL_STS_CREDENTIALS.accessKeySecret} ALIBABA_CLOUD_SECURITY_TOKEN=${LOCAL_STS_CREDENTIALS.securityToken}`,
      );
      expect(printed.doctor).toBe(`LOCAL_FC_API_PORT=${fcApi} LOCAL_OSS_PORT=${oss} npx yike-doctor --local`);
      expect(printed.submit).toMatch(
        new RegExp(`^ICE_ENDPOINT=http://127\\.0\\.0\\.1:${ice} OSS_ENDPOINT=http://localhost:${oss} npx yike-submit --image oss://`),
      );
      expect(printed.jobs).toBe(`OSS_ENDPOINT=http://localhost:${oss} RECORDS_BUCKET=yike-uploads npx yike-jobs list`);
      expect(printed.backfill).toBe(
        `OSS_ENDPOINT=http://localhost:${oss} FC_ENDPOINT=http://127.0.0.1:${fcApi} npx yike-backfill --bucket yike-uploads --prefix uploads/`,
      );
    });

    it('runs the printed curl (202 with a JobId) and the printed ?wait=25 curl for that job', async () => {
      // Act
      const posted = await run(printed.post!);
      const { jobId } = JSON.parse(posted.stdout) as { jobId: string };
      const waited = await run(printed.wait!.replace('<jobId>', jobId));

      // Assert
      expect(posted.code).toBe(0);
      expect(jobId).toMatch(/^[0-9a-f]{32}$/);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({ jobId, appId: 'sys-ao-smith-1' });
    });

    it('runs the printed npm run upload: ./photo.jpg becomes a male job, exit 0', async () => {
      // Act
      const result = await run(printed.upload!);

      // Assert
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ key: 'uploads/male/photo.jpg', status: 'COMPLETED', appId: 'sys-ao-smith-2' });
    });

    it('runs the printed yike-doctor --local: ready, exit 0', async () => {
      // Act
      const result = await run(printed.doctor!);

      // Assert
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/ 0 ✖, \d+ –: this deployment is ready/);
      expect(result.stderr).toBe(
        `yike-doctor: checking yike-http-submit, yike-oss-submit, yike-job-watcher, yike-budget-renewal (http://127.0.0.1:${ports[3]}); nothing is submitted\n`,
      );
    });

    it('runs the printed yike-submit --wait to the video, the printed yike-jobs list and the printed yike-backfill, each exit 0', async () => {
      // Act
      const submit = await run(printed.submit!);
      const jobs = await run(printed.jobs!);
      const backfill = await run(printed.backfill!);

      // Assert
      expect(submit.code).toBe(0);
      expect(submit.stdout.trimEnd().split('\n')[1]).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${ports[1]}/__local/outputs/[0-9a-f]{32}\\.mp4$`));
      expect(jobs.code).toBe(0);
      expect(
        jobs.stdout
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line).appId),
      ).toContain('sys-ao-smith-1');
      expect(backfill.code).toBe(0);
      expect(JSON.parse(backfill.stdout)).toMatchObject({ bucket: 'yike-uploads', prefix: 'uploads/', failed: [], mode: 'fc-async' });
    });
  });
});
