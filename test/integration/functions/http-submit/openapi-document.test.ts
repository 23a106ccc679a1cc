import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../../../shared/triggers/http/routes';
import { startHttpHarness, TOKEN, type HttpHarness } from './harness';

const DOCUMENT_FILE = join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json');

describe('GET /openapi.json on http-submit', () => {
  let cloud: HttpHarness;

  beforeAll(async () => {
    cloud = await startHttpHarness();
  });
  afterAll(async () => cloud.close());
  beforeEach(() => cloud.reset());

  it('serves docs/openapi.json without a token, to a caller of an endpoint that needs one for everything else', async () => {
    // Arrange
    const target = await cloud.gateway({ AUTH_TOKENS: TOKEN });

    // Act
    const response = await fetch(`${target.url}/openapi.json`);

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.text()).toBe(readFileSync(DOCUMENT_FILE, 'utf8'));
  });

  it('asks for the bearer token on exactly the routes the document gives the bearer scheme', async () => {
    // Arrange
    const target = await cloud.gateway({ AUTH_TOKENS: TOKEN });
    const document = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8'));
    const needsToken = (name: string) => {
      const [method, path] = name.split(' ') as [string, string];
      return (document.paths[path][method.toLowerCase()].security ?? document.security).length > 0;
    };

    // Act: each route without a token (a path parameter filled in, a JSON body where the route reads one)
    const statuses = await Promise.all(
      ROUTES.map(async (route) => {
        const [method, path] = route.name.split(' ') as [string, string];
        const response = await fetch(`${target.url}${path.replace('{jobId}', 'j-1')}`, {
          method,
          ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
        });
        await response.arrayBuffer();
        return { route: route.name, unauthorized: response.status === 401 };
      }),
    );

    // Assert
    expect(statuses).toEqual(ROUTES.map((route) => ({ route: route.name, unauthorized: needsToken(route.name) })));
  });
});
