import { connect } from 'node:net';
import { FC_SYNC_MAX_BODY_BYTES, startFcGateway, type FcContext, type FcGatewayOptions, type FcHandler, type LocalFcGateway } from '../../../local/fc/gateway';
import { fromFcHttpResult, toFcHttpEvent, type FcHttpRequest } from '../../../local/fc/http-trigger-event';
import { newFcRequestId } from '../../../local/fc/request-id';
import { loadEvent } from '../../helpers/fixtures';

const CREDENTIALS = { accessKeyId: 'STS.NTexampleAccessKeyId', accessKeySecret: 'exampleAccessKeySecret', securityToken: 'CAIS-example-security-token' };
const REQUEST_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
/** The first bytes of a PNG file, followed by bytes that are not valid UTF-8. */
const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]);

/** Answers with the raw event it received, and says whether it arrived as a Buffer. */
const echoHandler: FcHandler = async (event) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'X-Event-Type': Buffer.isBuffer(event) ? 'buffer' : typeof event },
  isBase64Encoded: false,
  body: Buffer.isBuffer(event) ? event.toString('utf8') : JSON.stringify(event),
});

const running: LocalFcGateway[] = [];

async function gateway(overrides: Partial<FcGatewayOptions> = {}): Promise<LocalFcGateway> {
  const started = await startFcGateway({ handler: echoHandler, credentials: CREDENTIALS, ...overrides });
  running.push(started);
  return started;
}

async function echoedEvent(response: Response): Promise<any> {
  expect(response.status).toBe(200);
  return response.json();
}

/** The set of key paths of a JSON value, e.g. "requestContext.http.method". */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    // headers and queryParameters hold request data, not struct fields.
    return ['headers', 'queryParameters'].includes(path) ? [path] : [path, ...keyPaths(child, path)];
  });
}

/** Sends header lines exactly as given (fetch would merge repeated names into one line) and returns the JSON body. */
function sendRawHeaders(port: number, headerLines: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      resolve(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)));
    });
    socket.on('error', reject);
  });
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => started.close()));
});

