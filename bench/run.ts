import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler as createHttpHandler } from '../functions/http-submit/index';
import { createHandler as createOssHandler } from '../functions/oss-submit/index';
import { startIceServer } from '../local/ice-server';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from '../local/dev-fixtures';
import { startOssServer } from '../local/oss-server';

/**
 * `npm run bench`: the speed and memory targets (kept out of the tests so tests never flake on timing).
 * Cold start = loading a bundle in a fresh Node process (what FC pays per new instance, minus its own
 * runtime start). Warm latency = the handler against the local stand-ins on loopback.
 */
const TARGETS = {
  bundleKiB: 2_048,
  coldLoadMs: 150,
  warmP95Ms: 50,
  rssMiB: 256,
};
const COLD_RUNS = 7;
const WARM_RUNS = 200;
/** This file runs as dist/bench/run.js; the function bundles are its siblings. */
const DIST = join(__dirname, '..');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function coldLoadMs(bundle: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return median(Array.from({ length: COLD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script]).toString())));
}

async function main(): Promise<void> {
  const rows: { metric: string; value: number; target: number; unit: string }[] = [];
  for (const name of ['http-submit', 'oss-submit']) {
    const bundle = join(DIST, name, 'index.js');
    rows.push({ metric: `${name} bundle size`, value: Math.round(statSync(bundle).size / 1024), target: TARGETS.bundleKiB, unit: 'KiB' });
    rows.push({ metric: `${name} cold module load (median of ${COLD_RUNS})`, value: Math.round(coldLoadMs(bundle)), target: TARGETS.coldLoadMs, unit: 'ms' });
  }

  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const oss = await startOssServer({ dataDir: dir, buckets: ['yike-uploads'] });
  // PRECHECK=on (default): ICE reads each image from the local OSS, and every job costs one PrecheckYikeAIAppJob more.
  const ice = await startIceServer({ images: { ossUrl: oss.url } });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const OSS = require('ali-oss') as typeof import('ali-oss');
  const seeder = new OSS({ endpoint: oss.url, bucket: 'yike-uploads', region: 'oss-cn-shanghai', ...LOCAL_STS_CREDENTIALS, stsToken: LOCAL_STS_CREDENTIALS.securityToken, refreshSTSTokenInterval: 300_000 } as import('ali-oss').Options);
  for (let i = 0; i < WARM_RUNS; i++) await seeder.put(`uploads/female/${i}.jpg`, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
  const env = { ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl, ALLOWED_BUCKETS: 'yike-uploads', DEFAULT_APP: 'female', LOG_LEVEL: 'error', HTTP_AUTH: 'none' };
  const credentials = { ...LOCAL_STS_CREDENTIALS };
  const context = { requestId: 'bench', credentials, function: { name: 'bench', timeout: 60 } };
  try {
    const http = createHttpHandler({ env });
    const httpEvent = (i: number) =>
      Buffer.from(JSON.stringify({
        version: 'v1', rawPath: '/jobs', isBase64Encoded: false, headers: { 'Content-Type': 'application/json' }, queryParameters: {},
        body: JSON.stringify({ app: 'female', image: { bucket: 'yike-uploads', key: `uploads/female/${i}.jpg` } }),
        requestContext: { requestId: `r${i}`, http: { method: 'POST', path: '/jobs' } },
      }));
    const httpTimes: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const started = performance.now();
      await http(httpEvent(i), context);
      httpTimes.push(performance.now() - started);
    }
    rows.push({ metric: `http-submit POST /jobs warm p95 (${WARM_RUNS} runs)`, value: Math.round(percentile(httpTimes, 95) * 10) / 10, target: TARGETS.warmP95Ms, unit: 'ms' });

    const ossHandler = createOssHandler({ env });
    const ossTimes: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const event = { events: [{ eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), region: 'cn-shanghai', oss: { bucket: { name: 'yike-uploads' }, object: { key: `uploads/female/${i}.jpg`, size: 10, eTag: `E${i}` } } }] };
      const started = performance.now();
      await ossHandler(Buffer.from(JSON.stringify(event)), context);
      ossTimes.push(performance.now() - started);
    }
    const prechecks = ice.calls().filter((call) => call.action === 'PrecheckYikeAIAppJob').length;
    const submits = ice.calls().filter((call) => call.action === 'SubmitYikeAIAppJob').length;
    process.stdout.write(`ICE calls: ${submits} SubmitYikeAIAppJob, ${prechecks} PrecheckYikeAIAppJob (PRECHECK=on: one per job)\n`);
    rows.push({ metric: `oss-submit one upload warm p95 (${WARM_RUNS} runs, incl. 2 record writes)`, value: Math.round(percentile(ossTimes, 95) * 10) / 10, target: TARGETS.warmP95Ms, unit: 'ms' });
    rows.push({ metric: 'resident memory after the runs (bench process incl. stand-ins)', value: Math.round(process.memoryUsage().rss / 1024 / 1024), target: TARGETS.rssMiB, unit: 'MiB' });
  } finally {
    await Promise.all([ice.close(), oss.close()]);
    rmSync(dir, { recursive: true, force: true });
  }

  let failed = 0;
  for (const row of rows) {
    const ok = row.value <= row.target;
    if (!ok) failed++;
    process.stdout.write(`${ok ? 'ok  ' : 'SLOW'} ${row.metric.padEnd(72)} ${String(row.value).padStart(7)} ${row.unit} (target <= ${row.target})\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
