import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import {
  ACS3_ALGORITHM,
  NonceCache,
  canonicalQueryString,
  canonicalRequest,
  rfc3986Encode,
  sha256Hex,
  sign,
  stringToSign,
  verifyAcs3Request,
  type Acs3Request,
  type Acs3Secret,
} from '../../../local/acs3';
import {
  DEFAULT_LOCAL_CREDENTIALS,
  DEFAULT_MAX_APP_PARAMS_LENGTH,
  MAX_BODY_BYTES,
  MAX_ID_FIELD_LENGTH,
  startIceServer,
  type IceServerOptions,
  type LocalCredential,
  type LocalIceServer,
} from '../../../local/ice/server';

const STS = DEFAULT_LOCAL_CREDENTIALS[0] as LocalCredential;
const IMAGE_KEY = 'LoadImage.1.TargetImage';
const IMAGE_URL = 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg';
const REQUEST_ID_PATTERN = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const JOB_ID_PATTERN = /^[0-9a-f]{32}$/;
/** ICE's documented time format: 2026-02-06T18:53:34.001+08:00. */
const ICE_TIME_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/;
/** Generous for loopback, small enough that a hung test fails fast. */
const READ_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
const MINUTE_MS = 60 * 1000;

type Fields = Record<string, string>;

const running: LocalIceServer[] = [];

async function ice(overrides: IceServerOptions = {}): Promise<LocalIceServer> {
  const started = await startIceServer(overrides);
  running.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => started.close()));
});

function clientFor(
  endpoint: string,
  credential: { accessKeyId: string; accessKeySecret: string; securityToken?: string } = STS,
  readTimeout = READ_TIMEOUT_MS,
): OpenApiClient {
  return new OpenApiClient(new Config({ ...credential, endpoint, protocol: 'http', readTimeout, connectTimeout: CONNECT_TIMEOUT_MS }));
}

/** The parameters the official ice-20201109 SDK uses for these actions [reference README]. */
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

async function callIce(client: OpenApiClient, action: string, request: { body?: Fields; query?: Fields }, version?: string, method?: string): Promise<any> {
  const response = await client.callApi(iceParams(action, version, method), new OpenApiRequest(request), new RuntimeOptions({}));
  return (response as { body: unknown }).body;
}

function submitFields(fields: Fields = {}): Fields {
  return { AppId: 'sys-ao-smith-1', AppParams: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }), ...fields };
}

