import { createHandler as createHttpHandler } from '../../../../functions/http-submit/index';
import { startFcGateway, type LocalFcGateway } from '../../../../local/fc/gateway';
import { startOssServer, type LocalOssServer, type OssNotification } from '../../../../local/oss/server';
import { LOCAL_CREDENTIALS, logCapture, tempDir, TINY_PNG, localOssClient } from '../../../helpers/local-cloud';
import { eventually } from '../../../helpers/waiting';

/**
 * The form POST /uploads signs, posted as a browser would (fetch + FormData) to the local OSS, which checks the
 * policy and signature like OSS: what it lets through, and what a holder of the form cannot do with it.
 */
const BUCKET = 'yike-uploads';
const TOKEN = 'upload-forms-token-3b9f';

describe('upload forms from POST /uploads, posted to the (local) bucket', () => {
  let oss: LocalOssServer;
  let gateway: LocalFcGateway;
  let dir: ReturnType<typeof tempDir>;
  const created: OssNotification[] = [];

  beforeAll(async () => {
    dir = tempDir('upload-forms-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET], onObjectCreated: (event) => created.push(event) });
    const handler = createHttpHandler({
      env: { OSS_ENDPOINT: oss.localhostUrl, ALLOWED_BUCKETS: BUCKET, AUTH_TOKENS: TOKEN, APP_ROUTES: '{"uploads/female/":"female"}' },
      sink: logCapture().sink,
    });
    gateway = await startFcGateway({ handler, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    await Promise.all([gateway.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => {
    created.length = 0;
  });

  async function newForm(): Promise<{ url: string; key: string; fields: Record<string, string> }> {
    const response = await fetch(`${gateway.url}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'female', fileName: 'me.png', contentType: 'image/png', size: TINY_PNG.length }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { url: string; key: string; fields: Record<string, string> };
  }

  function post(form: { url: string; fields: Record<string, string> }, file: Blob, change: Record<string, string | undefined> = {}) {
    const body = new FormData();
    for (const [name, value] of Object.entries({ ...form.fields, ...change })) if (value !== undefined) body.append(name, value);
    body.append('file', file, 'me.png');
    return fetch(form.url, { method: 'POST', body });
  }

  /**
   * The notifications OSS sent for what happened before this call: it delivers them in order, so once a marker
   * object's has come, every earlier one has too (no waiting for a time in which one might still come).
   */
  let markers = 0;
  async function notificationsSoFar(): Promise<[string, string][]> {
    const marker = `markers/${++markers}.txt`;
    await localOssClient(oss.url, BUCKET).put(marker, Buffer.from('marker'));
    await eventually(() => created.some((event) => event.key === marker), `the notification of ${marker}`);
    return created.filter((event) => !event.key.startsWith('markers/')).map((event) => [event.eventName, event.key]);
  }

  async function storedType(key: string): Promise<string | undefined> {
    const client = localOssClient(oss.url, BUCKET);
    return (await client.head(key)).res.headers['content-type' as keyof object] as string | undefined;
  }

  it('stores the image under the form key as image/png and fires one ObjectCreated:PostObject', async () => {
    // Arrange
    const form = await newForm();

    // Act
    const response = await post(form, new Blob([TINY_PNG], { type: 'image/png' }));

    // Assert
    expect(response.status).toBe(204);
    expect(await storedType(form.key)).toBe('image/png');
    expect(await notificationsSoFar()).toEqual([['ObjectCreated:PostObject', form.key]]);
  });

  it('is good for one upload: a second post of the same form is refused, so a leaked form cannot make more jobs', async () => {
    // Arrange
    const form = await newForm();
    await post(form, new Blob([TINY_PNG], { type: 'image/png' }));

    // Act
    const again = await post(form, new Blob([TINY_PNG], { type: 'image/png' }));

    // Assert
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('<Code>FileAlreadyExists</Code>');
    expect(await notificationsSoFar()).toEqual([['ObjectCreated:PostObject', form.key]]);
  });

  it('stores image/png even when the file part says text/html (x-oss-content-type is pinned and wins)', async () => {
    // Arrange
    const form = await newForm();

    // Act
    const response = await post(form, new Blob(['<script>alert(1)</script>'], { type: 'text/html' }));

    // Assert
    expect(response.status).toBe(204);
    expect(await storedType(form.key)).toBe('image/png');
  });

  it.each([
    ['x-oss-content-type set to text/html', { 'x-oss-content-type': 'text/html' }],
    ['x-oss-content-type left out', { 'x-oss-content-type': undefined }],
    ['x-oss-forbid-overwrite left out', { 'x-oss-forbid-overwrite': undefined }],
    ['another key', { key: 'uploads/female/elsewhere.png' }],
  ])('refuses the form with %s (policy condition failed), storing nothing', async (_name, change) => {
    // Arrange
    const form = await newForm();

    // Act
    const response = await post(form, new Blob([TINY_PNG], { type: 'image/png' }), change);

    // Assert
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/<Code>AccessDenied<\/Code>[\s\S]*Invalid according to Policy: Policy Condition failed/);
    expect(await notificationsSoFar()).toEqual([]);
  });
});
