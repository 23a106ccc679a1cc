import { IceError } from '../../../shared/runtime/errors';
import { classifyIceError } from '../../../shared/adapters/ice/classify';
import { backoffDelayMs, withRetry } from '../../../shared/runtime/retry';

/** Errors shaped exactly as @alicloud/openapi-client 0.4.15 throws them (docs/platform-facts.md, "How @alicloud/openapi-client 0.4.15 sends and reads"). */
function iceAnswer(code: string, statusCode: number) {
  return Object.assign(new Error(`${code}: code: ${statusCode}`), {
    code,
    statusCode,
    data: { RequestId: 'REQ-1', HostId: 'ice.cn-shanghai.aliyuncs.com', Code: code, Message: `${code} message`, statusCode },
  });
}
const readTimeout = Object.assign(new Error('ReadTimeout: 100. POST / failed.'), { name: 'RequestTimeoutError' });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const nonJson = new SyntaxError('Unexpected token < in JSON at position 0');

describe('classifying ICE failures', () => {
  it.each([
    ['Throttling.User', 400, true],
    ['Throttling', 503, true],
    ['ServiceUnavailable', 503, true],
    ['InternalError', 500, true],
    ['InvalidParameter', 400, false],
    ['MissingParameter', 400, false],
    ['SignatureDoesNotMatch', 400, false],
    ['Forbidden.RAM', 403, false],
  ])('treats an ICE answer %s (%i) as rejected, retryable=%s', (code, status, retryable) => {
    // Act
    const error = classifyIceError(iceAnswer(code, status), false);

    // Assert
    expect(error).toMatchObject({ code, statusCode: status, requestId: 'REQ-1', outcome: 'rejected', retryable });
  });

  it('never retries a submit whose answer timed out, because the job may exist', () => {
    expect(classifyIceError(readTimeout, false)).toMatchObject({ code: 'ICE_TIMEOUT', outcome: 'unknown', retryable: false });
  });

  it('retries a read-only call whose answer timed out', () => {
    expect(classifyIceError(readTimeout, true)).toMatchObject({ code: 'ICE_TIMEOUT', outcome: 'unknown', retryable: true });
  });

  it('retries a refused connection, because nothing was sent', () => {
    expect(classifyIceError(refused, false)).toMatchObject({ code: 'ICE_CONNECTION_FAILED', outcome: 'not-sent', retryable: true });
  });

  it('does not retry a submit whose connection was reset, because the request may have arrived', () => {
    expect(classifyIceError(reset, false)).toMatchObject({ code: 'ICE_CONNECTION_RESET', outcome: 'unknown', retryable: false });
  });

  it('does not retry a submit answered with an unreadable body (the status is lost)', () => {
    expect(classifyIceError(nonJson, false)).toMatchObject({ code: 'ICE_BAD_RESPONSE', outcome: 'unknown', retryable: false });
  });
});

describe('bounded exponential backoff with jitter', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 1_000 };

  it('doubles the ceiling per attempt and caps it at the maximum', () => {
    // Act: the largest jitter value gives the ceiling itself
    const ceilings = [1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 0.999_999));

    // Assert
    expect(ceilings).toEqual([199, 399, 799, 999, 999]);
  });

  it('spreads delays uniformly below the ceiling', () => {
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('stops after the configured attempts and reports how many were made', async () => {
    // Arrange
    const delays: number[] = [];
    let calls = 0;

    // Act
    const run = withRetry(
      async () => {
        calls++;
        throw classifyIceError(iceAnswer('Throttling.User', 400), false);
      },
      policy,
      { sleep: async (ms) => void delays.push(ms), random: () => 0.5 },
    );

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'Throttling.User', attempts: 4 });
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('does not retry a non-retryable error', async () => {
    // Arrange
    let calls = 0;

    // Act
    const run = withRetry(
      async () => {
        calls++;
        throw new IceError('InvalidParameter', 'bad', 'rejected');
      },
      policy,
      { sleep: async () => undefined },
    );

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'InvalidParameter', attempts: 1 });
    expect(calls).toBe(1);
  });
});