/** The error a promise rejects with; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function expectIceErrorBody(error: any, code: string, statusCode: number): void {
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

interface RawRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Lets the real client sign a request against a throwaway server and returns exactly what went over the wire. */
async function captureSignedRequest(action: string, request: { body?: Fields; query?: Fields }): Promise<RawRequest> {
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
function replay(server: LocalIceServer, raw: RawRequest): Promise<{ status: number; body: any }> {
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

describe('the local ICE endpoint driven by the real @alicloud/openapi-client', () => {
  it('accepts a SubmitYikeAIAppJob form body and records exactly the fields it received', async () => {
    // Arrange
    const server = await ice();
    const fields = submitFields({ ProductionId: 'pd_0617169475', FolderId: 'fd-cReaEcVqQK' });

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: fields });

    // Assert
    expect(answer).toEqual({ RequestId: expect.stringMatching(REQUEST_ID_PATTERN), JobId: expect.stringMatching(JOB_ID_PATTERN) });
    expect(server.jobs()).toEqual([
      {
        jobId: answer.JobId,
        requestId: answer.RequestId,
        appId: 'sys-ao-smith-1',
        appParams: { [IMAGE_KEY]: IMAGE_URL },
        appParamsRaw: fields.AppParams,
        productionId: 'pd_0617169475',
        folderId: 'fd-cReaEcVqQK',
        accessKeyId: STS.accessKeyId,
        fieldsFrom: 'body',
        receivedAt: expect.any(String),
      },
    ]);
    expect(server.calls()).toEqual([{ action: 'SubmitYikeAIAppJob', version: '2020-11-09', method: 'POST', fields, status: 200, requestId: answer.RequestId }]);
  });

  it('accepts the same fields in the query string, as RPC endpoints do', async () => {
    // Arrange
    const server = await ice();
    const fields = submitFields({ FolderId: 'fd-cReaEcVqQK' });

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { query: fields });

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.jobs()).toMatchObject([{ appId: 'sys-ao-smith-1', appParamsRaw: fields.AppParams, folderId: 'fd-cReaEcVqQK', fieldsFrom: 'query' }]);
    expect(server.jobs()[0]).not.toHaveProperty('productionId');
  });

  it.each(['body', 'query'] as const)('keeps spaces, plus and percent signs, CJK and reserved characters exactly when they travel in the %s', async (place) => {
    // Arrange
    const server = await ice();
    const image = "https://yike-uploads.oss-cn-shanghai.aliyuncs.com/图片/女 1.jpg?a=b+c%20d&e=f=g!*'()";
    const fields = submitFields({
      AppParams: JSON.stringify({ [IMAGE_KEY]: image, note: '100% real + fake & more=yes' }),
      ProductionId: "proj 1+2%3&x=y!*'()",
      FolderId: '文件夹/女 1',
    });

    // Act
    await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { [place]: fields });

    // Assert
    const [job] = server.jobs();
    expect(job?.appParamsRaw).toBe(fields.AppParams);
    expect(job?.appParams[IMAGE_KEY]).toBe(image);
    expect(job?.productionId).toBe(fields.ProductionId);
    expect(job?.folderId).toBe(fields.FolderId);
    expect(job?.fieldsFrom).toBe(place);
  });

  it('accepts a GET with the fields in the query string', async () => {
    // Arrange
    const server = await ice();

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { query: submitFields() }, undefined, 'GET');

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.calls()).toMatchObject([{ method: 'GET', status: 200 }]);
  });

  it('catches a client that hashes a form body it then does not send (a GET with a body) with ContentSha256NotMatched', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }, undefined, 'GET'));

    // Assert
    expectIceErrorBody(error, 'ContentSha256NotMatched', 400);
    expect(server.jobs()).toEqual([]);
  });

  it('accepts a long-term AccessKey that has no security token', async () => {
    // Arrange
    const longTerm = { accessKeyId: 'LTAI5tLocalLongTermKey', accessKeySecret: 'long-term-secret' };
    const server = await ice({ credentials: [longTerm] });

    // Act
    const answer = await callIce(clientFor(server.endpoint, longTerm), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Assert
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.jobs()[0]?.accessKeyId).toBe(longTerm.accessKeyId);
  });

  it('rejects a request signed with the wrong secret with SignatureDoesNotMatch, status 400 and the server string to sign', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, accessKeySecret: 'not-the-secret' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'SignatureDoesNotMatch', 400);
    expect(error.data.Message).toMatch(/^Specified signature is not matched with our calculation\. server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toMatchObject([{ status: 400, code: 'SignatureDoesNotMatch' }]);
  });

  it('rejects an AccessKey it does not know with InvalidAccessKeyId.NotFound and status 404', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, accessKeyId: 'STS.SomeoneElse' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidAccessKeyId.NotFound', 404);
  });

  it('rejects an STS AccessKey sent without its security token with MissingSecurityToken', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'MissingSecurityToken', 400);
    expect(server.jobs()).toEqual([]);
  });

  it('rejects an STS AccessKey sent with another security token with InvalidSecurityToken.MismatchWithAccessKey', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint, { ...STS, securityToken: 'someone-elses-token' });

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidSecurityToken.MismatchWithAccessKey', 400);
  });

  it('rejects an expired STS token with InvalidSecurityToken.Expired', async () => {
    // Arrange
    const expired = { ...STS, expiresAt: new Date(Date.now() - MINUTE_MS) };
    const server = await ice({ credentials: [expired] });

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(error, 'InvalidSecurityToken.Expired', 400);
  });

  it('answers MissingParameter naming AppId when the request has no AppId', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(
      callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: { AppParams: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) } }),
    );

    // Assert
    expectIceErrorBody(error, 'MissingParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
    expect(server.jobs()).toEqual([]);
  });

  it('answers InvalidParameter naming AppId for an app that does not exist', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ AppId: 'sys-ao-smith-3' }) }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
  });

  it.each([
    ['is not JSON', `{${IMAGE_KEY}: ${IMAGE_URL}}`],
    ['is a JSON array', JSON.stringify([IMAGE_URL])],
    ['is a JSON string', JSON.stringify(IMAGE_URL)],
    ['lacks the image key', JSON.stringify({ 'LoadImage.2.TargetImage': IMAGE_URL })],
    ['holds an empty image', JSON.stringify({ [IMAGE_KEY]: ' ' })],
    ['holds the image as an object', JSON.stringify({ [IMAGE_KEY]: { url: IMAGE_URL } })],
    ['is longer than the limit', JSON.stringify({ [IMAGE_KEY]: IMAGE_URL, padding: 'x'.repeat(DEFAULT_MAX_APP_PARAMS_LENGTH) })],
  ])('answers InvalidParameter naming AppParams when AppParams %s', async (_case, appParams) => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ AppParams: appParams }) }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppParams"');
    expect(server.jobs()).toEqual([]);
  });

  it('answers InvalidParameter naming ProductionId when it is longer than the local limit', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(
      callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields({ ProductionId: 'p'.repeat(MAX_ID_FIELD_LENGTH + 1) }) }),
    );

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"ProductionId"');
  });

  it('refuses a field given in both the body and the query with different values', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields(), query: { AppId: 'sys-ao-smith-2' } }));

    // Assert
    expectIceErrorBody(error, 'InvalidParameter', 400);
    expect(error.data.Message).toContain('"AppId"');
  });

  it('answers InvalidApi.NotFound with status 404 for an action ICE does not have', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'CancelYikeAIAppJob', { query: { JobId: 'x' } }));

    // Assert
    expectIceErrorBody(error, 'InvalidApi.NotFound', 404);
  });

  it('answers InvalidVersion for the same action under another API version', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }, '2026-03-19'));

    // Assert
    expectIceErrorBody(error, 'InvalidVersion', 400);
    expect(server.jobs()).toEqual([]);
  });
});

