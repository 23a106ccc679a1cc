/**
 * The read side of the local FC 3.0 control API (2023-03-30) that `npx yike-doctor` asks: GetFunction and
 * ListTriggers, answered from each function's definition (what s.yaml would have deployed) the way FC shapes them.
 * local/fc/invoke-server.ts routes and authenticates the requests; this module only builds the answers.
 *
 * Sources:
 * - [GETFN]   GetFunction, GET /2023-03-30/functions/{functionName} (query `qualifier`): the Function struct of
 *             fc-20230330 (aliyun/alibabacloud-typescript-sdk src/models/Function.ts): functionName, functionArn
 *             (acs:fc:cn-shanghai:123:functions/functionName), functionId, runtime, handler, memorySize, timeout, role,
 *             environmentVariables, state (Pending | Active | …), lastUpdateStatus, createdTime, lastModifiedTime, …
 * - [LISTTR]  ListTriggers, GET /2023-03-30/functions/{functionName}/triggers (query limit, nextToken, prefix):
 *             ListTriggersOutput {triggers: Trigger[], nextToken}; Trigger {triggerName, triggerType, triggerId,
 *             triggerConfig (a JSON *string*, e.g. {"events":["oss:ObjectCreated:*"],"filter":{"key":{"prefix":…,"suffix":…}}}),
 *             sourceArn, invocationRole, qualifier (LATEST), status (OK), targetArn, createdTime, lastModifiedTime,
 *             httpTrigger {urlInternet, urlIntranet}} (help: api-fc-2023-03-30-struct-trigger; SDK Trigger.ts, Httptrigger.ts).
 *             FC 2.0's ListTriggers: limit default 20, at most 100, results in alphabetical order.
 * Local assumptions: the status code and message of an invalid `limit` (400 InvalidArgument), that nextToken is the
 * next trigger's name, and the made-up ids and times.
 */
import { createHash } from 'node:crypto';

/** What s.yaml declares for a function, as far as its control API shows it. */
export interface LocalFunctionDefinition {
  runtime?: string;
  handler?: string;
  memorySize?: number;
  timeout?: number;
  role?: string;
  description?: string;
  environmentVariables?: Record<string, string>;
  triggers?: LocalTriggerDefinition[];
}

interface LocalTriggerDefinition {
  triggerName: string;
  triggerType: 'http' | 'oss' | 'timer' | 'eventbridge';
  /** Sent as FC sends it: serialised to a JSON string. */
  triggerConfig: Record<string, unknown>;
  sourceArn?: string;
  invocationRole?: string;
  qualifier?: string;
  /** HTTP triggers: the public address (httpTrigger.urlInternet). */
  urlInternet?: string;
}

export class ControlApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HTTP_BAD_REQUEST = 400;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const DEFAULTS = { runtime: 'nodejs20', handler: 'index.handler', memorySize: 512, timeout: 60 };

/** A stable made-up uuid per name, so two reads answer the same ids. */
function idFor(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function functionArn(region: string, accountId: string, name: string): string {
  return `acs:fc:${region}:${accountId}:functions/${name}`;
}

/** [GETFN] */
export function functionView(
  name: string,
  definition: LocalFunctionDefinition,
  where: { region: string; accountId: string; createdAt: string },
): Record<string, unknown> {
  return {
    functionName: name,
    functionArn: functionArn(where.region, where.accountId, name),
    functionId: idFor(`function:${name}`),
    description: definition.description ?? '',
    runtime: definition.runtime ?? DEFAULTS.runtime,
    handler: definition.handler ?? DEFAULTS.handler,
    memorySize: definition.memorySize ?? DEFAULTS.memorySize,
    timeout: definition.timeout ?? DEFAULTS.timeout,
    ...(definition.role ? { role: definition.role } : {}),
    environmentVariables: { ...(definition.environmentVariables ?? {}) },
    instanceConcurrency: 1,
    internetAccess: true,
    diskSize: 512,
    state: 'Active',
    lastUpdateStatus: 'Successful',
    createdTime: where.createdAt,
    lastModifiedTime: where.createdAt,
  };
}

/** [LISTTR] One page of a function's triggers, in name order. */
export function triggersPage(
  name: string,
  definition: LocalFunctionDefinition,
  query: URLSearchParams,
  where: { region: string; accountId: string; createdAt: string },
): { triggers: Record<string, unknown>[]; nextToken?: string } {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ControlApiError(HTTP_BAD_REQUEST, 'InvalidArgument', `limit must be an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`);
  }
  const prefix = query.get('prefix') ?? '';
  const from = query.get('nextToken') ?? '';
  const all = [...(definition.triggers ?? [])]
    .filter((trigger) => trigger.triggerName.startsWith(prefix))
    .sort((a, b) => a.triggerName.localeCompare(b.triggerName));
  const remaining = all.filter((trigger) => trigger.triggerName >= from);
  const page = remaining.slice(0, limit);
  const next = remaining[limit];
  return {
    triggers: page.map((trigger) => triggerView(name, trigger, where)),
    ...(next ? { nextToken: next.triggerName } : {}),
  };
}

function triggerView(name: string, trigger: LocalTriggerDefinition, where: { region: string; accountId: string; createdAt: string }): Record<string, unknown> {
  return {
    triggerName: trigger.triggerName,
    triggerType: trigger.triggerType,
    triggerId: idFor(`trigger:${name}:${trigger.triggerName}`),
    triggerConfig: JSON.stringify(trigger.triggerConfig),
    ...(trigger.sourceArn ? { sourceArn: trigger.sourceArn } : {}),
    ...(trigger.invocationRole ? { invocationRole: trigger.invocationRole } : {}),
    qualifier: trigger.qualifier ?? 'LATEST',
    targetArn: functionArn(where.region, where.accountId, name),
    status: 'OK',
    description: '',
    createdTime: where.createdAt,
    lastModifiedTime: where.createdAt,
    ...(trigger.triggerType === 'http' && trigger.urlInternet ? { httpTrigger: { urlInternet: trigger.urlInternet, urlIntranet: trigger.urlInternet } } : {}),
  };
}
