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

/**
 * JSON Schema said by hand for a pipe whose first step zod cannot express (a custom check on the value as given): the
 * document shows this instead of failing. Its custom step is covered; any other custom schema still fails the document.
 */
const representations = new WeakMap<z.core.$ZodType, Record<string, unknown>>();

export function representedAs<T extends z.core.$ZodPipe>(schema: T, jsonSchema: Record<string, unknown>): T {
  representations.set(schema, jsonSchema);
  // The step and what it was cloned from (zod converts a clone's parent first).
  for (let step: z.core.$ZodType | undefined = schema._zod.def.in; step; step = step._zod.parent) representations.set(step, {});
  return schema;
}

/** The hand-said JSON Schema of `schema` (`{}` for a covered custom step), if any. */
export function representationOf(schema: z.core.$ZodType): Record<string, unknown> | undefined {
  return representations.get(schema);
}
