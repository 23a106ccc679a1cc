/**
 * The one check of http-submit's answers against its OpenAPI document: every response the suite's tests get from the
 * function goes through checkHttpAnswer (jest.config.js maps functions/http-submit/index to http-submit-checked.ts,
 * which calls it for each invocation), and a response the document does not describe fails the test that made it
 * (openapi-setup.ts). The document is the one GET /openapi.json serves, made from the same source.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../shared/triggers/http/openapi/document';
import { routeFor } from '../../shared/triggers/http/routes';

export interface HttpAnswer {
  method: string;
  path: string;
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: string;
}

type Json = Record<string, any>;

interface CheckState {
  checked: number;
  /** Webhook deliveries the tests' receivers checked (checkWebhookBody). */
  webhooks: number;
  /** `<operation or response name> <status>` of each checked answer, for the run's coverage line. */
  seen: string[];
  violations: string[];
  validators: Map<string, ValidateFunction>;
  document?: Json;
  ajv?: Ajv2020;
}

const DOCUMENT_ID = 'https://yike-fc.invalid/openapi.json';

/** One state per test file (its global), whichever copy of this module a test's module registry loaded. */
function state(): CheckState {
  const holder = globalThis as { __yikeOpenApiCheck?: CheckState };
  holder.__yikeOpenApiCheck ??= { checked: 0, webhooks: 0, seen: [], violations: [], validators: new Map() };
  return holder.__yikeOpenApiCheck;
}

function documentAndAjv(): { document: Json; ajv: Ajv2020 } {
  const current = state();
  if (!current.document || !current.ajv) {
    current.document = openApiDocument();
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    // OpenAPI's own keywords around the schemas: the document is added whole so `#/components/…` refs resolve.
    ajv.addVocabulary(['openapi', 'info', 'servers', 'security', 'tags', 'paths', 'webhooks', 'components']);
    ajv.addSchema({ ...current.document, $id: DOCUMENT_ID });
    current.ajv = ajv;
  }
  return { document: current.document, ajv: current.ajv };
}

const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function validatorAt(path: string): ValidateFunction {
  const { validators } = state();
  let validate = validators.get(path);
  if (!validate) {
    validate = documentAndAjv().ajv.compile({ $ref: `${DOCUMENT_ID}#/${path}` });
    validators.set(path, validate);
  }
  return validate;
}

/** What the document says about this answer: the response object and where it is, or why it says nothing. */
function documentedResponse(answer: HttpAnswer): { at: string; response: Json; name: string; allow?: string } | { problem: string } {
  const { document } = documentAndAjv();
  const common = (name: string) => ({ at: pointer('components', 'responses', name), response: document.components.responses[name], name });
  if (answer.statusCode === 500) return common('Internal');
  const { route, allow } = routeFor(answer.method, answer.path);
  if (allow.length === 0) {
    return answer.statusCode === 404 ? common('NotFound') : { problem: `${answer.path} is no route's path, yet answered ${answer.statusCode}` };
  }
  if (!route) {
    return answer.statusCode === 405
      ? { ...common('MethodNotAllowed'), allow: allow.join(', ') }
      : { problem: `${answer.method} ${answer.path} (its path takes ${allow.join(', ')}) answered ${answer.statusCode}` };
  }
  const [method, template] = route.name.split(' ') as [string, string];
  const operation = document.paths[template]?.[method.toLowerCase()];
  if (!operation) return { problem: `${route.name} is not in the OpenAPI document` };
  const response = operation.responses[answer.statusCode];
  if (!response) return { problem: `${route.name} answered ${answer.statusCode}, which the document does not list for it` };
  if (response.$ref) {
    const name = String(response.$ref).split('/').pop()!;
    return { ...common(name), name: route.name };
  }
  return { at: pointer('paths', template, method.toLowerCase(), 'responses', String(answer.statusCode)), response, name: route.name };
}

function headerValue(headers: HttpAnswer['headers'], name: string): string | undefined {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  return Array.isArray(found) ? found.join(', ') : found;
}

