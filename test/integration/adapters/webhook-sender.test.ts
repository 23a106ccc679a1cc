import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverWebhook } from '../../../shared/adapters/webhook/webhook';
import { verifiesWith, webhookSecret } from '../../helpers/webhooks';

/** The webhook sender against a real receiver on loopback: what it sends, and what each kind of failure records. */
const SECRET = webhookSecret('webhook-sender');

describe('the webhook sender (node:http, Standard Webhooks headers)', () => {
  let server: Server;
  let url: string;
  let answer: (res: ServerResponse) => void;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    answer = (res) => res.writeHead(204).end();
  });

  const send = (path = '/hooks/yike?token=receivers-own', timeoutMs = 5_000) =>
    deliverWebhook({ url: `${url}${path}`, secret: SECRET, body: '{"id":"job-1.finished"}', deliveryId: 'job-1.finished', timeoutMs });

  it('posts the JSON with webhook-id, webhook-timestamp and a webhook-signature the standardwebhooks package verifies', async () => {
    // Act
    const first = await send();
    const second = await send();

    // Assert
    expect([first, second]).toEqual([
      { ok: true, status: 204 },
      { ok: true, status: 204 },
    ]);
    expect(received[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'yike-fc-job-watcher',
      'webhook-id': 'job-1.finished',
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(received[0]!.headers).not.toHaveProperty('x-yike-signature');
    expect(received.map(({ headers, body }) => verifiesWith(SECRET, body, headers))).toEqual([true, true]);
  });

  it.each([
    ['a 503', (res: ServerResponse) => res.writeHead(503).end('down'), 'HTTP 503 from'],
    ['a redirect, which it does not follow', (res: ServerResponse) => res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' }).end(), 'HTTP 302 from'],
  ])('records %s as a failure naming the origin only (never the query string)', async (_case, reply, error) => {
    // Arrange
    answer = reply;

    // Act
    const outcome = await send();

    // Assert
    expect(outcome).toEqual({ ok: false, error: `${error} ${url}` });
    expect(received).toHaveLength(1);
  });

  it('gives up on a receiver that never answers after timeoutMs, and cuts the request', async () => {
    // Arrange: the receiver keeps the request open for good, and says when its connection closes.
    let closed: Promise<unknown> | undefined;
    answer = (res) => {
      closed = new Promise((resolve) => res.socket!.once('close', resolve));
    };

    // Act
    const outcome = await send('/hooks/slow', 300);

    // Assert
    expect(outcome).toEqual({ ok: false, error: `no answer within 300 ms (${url})` });
    await closed;
  });

  it('records a refused connection by its code', async () => {
    // Act
    const outcome = await deliverWebhook({ url: 'http://127.0.0.1:1/hooks', secret: SECRET, body: '{}', deliveryId: 'job-2.finished', timeoutMs: 5_000 });

    // Assert
    expect(outcome).toEqual({ ok: false, error: 'ECONNREFUSED (http://127.0.0.1:1)' });
  });
});
