import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIceServer } from '../local/ice/server';
import { startOssServer } from '../local/oss/server';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from '../local/dev-fixtures';
import { trustLocalCa } from '../local/tls';
import { BENCH_BUCKET, BENCH_IMAGE_KEY } from './lib/samples';
import type { BenchContext, BenchRow } from './lib/types';
import { BENCH_MODULES } from './rows';

/**
 * `npm run bench`: the speed, size and memory targets, as figures measured side by side in one run (never in
 * timed tests). Prints one table and writes bench/results.json. `-- --only module-load,uploads` runs some modules;
 * BENCH_INVOCATIONS shortens the memory run.
 * This file runs as dist/bench/run.js; the function bundles are dist/<function>/.
 */
const ROOT = join(__dirname, '..', '..');
/** BENCH_DIST=<dir> measures other bundles (e.g. an older build) with this bench and this naive deploy. */
const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');

async function main(): Promise<void> {
  // The rows that cost an upload and a watcher run do it over TLS, as in the cloud: this process and its children
  // trust the local CA (NODE_EXTRA_CA_CERTS; local/tls.ts), so it starts itself again with it when it has to.
  if (!(await trustLocalCa())) return;
  const onlyArg = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length) ?? process.argv[process.argv.indexOf('--only') + 1];
  const only = process.argv.some((arg) => arg.startsWith('--only')) && onlyArg ? new Set(onlyArg.split(',')) : undefined;
  const modules = BENCH_MODULES.filter((module) => !only || only.has(module.name));
  const functions = readdirSync(join(ROOT, 'functions')).filter((name) => existsSync(join(DIST, name, 'index.js')));

  const dataDir = mkdtempSync(join(tmpdir(), 'yike-bench-'));
  const oss = await startOssServer({ dataDir, buckets: [BENCH_BUCKET] });
  // PRECHECK=on (the default): ICE reads the image from the local OSS before each submit, as the real one would.
  // The rows compare with the baselines earlier issues measured with an OSS URL as the image (and the raw fetches in
  // warm-http send one): the form is pinned to public here; the image-modes row measures every form, auto included.
  const ice = await startIceServer({ images: { ossUrl: oss.url }, accepts: 'url' });
  await putImage(oss.url, BENCH_IMAGE_KEY);
  const env = {
    ICE_ENDPOINT: ice.url,
    OSS_ENDPOINT: oss.localhostUrl,
    ALLOWED_BUCKETS: BENCH_BUCKET,
    APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male"}',
    // The bearer token of the documented HTTP event (test/fixtures/events/fc3-http-post-jobs.json).
    AUTH_TOKENS: 'example-token',
    IMAGE_URL_MODE: 'public',
    LOG_LEVEL: 'error',
  };
  // Bundles loaded in this process read process.env on their first invocation, as on FC.
  Object.assign(process.env, env);
  const context: BenchContext = {
    root: ROOT,
    dist: DIST,
    functions,
    ice,
    oss,
    env,
    runId: `b${Date.now().toString(36)}`,
    progress: (message) => process.stderr.write(`bench: ${message}\n`),
  };

  const rows: BenchRow[] = [];
  const started = Date.now();
  try {
    for (const module of modules) {
      const moduleStarted = Date.now();
      rows.push(...(await module.run(context)));
      context.progress(`${module.name} done in ${((Date.now() - moduleStarted) / 1000).toFixed(1)} s`);
    }
  } finally {
    await Promise.all([ice.close(), oss.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }

  process.stdout.write(formatTable(rows));
  if (loadavg()[0]! > cpus().length) {
    process.stdout.write(
      `\nThe machine was busy (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores): wall times are inflated; CPU times and ratios hold better.\n`,
    );
  }
  const failed = rows.filter((row) => row.ok === false).length;
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`;
  process.stdout.write(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) missed`} (${machine}; ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

async function putImage(ossUrl: string, key: string): Promise<void> {
  const OSS = require('ali-oss') as typeof import('ali-oss');
  const client = new OSS({
    endpoint: ossUrl,
    bucket: BENCH_BUCKET,
    region: 'oss-cn-shanghai',
    ...LOCAL_STS_CREDENTIALS,
    stsToken: LOCAL_STS_CREDENTIALS.securityToken,
    refreshSTSTokenInterval: 300_000,
  } as import('ali-oss').Options);
  await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
}

function formatTable(rows: readonly BenchRow[]): string {
  const header = ['figure', 'target', 'measured', 'ok'];
  const lines = rows.map((row) => [row.figure, row.target, row.measured, row.ok === undefined ? '' : row.ok ? 'ok' : 'NOT OK']);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |\n`;
  return format(header) + format(widths.map((width) => '-'.repeat(width))) + lines.map(format).join('');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