/** The problems with one answer (none: the document describes it exactly). */
function problemsOf(answer: HttpAnswer): { name?: string; problems: string[] } {
  const documented = documentedResponse(answer);
  if ('problem' in documented) return { problems: [documented.problem] };
  const { at, response, name } = documented;
  const problems: string[] = [];
  if (documented.allow !== undefined && headerValue(answer.headers, 'Allow') !== documented.allow) {
    problems.push(`Allow is "${headerValue(answer.headers, 'Allow')}", not "${documented.allow}" (the methods its path takes)`);
  }
  for (const [header, spec] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    const value = headerValue(answer.headers, header);
    if (value === undefined) {
      if (spec.required) problems.push(`the ${header} header is missing`);
      continue;
    }
    const validate = validatorAt(`${at}/headers/${pointer(header)}/schema`);
    if (!validate(value)) problems.push(`${header}: ${JSON.stringify(value)} ${validate.errors?.map((error) => error.message).join('; ')}`);
  }
  const mediaType = (headerValue(answer.headers, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  const content = (response.content ?? {}) as Record<string, Json>;
  // An answer the document gives no body (a 204, a redirect) must have none.
  if (Object.keys(content).length === 0) return { name, problems: answer.body === '' ? problems : [...problems, 'a body, where the document has none'] };
  if (!content[mediaType]) {
    problems.push(`Content-Type ${mediaType || '(none)'} is not documented (${Object.keys(content).join(', ') || 'no body'})`);
    return { name, problems };
  }
  let body: unknown = answer.body;
  if (mediaType === 'application/json') {
    try {
      body = JSON.parse(answer.body);
    } catch {
      return { name, problems: [...problems, 'the body is not JSON'] };
    }
  }
  const validate = validatorAt(`${at}/content/${pointer(mediaType)}/schema`);
  if (!validate(body)) {
    for (const error of validate.errors ?? []) problems.push(`body${error.instancePath}: ${error.message} ${JSON.stringify(error.params)}`);
  }
  return { name, problems };
}

/** Checks one answer of http-submit; a mismatch is kept for the test that made it (takeViolations). */
export function checkHttpAnswer(answer: HttpAnswer): void {
  const current = state();
  const { name, problems } = problemsOf(answer);
  current.checked += 1;
  current.seen.push(`${name ?? 'undocumented'} ${answer.statusCode}`);
  if (problems.length > 0) {
    current.violations.push(
      `${answer.method} ${answer.path} answered ${answer.statusCode}, which the OpenAPI document (GET /openapi.json) does not describe:\n  ${problems.join('\n  ')}\n  body: ${answer.body.slice(0, 500)}`,
    );
  }
}

/**
 * Checks a webhook delivery's body (what the tests' receivers got) against the document's `webhooks`, picked by its
 * `type`: yike.job.* (the job notification), yike.budget.* (a budget alert) or yike.test (the doctor's).
 */
export function checkWebhookBody(raw: string): void {
  const current = state();
  const body: unknown = JSON.parse(raw);
  const type = (body as { type?: string }).type;
  const name = type === 'yike.test' ? 'webhookTest' : type?.startsWith('yike.budget.') ? 'budgetAlert' : 'jobNotification';
  const validate = validatorAt(pointer('webhooks', name, 'post', 'requestBody', 'content', 'application/json', 'schema'));
  current.webhooks += 1;
  if (!validate(body)) {
    const problems = (validate.errors ?? []).map((error) => `body${error.instancePath}: ${error.message} ${JSON.stringify(error.params)}`);
    current.violations.push(
      `A ${type} webhook delivery does not match the OpenAPI document's ${name} webhook:\n  ${problems.join('\n  ')}\n  body: ${raw.slice(0, 500)}`,
    );
  }
}

/** `--require` it in a forked FC instance of dist/http-submit: its answers come back over IPC (checkAnswersOf). */
export const OPENAPI_PRELOAD = join(__dirname, 'openapi-preload.js');

/** Checks the answers a child started with OPENAPI_PRELOAD sends back. */
export function checkAnswersOf(child: ChildProcess): void {
  child.on('message', (message: { yikeOpenApiAnswer?: HttpAnswer }) => {
    if (message?.yikeOpenApiAnswer) checkHttpAnswer(message.yikeOpenApiAnswer);
  });
}

/** The mismatches since the last call (openapi-setup.ts fails the test with them). */
export function takeViolations(): string[] {
  return state().violations.splice(0);
}

/** Forgets what was checked (the check's own tests: their made-up answers are not the suite's). */
export function forgetChecks(): void {
  delete (globalThis as { __yikeOpenApiCheck?: CheckState }).__yikeOpenApiCheck;
}

/** How many answers this test file had checked, and which documented answers they were. */
export function checkedSoFar(): { checked: number; webhooks: number; seen: string[] } {
  const { checked, webhooks, seen } = state();
  return { checked, webhooks, seen: [...new Set(seen)] };
}
