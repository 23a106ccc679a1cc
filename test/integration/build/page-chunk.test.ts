import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getThroughBundle, HTTP_SUBMIT_DIST as DIST } from '../../helpers/lazy-chunk';

/**
 * The page in the built http-submit: its HTML and script are dist/http-submit/page.js, required only by GET /, and
 * the script it serves is the page's TypeScript (shared/triggers/http/page/browser/) as scripts/page-script.cjs
 * bundles it, allowed by its hash in the CSP.
 */
const { buildPageScript } = require('../../../scripts/page-script.cjs') as { buildPageScript: () => Promise<string> };

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

    // Act
    const [atStart, afterHealthz, afterPage] = await getThroughBundle('page.js', ['/healthz', '/'], { LOG_LEVEL: 'error', ALLOWED_BUCKETS: 'yike-uploads' });

    // Assert
    expect([atStart!.loaded, afterHealthz!.loaded, afterPage!.loaded]).toEqual([false, false, true]);
    const { statusCode, headers, body } = afterPage!.response!;
    expect(statusCode).toBe(200);
    expect(/<script>([\s\S]*)<\/script>/.exec(body)![1]).toBe(script);
    const hash = `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
    expect(headers['Content-Security-Policy']).toContain(`; script-src ${hash}; `);
  }, 30_000);
});
