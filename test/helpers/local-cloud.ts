import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../shared/runtime/config';
import { tuningWith, type TuningOverrides } from '../../shared/runtime/tuning';
import type { Credentials } from '../../shared/adapters/openapi/credentials';
import { LOCAL_STS_CREDENTIALS } from '../../local/dev-fixtures';

/** The STS triple the local stand-ins accept, as FC would put it in context.credentials. */
export const LOCAL_CREDENTIALS: Required<Omit<Credentials, 'expiresAt'>> = { ...LOCAL_STS_CREDENTIALS };

/** ali-oss on a local OSS endpoint, signing with the local STS credentials (what a user's client would be). */
export function localOssClient(ossUrl: string, bucket: string, options: { timeout?: number } = {}): import('ali-oss') {
  const OSS = require('ali-oss') as typeof import('ali-oss');
  return new OSS({
    endpoint: ossUrl,
    bucket,
    region: 'oss-cn-shanghai',
    ...LOCAL_CREDENTIALS,
    stsToken: LOCAL_CREDENTIALS.securityToken,
    refreshSTSTokenInterval: 300_000,
    ...options,
  } as import('ali-oss').Options);
}

/**
 * What most tests give a function's createHandler (`tuning`): ICE retries after 1-2 ms instead of 200 ms-5 s, so a
 * fault a test injects costs no wall time. Tuning never comes from the environment.
 */
export const FAST_RETRIES: TuningOverrides = { ice: { retry: { baseDelayMs: 1, maxDelayMs: 2 } } };

/** Config for tests: real parsing, fast retries, the default timeouts (a busy machine's loopback calls are slow too), then `tuning` over them. */
export function testConfig(env: Record<string, string>, tuning: TuningOverrides = {}): Config {
  return parseConfig(env, tuningWith({ ice: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } }, tuning));
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }) };
}

export { TINY_PNG } from '../../local/dev-fixtures';

/** An FC context as events/fc3-context.json shows it, carrying the local STS credentials. */
export function fcContext(overrides: Record<string, unknown> = {}) {
  return {
    requestId: `test-${Math.random().toString(16).slice(2, 10)}`,
    credentials: { ...LOCAL_CREDENTIALS },
    function: { name: 'yike-oss-submit', handler: 'index.handler', memory: 512, timeout: 60 },
    region: 'cn-shanghai',
    accountId: '1234567890123456',
    retryCount: 0,
    ...overrides,
  };
}

/** Log lines captured from a handler's logger. */
export function logCapture(): { sink: (line: string) => void; lines: () => Record<string, unknown>[]; raw: () => string } {
  const lines: string[] = [];
  return {
    sink: (line) => {
      lines.push(line);
      // Also into the run's log folder, for the secrets check (test/helpers/log-tee.js).
      (globalThis as { __yikeTeeLogLine?: (line: string) => void }).__yikeTeeLogLine?.(line);
    },
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    raw: () => lines.join('\n'),
  };
}

/** Stores `body` (default: the tiny PNG) at bucket/key of a local OSS server, as a user's upload would. */
export async function putLocalObject(
  ossUrl: string,
  bucket: string,
  key: string,
  options: { body?: Buffer; contentType?: string } = {},
): Promise<{ eTag: string }> {
  const client = localOssClient(ossUrl, bucket);
  const { TINY_PNG: png } = await import('../../local/dev-fixtures');
  const result = await client.put(key, options.body ?? png, { headers: { 'Content-Type': options.contentType ?? 'image/png' } });
  return { eTag: String((result.res.headers as Record<string, string>).etag ?? '').replace(/"/g, '') };
}

/** A CLI's stdout of one JSON value per line (yike-jobs' output), parsed. */
export function jsonLines(stdout: string): any[] {
  return stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/**
 * Runs a CLI (`bin/*.js`) the way a user's shell would: only PATH, the local STS triple as the standard
 * ALIBABA_CLOUD_* variables, and `env`. Never throws for a non-zero exit: the code is part of the answer.
 */
export function runCli(
  bin: string,
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = require('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: options.cwd,
        env: {
          PATH: process.env.PATH,
          ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_CREDENTIALS.accessKeySecret,
          ALIBABA_CLOUD_SECURITY_TOKEN: LOCAL_CREDENTIALS.securityToken,
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
