import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { createIceClient, type IceClient } from '../../../shared/adapters/ice/client';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import type { TuningOverrides } from '../../../shared/runtime/tuning';
import { LOCAL_CREDENTIALS, testConfig } from '../../helpers/local-cloud';

const APP_PARAMS = JSON.stringify({ 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/female/portrait-001.jpg' });
const SUBMIT = { appId: 'sys-ao-smith-1', appParams: APP_PARAMS };

/** The read timer httpx leaves on a socket (see shared/adapters/openapi/read-timers.ts). */
function readTimerOf(request: ClientRequest): unknown {
  const socket = request.socket as unknown as Record<symbol, unknown> | null;
  const symbol = socket && Object.getOwnPropertySymbols(socket).find((candidate) => candidate.description === 'TIMER::READ_TIMER');
  return symbol ? socket[symbol] : 'no read timer symbol';
}

describe('ICE connections over TLS: reads reuse one, a submit always opens its own', () => {
  let ice: LocalIceServer;

  // A fresh endpoint per test, so no connection pooled by an earlier test is reused.
  beforeEach(async () => {
    ice = await startIceServer({ finishAfterMs: 200 });
  });
  afterEach(() => ice.close());

  function client(tuning: TuningOverrides = {}): IceClient {
    return createIceClient({ config: testConfig({ ICE_ENDPOINT: ice.httpsUrl }, tuning).ice, credentials: () => LOCAL_CREDENTIALS });
  }

  it('sends the precheck, batch get and get on one pooled connection, and each submit on a new one (one handshake each)', async () => {
    // Arrange
    const ice20201109 = client();

    // Act
    await ice20201109.precheckYikeAIAppJob(SUBMIT);
    const first = await ice20201109.submitYikeAIAppJob(SUBMIT);
    await ice20201109.batchGetYikeAIAppJobs([first.jobId]);
    await ice20201109.submitYikeAIAppJob(SUBMIT);
    await ice20201109.getYikeAIAppJob(first.jobId);

    // Assert
    expect(ice.calls().map((call) => [call.action, call.connection, call.tls])).toEqual([
      ['PrecheckYikeAIAppJob', 1, true],
      ['SubmitYikeAIAppJob', 2, true],
      ['BatchGetYikeAIAppJob', 1, true],
      ['SubmitYikeAIAppJob', 3, true],
      ['GetYikeAIAppJob', 1, true],
    ]);
    expect(ice.connections()).toEqual({ total: 3, tls: 3 });
  });

  it('sends a read again when its pooled connection was closed by the server, on a new connection', async () => {
    // Arrange: a pooled connection, then the server drops the next request on it (what a stale keep-alive socket does)
    const ice20201109 = client();
    const { jobId } = await ice20201109.submitYikeAIAppJob(SUBMIT);
    await ice20201109.getYikeAIAppJob(jobId);
    ice.faults.dropNext(1);

    // Act
    const job = await ice20201109.getYikeAIAppJob(jobId);

    // Assert
    expect(job.jobId).toBe(jobId);
    expect(ice.calls().map((call) => [call.action, call.status, call.connection])).toEqual([
      ['SubmitYikeAIAppJob', 200, 1],
      ['GetYikeAIAppJob', 200, 2],
      ['GetYikeAIAppJob', 0, 2],
      ['GetYikeAIAppJob', 200, 3],
    ]);
  });

  it('never sends a submit again when its own connection broke after the request (an unknown outcome), even right after pooled reads', async () => {
    // Arrange
    const ice20201109 = client({ ice: { retry: { maxAttempts: 4 } } });
    await ice20201109.precheckYikeAIAppJob(SUBMIT);
    ice.faults.dropNext(1);

    // Act
    const error = await ice20201109.submitYikeAIAppJob(SUBMIT).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'ICE_CONNECTION_RESET', outcome: 'unknown', retryable: false });
    expect(ice.calls().map((call) => [call.action, call.connection])).toEqual([
      ['PrecheckYikeAIAppJob', 1],
      ['SubmitYikeAIAppJob', 2],
    ]);
  });

  it('opens a connection for every call without keep-alive on reads (as before it; the bench compares the two)', async () => {
    // Arrange
    const ice20201109 = client({ ice: { keepAliveReads: false } });

    // Act
    const { jobId } = await ice20201109.submitYikeAIAppJob(SUBMIT);
    await ice20201109.getYikeAIAppJob(jobId);
    await ice20201109.batchGetYikeAIAppJobs([jobId]);

    // Assert
    expect(ice.calls().map((call) => call.connection)).toEqual([1, 2, 3]);
    expect(ice.connections()).toEqual({ total: 3, tls: 3 });
  });

  it('still releases a finished read’s read timer while its connection stays open for the next call', async () => {
    // Arrange: a 60 s read timeout, which would keep each finished call reachable for a minute
    const requests: ClientRequest[] = [];
    const record = (message: unknown) => requests.push((message as { request: ClientRequest }).request);
    subscribe('http.client.request.start', record);
    const ice20201109 = client({ ice: { readTimeoutMs: 60_000 } });
    const { jobId } = await ice20201109.submitYikeAIAppJob(SUBMIT);

    // Act
    await ice20201109.getYikeAIAppJob(jobId);
    const read = requests.at(-1)!;
    await new Promise((resolve) => setImmediate(resolve));
    const timerAfterRead = readTimerOf(read);
    const socketKept = read.socket?.destroyed === false;
    await ice20201109.getYikeAIAppJob(jobId);
    unsubscribe('http.client.request.start', record);

    // Assert: the read went through httpx (its symbol is on the socket), its timer is gone, and its socket served the next read
    expect(timerAfterRead).toBeNull();
    expect(socketKept).toBe(true);
    expect(ice.calls().map((call) => call.connection)).toEqual([1, 2, 2]);
    expect(requests.at(-1)!.socket).toBe(read.socket);
  });
});
