/**
 * A local stand-in for ROS (Resource Orchestration Service, API 2019-09-10): a real HTTP server on 127.0.0.1 that
 * checks what ROS checks, for `npm run deploy`'s tests: the ACS3-HMAC-SHA256 signature (local/acs3.ts), the API version
 * and action, each action's documented fields, and the template and its parameters (template.ts, resource-types.ts).
 * Stacks move through their *_IN_PROGRESS states one GetStack at a time (`progressGets` answers before completing), so
 * a client's polling is exercised without any clock.
 *
 * Sources: RPC style as the official SDK sends it (ros-20190910/src/client.ts: POST /, every field in the query but
 * TemplateBody, which goes in the form body; JSON answers); the actions' pages and error codes: stacks.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NonceCache, verifyAcs3Request, type Acs3Secret } from '../acs3';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';
import { listenOnLoopback, LOOPBACK_HOST, queryRecord, rawPath, readBody } from '../http';
import { firstHeader } from '../ice/request-fields';
import { createStacks, RosApiError, type LocalStack } from './stacks';

interface LocalCredential extends Acs3Secret {
  accessKeyId: string;
}

export interface RosServerOptions {
  port?: number;
  /** Keys that may call it. Default: the local STS triple (local/dev-fixtures.ts). */
  credentials?: readonly LocalCredential[];
  /** The caller's account (ALIYUN::AccountId, the ARNs it makes). Default 1234567890123456. */
  accountId?: string;
  /** GetStack answers an action gives *_IN_PROGRESS before it completes. Default 1. */
  progressGets?: number;
}

interface RosCall {
  action?: string;
  status: number;
  code?: string;
  /** The fields received, TemplateBody left out (it is in stacks()). */
  fields: Record<string, string>;
}

export interface LocalRosServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, what openapi-client's Config.endpoint takes (with protocol 'http'). */
  readonly endpoint: string;
  calls(): RosCall[];
  stacks(): readonly LocalStack[];
  close(): Promise<void>;
}

const ROS_API_VERSION = '2019-09-10';
const MAX_BODY_BYTES = 1024 * 1024;
const JSON_CONTENT_TYPE = 'application/json;charset=utf-8';

export async function startRosServer(options: RosServerOptions = {}): Promise<LocalRosServer> {
  const credentials = new Map((options.credentials ?? [LOCAL_STS_CREDENTIALS]).map((credential) => [credential.accessKeyId, credential]));
  const stacks = createStacks({ accountId: options.accountId ?? '1234567890123456', progressGets: options.progressGets ?? 1 });
  const seenNonces = new NonceCache();
  const calls: RosCall[] = [];
  const actions: Record<string, (fields: ReadonlyMap<string, string>) => Record<string, unknown>> = {
    CreateStack: stacks.create,
    UpdateStack: stacks.update,
    GetStack: stacks.get,
    DeleteStack: stacks.delete,
    ListStacks: stacks.list,
  };

  const answer = (req: IncomingMessage, url: URL, body: Buffer): Record<string, unknown> => {
    if (req.method !== 'POST' && req.method !== 'GET') throw new RosApiError(403, 'UnsupportedHTTPMethod', 'This http method not supported.');
    if (url.pathname !== '/') throw new RosApiError(404, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
    const verdict = verifyAcs3Request({
      method: req.method,
      path: rawPath(req.url ?? '/'),
      query: queryRecord(url.searchParams),
      headers: req.headers,
      body,
      lookupSecret: (id) => credentials.get(id),
      seenNonces,
    });
    if (!verdict.ok) throw new RosApiError(verdict.status, verdict.code, verdict.message);
    if (firstHeader(req, 'x-acs-version') !== ROS_API_VERSION)
      throw new RosApiError(400, 'InvalidVersion', `Specified parameter Version is not valid: ROS speaks ${ROS_API_VERSION}.`);
    const action = actions[firstHeader(req, 'x-acs-action') ?? ''];
    if (!action) throw new RosApiError(404, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
    return action(fieldsOf(url, body, firstHeader(req, 'content-type')));
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`);
    const body = (await readBody(req, MAX_BODY_BYTES)) ?? Buffer.alloc(0);
    const requestId = randomUUID().toUpperCase();
    const fields = Object.fromEntries([...fieldsOf(url, body, firstHeader(req, 'content-type'))].filter(([name]) => name !== 'TemplateBody'));
    let status = 200;
    let result: Record<string, unknown>;
    try {
      result = { RequestId: requestId, ...answer(req, url, body) };
    } catch (error) {
      if (!(error instanceof RosApiError)) throw error;
      status = error.status;
      result = { RequestId: requestId, HostId: 'ros.aliyuncs.com', Code: error.code, Message: error.message };
    }
    calls.push({ action: firstHeader(req, 'x-acs-action'), status, ...(status === 200 ? {} : { code: String(result.Code) }), fields });
    res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'x-acs-request-id': requestId });
    res.end(JSON.stringify(result));
  };

  const { port, close } = await listenOnLoopback(serve, { port: options.port, onAbandoned: () => undefined });
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    endpoint: `${LOOPBACK_HOST}:${port}`,
    calls: () => calls.map((call) => ({ ...call, fields: { ...call.fields } })),
    stacks: () => stacks.all(),
    close,
  };
}

/** Query and form-body fields (RPC endpoints take both); an empty value counts as absent. */
function fieldsOf(url: URL, body: Buffer, contentType: string | undefined): Map<string, string> {
  const fields = new Map<string, string>();
  const form = (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : new URLSearchParams();
  for (const params of [form, url.searchParams]) for (const [name, value] of params) if (value !== '' && !fields.has(name)) fields.set(name, value);
  return fields;
}
