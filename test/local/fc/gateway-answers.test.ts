import { FC_SYNC_MAX_BODY_BYTES } from '../../../local/fc/gateway';
import { closeGateways, echoedEvent, echoHandler, gateway, PNG_BYTES, REQUEST_ID_PATTERN } from './harness';

afterEach(closeGateways);

describe('the local FC HTTP trigger gateway: the answer the client gets', () => {
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
