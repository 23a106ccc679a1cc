import { newJobRecord } from '../../../shared/domain/lifecycle/job-record';
import { notificationFor } from '../../../shared/domain/lifecycle/notify';
import { checkedSoFar, checkHttpAnswer, checkWebhookBody, forgetChecks, takeViolations } from '../../helpers/openapi-check';

/** The check every http-submit answer of the suite goes through (test/helpers/openapi-check.ts), on answers made here. */
const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };
const answer = (method: string, path: string, statusCode: number, body: unknown, headers: Record<string, string> = JSON_HEADERS) => ({
  method,
  path,
  statusCode,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe("the OpenAPI check of http-submit's answers", () => {
  afterEach(() => {
    takeViolations();
  });
  afterAll(() => forgetChecks());

  it('passes answers the document describes, the aliases of a path and the answers of paths no route takes included', () => {
    // Act
    checkHttpAnswer(answer('GET', '/healthz', 200, { status: 'ok' }));
    checkHttpAnswer(answer('GET', '/index.html', 200, '<!doctype html>', { 'Content-Type': 'text/html; charset=utf-8' }));
    checkHttpAnswer(answer('POST', '/jobs/', 202, { jobId: 'j-1', requestId: 'r-1', appId: 'sys-ao-smith-1' }));
    checkHttpAnswer(answer('GET', '/nope', 404, { error: { code: 'NOT_FOUND', message: 'No route for /nope' } }));
    checkHttpAnswer(answer('DELETE', '/jobs', 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'no' } }, { ...JSON_HEADERS, Allow: 'POST, GET' }));
    checkHttpAnswer(
      answer('GET', '/usage', 401, { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } }, { ...JSON_HEADERS, 'WWW-Authenticate': 'Bearer' }),
    );

    // Assert
    expect(takeViolations()).toEqual([]);
    expect(checkedSoFar().seen).toEqual(
      expect.arrayContaining(['GET /healthz 200', 'GET / 200', 'POST /jobs 202', 'NotFound 404', 'MethodNotAllowed 405', 'GET /usage 401']),
    );
  });

  it('refuses a field the schema does not have, a code the status does not list, a status the route does not answer and a wrong Allow', () => {
    // Act
    checkHttpAnswer(answer('GET', '/healthz', 200, { status: 'ok', extra: true }));
    checkHttpAnswer(answer('GET', '/jobs/j-1', 404, { error: { code: 'IMAGE_NOT_FOUND', message: 'no' } }));
    checkHttpAnswer(answer('GET', '/apps', 418, { error: { code: 'TEAPOT', message: 'no' } }));
    checkHttpAnswer(answer('DELETE', '/jobs', 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'no' } }, { ...JSON_HEADERS, Allow: 'GET' }));

    // Assert
    const violations = takeViolations();
    expect(violations).toHaveLength(4);
    expect(violations[0]).toContain('body: must NOT have additional properties {"additionalProperty":"extra"}');
    expect(violations[1]).toContain('body/error/code: must be equal to one of the allowed values {"allowedValues":["JOB_NOT_FOUND"]}');
    expect(violations[2]).toContain('GET /apps answered 418, which the document does not list for it');
    expect(violations[3]).toContain('Allow is "GET", not "POST, GET" (the methods its path takes)');
  });

  it('refuses a missing required header, an undocumented media type and a path no route takes answering anything but 404', () => {
    // Act
    checkHttpAnswer(answer('GET', '/usage', 401, { error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } }));
    checkHttpAnswer(answer('GET', '/healthz', 200, 'ok', { 'Content-Type': 'text/plain' }));
    checkHttpAnswer(answer('GET', '/nope', 200, { status: 'ok' }));

    // Assert
    const violations = takeViolations();
    expect(violations[0]).toContain('the WWW-Authenticate header is missing');
    expect(violations[1]).toContain('Content-Type text/plain is not documented (application/json)');
    expect(violations[2]).toContain("/nope is no route's path, yet answered 200");
  });

  it("checks a webhook delivery's body against the document's webhook for its type", () => {
    // Arrange: a Finished job's notification as notify.ts makes it
    const record = newJobRecord({
      jobId: 'j-1',
      appId: 'sys-ao-smith-1',
      source: 'oss://yike-uploads/a.jpg',
      entryPoint: 'http',
      now: new Date('2026-01-02T03:04:05Z'),
    });
    const finished = notificationFor({ ...record, status: 'Finished', results: [{ kind: 'video', mediaId: 'm-1', outputUrl: 'https://out.example/v.mp4' }] });

    // Act
    checkWebhookBody(JSON.stringify(finished));
    checkWebhookBody(JSON.stringify({ id: 'yike.test.1', type: 'yike.test', time: '2026-01-02T03:04:05.000Z' }));
    checkWebhookBody(JSON.stringify({ ...finished, job: { ...finished.job, secretField: 1 } }));

    // Assert
    const violations = takeViolations();
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain("A yike.job.finished webhook delivery does not match the OpenAPI document's jobNotification webhook");
    expect(violations[0]).toContain('body/job: must NOT have additional properties {"additionalProperty":"secretField"}');
  });
});