describe('injected faults as the real client sees them', () => {
  it('throttles the next request with Throttling.User and status 400, creates no job, then serves normally', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint);
    server.faults.throttleNext(1);

    // Act
    const error = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));
    const next = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() });

    // Assert
    expectIceErrorBody(error, 'Throttling.User', 400);
    expect(next.JobId).toMatch(JOB_ID_PATTERN);
    expect(server.jobs()).toHaveLength(1);
    expect(server.calls().map((call) => call.status)).toEqual([400, 200]);
  });

  it('fails requests with the given status and code, in the order the faults were queued', async () => {
    // Arrange
    const server = await ice();
    const client = clientFor(server.endpoint);
    server.faults.failNext(1, 503, 'ServiceUnavailable');
    server.faults.failNext(1, 500, 'InternalError');

    // Act
    const first = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));
    const second = await rejectionOf(callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expectIceErrorBody(first, 'ServiceUnavailable', 503);
    expectIceErrorBody(second, 'InternalError', 500);
    expect(server.jobs()).toEqual([]);
  });

  it('makes the client throw a SyntaxError without a status when a failure has a non-JSON body', async () => {
    // Arrange
    const server = await ice();
    server.faults.failNext(1, 502, 'BadGateway', { nonJsonBody: true });

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expect(error.name).toBe('SyntaxError');
    expect(error.statusCode).toBeUndefined();
    expect(server.calls()).toMatchObject([{ status: 502, code: 'BadGateway' }]);
  });

  it('drops the connection without an answer, so the client sees ECONNRESET and no job exists', async () => {
    // Arrange
    const server = await ice();
    server.faults.dropNext(1);

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expect(error.code).toBe('ECONNRESET');
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toMatchObject([{ action: 'SubmitYikeAIAppJob', status: 0 }]);
  });

  it('answers too late for a short read timeout, so the client gets RequestTimeoutError although the job was created', async () => {
    // Arrange
    const readTimeoutMs = 200;
    const server = await ice();
    server.faults.delayNext(1, readTimeoutMs * 5);

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint, STS, readTimeoutMs), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expect(error.name).toBe('RequestTimeoutError');
    expect(error.code).toBeUndefined();
    expect(server.jobs()).toHaveLength(1);
  });

  it('takes faults from POST /__local/faults as well', async () => {
    // Arrange
    const server = await ice();
    const response = await fetch(`${server.url}/__local/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: 1, fail: { count: 1, status: 503, code: 'ServiceUnavailable' } }),
    });

    // Act
    const first = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));
    const second = await rejectionOf(callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    expect(await response.json()).toEqual({ ok: true, pendingFaults: 2 });
    expect(first.code).toBe('Throttling.User');
    expect(second.code).toBe('ServiceUnavailable');
  });
  it('refuses a faults request with a bad entry and queues none of it', async () => {
    // Arrange
    const server = await ice();

    // Act
    const response = await fetch(`${server.url}/__local/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: 1, fail: { count: 1, status: 200, code: 'Fine' } }),
    });
    const answer = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Assert
    expect(response.status).toBe(400);
    expect(answer.JobId).toMatch(JOB_ID_PATTERN);
  });
});

