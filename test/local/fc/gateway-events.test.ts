import type { FcContext } from '../../../local/fc/gateway';
import { loadEvent } from '../../helpers/fixtures';
import { closeGateways, CREDENTIALS, echoedEvent, echoHandler, gateway, keyPaths, PNG_BYTES, REQUEST_ID_PATTERN, sendRawHeaders } from './harness';

afterEach(closeGateways);

describe('the local FC HTTP trigger gateway: the event and context the function receives', () => {
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
      handler: async (received, context) => {
        contexts.push(context);
        return echoHandler(received, context);
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
      handler: async (_event, context) => {
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
});
