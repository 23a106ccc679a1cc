import OpenApiUtil from '@alicloud/openapi-util';
import { OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import type { Config } from '../../runtime/config';
import { RemoteCallError, YikeError } from '../../runtime/errors';
import * as z from '../../runtime/zod';
import type { CredentialsProvider } from '../openapi/credentials';
import { classifyOpenApiError, NO_KEEP_ALIVE, openApiClientCache, type ServiceProfile } from '../openapi/client';

/**
 * FC 3.0's control API (2023-03-30), read only: GetFunction and ListTriggers, built as the official SDK builds them
 * (aliyun/alibabacloud-typescript-sdk fc-20230330/src/client.ts, getFunctionWithOptions / listTriggersWithOptions):
 * ROA, `GET /2023-03-30/functions/{functionName}` (query `qualifier`) and `GET /2023-03-30/functions/{functionName}/triggers`
 * (query `limit`, `nextToken`, `prefix`), ACS3 signed, JSON answers: the Function model (functionName, runtime, handler,
 * state, lastUpdateStatus, environmentVariables, …) and ListTriggersOutput {triggers: Trigger[], nextToken}, each trigger
 * with `triggerConfig` as a JSON *string* and, for HTTP triggers, httpTrigger {urlInternet, urlIntranet}.
 * Errors are {Code, Message, RequestId}; an unknown function is FunctionNotFound (404).
 */
const FC_API_VERSION = '2023-03-30';
const FUNCTION_NOT_FOUND = 'FunctionNotFound';
const PAGE_LIMIT = '100';
const MAX_PAGES = 10;

const functionSchema = z.looseObject({
  functionName: z.string(),
  runtime: z.optional(z.string()),
  handler: z.optional(z.string()),
  state: z.optional(z.string()),
  lastUpdateStatus: z.optional(z.string()),
  environmentVariables: z.optional(z.record(z.string(), z.string())),
});

const triggersSchema = z.looseObject({
  nextToken: z.optional(z.string()),
  triggers: z.optional(
    z.array(
      z.looseObject({
        triggerName: z.string(),
        triggerType: z.string(),
        sourceArn: z.optional(z.string()),
        triggerConfig: z.optional(z.string()),
        httpTrigger: z.optional(z.looseObject({ urlInternet: z.optional(z.string()) })),
      }),
    ),
  ),
});

class FcControlError extends RemoteCallError {
  constructor(...args: ConstructorParameters<typeof RemoteCallError>) {
    super(...args);
    this.name = 'FcControlError';
  }
}

const PROFILE: ServiceProfile<FcControlError> = {
  name: 'FC',
  codes: { timeout: 'FC_TIMEOUT', connectionFailed: 'FC_CONNECTION_FAILED', connectionReset: 'FC_CONNECTION_RESET', badResponse: 'FC_BAD_RESPONSE' },
  retryableAnswer: () => false,
  create: (code, message, outcome, options) => new FcControlError(code, message, outcome, options),
};

function params(action: string, pathname: string): Params {
  return new Params({
    action,
    version: FC_API_VERSION,
    protocol: 'HTTPS',
    pathname,
    method: 'GET',
    authType: 'AK',
    style: 'ROA',
    reqBodyType: 'json',
    bodyType: 'json',
  });
}

function parsed<T extends z.ZodMiniType>(schema: T, body: unknown, action: string): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new YikeError('FC_BAD_RESPONSE', `${action} answered an unexpected body (${result.error.issues.map((issue) => issue.path.join('.')).join(', ')})`);
  return result.data;
}

function parseTriggerConfig(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function createFunctionDirectory(options: { config: Config['fc']; credentials: CredentialsProvider; readTimeoutMs?: number }) {
  const { config } = options;
  if (!config.endpoint) {
    throw new YikeError('FC_CONFIG_MISSING', 'No Function Compute endpoint: set FC_ACCOUNT_ID for <account>.<ICE_REGION>.fc.aliyuncs.com, or FC_ENDPOINT');
  }
  const readTimeout = options.readTimeoutMs ?? 10_000;
  const clientFor = openApiClientCache({
    endpoint: config.endpoint,
    protocol: config.protocol,
    region: config.region,
    readTimeoutMs: readTimeout,
    connectTimeoutMs: 5_000,
  });
  const call = async (action: string, pathname: string, query: Record<string, string>): Promise<unknown> => {
    try {
      const response = await clientFor(options.credentials()).callApi(
        params(action, pathname),
        new OpenApiRequest({ headers: { ...NO_KEEP_ALIVE }, query }),
        new RuntimeOptions({ autoretry: false, readTimeout, connectTimeout: 5_000 }),
      );
      return (response as { body?: unknown }).body;
    } catch (raw) {
      throw classifyOpenApiError(raw, true, PROFILE);
    }
  };
  const path = (name: string) => `/${FC_API_VERSION}/functions/${OpenApiUtil.getEncodeParam(name)}`;
  return {
    async getFunction(name: string) {
      let body: unknown;
      try {
        body = await call('GetFunction', path(name), {});
      } catch (error) {
        if ((error as { code?: string }).code === FUNCTION_NOT_FOUND) return undefined;
        throw error;
      }
      const found = parsed(functionSchema, body, 'GetFunction');
      return { ...found, environmentVariables: found.environmentVariables ?? {} };
    },
    async listTriggers(name: string) {
      const triggers: { triggerName: string; triggerType: string; sourceArn?: string; triggerConfig: Record<string, unknown>; urlInternet?: string }[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const query: Record<string, string> = { limit: PAGE_LIMIT, ...(nextToken ? { nextToken } : {}) };
        const answer = parsed(triggersSchema, await call('ListTriggers', `${path(name)}/triggers`, query), 'ListTriggers');
        for (const trigger of answer.triggers ?? []) {
          triggers.push({
            triggerName: trigger.triggerName,
            triggerType: trigger.triggerType,
            sourceArn: trigger.sourceArn,
            triggerConfig: parseTriggerConfig(trigger.triggerConfig),
            urlInternet: trigger.httpTrigger?.urlInternet,
          });
        }
        nextToken = answer.nextToken || undefined;
        if (!nextToken) break;
      }
      return triggers;
    },
  };
}