describe('job status through GetYikeAIAppJob and BatchGetYikeAIAppJob', () => {
  it('reports a job Created, Queuing, Executing, then Finished with a video result on its settable clock, with the fields at the top level', async () => {
    // Arrange
    const finishAfterMs = 60_000;
    let now = Date.parse('2026-11-30T10:00:00.000Z');
    const server = await ice({ finishAfterMs, now: () => now });
    const client = clientFor(server.endpoint);
    const fields = submitFields({ ProductionId: 'pd_0617169475' });
    const { JobId } = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });

    // Act
    const created = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.2;
    const queuing = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.3;
    const executing = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });
    now += finishAfterMs * 0.5;
    const finished = await callIce(client, 'GetYikeAIAppJob', { query: { JobId } });

    // Assert
    expect(created).toEqual({
      RequestId: expect.stringMatching(REQUEST_ID_PATTERN),
      JobId,
      AppId: 'sys-ao-smith-1',
      AppParams: fields.AppParams,
      ProductionId: 'pd_0617169475',
      Status: 'Created',
    });
    expect(queuing).toMatchObject({ Status: 'Queuing' });
    expect(queuing).not.toHaveProperty('ExecutionStartTime');
    expect(executing).toMatchObject({ Status: 'Executing', ExecutionStartTime: '2026-11-30T18:00:20.000+08:00' });
    expect(executing).not.toHaveProperty('ExecutionFinishTime');
    expect(finished).toMatchObject({
      Status: 'Finished',
      ExecutionStartTime: executing.ExecutionStartTime,
      ExecutionFinishTime: '2026-11-30T18:01:00.000+08:00',
      Result: { VideoResult: [{ MediaId: expect.stringMatching(JOB_ID_PATTERN), OutputUrl: expect.stringMatching(/^https:\/\/.+\.mp4$/) }] },
    });
  });

  it('ends a job Failed, without a result, when the image key contains "fail" (URL or registered media id)', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    const client = clientFor(server.endpoint);
    const byUrl = await callIce(client, 'SubmitYikeAIAppJob', {
      body: submitFields({ AppParams: JSON.stringify({ [IMAGE_KEY]: 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/will-fail.jpg' }) }),
    });
    const { MediaId } = await callIce(client, 'RegisterMediaInfo', { body: { InputURL: 'oss://yike-uploads/uploads/female/fail-me.png', MediaType: 'image' } });
    const byMedia = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields({ AppParams: JSON.stringify({ [IMAGE_KEY]: MediaId }) }) });
    const fine = await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await callIce(client, 'BatchGetYikeAIAppJob', { query: { JobIds: [byUrl.JobId, byMedia.JobId, fine.JobId].join(',') } });

    // Assert
    expect(answer.JobList.map((job: any) => job.Status)).toEqual(['Failed', 'Failed', 'Finished']);
    expect(answer.JobList[0]).not.toHaveProperty('Result');
    expect(answer.JobList[0]).toMatchObject({ ExecutionFinishTime: expect.stringMatching(ICE_TIME_PATTERN) });
  });

  it('answers seeded jobs like submitted ones, so large fixtures need no signed submits', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    server.seedJobs([{ jobId: 'a'.repeat(32), appId: 'sys-ao-smith-1', appParamsRaw: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) }]);

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'BatchGetYikeAIAppJob', { query: { JobIds: 'a'.repeat(32) } });

    // Assert
    expect(answer.JobList).toEqual([
      expect.objectContaining({ JobId: 'a'.repeat(32), Status: 'Finished', AppInputConfig: JSON.stringify({ [IMAGE_KEY]: IMAGE_URL }) }),
    ]);
  });

  it('answers ResourceNotFound with status 404 for a JobId it never issued', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'GetYikeAIAppJob', { query: { JobId: '0'.repeat(32) } }));

    // Assert
    expectIceErrorBody(error, 'ResourceNotFound', 404);
  });

  it('lists known jobs for comma-separated JobIds, with AppInputConfig, and leaves unknown ids out', async () => {
    // Arrange
    const server = await ice({ finishAfterMs: 0 });
    const client = clientFor(server.endpoint);
    const fields = submitFields();
    const first = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });
    const second = await callIce(client, 'SubmitYikeAIAppJob', { body: fields });

    // Act
    const answer = await callIce(client, 'BatchGetYikeAIAppJob', { query: { JobIds: `${first.JobId},${'f'.repeat(32)},${second.JobId}` } });

    // Assert
    expect(answer.RequestId).toMatch(REQUEST_ID_PATTERN);
    expect(answer.JobList.map((job: any) => job.JobId)).toEqual([first.JobId, second.JobId]);
    expect(answer.JobList[0]).toMatchObject({ AppId: 'sys-ao-smith-1', AppInputConfig: fields.AppParams, Status: 'Finished' });
    expect(answer.JobList[0]).not.toHaveProperty('AppParams');
  });
});

