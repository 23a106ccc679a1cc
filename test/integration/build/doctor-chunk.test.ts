import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { fcContext, localOssClient, tempDir, TINY_PNG } from '../../helpers/local-cloud';

/**
 * The doctor in the built bundles: its code is dist/<function>/doctor.js, required only by a doctor event, so a
 * function's other invocations never parse it; the bundle answers {"yike":"doctor"} through it.
 */
const DIST = join(__dirname, '..', '..', '..', 'dist');
const FUNCTIONS = ['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal'];
const run = promisify(execFile);
const RUNNER = `
const { dirname, join } = require('node:path');
const [entry, eventJson, contextJson] = process.argv.slice(1);
const bundle = require(entry);
const chunk = join(dirname(entry), 'doctor.js');
const loadedAtStart = chunk in require.cache;
bundle.handler(Buffer.from(eventJson), JSON.parse(contextJson)).then(
  (result) => process.stdout.write('\\n' + JSON.stringify({ loadedAtStart, loadedAfter: chunk in require.cache, result })),
  (error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; },
);
`;

describe('the doctor is a file of its own in each bundle, loaded on first use', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dir = tempDir('doctor-chunk-');
    oss = await startOssServer({ dataDir: dir.path, buckets: ['yike-uploads'] });
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    await localOssClient(oss.url, 'yike-uploads').put('uploads/female/a.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });

  it.each(FUNCTIONS)('%s: index.js requires ./doctor.js and holds none of the doctor’s checks', (name) => {
    // Act
    const index = readFileSync(join(DIST, name, 'index.js'), 'utf8');
    const chunk = readFileSync(join(DIST, name, 'doctor.js'), 'utf8');

    // Assert
    expect(index).toContain('require("./doctor.js")');
    expect(index).not.toContain('ice.permissions');
    expect(chunk).toContain('ice.permissions');
  });

  it('answers {"yike":"doctor"} from the bundled oss-submit, loading doctor.js only then', async () => {
    // Arrange
    const event = JSON.stringify({ yike: 'doctor', replyBy: new Date(Date.now() + 60_000).toISOString() });
    const env = {
      PATH: process.env.PATH,
      LOG_LEVEL: 'error',
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: 'yike-uploads',
      APP_ROUTES: '{"":"female"}',
    };

    // Act
    const { stdout } = await run(process.execPath, ['-e', RUNNER, join(DIST, 'oss-submit', 'index.js'), event, JSON.stringify(fcContext())], {
      env,
      timeout: 45_000,
    });

    // Assert
    const { loadedAtStart, loadedAfter, result } = JSON.parse(stdout.trimEnd().split('\n').at(-1)!);
    expect({ loadedAtStart, loadedAfter }).toEqual({ loadedAtStart: false, loadedAfter: true });
    expect(result).toMatchObject({ yike: 'doctor', kind: 'oss-submit' });
    expect(result.checks.filter((check: { status: string }) => check.status === 'fail')).toEqual([]);
    expect(ice.calls().map((call) => call.action)).not.toContain('SubmitYikeAIAppJob');
  });
});
