import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type ClientRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IceError } from '../../../shared/runtime/errors';
import { createIceClient } from '../../../shared/adapters/ice/client';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { LOCAL_CREDENTIALS, testConfig } from '../../helpers/local-cloud';

/** The read timer httpx leaves running after openapi-client has read the answer (shared/adapters/openapi/read-timers.ts). */
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
    const config = testConfig({ ICE_ENDPOINT: ice.url }, { ice: { readTimeoutMs: 60_000 } });
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

  it('still times out a call whose answer stops after its headers (a submit then has an unknown outcome, never resent)', async () => {
    // Arrange: an endpoint that sends 200 and its headers, then holds the body (the connection stays open)
    const held: ServerResponse[] = [];
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
      res.write('{"RequestId":"');
      held.push(res);
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const { port } = stalling.address() as AddressInfo;
    const config = testConfig({ ICE_ENDPOINT: `http://127.0.0.1:${port}` }, { ice: { readTimeoutMs: 300, retry: { maxAttempts: 3 } } });
    const client = createIceClient({ config: config.ice, credentials: () => LOCAL_CREDENTIALS });

    // Act: the body never ends, so only the read timeout can end the call (a hang fails the test by its timeout)
    const error = await client.submitYikeAIAppJob({ appId: 'sys-ao-smith-1', appParams: '{}' }).catch((caught: unknown) => caught);
    for (const res of held) res.destroy();
    await new Promise((resolve) => stalling.close(resolve));

    // Assert: cut by the read timeout, classified as unknown, and sent once
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ outcome: 'unknown', retryable: false });
    expect(held).toHaveLength(1);
  });
});