describe('signature checks on requests replayed byte for byte', () => {
  it('accepts a signed request once and rejects the replay with SignatureNonceUsed', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const first = await replay(server, raw);
    const second = await replay(server, raw);

    // Assert
    expect(first.status).toBe(200);
    expect(second).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
    expect(server.jobs()).toHaveLength(1);
  });

  it('rejects a body that does not hash to x-acs-content-sha256 with ContentSha256NotMatched', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, body: Buffer.from(raw.body.toString('utf8').replace('sys-ao-smith-1', 'sys-ao-smith-2')) });

    // Assert
    expect(answer).toMatchObject({ status: 400, body: { Code: 'ContentSha256NotMatched' } });
    expect(server.jobs()).toEqual([]);
  });

  it('rejects a changed query string with SignatureDoesNotMatch', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { query: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, url: raw.url.replace('sys-ao-smith-1', 'sys-ao-smith-2') });

    // Assert
    expect(answer).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
  });

  it('rejects an x-acs-* header that is not signed, and a request without Authorization', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });
    const { authorization: _removed, ...unsignedHeaders } = raw.headers;

    // Act
    const extraHeader = await replay(server, { ...raw, headers: { ...raw.headers, 'x-acs-extra': 'not signed' } });
    const noAuthorization = await replay(server, { ...raw, headers: unsignedHeaders });

    // Assert
    expect(extraHeader).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature', Message: expect.stringContaining('x-acs-extra') } });
    expect(noAuthorization).toMatchObject({ status: 400, body: { Code: 'MissingAuthorization' } });
  });

  it('answers 413 RequestEntityTooLarge for a body over the limit', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, body: Buffer.alloc(MAX_BODY_BYTES + 1, 'a') });

    // Assert
    expect(answer).toMatchObject({ status: 413, body: { Code: 'RequestEntityTooLarge', HostId: 'ice.cn-shanghai.aliyuncs.com' } });
  });
});

