import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { localTls } from '../../../../local/tls';
import type { JobWebhookNetwork } from '../../../../shared/composition/watcher';
import { inflightKey, jobRecordKey, type JobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { FAST_RETRIES, LOCAL_CREDENTIALS, logCapture, TINY_PNG } from '../../../helpers/local-cloud';
import { verifiesWith } from '../../../helpers/webhooks';
import { BUCKET, JOB_MS, SECRET, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from './harness';

/**
 * A job's own webhook (`POST /jobs` `webhookUrl`): delivered to an allowed host, signed like the global one; a 400 for any
 * other host; and refused at delivery when its host resolves to an internal address. The watcher's resolver is injected
 * (its composition root's option, never env): `localhost` resolves to 127.0.0.2, where the caller's https receiver
 * listens (the local CA's certificate is for localhost, and on Linux all of 127.0.0.0/8 is loopback), and that one
 * address counts as allowed; `internal.example.test` resolves to 127.0.0.1, where an internal service listens.
 */
const ALLOWED_HOSTS = 'localhost,internal.example.test';
const RECEIVER_ADDRESS = '127.0.0.2';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function httpsServer(address: string, received: Received[]): Promise<{ server: Server; port: number }> {
  const { cert, key } = await localTls();
  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('a webhook per job: webhookUrl on POST /jobs, allowed by WEBHOOK_ALLOWED_HOSTS, delivered only to public addresses', () => {
  let cloud: LifecycleHarness;
  let gateway: LocalFcGateway;
  let receiver: { server: Server; port: number };
  let internal: { server: Server; port: number };
  const toReceiver: Received[] = [];
  const toInternal: Received[] = [];
  const resolved: string[] = [];
  const network: JobWebhookNetwork = {
    resolve: async (hostname) => {
      resolved.push(hostname);
      if (hostname === 'localhost') return [{ address: RECEIVER_ADDRESS, family: 4 }];
      if (hostname === 'internal.example.test') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    },
    isAllowedAddress: (address) => address === RECEIVER_ADDRESS,
  };

  async function gatewayWith(env: Record<string, string>): Promise<LocalFcGateway> {
    return startFcGateway({
      handler: createHttpHandler({ env: cloud.env({ HTTP_AUTH: 'none', ...env }), tuning: FAST_RETRIES }),
      credentials: LOCAL_CREDENTIALS,
    });
  }

  async function postJob(target: LocalFcGateway, webhookUrl: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${target.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'female', image: { bucket: BUCKET, key: 'uploads/female/caller.png' }, metadata: { customerId: 'c-42' }, webhookUrl }),
    });
    return { status: response.status, body: await response.json() };
  }

  /** One watcher tick after ICE finished the job. */
  async function settle(sink?: (line: string) => void): Promise<void> {
    cloud.iceClock += JOB_MS;
    await cloud.watcher({ WEBHOOK_ALLOWED_HOSTS: ALLOWED_HOSTS }, sink, {}, network)(timerEvent(), watcherContext());
    await cloud.fc.idle();
  }

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
    gateway = await gatewayWith({ WEBHOOK_ALLOWED_HOSTS: ALLOWED_HOSTS });
    receiver = await httpsServer(RECEIVER_ADDRESS, toReceiver);
    internal = await httpsServer('127.0.0.1', toInternal);
  });
  afterAll(async () => {
    await Promise.all([gateway.close(), ...[receiver, internal].map(({ server }) => new Promise((resolve) => server.close(resolve)))]);
    await cloud.close();
  });
  beforeEach(async () => {
    await cloud.reset();
    await cloud.client.put('uploads/female/caller.png', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    toReceiver.length = 0;
    toInternal.length = 0;
    resolved.length = 0;
  });

  it('delivers to an allowed host, signed like the global webhook: the standardwebhooks package verifies it with the configured secret', async () => {
    // Arrange
    const submitted = await postJob(gateway, `https://localhost:${receiver.port}/hooks/job?token=t-1`);
    const jobId = submitted.body.jobId as string;

    // Act
    await settle();
    const answers = await Promise.all([`/jobs/${jobId}`, '/jobs?limit=10'].map(async (path) => (await fetch(`${gateway.url}${path}`)).text()));

    // Assert
    expect(submitted.status).toBe(202);
    expect(toReceiver.map(({ path, headers }) => ({ path, id: headers['webhook-id'] }))).toEqual([{ path: '/hooks/job?token=t-1', id: `${jobId}.finished` }]);
    // Nor does any API answer show it (the job and the list).
    expect(answers.map((answer) => [answer.includes(jobId), answer.includes('hooks/job'), answer.includes('webhookUrl')])).toEqual([
      [true, false, false],
      [true, false, false],
    ]);
    const [delivery] = toReceiver;
    expect(verifiesWith(SECRET, delivery!.body, delivery!.headers)).toBe(true);
    const body = JSON.parse(delivery!.body);
    expect(body).toMatchObject({ id: `${jobId}.finished`, type: 'yike.job.finished', job: { jobId, metadata: { customerId: 'c-42' } } });
    // The URL (it may carry the receiver's token) is in no notification, and the global webhook got the same body.
    expect(body.job).not.toHaveProperty('webhookUrl');
    expect(cloud.deliveries.map((global) => global.body)).toEqual([body]);
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      webhookUrl: `https://localhost:${receiver.port}/hooks/job?token=t-1`,
      notifications: { webhook: { status: 'delivered' }, 'job-webhook': { status: 'delivered', attempts: 1, deliveryId: `${jobId}.finished` } },
    });
    expect(resolved).toEqual(['localhost']);
  });

  it.each([
    ['another host', ALLOWED_HOSTS, 'https://hooks.elsewhere.example/yike', 'host "hooks.elsewhere.example" is not in WEBHOOK_ALLOWED_HOSTS'],
    [
      'any host while WEBHOOK_ALLOWED_HOSTS is unset',
      '',
      'https://localhost/hooks',
      'per-job webhooks are off: set WEBHOOK_ALLOWED_HOSTS (e.g. hooks.example.com, or *.example.com) on http-submit and job-watcher to allow them',
    ],
  ])('answers a webhookUrl on %s 400, naming webhookUrl, and submits nothing', async (_case, hosts, webhookUrl, message) => {
    // Arrange
    const target = hosts === ALLOWED_HOSTS ? gateway : await gatewayWith({ WEBHOOK_ALLOWED_HOSTS: hosts });

    // Act
    const response = await postJob(target, webhookUrl);

    // Assert
    expect(response).toEqual({
      status: 400,
      body: { error: { code: 'WEBHOOK_URL_NOT_ALLOWED', message: `webhookUrl: ${message}`, details: [{ path: 'webhookUrl', message }] } },
    });
    expect(cloud.ice.jobs()).toEqual([]);
    if (target !== gateway) await target.close();
  });

  it.each([
    ['http://localhost/hooks', 'must be an https URL'],
    ['https://user:pw@localhost/hooks', 'must not carry credentials (user:password@): deliveries are signed'],
  ])('answers webhookUrl %s 400 (%s)', async (webhookUrl, message) => {
    // Act
    const response = await postJob(gateway, webhookUrl);

    // Assert
    expect(response).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: `Invalid request body: webhookUrl: ${message}`, details: [{ path: 'webhookUrl', message }] } },
    });
  });

  it('refuses at delivery a host that resolves to 127.0.0.1: recorded undelivered with WEBHOOK_ADDRESS_REFUSED at once, and no request reaches the internal service', async () => {
    // Arrange
    const webhookUrl = `https://internal.example.test:${internal.port}/admin`;
    const submitted = await postJob(gateway, webhookUrl);
    const jobId = submitted.body.jobId as string;
    const logs = logCapture();

    // Act
    await settle(logs.sink);

    // Assert
    expect(submitted.status).toBe(202);
    expect(toInternal).toEqual([]);
    expect(resolved).toEqual(['internal.example.test']);
    expect(await cloud.readJson<JobRecord>(jobRecordKey('.yike-jobs/', jobId))).toMatchObject({
      notifications: {
        webhook: { status: 'delivered' },
        'job-webhook': {
          status: 'undelivered',
          attempts: 1,
          lastError: `WEBHOOK_ADDRESS_REFUSED: internal.example.test resolves to 127.0.0.1 (loopback) (https://internal.example.test:${internal.port})`,
        },
      },
    });
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'notification refused; not tried again', jobId, channel: 'job-webhook' }),
    );
    // Nothing is owed any more: the job leaves the in-flight list.
    expect(await cloud.readJson(inflightKey('.yike-jobs/', jobId))).toBeUndefined();
  });
});
