import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * s.yaml as Serverless Devs renders it (`s preview -o json`, offline: no component download), for the doctor's
 * comparison with what FC runs: each resource's functionName and environmentVariables. Rendering reads the same
 * YIKE_* variables `s deploy` read, so run the doctor with them exported. Any failure is a reason, never a crash.
 */
const RENDER_TIMEOUT_MS = 120_000;

type Template = { environments: Record<string, Record<string, string>> } | { skipped: string };

function serverlessDevsBin(from: string): string | undefined {
  for (const base of [from, process.cwd()]) {
    try {
      return require.resolve('@serverless-devs/s/bin/s', { paths: [base] });
    } catch {
      // not installed there
    }
  }
  return undefined;
}

export async function renderTemplate(path: string | undefined): Promise<Template> {
  if (path === undefined) return { skipped: 'not compared (no s.yaml given: --s-yaml PATH)' };
  const file = resolve(path);
  if (!existsSync(file)) return { skipped: `not compared: ${path} does not exist` };
  const bin = serverlessDevsBin(dirname(file));
  if (!bin) return { skipped: 'not compared: Serverless Devs (@serverless-devs/s) is not installed here (npm ci)' };
  const output = await new Promise<{ stdout: string; error?: Error }>((done) => {
    execFile(
      process.execPath,
      [bin, 'preview', '-o', 'json', '-t', basename(file)],
      { cwd: dirname(file), env: process.env, timeout: RENDER_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => done({ stdout, error: error ?? undefined }),
    );
  });
  if (output.error) {
    const reason = output.stdout.split('\n').find((line) => /error|not found/i.test(line)) ?? output.error.message.split('\n')[0];
    return { skipped: `not compared: s preview failed (${reason?.trim()}); export the YIKE_* you deployed with` };
  }
  try {
    const rendered = JSON.parse(output.stdout.slice(output.stdout.indexOf('{'))) as {
      resources?: Record<string, { props?: { functionName?: string; environmentVariables?: Record<string, unknown> } }>;
    };
    const environments: Record<string, Record<string, string>> = {};
    for (const resource of Object.values(rendered.resources ?? {})) {
      const name = resource.props?.functionName;
      if (!name) continue;
      environments[name] = Object.fromEntries(Object.entries(resource.props?.environmentVariables ?? {}).map(([key, value]) => [key, String(value ?? '')]));
    }
    return { environments };
  } catch {
    return { skipped: 'not compared: s preview printed no JSON' };
  }
}
