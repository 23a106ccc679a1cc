import { budgetAlertPayloadSchema } from '../../../domain/budget/alert-schema';
import { notificationPayloadSchema, webhookTestPayloadSchema } from '../../../domain/lifecycle/payload-schemas';
import { documented, representationOf, schemaDocs } from '../../../runtime/schema-docs';
import * as z from '../../../runtime/zod';
import { errorBodySchema, errorDetailsSchema } from '../responses';
import { isOpen, ROUTES, TICKET_ROUTES } from '../routes';
import { type Answer, COMMON_ANSWERS, type Named, OPERATIONS, type Operation } from './operations';

/**
 * The OpenAPI 3.1 document of http-submit, made from the zod schemas the routes use (operations.ts) with zod's own
 * JSON Schema conversion (2020-12, OpenAPI 3.1's dialect). Only `GET /openapi.json` loads this module (scripts/build.mjs
 * LAZY_LOCAL makes it dist/http-submit/openapi.js) and makes the document once per instance; `npm run docs:openapi`
 * writes the same to docs/openapi.json.
 */
type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const COMPONENT = '#/components/schemas/';
/** ICE's own error codes, passed through where ICE decided (e.g. InvalidParameter, Throttling.User). */
const iceErrorCode = documented(z.string().check(z.regex(/^[A-Z][a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*$/)), "ICE's own code, passed through");

const WEBHOOKS: Record<string, { summary: string; description: string; body: Named }> = {
  jobNotification: {
    summary: "A job's outcome (yike.job.finished, failed, timed-out) and the later news that its outputs were copied",
    description:
      'POSTed to JOB_WEBHOOK_URL once per notification (retried with backoff until a 2xx; receivers deduplicate by `id`), signed with JOB_WEBHOOK_SECRET (docs/lifecycle.md). The same body is the result object and the next function\u2019s event.',
    body: { id: 'JobNotification', schema: notificationPayloadSchema },
  },
  budgetAlert: {
    summary: "The day's budget crossed its warning line or ran out (budget-renewal, oss-submit)",
    description: 'POSTed to JOB_WEBHOOK_URL once a day per alert, with the same signature and envelope as the job notifications.',
    body: { id: 'BudgetAlert', schema: budgetAlertPayloadSchema },
  },
  webhookTest: {
    summary: "The doctor's signed test delivery",
    description: 'yike-doctor checks the receiver answers 2xx to a delivery it can verify; ignore type yike.test.',
    body: { id: 'WebhookTest', schema: webhookTestPayloadSchema },
  },
};

/** Builds the document (a fresh object each call; openApiJson() keeps one per instance). */
export function openApiDocument(): JsonSchema {
  const components = new Components();
  const responses: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, JsonSchema>> = {};
  // Every answer's named body first, so one inside another (Job in JobList) is a reference whatever the routes' order.
  for (const operation of Object.values(OPERATIONS))
    for (const answer of Object.values(operation.responses)) if (answer.body) name(answer.body.id, answer.body.schema);
  for (const route of ROUTES) {
    const [method, path] = route.name.split(' ') as [string, string];
    const operation = OPERATIONS[route.name];
    paths[path] = { ...paths[path], [method.toLowerCase()]: operationObject(operation, isOpen(route), TICKET_ROUTES.has(route.name), components) };
  }
  for (const [name, answer] of Object.entries(COMMON_ANSWERS)) responses[capitalized(name)] = responseObject(answer, components);
  const webhooks = Object.fromEntries(
    Object.entries(WEBHOOKS).map(([name, hook]) => [
      name,
      {
        post: {
          operationId: `${name}Webhook`,
          summary: hook.summary,
          description: hook.description,
          requestBody: { required: true, content: { 'application/json': { schema: components.ref(hook.body, 'output') } } },
          responses: { 200: { description: 'Any 2xx: delivered' }, default: { description: 'Anything else: delivered again later' } },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'yike-fc http-submit',
      version: '1',
      description:
        'Submit Alibaba Cloud ICE Yike AI app jobs and follow them. Errors are always `{"error": {"code", "message", "details"?}}`; a path no route takes answers 404 NOT_FOUND, a method its path does not take 405 METHOD_NOT_ALLOWED with `Allow` (components.responses NotFound and MethodNotAllowed).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The HTTP trigger of http-submit' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'jobs', description: 'Submit and follow jobs' },
      { name: 'uploads', description: 'Browser uploads (the OSS trigger submits them)' },
      { name: 'tickets', description: "Upload tickets for customers' browsers, and share links (docs/page.md)" },
      { name: 'service', description: 'The page, health, usage and the doctor' },
    ],
    paths,
    webhooks,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'One of AUTH_TOKENS (HTTP_AUTH=token, the default), or an upload ticket (POST /tickets), which reaches only POST /uploads and its own jobs (GET, content, by-object, DELETE, share); elsewhere 403 TICKET_SCOPE',
        },
      },
      responses,
      schemas: components.schemas(),
    },
  };
}

let json: string | undefined;

/** The document as served and written to docs/openapi.json. */
export function openApiJson(): string {
  json ??= `${JSON.stringify(openApiDocument(), null, 2)}\n`;
  return json;
}

