import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inMemoryLimit, type MemoryLimit } from './instance-memory';

/** dist/bench/child.js: this code is bundled into dist/bench/run.js, its sibling. */
export const CHILD_SCRIPT = join(__dirname, 'child.js');

export interface NodeRun {
  stdout: string;
  /** From spawn to exit, as the parent saw it. */
  wallMs: number;
}

/**
 * Runs `node <args>` asynchronously (the stand-ins in this process keep serving meanwhile), inside `memoryLimit`
 * when given (an FC instance's memory: instance-memory.ts).
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv = process.env, memoryLimit?: MemoryLimit): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const command = memoryLimit ? inMemoryLimit(memoryLimit, process.execPath, args) : { command: process.execPath, args: [...args] };
    const child = spawn(command.command, command.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code === 0) resolve({ stdout, wallMs });
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

/** Prints the process's CPU time so far (ms, user + system, all threads): less sensitive to a busy machine than wall time. */
const PRINT_CPU = 'const c=process.cpuUsage();process.stdout.write(String((c.user+c.system)/1000))';

/** `node -e 0` (plus printing its CPU time): the floor every process pays before our code runs. */
export const BARE_NODE = ['-e', PRINT_CPU];

/** A process that only loads `entry`. */
export function loadOnly(entry: string): string[] {
  return ['-e', `require(process.argv[1]);${PRINT_CPU}`, entry];
}
