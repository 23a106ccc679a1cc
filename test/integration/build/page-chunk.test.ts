import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadEvent } from '../../helpers/fixtures';
import { fcContext } from '../../helpers/local-cloud';

/**
 * The page in the built http-submit: its HTML and script are dist/http-submit/page.js, required only by GET /, and
 * the script it serves is the page's TypeScript (shared/triggers/http/page/browser/) as scripts/page-script.cjs
 * bundles it, allowed by its hash in the CSP.
 */
const DIST = join(__dirname, '..', '..', '..', 'dist', 'http-submit');
const { buildPageScript } = require('../../../scripts/page-script.cjs') as { buildPageScript: () => Promise<string> };
const run = promisify(execFile);
const RUNNER = `
const { dirname, join } = require('node:path');
const [entry, eventsJson, contextJson] = process.argv.slice(1);
const bundle = require(entry);
const chunk = join(dirname(entry), 'page.js');
(async () => {
  const steps = [{ loaded: chunk in require.cache }];
  for (const event of JSON.parse(eventsJson)) {
    const response = await bundle.handler(Buffer.from(JSON.stringify(event)), JSON.parse(contextJson));
    steps.push({ loaded: chunk in require.cache, response });
  }
  process.stdout.write('\\n' + JSON.stringify(steps));
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });
`;

function getRequest(path: string) {
  const event = loadEvent('fc3-http-post-jobs');
  event.rawPath = path;
  event.requestContext.http.method = 'GET';
  event.requestContext.http.path = path;
  event.headers = {};
  event.body = '';
  return event;
}

describe("the page is a file of its own in http-submit's bundle, loaded on first use", () => {
  it("keeps the page's HTML and script out of index.js, which requires ./page.js", () => {
    // Arrange: a line of the HTML (page.ts) and a string of the script (browser/timeline.ts)
    const markers = ['Try a Yike AI app', 'passed between two status reads'];

    // Act
    const index = readFileSync(join(DIST, 'index.js'), 'utf8');
    const chunk = readFileSync(join(DIST, 'page.js'), 'utf8');

    // Assert
    expect(index).toContain('require("./page.js")');
    expect(markers.filter((marker) => index.includes(marker))).toEqual([]);
    expect(markers.filter((marker) => chunk.includes(marker))).toEqual(markers);
  });

  it('serves the built page script from the bundle, allowed by its hash, loading page.js on GET / only', async () => {
    // Arrange
    const script = await buildPageScript();
    const events = [getRequest('/healthz'), getRequest('/')];
    const env = { PATH: process.env.PATH, LOG_LEVEL: 'error', ALLOWED_BUCKETS: 'yike-uploads' };

    // Act
    const { stdout } = await run(process.execPath, ['-e', RUNNER, join(DIST, 'index.js'), JSON.stringify(events), JSON.stringify(fcContext())], {
      env,
      timeout: 15_000,
    });

    // Assert
    const [atStart, afterHealthz, afterPage] = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as {
      loaded: boolean;
      response?: { statusCode: number; headers: Record<string, string>; body: string };
    }[];
    expect([atStart!.loaded, afterHealthz!.loaded, afterPage!.loaded]).toEqual([false, false, true]);
    const { statusCode, headers, body } = afterPage!.response!;
    expect(statusCode).toBe(200);
    expect(/<script>([\s\S]*)<\/script>/.exec(body)![1]).toBe(script);
    const hash = `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
    expect(headers['Content-Security-Policy']).toContain(`; script-src ${hash}; `);
  }, 30_000);
});
