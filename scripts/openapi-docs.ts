import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiJson } from '../shared/triggers/http/openapi/document';

/**
 * `npm run docs:openapi`: writes docs/openapi.json, the document `GET /openapi.json` serves (made from the routes'
 * zod schemas: shared/triggers/http/openapi/). test/docs/openapi.test.ts fails when the file is stale.
 */
export const OPENAPI_FILE = join('docs', 'openapi.json');

if (require.main === module) {
  const root = join(__dirname, '..', '..');
  writeFileSync(join(root, OPENAPI_FILE), openApiJson());
  console.log(`wrote ${OPENAPI_FILE}`);
}
