import { callIce, clientFor, closeIceServers, expectIceErrorBody, ice, JOB_ID_PATTERN, rejectionOf, STS, submitFields } from './harness';
import { NEVER_ANSWERS_MS } from '../../helpers/waiting';

afterEach(closeIceServers);

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
    server.faults.delayNext(1, NEVER_ANSWERS_MS);

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
