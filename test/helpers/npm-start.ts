import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './local-cloud';

const START = join(__dirname, '..', '..', 'dist', 'local', 'start.js');

export interface RunningLocalCloud {
  stdout: () => string;
  /** The page's address and the local access token, as npm start prints them. */
  pageUrl: string;
  token: string;
  stop: () => Promise<void>;
}

/** `npm start` (the built dist/local/start.js) on free ports and a fresh data folder, running until stop(). */
export async function startNpmStart(env: Record<string, string> = {}, timeoutMs = 150_000): Promise<RunningLocalCloud> {
  const data = tempDir('npm-start-');
  const child: ChildProcess = spawn(process.execPath, [START, '--quiet'], {
    env: { PATH: process.env.PATH, LOCAL_FC_PORT: '0', LOCAL_ICE_PORT: '0', LOCAL_OSS_PORT: '0', LOCAL_FC_API_PORT: '0', LOCAL_DATA_DIR: data.path, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    data.remove();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not come up in ${timeoutMs} ms: ${stdout}`)), timeoutMs);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited ${code}: ${stdout}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const page = /Try it in a browser: (http:\/\/\S+\/) \(access token: (local-[0-9a-f]{32})\)/.exec(stdout);
  if (!page) {
    await stop();
    throw new Error(`npm start printed no page address: ${stdout}`);
  }
  return { stdout: () => stdout, pageUrl: page[1]!, token: page[2]!, stop };
}
