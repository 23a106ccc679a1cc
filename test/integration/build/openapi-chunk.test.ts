import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getThroughBundle, HTTP_SUBMIT_DIST as DIST } from '../../helpers/lazy-chunk';

/**
 * The OpenAPI document in the built http-submit: the schemas it is made from and zod's JSON Schema conversion are
 * dist/http-submit/openapi.js, required only by GET /openapi.json, so the cold start of every other request is as before.
 */
const DOCUMENT_FILE = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');

describe("the OpenAPI document is a file of its own in http-submit's bundle, loaded on first use", () => {
  it("keeps zod's JSON Schema conversion and the response schemas out of index.js, which requires ./openapi.js", () => {
    // Arrange: a string of zod's conversion and a description of a response schema (shared/triggers/http/responses.ts)
    const markers = ['draft-2020-12', 'Items waiting in the deferred line'];

    // Act
    const index = readFileSync(join(DIST, 'index.js'), 'utf8');
    const chunk = readFileSync(join(DIST, 'openapi.js'), 'utf8');

    // Assert
    expect(index).toContain('require("./openapi.js")');
    expect(markers.filter((marker) => index.includes(marker))).toEqual([]);
    expect(markers.filter((marker) => chunk.includes(marker))).toEqual(markers);
  });

  it('serves docs/openapi.json from the bundle, loading openapi.js on GET /openapi.json only', async () => {
    // Arrange
    const env = { LOG_LEVEL: 'error', ALLOWED_BUCKETS: 'yike-uploads', AUTH_TOKENS: 'example-token' };

    // Act
    const [atStart, afterHealthz, afterDocument] = await getThroughBundle('openapi.js', ['/healthz', '/openapi.json'], env);

    // Assert
    expect([atStart!.loaded, afterHealthz!.loaded, afterDocument!.loaded]).toEqual([false, false, true]);
    expect(afterDocument!.response!.statusCode).toBe(200);
    expect(afterDocument!.response!.body).toBe(readFileSync(DOCUMENT_FILE, 'utf8'));
  }, 60_000);
});
