import fc from 'fast-check';
import { createHandler } from '../../functions/http-submit/index';
import { startIceServer, type LocalIceServer } from '../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS, logCapture, putLocalObject, tempDir } from '../helpers/local-cloud';
import { reportFigures } from '../helpers/reliability';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 424242);
const BUCKET = 'yike-uploads';
const HOST = 'yike-uploads.oss-cn-shanghai.aliyuncs.com';
const TOKEN = 'fuzz-token-7c1d9e2b';
const RESERVED = ['.yike-jobs/', '.yike-results/'];

/** Mostly the well-formed part, sometimes a hostile one: so both accepted and refused inputs are frequent. */
function mostly<T>(usual: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
}

/** Image URLs built from hostile parts: the parser-differential tricks, reserved paths, odd ports and characters. */
const imageUrl = fc
  .tuple(
    mostly('https://', 'http://', 'HTTPS://', 'https:/', '', 'javascript:'),
    mostly('', 'user@', 'a:b@', `${HOST}\\@`, `${HOST}@`),
    mostly(HOST, HOST.toUpperCase(), 'evil.com', `${HOST}.evil.com`, `${HOST}.`, '127.0.0.1', '[::1]'),
    mostly('', ':443', ':8443', ':', ':0'),
    fc.oneof(
      fc.constantFrom(
        '',
        '/',
        '/uploads/a.jpg',
        '/.yike-jobs/x.jpg',
        '/.yike-results/r.jpg',
        '/uploads/%2e%2e/.yike-jobs/x',
        '/%2Eyike-jobs/x',
        '/a%ZZ.jpg',
        '//a.jpg',
      ),
      fc.webPath(),
      fc.string({ maxLength: 30 }).map((s) => `/${s}`),
    ),
    mostly('', '?', '?x=1', '?Signature=abc'),
    mostly('', '#', '#@evil.com'),
    mostly('', '\n', ' ', '\t', '\u0000', '\u2028', '\u00a0', '\\'),
  )
  .map((parts) => parts.join(''));