describe('the local FC HTTP trigger gateway', () => {
  it('delivers a JSON POST as a Buffer holding exactly the fields of the reference request struct', async () => {
    // Arrange
    const fc = await gateway();
    const sample = loadEvent('fc3-http-post-jobs');
    const body = JSON.stringify({ app: 'female', image: { bucket: 'yike-uploads', key: 'uploads/female/portrait-001.jpg' } });

    // Act
    const response = await fetch(`${fc.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer example-token', 'user-agent': 'curl/8.5.0', 'x-custom-thing': 'yes' },
      body,
    });
    const event = await echoedEvent(response);

    // Assert
    expect(response.headers.get('x-event-type')).toBe('buffer');
    expect(keyPaths(event).sort()).toEqual(keyPaths(sample).sort());
    expect(event).toMatchObject({
      version: 'v1',
      rawPath: '/jobs',
      body,
      isBase64Encoded: false,
      queryParameters: {},
      requestContext: {
        accountId: '1234567890123456',
        http: { method: 'POST', path: '/jobs', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8.5.0' },
      },
    });
    expect(event.headers).toMatchObject({
      'Content-Type': 'application/json',
      Authorization: 'Bearer example-token',
      'User-Agent': 'curl/8.5.0',
      'X-Custom-Thing': 'yes',
    });
    expect(event.headers).not.toHaveProperty('Host');
  });

  it('identifies the request the way FC does, with one id in the event, the context and the x-fc-request-id header', async () => {
    // Arrange
    const contexts: FcContext[] = [];
    const fc = await gateway({
      handler: async (event, context) => {
        contexts.push(context);
        return echoHandler(event, context);
      },
    });

    // Act
    const response = await fetch(`${fc.url}/jobs`);
    const event = await echoedEvent(response);

    // Assert
    const requestId = response.headers.get('x-fc-request-id');
    expect(requestId).toMatch(REQUEST_ID_PATTERN);
    expect(event.requestContext.requestId).toBe(requestId);
    expect(contexts[0]?.requestId).toBe(requestId);
    expect(fc.invocations()).toEqual([{ requestId, event, status: 200 }]);
    expect(event.requestContext.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.floor(Number(event.requestContext.timeEpoch) / 1000)).toBe(Date.parse(event.requestContext.time) / 1000);
    expect(event.requestContext.domainName).toMatch(/^http-submit-[a-z]{10}\.cn-shanghai\.fcapp\.run$/);
    expect(event.requestContext.domainName.startsWith(`${event.requestContext.domainPrefix}.`)).toBe(true);
  });

  it('gives the handler a context with the configured credentials, function, region and account', async () => {
    // Arrange
    const contexts: FcContext[] = [];
    const lines: Array<Record<string, unknown>> = [];
    const fc = await gateway({
      functionName: 'yike-submit',
      region: 'cn-beijing',
      accountId: '9999999999999999',
      timeoutSeconds: 30,
      log: (line) => lines.push(line),
      handler: async (event, context) => {
        contexts.push(context);
        context.logger.info('seen %s', 'job');
        return 'ok';
      },
    });

    // Act
    const response = await fetch(`${fc.url}/`);

    // Assert
    expect(response.status).toBe(200);
    const { logger, ...context } = contexts[0] as FcContext;
    expect(context).toEqual({
      requestId: response.headers.get('x-fc-request-id'),
      credentials: CREDENTIALS,
      function: { name: 'yike-submit', handler: 'index.handler', memory: 512, timeout: 30 },
      region: 'cn-beijing',
      accountId: '9999999999999999',
      retryCount: 0,
    });
    expect(typeof logger.debug).toBe('function');
    expect(lines).toContainEqual({ level: 'info', requestId: context.requestId, message: 'seen job' });
    expect(lines).toContainEqual(expect.objectContaining({ requestId: context.requestId, method: 'GET', path: '/', status: 200 }));
  });

  it('keeps rawPath URL-encoded as received and decodes requestContext.http.path, including spaces, CJK and %2F', async () => {
    // Arrange
    const fc = await gateway();
    const rawPath = '/uploads/my%20photo/%E5%9B%BE%E7%89%87/a%2Fb.png';

    // Act
    const event = await echoedEvent(await fetch(`${fc.url}${rawPath}?x=1`));

    // Assert
    expect(event.rawPath).toBe(rawPath);
    expect(event.requestContext.http.path).toBe('/uploads/my photo/图片/a/b.png');
  });

  it('decodes query parameters and joins the values of a repeated key with a comma', async () => {
    // Arrange
    const fc = await gateway();

    // Act
    const event = await echoedEvent(await fetch(`${fc.url}/jobs?tag=a&tag=b&name=%E5%BC%A0+san&empty=&flag&tag=c%2Cd`));

    // Assert
    expect(event.queryParameters).toEqual({ tag: 'a,b,c,d', name: '张 san', empty: '', flag: '' });
  });

  it('joins repeated header lines with a comma under one canonical header name', async () => {
    // Arrange
    const fc = await gateway();

    // Act
    const event = await sendRawHeaders(fc.port, ['X-Tag: a', 'x-tag: b', 'accept-encoding: gzip, br', 'COOKIE: c=1', 'cookie: d=2']);

    // Assert
    expect(event.headers).toMatchObject({ 'X-Tag': 'a,b', 'Accept-Encoding': 'gzip, br', Cookie: 'c=1,d=2' });
  });

  it('delivers a binary image/png body Base64-encoded with isBase64Encoded true', async () => {
    // Arrange
    const fc = await gateway();

    // Act
    const event = await echoedEvent(await fetch(`${fc.url}/upload`, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: PNG_BYTES }));

    // Assert
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(PNG_BYTES);
  });

  it('delivers a UTF-8 text body as text', async () => {
    // Arrange
    const fc = await gateway();

    // Act
    const event = await echoedEvent(
      await fetch(`${fc.url}/note`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '你好, FC' }),
    );

    // Assert
    expect(event).toMatchObject({ body: '你好, FC', isBase64Encoded: false });
  });

  it('sends a Base64 response body as bytes with the status and headers the function chose', async () => {
    // Arrange
    const fc = await gateway({
      handler: async () => ({
        statusCode: 201,
        headers: { 'Content-Type': 'image/png', 'Set-Cookie': ['a=1', 'b=2'], 'Content-Length': '1' },
        isBase64Encoded: true,
        body: PNG_BYTES.toString('base64'),
      }),
    });

    // Act
    const response = await fetch(`${fc.url}/image`);

    // Assert
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-fc-request-id')).toMatch(REQUEST_ID_PATTERN);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG_BYTES);
  });

  it.each([
    ['a string as it is', 'hello FC', 'hello FC'],
    ['an object as JSON', { ok: true, jobId: 'j-1' }, '{"ok":true,"jobId":"j-1"}'],
    ['an object without statusCode as JSON, not as a struct', { body: 'x', headers: {} }, '{"body":"x","headers":{}}'],
    ['nothing as an empty body', undefined, ''],
  ])('answers 200 with %s when the function does not return the response struct', async (_name, returned, expectedBody) => {
    // Arrange
    const fc = await gateway({ handler: async () => returned });

    // Act
    const response = await fetch(`${fc.url}/`);

    // Assert
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(expectedBody);
  });

  it('answers a throwing handler with 502, X-Fc-Error-Type UnhandledInvocationError and the error as JSON', async () => {
    // Arrange
    const fc = await gateway({
      handler: async () => {
        throw new Error('oops');
      },
    });

    // Act
    const response = await fetch(`${fc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Assert
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(response.headers.get('x-fc-request-id')).toMatch(REQUEST_ID_PATTERN);
    const error = (await response.json()) as { stackTrace: string[] };
    expect(error).toMatchObject({ errorMessage: 'oops', errorType: 'Error' });
    expect(error.stackTrace[0]).toBe('Error: oops');
    expect(fc.invocations().map((invocation) => invocation.status)).toEqual([502]);
  });

  it('answers an invalid response struct like a function error', async () => {
    // Arrange
    const fc = await gateway({ handler: async () => ({ statusCode: 42, body: 'nope' }) });

    // Act
    const response = await fetch(`${fc.url}/`);

    // Assert
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ errorType: 'TypeError' });
  });

  it('answers 502 with a "Function time out" error when the handler runs past the timeout', async () => {
    // Arrange
    const fc = await gateway({ timeoutSeconds: 0.2, handler: () => new Promise<never>(() => undefined) });

    // Act
    const response = await fetch(`${fc.url}/slow`);

    // Assert
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(await response.json()).toEqual({ errorMessage: 'Function time out after 0.2 seconds' });
  });

  it('rejects a body over maxBodyBytes with 400 EntityTooLarge without invoking the function', async () => {
    // Arrange
    const handler = jest.fn(echoHandler);
    const fc = await gateway({ maxBodyBytes: 1024, handler });

    // Act
    const response = await fetch(`${fc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(4096) });

    // Assert
    expect(response.status).toBe(400);
    expect(response.headers.get('x-fc-error-type')).toBe('FcCommonError');
    expect(await response.json()).toEqual({ errorCode: 'EntityTooLarge', errorMessage: 'payload size exceeds maximum allowed size (1024 bytes)' });
    expect(handler).not.toHaveBeenCalled();
    expect(fc.invocations()).toEqual([]);
  });

  it('accepts a body of exactly maxBodyBytes', async () => {
    // Arrange
    const fc = await gateway({ maxBodyBytes: 1024 });

    // Act
    const event = await echoedEvent(await fetch(`${fc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(1024) }));

    // Assert
    expect(event.body).toHaveLength(1024);
  });

  it('limits bodies to the documented 32 MB by default', () => {
    expect(FC_SYNC_MAX_BODY_BYTES).toBe(32 * 1024 * 1024);
  });
});

