import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { FAST_RETRIES, LOCAL_CREDENTIALS, TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, JOB_MS, startLifecycleHarness, timerEvent, watcherContext, type LifecycleHarness } from '../job-watcher/harness';

/**
 * Upload tickets end to end (docs/page.md): minted with an operator token, held by a browser instead of it; what a
 * ticket may call and what it is refused, its upload count under racing, its expiry on an injected clock, an altered
 * one, another ticket's job, consent (CONSENT_VERSION) from the form to the job, and share links until the job is erased.
 */
const TOKEN = 'brand-backend-token-5c2a';
const SECRET = 'ticket-secret-for-tests-0123456789abcdef';
const FILE = { fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length };

describe('upload tickets: POST /tickets, what a ticket may do, consent and share links', () => {
  let cloud: LifecycleHarness;
  let gateway: LocalFcGateway;
  let consentGateway: LocalFcGateway;
  let clock = Date.now();

  beforeAll(async () => {
    cloud = await startLifecycleHarness();
    const env = { AUTH_TOKENS: JSON.stringify([{ name: 'brand', token: TOKEN }]), TICKET_SECRET: SECRET, SHARE_DAYS: '3' };
    const handler = (extra: Record<string, string> = {}) =>
      createHttpHandler({ env: cloud.env({ ...env, ...extra }), tuning: FAST_RETRIES, now: () => new Date(clock) });
    gateway = await startFcGateway({ handler: handler(), credentials: LOCAL_CREDENTIALS });
    consentGateway = await startFcGateway({ handler: handler({ CONSENT_VERSION: 'v1-2026' }), credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    await Promise.all([gateway.close(), consentGateway.close()]);
    await cloud.close();
  });
  beforeEach(async () => {
    clock = Date.now();
    await cloud.reset();
  });

  async function call(method: string, path: string, bearer: string | null, body?: unknown, target = gateway) {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(`${target.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: response.status, headers: response.headers, body: json, text };
  }

  async function mint(request: Record<string, unknown> = { app: 'female' }): Promise<{ ticket: string; expiresAt: string; pageUrl: string }> {
    const minted = await call('POST', '/tickets', TOKEN, request);
    expect(minted.status).toBe(201);
    return minted.body;
  }

  function postForm(form: { url: string; fields: Record<string, string> }) {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append('file', new Blob([TINY_PNG], { type: 'image/png' }), 'me.png');
    return fetch(form.url, { method: 'POST', body });
  }

  /** A ticket's upload, posted to the local OSS and submitted by oss-submit: the form and the job. */
  async function uploadWith(ticket: string, extra: Record<string, unknown> = {}, target = gateway) {
    const form = await call('POST', '/uploads', ticket, { ...FILE, ...extra }, target);
    expect(form.status).toBe(201);
    expect((await postForm(form.body)).status).toBe(204);
    const { jobId } = await cloud.submitUploaded(form.body.key);
    return { form: form.body, jobId };
  }

  /** One watcher tick after ICE finished: the job is Finished and its video copied. */
  async function settle(): Promise<void> {
    cloud.iceClock += JOB_MS;
    await cloud.watcher()(timerEvent(), watcherContext());
    await cloud.fc.idle();
  }

  it('mints a ticket with an operator token: 201 {ticket, expiresAt, pageUrl} with the ticket in the fragment of the page', async () => {
    // Act
    const minted = await call('POST', '/tickets', TOKEN, { app: 'female', metadata: { customerId: 'c-42' }, uploads: 2, expiresInSeconds: 600 });

    // Assert
    expect(minted.status).toBe(201);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    expect(minted.body).toEqual({
      ticket: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: new Date(Math.floor(clock / 1000) * 1000 + 600_000).toISOString(),
      pageUrl: `/#ticket=${minted.body.ticket}`,
    });
    const claims = JSON.parse(Buffer.from(minted.body.ticket.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toEqual({
      app: 'female',
      md: { customerId: 'c-42' },
      n: 2,
      tok: 'brand',
      jti: expect.stringMatching(/^[\w-]{22}$/),
      aud: 'yike-fc:upload-ticket',
      iat: Math.floor(clock / 1000),
      exp: Math.floor(clock / 1000) + 600,
    });
  });

  it('lets a ticket upload (its key and metadata bound into the form) and read, share and delete its own job', async () => {
    // Arrange
    const { ticket } = await mint({ app: 'female', metadata: { customerId: 'c-42' }, uploads: 2 });

    // Act
    const { form, jobId } = await uploadWith(ticket);
    await settle();
    const job = await call('GET', `/jobs/${jobId}`, ticket);
    const content = await call('GET', `/jobs/${jobId}/content`, ticket);
    const byObject = await call('GET', `/jobs/by-object?bucket=${BUCKET}&key=${encodeURIComponent(form.key)}`, ticket);
    const share = await call('POST', `/jobs/${jobId}/share`, ticket);
    const deleted = await call('DELETE', `/jobs/${jobId}`, ticket);

    // Assert
    expect(form.key).toMatch(/^uploads\/female\/\d{4}-\d{2}-\d{2}\/meta-ticket-[\w-]{22}-1\.png$/);
    expect(form.fields['x-oss-meta-yike-metadata']).toBe(Buffer.from(JSON.stringify({ customerId: 'c-42' })).toString('hex'));
    expect(job).toMatchObject({ status: 200, body: { jobId, status: 'Finished', metadata: { customerId: 'c-42' }, upload: { key: form.key } } });
    expect(content.status).toBe(302);
    expect(content.headers.get('location')).toContain(`/${BUCKET}/`);
    expect(byObject).toMatchObject({ status: 200, body: { key: form.key, jobId, status: 'COMPLETED' } });
    expect(share).toMatchObject({ status: 201, body: { url: expect.stringMatching(/^\/v\/[\w-]+\.[\w-]+\.[\w-]+$/) } });
    expect(deleted.status).toBe(204);
  });

  it.each([
    ['GET', '/apps'],
    ['GET', '/usage'],
    ['POST', '/jobs'],
    ['GET', '/jobs'],
    ['GET', '/doctor'],
    ['POST', '/tickets'],
  ])('refuses a ticket on %s %s with 403 TICKET_SCOPE', async (method, path) => {
    // Arrange
    const { ticket } = await mint();

    // Act
    const refused = await call(method, path, ticket, method === 'POST' ? { app: 'female' } : undefined);

    // Assert
    expect(refused).toMatchObject({
      status: 403,
      body: {
        error: { code: 'TICKET_SCOPE', message: `An upload ticket may not call ${method} ${path}: it may upload, and read, share and delete its own jobs` },
      },
    });
  });

  it('grants exactly N forms to 20 concurrent POST /uploads on a ticket of N, the others 403 TICKET_USED_UP', async () => {
    // Arrange
    const { ticket } = await mint({ app: 'female', uploads: 3 });

    // Act
    const answers = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/uploads', ticket, FILE)));

    // Assert
    const granted = answers.filter((answer) => answer.status === 201);
    expect(granted).toHaveLength(3);
    expect(granted.map((answer) => /-(\d)\.png$/.exec(answer.body.key)![1]).sort()).toEqual(['1', '2', '3']);
    expect(answers.filter((answer) => answer.status === 403).map((answer) => answer.body.error.code)).toEqual(Array(17).fill('TICKET_USED_UP'));
    expect(cloud.oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/tickets/'))).toHaveLength(3);
  });

  it('spends no upload on a refused request (a file that is no image)', async () => {
    // Arrange
    const { ticket } = await mint({ app: 'female', uploads: 1 });

    // Act
    const refused = await call('POST', '/uploads', ticket, { ...FILE, fileName: 'me.txt' });
    const granted = await call('POST', '/uploads', ticket, FILE);

    // Assert
    expect(refused).toMatchObject({ status: 415, body: { error: { code: 'NOT_AN_IMAGE' } } });
    expect(granted.status).toBe(201);
  });

  it('answers 401 TICKET_EXPIRED once the ticket is past its expiry (injected clock), and 401 TICKET_INVALID for an altered one', async () => {
    // Arrange
    const { ticket } = await mint({ app: 'female', expiresInSeconds: 60 });
    const [header, payload, signature] = ticket.split('.') as [string, string, string];
    const more = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), n: 5 })).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;

    // Act
    const altered = await call('POST', '/uploads', `${header}.${more}.${signature}`, FILE);
    const badSignature = await call('POST', '/uploads', `${header}.${payload}.${flipped}`, FILE);
    clock += 61_000;
    const expired = await call('POST', '/uploads', ticket, FILE);

    // Assert
    expect(altered).toMatchObject({ status: 401, body: { error: { code: 'TICKET_INVALID', message: 'The upload ticket is not valid' } } });
    expect(altered.headers.get('www-authenticate')).toBe('Bearer');
    expect(badSignature).toMatchObject({ status: 401, body: { error: { code: 'TICKET_INVALID' } } });
    expect(expired).toMatchObject({ status: 401, body: { error: { code: 'TICKET_EXPIRED', message: 'The upload ticket has expired: ask for a new link' } } });
  });

  it("answers another ticket's job as one that does not exist: 404 on GET, content, by-object, share and DELETE", async () => {
    // Arrange
    const owner = await mint();
    const other = await mint();
    const { form, jobId } = await uploadWith(owner.ticket);

    // Act
    const answers = await Promise.all([
      call('GET', `/jobs/${jobId}`, other.ticket),
      call('GET', `/jobs/${jobId}/content`, other.ticket),
      call('GET', `/jobs/by-object?bucket=${BUCKET}&key=${encodeURIComponent(form.key)}`, other.ticket),
      call('POST', `/jobs/${jobId}/share`, other.ticket),
      call('DELETE', `/jobs/${jobId}`, other.ticket),
    ]);

    // Assert
    expect(answers.map((answer) => [answer.status, answer.body.error.code])).toEqual(Array(5).fill([404, 'JOB_NOT_FOUND']));
    expect(await call('GET', `/jobs/${jobId}`, owner.ticket)).toMatchObject({ status: 200, body: { jobId } });
  });

  it('with CONSENT_VERSION, refuses a ticketed upload without the consent (400 CONSENT_REQUIRED) and keeps the consent given in the job and its webhook', async () => {
    // Arrange
    const { ticket } = await mint({ app: 'female', uploads: 2 });

    // Act
    const missing = await call('POST', '/uploads', ticket, FILE, consentGateway);
    const wrong = await call('POST', '/uploads', ticket, { ...FILE, consent: { version: 'v0' } }, consentGateway);
    const { form, jobId } = await uploadWith(ticket, { consent: { version: 'v1-2026' } }, consentGateway);
    await settle();
    const job = await call('GET', `/jobs/${jobId}`, ticket, undefined, consentGateway);

    // Assert
    const refusal = {
      code: 'CONSENT_REQUIRED',
      message: 'consent: the person must accept the consent text, version "v1-2026", before uploading',
      details: [{ path: 'consent', message: 'the person must accept the consent text, version "v1-2026", before uploading' }],
    };
    expect(missing).toMatchObject({ status: 400, body: { error: refusal } });
    expect(wrong).toMatchObject({ status: 400, body: { error: refusal } });
    const consent = { version: 'v1-2026', acceptedAt: new Date(clock).toISOString() };
    expect(form.fields['x-oss-meta-yike-consent']).toBe(Buffer.from(JSON.stringify(consent)).toString('hex'));
    expect(job).toMatchObject({ status: 200, body: { jobId, consent } });
    expect(cloud.deliveries.map((delivery) => delivery.body.job.consent)).toEqual([consent]);
  });

  it('serves a share link as a page with Open Graph tags and the AI label, until the job is deleted (then 410, no video)', async () => {
    // Arrange
    const { ticket } = await mint();
    const { jobId } = await uploadWith(ticket);
    await settle();
    const share = await call('POST', `/jobs/${jobId}/share`, ticket);

    // Act
    const served = await call('GET', share.body.url, null);
    const video = /<video src="([^"]+)"/.exec(served.text)![1]!.replace(/&amp;/g, '&');
    const played = await fetch(video);
    await call('DELETE', `/jobs/${jobId}`, ticket);
    const revoked = await call('GET', share.body.url, null);
    const playedAfter = await fetch(video);

    // Assert
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(served.headers.get('cache-control')).toBe('no-store');
    expect(video).toContain(`/${BUCKET}/`);
    expect(served.text).toContain('<meta property="og:title" content="AI 生成的视频 · A video made with AI">');
    expect(served.text).toContain('<meta property="og:type" content="video.other">');
    expect(served.text).toContain('<meta property="og:description" content="本视频由人工智能合成 (深度合成)。This video was made with AI (deep synthesis).">');
    expect(served.text).toContain(`<meta property="og:video" content="${video.replace(/&/g, '&amp;')}">`);
    expect(served.text).toContain('AI 生成 · Made with AI');
    expect(played.status).toBe(200);
    expect(played.headers.get('content-type')).toBe('video/mp4');
    expect(revoked.status).toBe(410);
    expect(revoked.text).toContain('视频已删除 · This video was deleted');
    expect(revoked.text).not.toContain('<video');
    expect(playedAfter.status).toBe(404);
  });

  it("ends a ticket's share link with the ticket (an operator's after SHARE_DAYS), and answers 404 for a link that is not ours", async () => {
    // Arrange
    const { ticket, expiresAt } = await mint({ app: 'female', expiresInSeconds: 120 });
    const { jobId } = await uploadWith(ticket);
    const byTicket = await call('POST', `/jobs/${jobId}/share`, ticket);
    const byOperator = await call('POST', `/jobs/${jobId}/share`, TOKEN);

    // Act
    clock += 121_000;
    const afterTicket = await call('GET', byTicket.body.url, null);
    const operatorsStill = await call('GET', byOperator.body.url, null);
    const forged = await call('GET', `${byOperator.body.url.slice(0, -3)}xyz`, null);

    // Assert
    expect(byTicket.body.expiresAt).toBe(expiresAt);
    expect(byOperator.body.expiresAt).toBe(new Date(Math.floor((clock - 121_000) / 1000) * 1000 + 3 * 86_400_000).toISOString());
    expect(afterTicket.status).toBe(410);
    expect(operatorsStill.status).toBe(200);
    expect(forged.status).toBe(404);
  });
});
