import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
/** The Serverless Devs CLI the project deploys with (a devDependency). */
export const S_BIN = join(ROOT, 'node_modules', '@serverless-devs', 's', 'bin', 's');

interface Trigger {
  triggerName: string;
  triggerType: string;
  invocationRole?: string;
  sourceArn?: string;
  triggerConfig: Record<string, any>;
}

interface FunctionProps {
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  role: string;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig?: { maxAsyncRetryAttempts: number; maxAsyncEventAgeInSeconds: number; destinationConfig: Record<string, { destination: string }> };
  triggers: Trigger[];
}

type RenderedResources = Record<string, { component: string; actions?: Record<string, unknown>; props: FunctionProps }>;

/**
 * `s preview -o json` of s.yaml (or s.eventbridge.yaml, which extends it), offline, with a HOME of its own (so
 * `s config` is what the caller says) and only PATH, YIKE_UPLOAD_BUCKET=yike-uploads and `env` in its environment:
 * what `s deploy` would send to FC.
 */
export async function preview(env: Record<string, string>, home: string, template = 's.yaml'): Promise<RenderedResources> {
  const { stdout } = await run(process.execPath, [S_BIN, 'preview', '-o', 'json', '-t', template], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: home, YIKE_UPLOAD_BUCKET: 'yike-uploads', ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))).resources;
}