function operationObject(operation: Operation, open: boolean, ticketMay: boolean, components: Components): JsonSchema {
  const parameters = [
    ...parametersOf(operation.path, 'path', components),
    ...parametersOf(operation.query, 'query', components),
    ...parametersOf(operation.headers, 'header', components),
  ];
  const answers: Record<number, Answer> = { ...operation.responses };
  if (!open) {
    answers[401] = COMMON_ANSWERS.unauthorized;
    if (!ticketMay) {
      const forbidden = answers[403];
      answers[403] = forbidden ? { ...forbidden, errors: [...(forbidden.errors ?? []), ...COMMON_ANSWERS.ticketScope.errors] } : COMMON_ANSWERS.ticketScope;
    }
    const unavailable = answers[503];
    answers[503] = unavailable
      ? { ...unavailable, errors: [...(unavailable.errors ?? []), ...COMMON_ANSWERS.authNotConfigured.errors] }
      : COMMON_ANSWERS.authNotConfigured;
  }
  const responses: Record<string, JsonSchema> = {};
  for (const status of Object.keys(answers).map(Number).sort()) {
    responses[status] =
      answers[status] === COMMON_ANSWERS.unauthorized ? { $ref: '#/components/responses/Unauthorized' } : responseObject(answers[status]!, components);
  }
  responses[500] = { $ref: '#/components/responses/Internal' };
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    ...(open ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            description: operation.body.description,
            content: { 'application/json': { schema: components.ref(operation.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

function parametersOf(schema: z.ZodMiniObject | undefined, location: 'path' | 'query' | 'header', components: Components): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape as Record<string, z.core.$ZodType>).map(([name, field]) => {
    const { description, ...fieldSchema } = components.inline(field, 'input');
    const required = location === 'path' || field._zod.optin !== 'optional';
    return { name, in: location, required, ...(description ? { description } : {}), schema: fieldSchema };
  });
}

function responseObject(answer: Answer, components: Components): JsonSchema {
  const headers = Object.fromEntries(
    Object.entries(answer.headers ?? {}).map(([name, header]) => [
      name,
      { description: header.description, required: header.required ?? false, schema: components.inline(header.schema, 'output') },
    ]),
  );
  const body = answer.errors ? components.inline(errorBodyWith(answer), 'output') : answer.body ? components.ref(answer.body, 'output') : undefined;
  return {
    description: answer.errors ? `${answer.description}: ${[...answer.errors, ...(answer.iceCodes ? ["ICE's own code"] : [])].join(', ')}` : answer.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(body ? { content: { [answer.contentType ?? 'application/json']: { schema: body } } } : {}),
  };
}

/** The error body with exactly this answer's codes. */
function errorBodyWith(answer: Answer): z.core.$ZodType {
  const codes = [...new Set(answer.errors)];
  const options = [...(codes.length > 0 ? [z.enum(codes as [string, ...string[]])] : []), ...(answer.iceCodes ? [iceErrorCode] : [])];
  const code = options.length === 1 ? options[0]! : z.union(options);
  return z.object({ error: z.object({ code, message: errorBodySchema.shape.error.shape.message, details: z.optional(errorDetailsSchema) }) });
}

const capitalized = (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}`;

/**
 * The named schemas (components) and the conversion of every schema: zod writes a named schema it meets as
 * `#/$defs/<id>`, which becomes `#/components/schemas/<id>` here. A component is converted one way only (a request
 * body as its input, everything else as its output), so the same name never means two shapes.
 */
class Components {
  private readonly converted = new Map<string, { schema: JsonSchema; io: Io }>();

  constructor() {
    name('ErrorDetails', errorDetailsSchema);
    name('IceErrorCode', iceErrorCode);
  }

  ref(body: Named, io: Io): JsonSchema {
    name(body.id, body.schema);
    this.inline(body.schema, io);
    return { $ref: `${COMPONENT}${body.id}` };
  }

  inline(schema: z.core.$ZodType, io: Io): JsonSchema {
    const {
      $schema: _dialect,
      $defs,
      ...root
    } = z.toJSONSchema(schema, { io, metadata: schemaDocs, unrepresentable: 'any', override: handSaid, target: 'draft-2020-12' }) as JsonSchema;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) this.add(id, withComponentRefs(def) as JsonSchema, io);
    return withComponentRefs(root) as JsonSchema;
  }

  schemas(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.converted.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, entry]) => [id, entry.schema]));
  }

  private add(id: string, schema: JsonSchema, io: Io): void {
    const known = this.converted.get(id);
    if (known && known.io !== io && JSON.stringify(known.schema) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: the schema ${id} is both a request's input and a response's output, with different shapes: give each its own name`);
    }
    this.converted.set(id, { schema, io });
  }
}

/** Gives a schema its component name (once; one schema, one name). */
function name(id: string, schema: z.core.$ZodType): void {
  const docs = schemaDocs.get(schema);
  if (docs?.id === id) return;
  if (docs?.id !== undefined) throw new Error(`OpenAPI: one schema is named both ${docs.id} and ${id}`);
  schemaDocs.add(schema, { ...docs, id });
}

function withComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withComponentRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' ? child.replace(/^#\/\$defs\//, COMPONENT) : withComponentRefs(child),
    ]),
  );
}

/** zod's override step: a pipe's hand-said JSON Schema (schema-docs.ts representedAs) replaces what zod made of it; any other custom schema fails the document. */
function handSaid(ctx: { zodSchema: z.core.$ZodType; jsonSchema: Record<string, unknown> }): void {
  const said = representationOf(ctx.zodSchema);
  if (said) {
    for (const key of Object.keys(ctx.jsonSchema)) if (key !== 'description') delete ctx.jsonSchema[key];
    Object.assign(ctx.jsonSchema, said);
  } else if (['custom', 'transform'].includes(ctx.zodSchema._zod.def.type)) {
    throw new Error('OpenAPI: a custom schema cannot be represented in JSON Schema: give its pipe a representation (schema-docs.ts representedAs)');
  }
}