describe('inspection routes and secrecy', () => {
  it('shows jobs and calls over HTTP without a signature and resets them', async () => {
    // Arrange
    const server = await ice();
    await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const jobs: any = await (await fetch(`${server.url}/__local/jobs`)).json();
    const calls: any = await (await fetch(`${server.url}/__local/calls`)).json();
    const reset = await fetch(`${server.url}/__local/reset`, { method: 'POST' });

    // Assert
    expect(jobs.jobs).toMatchObject([{ appId: 'sys-ao-smith-1', fieldsFrom: 'body' }]);
    expect(calls.calls).toMatchObject([{ action: 'SubmitYikeAIAppJob', status: 200 }]);
    expect(reset.status).toBe(200);
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toEqual([]);
  });

  it('never puts the secret, the security token or the Authorization header in its log or its call records', async () => {
    // Arrange
    const lines: Array<Record<string, unknown>> = [];
    const server = await ice({ log: (line) => lines.push(line) });
    const client = clientFor(server.endpoint);

    // Act
    await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields(), query: { SecurityToken: STS.securityToken as string } });
    await rejectionOf(callIce(clientFor(server.endpoint, { ...STS, accessKeySecret: 'wrong-secret' }), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    const recorded = JSON.stringify({ lines, calls: server.calls(), jobs: server.jobs() });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(recorded).not.toContain(STS.accessKeySecret);
    expect(recorded).not.toContain('wrong-secret');
    expect(recorded).not.toContain(STS.securityToken);
    expect(recorded).not.toContain(ACS3_ALGORITHM);
    expect(server.calls()[0]?.fields.SecurityToken).toBe('[redacted]');
  });

  it('listens on 127.0.0.1 only and gives openapi-client an endpoint without a scheme', async () => {
    // Arrange / Act
    const server = await ice();

    // Assert
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.endpoint).toBe(`127.0.0.1:${server.port}`);
  });
});

/**
 * A request signed by hand, checked with shell tools (sha256sum, openssl dgst -hmac) rather than with this module:
 *   printf '<canonical request>' | sha256sum   -> CANONICAL_REQUEST_SHA256
 *   printf 'ACS3-HMAC-SHA256\n<that hash>' | openssl dgst -sha256 -hmac example-secret -> SIGNATURE
 */
const HAND = {
  body: 'AppId=sys-ao-smith-1',
  bodySha256: 'a27ae3edced3a704cb7364c475e4d8d0ec7a89729b84a3c23638c487bbd34456',
  date: '2026-01-02T03:04:05Z',
  nonce: '0123456789abcdef0123456789abcdef',
  secret: 'example-secret',
  accessKeyId: 'LTAI5tExampleKey',
  canonicalRequestSha256: '8cfeb5820d443b51e218f35e6b6e552ad603d42652627941b44a69c16b354fee',
  signature: 'deca86c5af1839df75ad815395b8eeba50d4a9e94ecc949a92fd2721c0fbb560',
  signedHeaders: ['content-type', 'host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'],
};