const imageKey = fc.oneof(
  fc.constantFrom('uploads/female/a.jpg', '.yike-jobs/http/x.json', '.yike-results/a.jpg', '/abs.jpg', ''),
  fc.string({ maxLength: 20 }),
);
const jobBody = fc.oneof(
  fc.record(
    { app: mostly('female', 'male', 'sys-ao-smith-1', 'robot', ''), image: fc.record({ bucket: mostly(BUCKET, 'other-bucket', 'Bad_Bucket'), key: imageKey }) },
    { requiredKeys: ['image'] },
  ),
  fc.record({ app: mostly('female', 'male', 'robot'), imageUrl, productionId: fc.string({ maxLength: 8 }) }, { requiredKeys: ['imageUrl'] }),
  fc.record(
    {
      app: fc.string({ maxLength: 10 }),
      image: fc.record({ bucket: fc.string({ maxLength: 8 }), key: imageKey }),
      imageUrl,
      productionId: fc.string({ maxLength: 8 }),
      folderId: fc.string({ maxLength: 8 }),
      idempotencyKey: fc.string({ maxLength: 8 }),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
);

/** POST /uploads: what the page sends, with hostile names, types and sizes. */
const uploadBody = fc
  .record(
    {
      app: mostly('female', 'male', 'sys-ao-smith-2', 'robot', ''),
      fileName: mostly('photo.png', 'a.txt', '.png', 'x.PNG', '../../.yike-jobs/x.png', 'a\u0000.png', ''),
      contentType: mostly('image/png', 'text/plain', 'image/', 'IMAGE/PNG', 'image/png; x=1', ''),
      size: mostly(1024, 0, -1, 1.5, 20 * 1024 * 1024 + 1, Number.MAX_SAFE_INTEGER),
      bucket: fc.string({ maxLength: 6 }),
    },
    // `bucket` is not a field: present, it is refused (strict body); rarely, so forms are often signed.
    { requiredKeys: ['app', 'fileName', 'contentType', 'size'] },
  )
  .chain((value) => fc.nat(9).map((n) => (n === 0 ? value : { ...value, bucket: undefined })));

const body = fc.oneof(
  { weight: 6, arbitrary: jobBody.map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: uploadBody.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', `{"imageUrl":"https://${HOST}/a.jpg","app":"female"}`) },
);

const request = fc.record({
  method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'post') }),
  path: fc.oneof(
    { weight: 12, arbitrary: fc.constant('/jobs') },
    { weight: 6, arbitrary: fc.constant('/uploads') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '/jobs/',
        '/healthz',
        '/apps',
        '/index.html',
        '/jobs/by-object',
        '/jobs/0123456789abcdef0123456789abcdef',
        '/jobs/a b',
        '/jobs/..%2f',
        '/',
        '/JOBS',
      ),
    },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `/${s}`) },
  ),
  authorization: fc.oneof(
    { weight: 12, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'Bearer', `bearer ${TOKEN}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `Bearer  ${TOKEN} `) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  ),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/json; charset=utf-8', 'application/merge-patch+json', 'application/jsonx') },
  ),
  idempotencyKey: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
  body,
  base64: fc.boolean(),
  query: fc.dictionary(
    fc.constantFrom('bucket', 'key', 'x'),
    fc.oneof(fc.constantFrom(BUCKET, 'uploads/female/a.jpg', '.yike-jobs/x'), fc.string({ maxLength: 10 })),
    { maxKeys: 3 },
  ),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toFcEvent(input: FuzzRequest): Buffer {
  const headers: Record<string, string> = {};
  if (input.authorization !== undefined) headers.Authorization = input.authorization;
  if (input.contentType !== undefined) headers['Content-Type'] = input.contentType;
  if (input.idempotencyKey !== undefined) headers['Idempotency-Key'] = input.idempotencyKey;
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: encodeURI(input.path),
      body: input.base64 ? Buffer.from(input.body).toString('base64') : input.body,
      isBase64Encoded: input.base64,
      headers,
      queryParameters: input.query,
      requestContext: { requestId: 'fuzz', http: { method: input.method, path: input.path, protocol: 'HTTP/1.1', sourceIp: '11.11.11.11' } },
    }),
  );
}

/** What ICE may be sent: the normalized href of an allowed, object-naming https URL, or an allowed bucket's object URL. */
function acceptableImage(value: string): boolean {
  if (value.startsWith(`https://${HOST}/`) === false) return false;
  const url = new URL(value);
  const key = decodeURIComponent(url.pathname.slice(1));
  return (
    url.href === value && url.search === '' && !value.includes('#') && !value.includes('\\') && key !== '' && !RESERVED.some((prefix) => key.startsWith(prefix))
  );
}

const SECRETS = [LOCAL_CREDENTIALS.accessKeySecret, LOCAL_CREDENTIALS.securityToken, TOKEN];
/** A PostObject form (201 from POST /uploads) carries the STS token by design (docs/page.md); never the secret. */
const FORM_SECRETS = [LOCAL_CREDENTIALS.accessKeySecret, TOKEN];
const STACK = /\n\s+at\s|\.ts:\d+|node_modules|Error: /;

describe('http-submit under property-based fuzzing (fast-check)', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dir = tempDir('fuzz-http-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // PRECHECK=on (the default) and the HEAD of {bucket, key}: the well-formed images the generators name must exist.
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    for (const key of ['uploads/female/a.jpg', 'uploads/a.jpg', 'a.jpg']) await putLocalObject(oss.url, BUCKET, key);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close()]);
    dir.remove();
  });

  it(`never throws, never answers 5xx for client input, never calls ICE for a refused input or an upload form, never echoes a secret (an upload form carries only the STS token) or a stack (${RUNS} runs)`, async () => {
    // Arrange
    const logs = logCapture();
    const handler = createHandler({
      env: {
        ICE_ENDPOINT: ice.url,
        IMAGE_URL_MODE: 'public',
        OSS_ENDPOINT: oss.localhostUrl,
        ALLOWED_BUCKETS: BUCKET,
        AUTH_TOKENS: TOKEN,
        APP_ROUTES: '{"uploads/female/":"female","uploads/male/":"male","uploads/sys-ao-smith-2/":"sys-ao-smith-2"}',
      },
      tuning: FAST_RETRIES,
      sink: logs.sink,
    });
    const statuses: Record<number, number> = {};

    // Act + Assert, per generated request
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const before = ice.jobs().length;
        const response = (await handler(toFcEvent(input), fcContext({ credentials: { ...LOCAL_CREDENTIALS } }))) as {
          statusCode: number;
          headers: Record<string, string>;
          body: string;
        };
        const submitted = ice.jobs().slice(before);
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;

        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        if (response.headers['Content-Type'] === 'text/html; charset=utf-8') {
          // GET /: the page, the same for everyone (no data, no secret), never a path to ICE.
          expect(response.statusCode).toBe(200);
          expect(response.headers['Content-Security-Policy']).toMatch(/^default-src 'none'; script-src 'sha256-/);
          for (const secret of SECRETS) expect(response.body).not.toContain(secret);
          expect(submitted).toEqual([]);
          return;
        }
        const parsed = JSON.parse(response.body);
        if (response.statusCode >= 400) expect(parsed).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
        for (const secret of response.statusCode === 201 ? FORM_SECRETS : SECRETS) expect(response.body).not.toContain(secret);
        expect(response.body).not.toMatch(STACK);
        if (response.statusCode === 201) {
          // POST /uploads: a form for a fresh key under uploads/, the type and size the policy pins, and no ICE call.
          expect(parsed.key).toMatch(/^uploads\/(female|male)\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.(png|jpg|jpeg|webp)$/);
          expect(parsed.fields['Content-Type']).toMatch(/^image\//);
          expect(submitted).toEqual([]);
        }
        if (response.statusCode === 202) {
          // One new job, unless this was an Idempotency-Key replay of an earlier answer.
          const replayed = response.headers['Idempotent-Replayed'] === 'true';
          expect(submitted.map((job) => job.jobId)).toEqual(replayed ? [] : [parsed.jobId]);
          for (const job of submitted) expect(acceptableImage(String(job.appParams['LoadImage.1.TargetImage']))).toBe(true);
        } else if (response.statusCode !== 422) {
          // 422 is ICE's own refusal (it was asked and created nothing); every other refusal is ours, before ICE.
          expect(submitted).toEqual([]);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );

    // Assert: the property also holds for the log (nothing secret written while refusing)
    for (const secret of SECRETS) expect(logs.raw()).not.toContain(secret);
    reportFigures('fuzz-http', { runs: RUNS, seed: SEED, statuses, iceJobs: ice.jobs().length });
    // The generators must still reach the accepting path, or the property would hold vacuously.
    expect(statuses[202]).toBeGreaterThan(0);
    expect(statuses[201]).toBeGreaterThan(0);
  }, 120_000);

  it(`answers 400, never throws, for any payload that is not an FC HTTP event (${RUNS} runs)`, async () => {
    // Arrange
    const handler = createHandler({
      env: { ICE_ENDPOINT: ice.url, IMAGE_URL_MODE: 'public', OSS_ENDPOINT: oss.localhostUrl, ALLOWED_BUCKETS: BUCKET, AUTH_TOKENS: TOKEN },
      sink: () => undefined,
    });
    const before = ice.calls().length;

    // Act + Assert
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.string().map((s) => Buffer.from(s)),
          fc.json().map((s) => Buffer.from(s)),
        ),
        async (payload) => {
          const response = (await handler(payload, fcContext())) as { statusCode: number; body: string };
          expect([200, 201, 202, 400, 401, 404, 405, 413, 415]).toContain(response.statusCode);
          expect(response.body).not.toMatch(STACK);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    expect(ice.calls().length).toBe(before);
  }, 120_000);
});
