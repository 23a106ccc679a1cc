import { fromFcHttpResult, toFcHttpEvent, type FcHttpRequest } from '../../../local/fc/http-trigger-event';
import { loadEvent } from '../../helpers/fixtures';
import { PNG_BYTES } from './harness';

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
