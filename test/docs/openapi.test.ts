import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_FILE } from '../../scripts/openapi-docs';
import { envSchema } from '../../shared/runtime/env';
import { openApiDocument, openApiJson } from '../../shared/triggers/http/openapi/document';
import { ROUTES } from '../../shared/triggers/http/routes';

const ROOT = join(__dirname, '..', '..');
type Json = Record<string, any>;

/** Every error code a response of the document allows. */
function errorCodes(document: Json): string[] {
  const responses: Json[] = [
    ...Object.values(document.paths as Json).flatMap((item: Json) => Object.values(item).flatMap((operation: Json) => Object.values(operation.responses))),
    ...Object.values(document.components.responses as Json),
  ];
  const codes = responses.flatMap((response) => {
    const code = response.content?.['application/json']?.schema?.properties?.error?.properties?.code;
    return code ? ((code.anyOf ?? [code]) as Json[]).flatMap((option) => (option.enum ?? []) as string[]) : [];
  });
  return [...new Set(codes)].sort();
}

/** A section of docs/http-api.md, from its `## ` heading to the next. */
function section(page: string, heading: string): string {
  return page.split(`\n## ${heading}\n`)[1]!.split('\n## ')[0]!;
}

describe('docs/openapi.json and docs/http-api.md, against the OpenAPI document the code makes', () => {
  const document = openApiDocument() as Json;
  const page = readFileSync(join(ROOT, 'docs', 'http-api.md'), 'utf8');

  it('is what `npm run docs:openapi` writes today (regenerate it after changing a route or a schema)', () => {
    // Act
    const written = readFileSync(join(ROOT, OPENAPI_FILE), 'utf8');

    // Assert
    expect(written).toBe(openApiJson());
  });

  it('has one operation per route, the open routes without the bearer token and the others with it', () => {
    // Act
    const operations = Object.entries(document.paths as Json).flatMap(([path, item]: [string, Json]) =>
      Object.entries(item).map(([method, operation]: [string, Json]) => ({ name: `${method.toUpperCase()} ${path}`, security: operation.security })),
    );

    // Assert
    expect(document.openapi).toBe('3.1.0');
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(document.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(operations.map((operation) => operation.name).sort()).toEqual(ROUTES.map((route) => route.name).sort());
    expect(operations.filter((operation) => operation.security !== undefined)).toEqual([
      { name: 'GET /', security: [] },
      { name: 'GET /healthz', security: [] },
      { name: 'GET /openapi.json', security: [] },
      { name: 'GET /v/{token}', security: [] },
    ]);
    expect(Object.keys(document.webhooks).sort()).toEqual(['budgetAlert', 'jobNotification', 'webhookTest']);
  });

  it('lists in docs/http-api.md every route of the document, and no other', () => {
    // Act: the first column of the routes table, without its query
    const rows = section(page, 'Routes')
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    const onPage = rows.map((row) => /^\| `([A-Z]+ \/[^`?[]*)/.exec(row)![1]!);

    // Assert
    expect([...new Set(onPage)].sort()).toEqual(ROUTES.map((route) => route.name).sort());
  });

  it('names in docs/http-api.md every error code of the document, and no other', () => {
    // Act: the backticked codes of the errors table, less the variables it names
    const variables = new Set(Object.keys(envSchema.shape));
    const onPage = [...section(page, 'Errors').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!).filter((name) => !variables.has(name));

    // Assert
    expect([...new Set(onPage)].sort()).toEqual(errorCodes(document));
  });
});
