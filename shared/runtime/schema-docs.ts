import * as z from './zod';

/**
 * What the OpenAPI document says of a schema beyond its shape: a description, and `id` for the schemas it names
 * (components). A registry of its own rather than zod's global one, so nothing else (and no second load of a module
 * in the tests) can collide with an id. The routes never load it: only the schemas' modules and the document do.
 */
export const schemaDocs = z.registry<{ id?: string; description?: string }>();

/** The schema, described in the document. */
export function documented<T extends z.core.$ZodType>(schema: T, description: string): T {
  schemaDocs.add(schema, { ...schemaDocs.get(schema), description });
  return schema;
}
