import { createHash } from 'node:crypto';
import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { createHandler as createOssHandler } from '../../../../functions/oss-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { BUCKET, DAY_ONE, DAY_ONE_RESET, startBudgetCloud, type BudgetCloud } from '../../../helpers/budget-cloud';
import { fcContext, LOCAL_CREDENTIALS, TINY_PNG } from '../../../helpers/local-cloud';

/** The budget and the per-token quotas over HTTP: 429 with Retry-After, nothing stored; GET /usage; page uploads. */
const ALICE = 'alice-token-5c2e9b';
const BOB = 'bob-token-81fa07';
const OPEN = 'open-token-33d1c4';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A clock standing still at noon in Shanghai: Retry-After is then exactly the 12 hours to midnight. */
const atNoon = () => new Date(DAY_ONE);

describe('the spending limit over HTTP (POST /jobs, POST /uploads, GET /usage)', () => {
  let cloud: BudgetCloud;
  const gateways: LocalFcGateway[] = [];
  let n = 0;

  beforeAll(async () => {
    cloud = await startBudgetCloud('budget-http-');
  });
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await cloud.close();
  });

  /** Each test counts in a records prefix of its own (`recordsPrefix`), as a fresh deployment would. */
  const inPrefix = (recordsPrefix: string | undefined) => (recordsPrefix ? { records: { prefix: recordsPrefix } } : undefined);

  async function gateway(env: Record<string, string>, recordsPrefix?: string): Promise<LocalFcGateway> {
    const handler = createHttpHandler({ env: cloud.env(env), tuning: inPrefix(recordsPrefix), now: atNoon });
    const started = await startFcGateway({ handler, credentials: LOCAL_CREDENTIALS });
    gateways.push(started);
    return started;
  }

  async function call(target: LocalFcGateway, path: string, token: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${target.url}${path}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  /** A fresh image in the bucket and the POST /jobs body naming it. */
  async function job(): Promise<{ app: string; image: { bucket: string; key: string } }> {
    const key = `images/budget-http-${++n}.png`;
    await cloud.upload(key);
    return { app: 'female', image: { bucket: BUCKET, key } };
  }

  it('answers 429 BUDGET_EXHAUSTED past the budget, Retry-After the seconds to the reset, and stores nothing for it', async () => {
    // Arrange: a budget of 2, in a fresh records prefix
    const target = await gateway({ JOB_BUDGET_PER_DAY: '2', AUTH_TOKENS: OPEN }, '.budget-http-a/');
    const submitsBefore = cloud.ice.jobs().length;

    // Act
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(target, '/jobs', OPEN, { body: await job(), headers: { 'Idempotency-Key': `key-${i}` } }));

    // Assert
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 429]);
    expect(answers[2]!.headers.get('retry-after')).toBe('43200');
    expect(answers[2]!.body).toEqual({
      error: {
        code: 'BUDGET_EXHAUSTED',
        message: `The daily budget of 2 jobs is used up for 2026-12-02; it renews at ${DAY_ONE_RESET}`,
        details: { reason: 'budget', day: '2026-12-02', limit: 2, resetsAt: DAY_ONE_RESET, retryAfterSeconds: 43_200 },
      },
    });
    expect(cloud.ice.jobs().length - submitsBefore).toBe(2);
    // Two Idempotency-Key records and two job records: the refused request left none.
    expect(cloud.keysUnder('.budget-http-a/http/')).toHaveLength(2);
    expect(cloud.keysUnder('.budget-http-a/jobs/')).toHaveLength(2);
    expect(cloud.keysUnder('.budget-http-a/deferred/')).toEqual([]);
  });

  it('refuses a token at its quota with 429 QUOTA_EXHAUSTED while another token proceeds', async () => {
    // Arrange: alice may submit 2 a day; bob (given as its sha256 form) has no quota
    const tokens = JSON.stringify([
      { name: 'alice', token: ALICE, jobsPerDay: 2 },
      { name: 'bob', token: `sha256:${sha256(BOB)}` },
    ]);
    const target = await gateway({ AUTH_TOKENS: tokens }, '.budget-http-b/');

    // Act
    const alice = [];
    for (let i = 0; i < 3; i++) alice.push(await call(target, '/jobs', ALICE, { body: await job() }));
    const bob = await call(target, '/jobs', BOB, { body: await job() });

    // Assert
    expect(alice.map((answer) => answer.status)).toEqual([202, 202, 429]);
    expect(alice[2]!.body.error).toMatchObject({ code: 'QUOTA_EXHAUSTED', details: { token: 'alice', limit: 2, retryAfterSeconds: 43_200 } });
    expect(alice[2]!.headers.get('retry-after')).toBe('43200');
    expect(bob.status).toBe(202);
    expect((await call(target, '/usage', ALICE)).body.tokens).toEqual([{ name: 'alice', used: 2, limit: 2 }]);
    expect((await call(target, '/usage', BOB)).body.tokens).toEqual([]);
  });

  it('answers GET /usage with the day, the count against the budget, the deferred line, the reset and the cost estimate', async () => {
    // Arrange: a budget of 5 with 1 job spent; a job costs 0.35 CNY
    const target = await gateway({ JOB_BUDGET_PER_DAY: '5', AUTH_TOKENS: OPEN, JOB_PRICE: '0.35 CNY' }, '.budget-http-c/');
    await call(target, '/jobs', OPEN, { body: await job() });

    // Act
    const usage = await call(target, '/usage', OPEN);
    const anonymous = await fetch(`${target.url}/usage`);

    // Assert
    expect(usage.status).toBe(200);
    expect(usage.headers.get('cache-control')).toBe('no-store');
    expect(usage.body).toEqual({
      day: '2026-12-02',
      timezone: 'Asia/Shanghai',
      used: 1,
      limit: 5,
      remaining: 4,
      deferred: 0,
      resetsAt: DAY_ONE_RESET,
      tokens: [],
      estimatedCost: { amount: 0.35, currency: 'CNY', perJob: 0.35 },
    });
    expect(anonymous.status).toBe(401);
  });

  it('answers GET /usage without a budget with nulls, and reads nothing from OSS for it', async () => {
    // Arrange
    const target = await gateway({ AUTH_TOKENS: OPEN });
    const before = cloud.oss.requests().length;

    // Act
    const usage = await call(target, '/usage', OPEN);

    // Assert
    expect(usage.body).toEqual({
      day: '2026-12-02',
      timezone: 'Asia/Shanghai',
      used: null,
      limit: null,
      remaining: null,
      deferred: 0,
      resetsAt: DAY_ONE_RESET,
      tokens: [],
    });
    expect(cloud.oss.requests().length).toBe(before);
  });

  it('counts a page upload against the token that asked for its form: its key carries the name, and a token at its quota gets no more forms', async () => {
    // Arrange: alice may submit 1 a day; the upload function reads the same AUTH_TOKENS (names and quotas)
    const env = {
      AUTH_TOKENS: JSON.stringify([{ name: 'alice', token: ALICE, jobsPerDay: 1 }]),
      APP_ROUTES: '{"uploads/female/":"female"}',
    };
    const target = await gateway(env, '.budget-http-d/');
    const uploads = createOssHandler({ env: cloud.env(env), tuning: inPrefix('.budget-http-d/'), now: atNoon });
    const form = await call(target, '/uploads', ALICE, { body: { app: 'female', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length } });

    // Act: the browser posts the form; the upload trigger submits
    const body = new FormData();
    for (const [name, value] of Object.entries(form.body.fields as Record<string, string>)) body.append(name, value);
    body.append('file', new Blob([TINY_PNG], { type: 'image/png' }), 'me.png');
    const posted = await fetch(form.body.url, { method: 'POST', body });
    const submitted = await uploads(cloud.eventOf(form.body.key), fcContext());
    const second = await call(target, '/uploads', ALICE, { body: { app: 'female', fileName: 'again.png', contentType: 'image/png', size: TINY_PNG.length } });

    // Assert
    expect(form.status).toBe(201);
    expect(form.body.key).toMatch(/^uploads\/female\/\d{4}-\d{2}-\d{2}\/token-alice\/[0-9a-f-]{36}\.png$/);
    expect(form.body.key).not.toContain(ALICE);
    expect(posted.status).toBe(204);
    expect(submitted.submitted).toHaveLength(1);
    expect(cloud.keysUnder(`.budget-http-d/budget/2026-12-02/tokens/alice/slots/`)).toEqual(['.budget-http-d/budget/2026-12-02/tokens/alice/slots/00000001']);
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ code: 'QUOTA_EXHAUSTED', details: { token: 'alice', limit: 1, resetsAt: DAY_ONE_RESET } });
    expect(second.headers.get('retry-after')).toBe('43200');
  });

  it('defers an upload whose token is past its quota (its form was signed before), QUOTA_EXHAUSTED, instead of submitting it', async () => {
    // Arrange: an upload under alice's folder once alice has spent her 1 job of the day
    const env = {
      AUTH_TOKENS: JSON.stringify([{ name: 'alice', token: ALICE, jobsPerDay: 1 }]),
      APP_ROUTES: '{"uploads/female/":"female"}',
    };
    const uploads = createOssHandler({ env: cloud.env(env), tuning: inPrefix('.budget-http-d/'), now: atNoon });
    const key = 'uploads/female/2026-12-02/token-alice/late.png';

    // Act
    const result = await uploads(await cloud.upload(key), fcContext());

    // Assert
    expect(result.deferred).toEqual([{ source: `oss://${BUCKET}/${key}`, code: 'QUOTA_EXHAUSTED', resetsAt: DAY_ONE_RESET }]);
    const [entry] = await Promise.all(cloud.keysUnder('.budget-http-d/deferred/').map((name) => cloud.readJson(name)));
    expect(entry).toMatchObject({ code: 'QUOTA_EXHAUSTED', token: 'alice', source: `oss://${BUCKET}/${key}` });
  });
});