describe('toFcHttpEvent', () => {
  const sample = loadEvent('fc3-http-post-jobs');

  function requestLike(overrides: Partial<FcHttpRequest> = {}): FcHttpRequest {
    return {
      method: 'POST',
      url: '/jobs',
      headers: { 'content-type': 'application/json' },
      rawHeaders: [
        'Host',
        'yike-submit-abcdefghij.cn-shanghai.fcapp.run',
        'content-type',
        'application/json',
        'authorization',
        'Bearer example-token',
        'user-agent',
        'curl/8.5.0',
      ],
      body: Buffer.from(sample.body),
      remoteAddress: '11.11.11.11',
      requestId: sample.requestContext.requestId,
      now: new Date(Number(sample.requestContext.timeEpoch)),
      domainName: sample.requestContext.domainName,
      ...overrides,
    };
  }

  it('reproduces the reference sample from the request it describes', () => {
    // Act
    const event = toFcHttpEvent(requestLike());

    // Assert
    expect(event).toEqual(sample);
  });

  it('strips the scheme and authority of an absolute-form request target', () => {
    // Act
    const event = toFcHttpEvent(requestLike({ url: 'http://example.com/a%20b?k=v' }));

    // Assert
    expect(event).toMatchObject({ rawPath: '/a%20b', queryParameters: { k: 'v' }, requestContext: { http: { path: '/a b' } } });
  });

  it('reports an IPv4 client of a dual-stack socket by its IPv4 address', () => {
    expect(toFcHttpEvent(requestLike({ remoteAddress: '::ffff:10.0.0.7' })).requestContext.http.sourceIp).toBe('10.0.0.7');
  });

  it('reports the HTTP version the request used', () => {
    expect(toFcHttpEvent(requestLike({ httpVersion: '1.0' })).requestContext.http.protocol).toBe('HTTP/1.0');
  });

  it('leaves a path with a malformed escape undecoded', () => {
    expect(toFcHttpEvent(requestLike({ url: '/bad%zz' })).requestContext.http.path).toBe('/bad%zz');
  });

  it.each([
    ['an empty body', undefined, Buffer.alloc(0), { body: '', isBase64Encoded: false }],
    ['a JSON-suffixed media type', 'application/vnd.api+json', Buffer.from('{"a":1}'), { body: '{"a":1}', isBase64Encoded: false }],
    ['a form body', 'application/x-www-form-urlencoded', Buffer.from('a=1&b=2'), { body: 'a=1&b=2', isBase64Encoded: false }],
    ['text that is not UTF-8', 'text/plain; charset=gbk', Buffer.from([0xc4, 0xe3]), { body: 'xOM=', isBase64Encoded: true }],
    ['a body without Content-Type', undefined, Buffer.from('abc'), { body: 'YWJj', isBase64Encoded: true }],
    ['multipart form data', 'multipart/form-data; boundary=x', Buffer.from('--x--'), { body: 'LS14LS0=', isBase64Encoded: true }],
  ])('encodes %s as documented in the module', (_name, contentType, body, expected) => {
    // Arrange
    const headers = contentType ? { 'content-type': contentType } : {};

    // Act
    const event = toFcHttpEvent(requestLike({ headers, rawHeaders: contentType ? ['Content-Type', contentType] : [], body }));

    // Assert
    expect({ body: event.body, isBase64Encoded: event.isBase64Encoded }).toEqual(expected);
  });
});