function handRequest(): Acs3Request {
  return {
    method: 'POST',
    path: '/',
    query: { B: 'a b', A: '图', a: '*' },
    headers: {
      host: 'ice.cn-shanghai.aliyuncs.com',
      'content-type': 'application/x-www-form-urlencoded',
      'x-acs-action': 'SubmitYikeAIAppJob',
      'x-acs-content-sha256': HAND.bodySha256,
      'x-acs-date': HAND.date,
      'x-acs-signature-nonce': HAND.nonce,
      'x-acs-version': '2020-11-09',
      authorization: `ACS3-HMAC-SHA256 Credential=${HAND.accessKeyId},SignedHeaders=${HAND.signedHeaders.join(';')},Signature=${HAND.signature}`,
      'user-agent': 'unsigned headers are ignored',
    },
    body: Buffer.from(HAND.body),
  };
}

/** The hand request with extra headers, signed again (by the primitives checked above) over every header it must sign. */
function resigned(extraHeaders: Record<string, string>): Acs3Request {
  const request = handRequest();
  Object.assign(request.headers, extraHeaders);
  const signedHeaders = [...HAND.signedHeaders, ...Object.keys(extraHeaders)].sort();
  const signature = sign(HAND.secret, stringToSign(canonicalRequest(request, signedHeaders, HAND.bodySha256)));
  request.headers.authorization = `${ACS3_ALGORITHM} Credential=${HAND.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  return request;
}

function verifyHand(overrides: Partial<Parameters<typeof verifyAcs3Request>[0]> = {}, secret: Acs3Secret = { accessKeySecret: HAND.secret }) {
  return verifyAcs3Request({
    ...handRequest(),
    lookupSecret: (accessKeyId) => (accessKeyId === HAND.accessKeyId ? secret : undefined),
    now: new Date(HAND.date),
    ...overrides,
  });
}

describe('ACS3-HMAC-SHA256 primitives against a hand-computed example', () => {
  it('percent-encodes everything but unreserved characters, byte by byte in UTF-8 with upper-case hex', () => {
    // Arrange
    const input = "a b+c*~!'()/图-_.";

    // Act
    const encoded = rfc3986Encode(input);

    // Assert
    expect(encoded).toBe('a%20b%2Bc%2A~%21%27%28%29%2F%E5%9B%BE-_.');
  });

  it('sorts the canonical query string by encoded name, upper case before lower case', () => {
    // Arrange
    const query = handRequest().query;

    // Act
    const canonical = canonicalQueryString(query);

    // Assert
    expect(canonical).toBe('A=%E5%9B%BE&B=a%20b&a=%2A');
  });

  it('builds the canonical request, string to sign and signature that shell tools computed', () => {
    // Arrange
    const request = handRequest();

    // Act
    const canonical = canonicalRequest(request, HAND.signedHeaders, sha256Hex(request.body));
    const toSign = stringToSign(canonical);
    const signature = sign(HAND.secret, toSign);

    // Assert
    expect(sha256Hex(request.body)).toBe(HAND.bodySha256);
    expect(canonical.split('\n').slice(0, 4)).toEqual(['POST', '/', 'A=%E5%9B%BE&B=a%20b&a=%2A', 'content-type:application/x-www-form-urlencoded']);
    expect(toSign).toBe(`ACS3-HMAC-SHA256\n${HAND.canonicalRequestSha256}`);
    expect(signature).toBe(HAND.signature);
  });
});

describe('verifyAcs3Request', () => {
  it('accepts the hand-signed request and names its AccessKey', () => {
    // Arrange / Act
    const verdict = verifyHand();

    // Assert
    expect(verdict).toEqual({ ok: true, accessKeyId: HAND.accessKeyId });
  });

  it.each([
    ['16 minutes after', 16],
    ['16 minutes before', -16],
  ])('rejects a request whose x-acs-date is %s the server clock with InvalidTimeStamp.Expired', (_case, minutes) => {
    // Arrange
    const now = new Date(Date.parse(HAND.date) + minutes * MINUTE_MS);

    // Act
    const verdict = verifyHand({ now });

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidTimeStamp.Expired' });
  });

  it('accepts a request 14 minutes old', () => {
    // Arrange
    const now = new Date(Date.parse(HAND.date) + 14 * MINUTE_MS);

    // Act
    const verdict = verifyHand({ now });

    // Assert
    expect(verdict.ok).toBe(true);
  });

  it('rejects an x-acs-date that is not ISO 8601 UTC to the second with InvalidTimeStamp.Format', () => {
    // Arrange
    const request = handRequest();
    request.headers['x-acs-date'] = 'Fri, 02 Jan 2026 03:04:05 GMT';

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidTimeStamp.Format' });
  });

  it('rejects the second use of a nonce with SignatureNonceUsed', () => {
    // Arrange
    const seenNonces = new Set<string>();

    // Act
    const first = verifyHand({ seenNonces });
    const second = verifyHand({ seenNonces });

    // Assert
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, status: 400, code: 'SignatureNonceUsed' });
  });

  it('does not burn the nonce of a request it rejected', () => {
    // Arrange
    const seenNonces = new Set<string>();

    // Act
    const rejected = verifyHand({ seenNonces, body: Buffer.from('AppId=other') });
    const accepted = verifyHand({ seenNonces });

    // Assert
    expect(rejected).toMatchObject({ ok: false, code: 'ContentSha256NotMatched' });
    expect(accepted.ok).toBe(true);
  });

  it('rejects a SignedHeaders list that leaves out an x-acs-* header that was sent', () => {
    // Arrange
    const request = handRequest();
    const withoutVersion = HAND.signedHeaders.filter((name) => name !== 'x-acs-version');
    request.headers.authorization = `ACS3-HMAC-SHA256 Credential=${HAND.accessKeyId},SignedHeaders=${withoutVersion.join(';')},Signature=${HAND.signature}`;

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'IncompleteSignature', message: expect.stringContaining('x-acs-version') });
  });

  it('rejects a SignedHeaders list naming a header that was not sent', () => {
    // Arrange
    const request = handRequest();
    delete request.headers['x-acs-version'];

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, code: 'IncompleteSignature', message: expect.stringContaining('x-acs-version was not sent') });
  });

  it('rejects another signature algorithm with InvalidSignatureMethod', () => {
    // Arrange
    const request = handRequest();
    request.headers.authorization = (request.headers.authorization as string).replace(ACS3_ALGORITHM, 'ACS3-HMAC-SM3');

    // Act
    const verdict = verifyHand(request);

    // Assert
    expect(verdict).toMatchObject({ ok: false, status: 400, code: 'InvalidSignatureMethod' });
  });

  it('requires the configured token of an STS key, refuses another token and refuses it once expired', () => {
    // Arrange
    const token = 'token-1';
    const sts: Acs3Secret = { accessKeySecret: HAND.secret, securityToken: token, expiresAt: new Date(Date.parse(HAND.date) + MINUTE_MS) };
    const withToken = (sent: string) => resigned({ 'x-acs-security-token': sent });

    // Act
    const withoutToken = verifyHand({}, sts);
    const wrongToken = verifyHand(withToken('token-2'), sts);
    const rightToken = verifyHand(withToken(token), sts);
    const expired = verifyHand({ ...withToken(token), now: new Date(Date.parse(HAND.date) + 2 * MINUTE_MS) }, sts);

    // Assert
    expect(withoutToken).toMatchObject({ ok: false, status: 400, code: 'MissingSecurityToken' });
    expect(wrongToken).toMatchObject({ ok: false, status: 400, code: 'InvalidSecurityToken.MismatchWithAccessKey' });
    expect(rightToken.ok).toBe(true);
    expect(expired).toMatchObject({ ok: false, status: 400, code: 'InvalidSecurityToken.Expired' });
  });
});

describe('NonceCache', () => {
  it('forgets a nonce once its time to live has passed', () => {
    // Arrange
    let now = 0;
    const cache = new NonceCache(1000, () => now);
    cache.add('nonce');

    // Act
    now = 999;
    const remembered = cache.has('nonce');
    now = 1001;
    const forgotten = !cache.has('nonce');

    // Assert
    expect(remembered).toBe(true);
    expect(forgotten).toBe(true);
  });
});
