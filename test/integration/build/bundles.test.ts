import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type OSS from 'ali-oss';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../local/oss/server';
import { objectRecordKey } from '../../../shared/domain/submissions/record-keys';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { fcContext, tempDir, TINY_PNG, localOssClient } from '../../helpers/local-cloud';
import { eventually } from '../../helpers/waiting';

const DIST = join(__dirname, '..', '..', '..', 'dist');
const FUNCTIONS = ['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal'];

describe('the deployable bundles (dist/<function>/index.js)', () => {
  it.each(FUNCTIONS)('builds %s as one file with a source map that exports handler', (name) => {
    // Arrange
    const file = join(DIST, name, 'index.js');

    // Act
    const bundle = require(file) as { handler?: unknown };

    // Assert
    expect(typeof bundle.handler).toBe('function');
    expect(existsSync(`${file}.map`)).toBe(true);
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
  });

  it.each(FUNCTIONS)('keeps ali-oss out of dist/%s/index.js, in an oss.js beside it, without iconv-lite', (name) => {
    // Arrange
    const inputsOf = (file: string) =>
      Object.values(
        (JSON.parse(readFileSync(join(DIST, '.meta', name, `${file}.json`), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> })
          .outputs,
      ).flatMap((output) => Object.keys(output.inputs));

    // Act
    const atStart = inputsOf('index.js');
    const onFirstUse = inputsOf('oss.js');

    // Assert
    expect(atStart.filter((input) => /node_modules\/(ali-oss|urllib|iconv-lite)\//.test(input))).toEqual([]);
    expect(onFirstUse.some((input) => input.startsWith('node_modules/ali-oss/'))).toBe(true);
    expect([...atStart, ...onFirstUse].filter((input) => input.includes('node_modules/iconv-lite/'))).toEqual([]);
    expect(readFileSync(join(DIST, name, 'index.js'), 'utf8')).toContain('require("./oss.js")');
  });

  it.each(FUNCTIONS)("builds dist/%s/index.js with zod/mini only, never zod's classic API", (name) => {
    // Arrange
    const meta = JSON.parse(readFileSync(join(DIST, '.meta', name, 'index.js.json'), 'utf8')) as { inputs: Record<string, unknown> };

    // Act
    const zodFiles = Object.keys(meta.inputs).filter((input) => input.startsWith('node_modules/zod/'));

    // Assert
    expect(zodFiles).toContain('node_modules/zod/v4/mini/schemas.js');
    expect(zodFiles.filter((input) => /^node_modules\/zod\/(index\.c?js$|v3\/|v4\/classic\/|v4\/index\.c?js$)/.test(input))).toEqual([]);
  });

  describe('run as FC runs them', () => {
    let ice: LocalIceServer;
    beforeAll(async () => {
      ice = await startIceServer();
      // The bundle reads process.env on its first invocation, as it does on FC.
      process.env.LOG_LEVEL = 'error';
    });
    afterAll(() => ice.close());

    it('answers GET /healthz from the bundled http-submit handler with the FC response struct', async () => {
      // Arrange
      const { handler } = require(join(DIST, 'http-submit', 'index.js')) as { handler: (event: Buffer, context: unknown) => Promise<unknown> };
      const event = loadEvent('fc3-http-post-jobs');
      event.rawPath = '/healthz';
      event.requestContext.http.method = 'GET';
      event.requestContext.http.path = '/healthz';
      event.body = '';

      // Act
      const response = await handler(asFcPayload(event), fcContext());

      // Assert
      expect(response).toEqual({
        statusCode: 200,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        isBase64Encoded: false,
        body: '{"status":"ok"}',
      });
      expect(ice.calls()).toHaveLength(0);
    });
  });
});

/**
 * Runs a bundle as FC does, in a fresh Node process whose environment is the function's: loads
 * dist/<function>/index.js, then invokes its handler with each payload in turn. Reports whether oss.js was
 * loaded before the first invocation and after the last.
 */
const runBundle = promisify(execFile);
const BUNDLE_RUNNER = `
const { dirname, join } = require('node:path');
const [entry, eventsJson, contextJson] = process.argv.slice(1);
const bundle = require(entry);
const lazyFile = join(dirname(entry), 'oss.js');
const loadedAtStart = lazyFile in require.cache;
(async () => {
  const results = [];
  for (const event of JSON.parse(eventsJson)) results.push(await bundle.handler(Buffer.from(event, 'base64'), JSON.parse(contextJson)));
  process.stdout.write(JSON.stringify({ loadedAtStart, loadedAfter: lazyFile in require.cache, results }));
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });
`;

async function runBundleInFreshProcess(name: string, payloads: Buffer[], env: Record<string, string>) {
  const { stdout } = await runBundle(
    process.execPath,
    ['-e', BUNDLE_RUNNER, join(DIST, name, 'index.js'), JSON.stringify(payloads.map((payload) => payload.toString('base64'))), JSON.stringify(fcContext())],
    { env: { PATH: process.env.PATH, LOG_LEVEL: 'error', ...env }, timeout: 45_000 },
  );
  return JSON.parse(stdout) as { loadedAtStart: boolean; loadedAfter: boolean; results: any[] };
}

describe('the bundles load dist/<function>/oss.js on first use and work with it', () => {
  const BUCKET = 'yike-uploads';
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let notifications: OssNotification[];
  let client: OSS;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = tempDir('bundles-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET], onObjectCreated: (event) => notifications.push(event) });
    // ICE's precheck reads the images from the local OSS; the HTTP fixture's image must exist (HEAD check).
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    client = localOssClient(oss.url, BUCKET);
    await client.put('uploads/female/portrait-001.jpg', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    env = { ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl, ALLOWED_BUCKETS: BUCKET, APP_ROUTES: '{"uploads/female/":"female"}' };
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => {
    ice.reset();
    notifications = [];
  });

  it('submits one job for a real upload from the bundled oss-submit, writing its job record through oss.js', async () => {
    // Arrange
    const key = 'uploads/female/bundled.png';
    const put = await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    // The local OSS notifies asynchronously, as OSS does.
    const trigger = await eventually(() => notifications.find((notification) => notification.key === key), `the notification of ${key}`);
    const eTag = String((put.res.headers as Record<string, string>).etag).replace(/"/g, '');

    // Act
    const run = await runBundleInFreshProcess('oss-submit', [trigger.payload], env);

    // Assert
    expect({ loadedAtStart: run.loadedAtStart, loadedAfter: run.loadedAfter }).toEqual({ loadedAtStart: false, loadedAfter: true });
    const jobs = ice.jobs();
    expect(jobs).toHaveLength(1);
    expect(run.results[0]).toEqual({
      submitted: [{ source: `oss://${BUCKET}/${key}`, jobId: jobs[0]!.jobId, requestId: jobs[0]!.requestId, appId: 'sys-ao-smith-1' }],
      skipped: [],
      failed: [],
    });
    const record = JSON.parse((await client.get(objectRecordKey('.yike-jobs/', { bucket: BUCKET, key, eTag }))).content.toString('utf8'));
    expect({ status: record.status, jobId: record.result?.jobId ?? record.jobId }).toEqual({ status: 'COMPLETED', jobId: jobs[0]!.jobId });
  });

  it('answers GET /healthz without loading oss.js, and replays a POST /jobs with the same Idempotency-Key from its OSS record', async () => {
    // Arrange
    const healthz = loadEvent('fc3-http-post-jobs');
    Object.assign(healthz, { rawPath: '/healthz', body: '' });
    healthz.requestContext.http = { ...healthz.requestContext.http, method: 'GET', path: '/healthz' };
    const post = loadEvent('fc3-http-post-jobs');
    post.headers['Idempotency-Key'] = 'bundle-test-1';

    // Act
    const onlyHealthz = await runBundleInFreshProcess('http-submit', [asFcPayload(healthz)], { ...env, AUTH_TOKENS: 'example-token' });
    const run = await runBundleInFreshProcess('http-submit', [asFcPayload(post), asFcPayload(post)], { ...env, AUTH_TOKENS: 'example-token' });

    // Assert
    expect({ loadedAtStart: onlyHealthz.loadedAtStart, loadedAfter: onlyHealthz.loadedAfter }).toEqual({ loadedAtStart: false, loadedAfter: false });
    expect(run.loadedAfter).toBe(true);
    const jobs = ice.jobs();
    expect(jobs).toHaveLength(1);
    const [first, replay] = run.results;
    expect([first.statusCode, replay.statusCode]).toEqual([202, 202]);
    expect(JSON.parse(first.body)).toEqual({ jobId: jobs[0]!.jobId, requestId: jobs[0]!.requestId, appId: 'sys-ao-smith-1' });
    expect(replay.body).toBe(first.body);
    expect(replay.headers['Idempotent-Replayed']).toBe('true');
  });
});
