/**
 * What the local ICE suites share: a fresh server per test (closeIceServers after each), the real
 * @alicloud/openapi-client calling it, the error it throws, and signed requests captured for byte-for-byte replay.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import { DEFAULT_LOCAL_CREDENTIALS, startIceServer, type IceServerOptions, type LocalCredential, type LocalIceServer } from '../../../local/ice/server';

export const STS = DEFAULT_LOCAL_CREDENTIALS[0] as LocalCredential;
export const IMAGE_KEY = 'LoadImage.1.TargetImage';
export const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
export const REQUEST_ID_PATTERN = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
export const JOB_ID_PATTERN = /^[0-9a-f]{32}$/;
/**
 * Far beyond any loopback call, however busy the machine (httpx's connect timeout is also the socket's idle timeout
 * while it waits for the answer); a test of timeouts passes its own.
 */
const READ_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export type Fields = Record<string, string>;

const running: LocalIceServer[] = [];

export async function ice(overrides: IceServerOptions = {}): Promise<LocalIceServer> {
  const started = await startIceServer(overrides);
  running.push(started);
  return started;
}

/** For afterEach: closes every server ice() started. */
export async function closeIceServers(): Promise<void> {
  await Promise.all(running.splice(0).map((started) => started.close()));
}

export function clientFor(
  endpoint: string,
  credential: { accessKeyId: string; accessKeySecret: string; securityToken?: string } = STS,
  readTimeout = READ_TIMEOUT_MS,
): OpenApiClient {
  return new OpenApiClient(new Config({ ...credential, endpoint, protocol: 'http', readTimeout, connectTimeout: CONNECT_TIMEOUT_MS }));
}

/** The parameters the official ice-20201109 SDK uses for these actions (docs/platform-facts.md, "Where each field travels"). */
function iceParams(action: string, version = '2020-11-09', method = 'POST'): Params {
  return new Params({
    action,
    version,
    protocol: 'HTTPS',
    pathname: '/',
    method,
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}

export async function callIce(
  client: OpenApiClient,
  action: string,
  request: { body?: Fields; query?: Fields },
  version?: string,
  method?: string,
): Promise<any> {
  const response = await client.callApi(iceParams(action, version, method), new OpenApiRequest(request), new RuntimeOptions({}));
  return (response as { body: unknown }).body;
}

export function submitFields(fields: Fields = {}): Fields {
  return { AppId: 'sys-ao-smith-1', AppParams: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }), ...fields };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function expectIceErrorBody(error: any, code: string, statusCode: number): void {
  expect(error.code).toBe(code);
  expect(error.statusCode).toBe(statusCode);
  expect(error.data).toMatchObject({
    RequestId: expect.stringMatching(REQUEST_ID_PATTERN),
    HostId: 'ice.cn-shanghai.aliyuncs.com',
    Code: code,
    Message: expect.any(String),
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=ICE`,
  });
}

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Lets the real client sign a request against a throwaway server and returns exactly what went over the wire. */
export async function captureSignedRequest(action: string, request: { body?: Fields; query?: Fields }): Promise<RawRequest> {
  let captured: RawRequest | undefined;
  const capture = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured = { method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RequestId: 'captured', JobId: 'captured' }));
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = capture.address() as AddressInfo;
    await callIce(clientFor(`127.0.0.1:${port}`), action, request);
  } finally {
    capture.closeAllConnections();
    await new Promise((resolve) => capture.close(resolve));
  }
  if (!captured) throw new Error('nothing was captured');
  return captured;
}

/** Sends a captured request (optionally altered) to the server as it is, signature and all. */
export function replay(server: LocalIceServer, raw: RawRequest): Promise<{ status: number; body: any }> {
  const headers = { ...raw.headers };
  // Framing is redone by Node for the replayed body.
  delete headers['transfer-encoding'];
  delete headers['content-length'];
  delete headers.connection;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method: raw.method, path: raw.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(raw.body);
  });
}
