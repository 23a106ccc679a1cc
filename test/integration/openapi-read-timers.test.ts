import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { createIceClient } from '../../shared/ice/client';
import { startIceServer, type LocalIceServer } from '../../local/ice-server';
import { LOCAL_CREDENTIALS, testConfig } from '../helpers/local-cloud';

/** The read timer httpx leaves running after openapi-client has read the answer (shared/openapi-read-timers.ts). */
function readTimerOf(request: ClientRequest): unknown {
  const socket = request.socket as unknown as Record<symbol, unknown> | null;
  const symbol = socket && Object.getOwnPropertySymbols(socket).find((candidate) => candidate.description === 'TIMER::READ_TIMER');
  return symbol ? socket[symbol] : 'no read timer symbol';
}

describe('finished ICE calls are not held until their read timeout', () => {
  let ice: LocalIceServer;
  const requests: ClientRequest[] = [];
  const record = (message: unknown) => requests.push((message as { request: ClientRequest }).request);

  beforeAll(async () => {
    ice = await startIceServer();
    subscribe('http.client.request.start', record);
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', record);
    await ice.close();
  });

  it("clears httpx's read timer once the connection has closed, so the request, socket and answer can be collected", async () => {
    // Arrange: a 60 s read timeout, which would keep each finished call reachable for a minute
    const config = testConfig({ ICE_ENDPOINT: ice.url, ICE_READ_TIMEOUT_MS: '60000' });
    const client = createIceClient({ config: config.ice, credentials: () => LOCAL_CREDENTIALS });
    const appParams = JSON.stringify({ 'LoadImage.1.TargetImage': 'https://yike-uploads.oss-cn-shanghai.aliyuncs.com/uploads/a.jpg' });

    // Act
    await client.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams });
    const request = requests.at(-1)!;
    if (!request.destroyed || request.socket?.destroyed === false) await new Promise((resolve) => request.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));

    // Assert: the call went out through httpx (its symbol is on the socket), and its timer is gone
    expect(ice.jobs()).toHaveLength(1);
    expect(readTimerOf(request)).toBeNull();
  });
});
