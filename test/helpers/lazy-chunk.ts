import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadEvent } from './fixtures';
import { fcContext } from './local-cloud';

/**
 * What the lazy-file tests of dist/http-submit share (page-chunk, openapi-chunk): GET requests run one after another by
 * the built bundle in a fresh process, with whether the lazy file was loaded before the first and after each.
 */
export const HTTP_SUBMIT_DIST = join(__dirname, '..', '..', 'dist', 'http-submit');
const run = promisify(execFile);
const RUNNER = `
const { dirname, join } = require('node:path');
const [entry, chunkFile, eventsJson, contextJson] = process.argv.slice(1);
const bundle = require(entry);
const chunk = join(dirname(entry), chunkFile);
(async () => {
  const steps = [{ loaded: chunk in require.cache }];
  for (const event of JSON.parse(eventsJson)) {
    const response = await bundle.handler(Buffer.from(JSON.stringify(event)), JSON.parse(contextJson));
    steps.push({ loaded: chunk in require.cache, response });
  }
  process.stdout.write('\\n' + JSON.stringify(steps));
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });
`;

export interface ChunkStep {
  loaded: boolean;
  response?: { statusCode: number; headers: Record<string, string>; body: string };
}

function getRequest(path: string) {
  const event = loadEvent('fc3-http-post-jobs');
  event.rawPath = path;
  event.requestContext.http.method = 'GET';
  event.requestContext.http.path = path;
  event.headers = {};
  event.body = '';
  return event;
}

/** GETs `paths` in turn on a fresh instance of dist/http-submit/index.js; steps[0] is before the first request. */
export async function getThroughBundle(chunkFile: string, paths: string[], env: Record<string, string>): Promise<ChunkStep[]> {
  const events = paths.map(getRequest);
  const { stdout } = await run(
    process.execPath,
    ['-e', RUNNER, join(HTTP_SUBMIT_DIST, 'index.js'), chunkFile, JSON.stringify(events), JSON.stringify(fcContext())],
    { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 },
  );
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as ChunkStep[];
}
