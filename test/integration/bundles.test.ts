import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startIceServer, type LocalIceServer } from '../../local/ice-server';
import { asFcPayload, loadEvent } from '../helpers/fixtures';
import { fcContext } from '../helpers/local-cloud';

const DIST = join(__dirname, '..', '..', 'dist');
const FUNCTIONS = ['http-submit', 'oss-submit', 'job-watcher'];

describe('the deployable bundles (dist/<function>/index.js)', () => {
  it.each(FUNCTIONS)('builds %s as one file with a source map that exports handler', (name) => {
    // Arrange
    const file = join(DIST, name, 'index.js');

    // Act
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(file) as { handler?: unknown };

    // Assert
    expect(typeof bundle.handler).toBe('function');
    expect(existsSync(`${file}.map`)).toBe(true);
    expect(statSync(file).size).toBeLessThan(3 * 1024 * 1024);
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
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require(join(DIST, 'http-submit', 'index.js')) as { handler: (event: Buffer, context: unknown) => Promise<unknown> };
      const event = loadEvent('fc3-http-post-jobs');
      event.rawPath = '/healthz';
      event.requestContext.http.method = 'GET';
      event.requestContext.http.path = '/healthz';
      event.body = '';

      // Act
      const response = await handler(asFcPayload(event), fcContext());

      // Assert
      expect(response).toEqual({ statusCode: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, isBase64Encoded: false, body: '{"status":"ok"}' });
      expect(ice.calls()).toHaveLength(0);
    });
  });
});