describe('fromFcHttpResult', () => {
  it('maps the response struct and decodes a Base64 body', () => {
    // Act
    const answer = fromFcHttpResult({
      statusCode: 202,
      headers: { 'Content-Type': 'image/png', 'X-Count': 3 },
      isBase64Encoded: true,
      body: PNG_BYTES.toString('base64'),
    });

    // Assert
    expect(answer).toEqual({ statusCode: 202, headers: { 'Content-Type': 'image/png', 'X-Count': '3' }, body: PNG_BYTES });
  });

  it('takes a struct body as UTF-8 text when it is not flagged as Base64', () => {
    expect(fromFcHttpResult({ statusCode: 200, body: '图片' }).body.toString('utf8')).toBe('图片');
  });

  it('keeps multi-value headers and drops framing headers that would contradict the body', () => {
    // Act
    const answer = fromFcHttpResult({
      statusCode: 200,
      headers: { 'Set-Cookie': ['a=1', 'b=2'], 'Content-Length': '999', 'Transfer-Encoding': 'chunked', Skip: undefined },
    });

    // Assert
    expect(answer.headers).toEqual({ 'Set-Cookie': ['a=1', 'b=2'] });
    expect(answer.body).toEqual(Buffer.alloc(0));
  });

  it.each([
    ['a string', 'plain', 'plain'],
    ['a Buffer', Buffer.from('bytes'), 'bytes'],
    ['a number', 42, '42'],
    ['null', null, ''],
    ['an array', [1, 2], '[1,2]'],
  ])('sends %s that is not the struct as the body with status 200', (_name, result, expectedBody) => {
    // Act
    const answer = fromFcHttpResult(result);

    // Assert
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toEqual({});
    expect(answer.body.toString('utf8')).toBe(expectedBody);
  });

  it.each([
    ['a status out of range', { statusCode: 99 }],
    ['a status that is not a number', { statusCode: '200' }],
    ['a Base64 flag without a string body', { statusCode: 200, isBase64Encoded: true, body: { a: 1 } }],
    ['a header value with a line break', { statusCode: 200, headers: { 'X-Bad': 'a\r\nb' } }],
  ])('rejects a struct with %s', (_name, result) => {
    expect(() => fromFcHttpResult(result)).toThrow(TypeError);
  });
});

describe('newFcRequestId', () => {
  it('starts with the hex epoch seconds like the documented "1-64f6cd87-…" ids', () => {
    // Act
    const id = newFcRequestId(new Date(1693896071895));

    // Assert
    expect(id).toMatch(REQUEST_ID_PATTERN);
    expect(id.startsWith('1-64f6cd87-')).toBe(true);
  });
});
