import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../../local/cloud';
import { TINY_PNG } from '../../../local/dev-fixtures';
import { parseAcceptedForm } from '../../../local/ice/acceptance';
import { runCli, tempDir } from '../../helpers/local-cloud';
import { checkWebhookBody } from '../../helpers/openapi-check';

/**
 * npm start's local cloud (local/cloud.ts) with one fault of a test's choice, an upload already in the bucket (as
 * npm start's demo leaves one), and `npx yike-doctor` run against it as a separate process, over HTTP, with the
 * operator's (local) credentials: FC_ENDPOINT at the local FC API, OSS_ENDPOINT at the local OSS.
 */
const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-doctor.js');
const DEMO_KEY = 'uploads/female/demo.png';

export interface DoctorRow {
  id: string;
  status: 'pass' | 'fail' | 'skip';
  required: boolean;
  title: string;
  detail: string;
  fix?: string;
  functionName?: string;
}

export interface DoctorCloud {
  cloud: LocalCloud;
  /** The CLI's exit code, its stdout and stderr, and the --json report when asked for. */
  doctor(args?: string[]): Promise<{ code: number; stdout: string; stderr: string; report?: { ready: boolean; checks: DoctorRow[] } }>;
  close(): Promise<void>;
}

export async function startDoctorCloud(
  options: Partial<Pick<LocalCloudOptions, 'cors' | 'bucketRegion' | 'timerTrigger' | 'forbiddenActions'>> & {
    accepts?: string;
    env?: NodeJS.ProcessEnv;
    /** Upload the demo image through the trigger first (default true). */
    upload?: boolean;
  } = {},
): Promise<DoctorCloud> {
  const dir = tempDir('yike-doctor-');
  const cloud = await startLocalCloud({
    dataDir: dir.path,
    env: { LOG_LEVEL: 'error', ...options.env },
    jobMs: 1_000,
    // The watcher's own ticks stay out of the way of what a test counts.
    watcherIntervalMs: 60_000,
    accepts: parseAcceptedForm(options.accepts),
    forbiddenActions: options.forbiddenActions,
    cors: options.cors,
    bucketRegion: options.bucketRegion,
    timerTrigger: options.timerTrigger,
  });
  if (options.upload ?? true) {
    await cloud.client.put(DEMO_KEY, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    await cloud.uploads.idle();
  }
  return {
    cloud,
    async doctor(args = ['--json']) {
      const result = await runCli(BIN, ['--local', ...args], { FC_ENDPOINT: cloud.fcApi.url, OSS_ENDPOINT: cloud.oss.localhostUrl, LOG_LEVEL: 'error' });
      const report = args.includes('--json') && result.stdout.trim().startsWith('{') ? JSON.parse(result.stdout) : undefined;
      return { ...result, report };
    },
    async close() {
      await cloud.close();
      dir.remove();
    },
  };
}

/** One row per check id (the table's lines): ✖ when any function's failed, ✔ when one passed, else –. */
export function lineStatuses(checks: readonly DoctorRow[]): Record<string, DoctorRow['status']> {
  const lines: Record<string, DoctorRow['status']> = {};
  for (const check of checks) {
    const seen = lines[check.id];
    lines[check.id] = seen === 'fail' || check.status === 'fail' ? 'fail' : seen === 'pass' || check.status === 'pass' ? 'pass' : 'skip';
  }
  return lines;
}

/** A webhook receiver on 127.0.0.1 that answers every POST with `status`, keeping what it received. */
export async function startWebhookReceiver(
  status: number,
): Promise<{ url: string; received: { headers: Record<string, unknown>; body: string }[]; close(): Promise<void> }> {
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      checkWebhookBody(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'broken');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/yike`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
