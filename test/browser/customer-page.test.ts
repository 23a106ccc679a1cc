import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { portraitPng } from '../helpers/portrait-png';
import { describeWithBrowser, launchBrowser } from '../helpers/browser';
import { type RunningLocalCloud, startNpmStart } from '../helpers/npm-start';

/**
 * The customer page in a real browser (headless Debian Chromium driven by playwright-core) against npm start's local
 * cloud, opened as a brand's customer opens it: the pageUrl of a ticket minted by POST /tickets, and no operator
 * token anywhere in the page. A phone in zh-CN and a desktop in en; consent → photo → preview → video in view →
 * share link opened in a new page → delete, and a reload while the video is being made.
 */
const CONSENT_VERSION = 'consent-2026-12';
const TICKET_SECRET = 'local-ticket-secret-for-the-browser-tests-0123456789';
const PHOTO = portraitPng();
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' };
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'en-US' };

/** docs/page-*.png are refreshed on demand only (npm run screenshot), so test runs leave the tree clean. */
function screenshotPath(name: string): string {
  const docs = join(__dirname, '..', '..', 'docs', name);
  const path = process.env.UPDATE_SCREENSHOT === '1' || !existsSync(docs) ? docs : join(tmpdir(), `yike-${name}`);
  mkdirSync(join(path, '..'), { recursive: true });
  return path;
}

describeWithBrowser('the customer page in a browser, opened with a ticket (headless Chromium against npm start)', () => {
  jest.setTimeout(240_000);
  let cloud: RunningLocalCloud;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    [cloud, browser] = await Promise.all([
      startNpmStart({ LOCAL_ICE_JOB_SECONDS: '2', LOCAL_WATCHER_SECONDS: '1', CONSENT_VERSION, TICKET_SECRET }),
      launchBrowser(),
    ]);
    origin = new URL(cloud.pageUrl).origin;
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), cloud?.stop()]);
  });

  /** What a brand's backend does: POST /tickets with its operator token, then sends the customer to pageUrl. */
  async function mintTicket(): Promise<{ ticket: string; pageUrl: string }> {
    const response = await fetch(`${origin}/tickets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${cloud.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ app: 'female', uploads: 2 }),
    });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { ticket: string; pageUrl: string };
    return { ticket: answer.ticket, pageUrl: new URL(answer.pageUrl, origin).href };
  }

  /** A browser context like the customer's, whose every request and page error is recorded. */
  async function customer(
    options: typeof PHONE | typeof DESKTOP,
  ): Promise<{ context: BrowserContext; page: Page; authorizations: string[]; problems: string[] }> {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    // Waits for what the page shows end when it shows it; this only ends a hang (a busy machine is slow).
    page.setDefaultTimeout(90_000);
    const authorizations: string[] = [];
    const problems: string[] = [];
    context.on('request', (request) => {
      const authorization = request.headers().authorization;
      if (authorization) authorizations.push(authorization);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      // GET /jobs/by-object answers 404 until the upload trigger has made the job's record: the page asks again.
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(message.text()))
        problems.push(message.text());
    });
    return { context, page, authorizations, problems };
  }

  /** Every text the status line shows from now on, however briefly. */
  async function recordStatuses(page: Page): Promise<void> {
    await page.evaluate(() => {
      const browser = globalThis as any;
      const status = browser.document.getElementById('status');
      browser.__statuses = [];
      new browser.MutationObserver(() => {
        const text = status.hidden ? '' : status.textContent;
        if (text && browser.__statuses.at(-1) !== text) browser.__statuses.push(text);
      }).observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
    });
  }
  const shownStatuses = (page: Page) => page.evaluate(() => (globalThis as any).__statuses as string[]);

  /** Whether the element is inside the viewport now (at least its top half). */
  const inView = (page: Page, selector: string) =>
    page.$eval(selector, (element: any) => {
      const box = element.getBoundingClientRect();
      return box.top >= 0 && box.top + box.height / 2 <= (globalThis as any).innerHeight;
    });

  const playable = (page: Page, selector: string) =>
    page.$eval(selector, (video: any) =>
      video.readyState >= 1
        ? true
        : new Promise<boolean>((resolve) => {
            video.addEventListener('loadedmetadata', () => resolve(true), { once: true });
            video.addEventListener('error', () => resolve(false), { once: true });
          }),
    );

  const operatorGet = (path: string) => fetch(`${origin}${path}`, { headers: { Authorization: `Bearer ${cloud.token}` } });

  it('takes a phone in zh-CN from consent to a playing video in view, shares it to a page that plays it, and deletes it', async () => {
    // Arrange
    const { ticket, pageUrl } = await mintTicket();
    const { context, page, authorizations, problems } = await customer(PHONE);
    await page.goto(pageUrl);
    const pickerBeforeConsent = await page.isDisabled('#photo');

    // Act: consent, then the photo
    await page.check('#consent');
    await recordStatuses(page);
    await page.setInputFiles('#photo', { name: 'IMG_0001.png', mimeType: 'image/png', buffer: PHOTO });
    await page.waitForSelector('#preview:not([hidden])');
    await page.waitForSelector('body[data-state="finished"]');
    const videoInView = await inView(page, '#c-video');
    await page.screenshot({ path: screenshotPath('page-phone-zh.png'), fullPage: false });
    const saved = JSON.parse((await page.evaluate(() => (globalThis as any).localStorage.getItem('yike-customer'))) as string);

    // Assert: the page in Chinese, the preview, the plain words, the video with its label and buttons, in view
    expect(pickerBeforeConsent).toBe(true);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.textContent('h1')).toBe('制作你的视频');
    expect(await page.getAttribute('#preview', 'src')).toMatch(/^data:image\/png;base64,/);
    expect(await shownStatuses(page)).toEqual(['正在上传你的照片…', '正在制作你的视频（通常约 3 分钟）…']);
    expect(await page.textContent('#ready h2')).toBe('你的视频已生成');
    expect(await page.textContent('#ready .ai')).toBe('AI 生成');
    expect(await page.textContent('#remove')).toBe('删除我的照片和视频');
    expect(videoInView).toBe(true);
    expect(await playable(page, '#c-video')).toBe(true);
    const src = (await page.getAttribute('#c-video', 'src'))!;
    expect(src).toMatch(/\/yike-uploads\/\.yike-results\/uploads\/female\/.+\/0\.mp4\?OSSAccessKeyId=/);
    expect(await page.getAttribute('#download', 'href')).toBe(src);
    expect(saved).toEqual({ ticket, upload: { bucket: 'yike-uploads', key: expect.stringMatching(/^uploads\/female\//) }, jobId: expect.any(String) });
    const job = (await (await operatorGet(`/jobs/${saved.jobId}`)).json()) as { consent?: { version: string } };
    expect(job.consent).toEqual({ version: CONSENT_VERSION, acceptedAt: expect.any(String) });

    // Act: share, and open the link as someone else would (a new browser context, no storage, no token)
    await page.click('#share');
    await page.waitForSelector('#share-link:not(:empty)');
    const link = (await page.getAttribute('#share-link', 'href'))!;
    const friend = await browser.newContext(PHONE);
    const shared = await friend.newPage();
    const sharedAnswer = await shared.goto(link);
    await shared.waitForSelector('video');

    // Assert: the share page plays the video
    expect(new URL(link).pathname).toMatch(/^\/v\/[^/]+$/);
    expect(sharedAnswer!.status()).toBe(200);
    expect(await playable(shared, 'video')).toBe(true);

    // Act: delete (the page asks first)
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#remove');
    await page.waitForSelector('body[data-state="deleted"]');

    // Assert: forgotten by the page, erased by the service, the share link revoked; no operator token anywhere
    expect(await page.textContent('#status')).toBe('你的照片和视频已删除。');
    expect(await page.isHidden('#ready')).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('yike-customer'))).toBeNull();
    expect((await operatorGet(`/jobs/${saved.jobId}`)).status).toBe(404);
    expect((await fetch(link)).status).toBe(410);
    expect(authorizations.length).toBeGreaterThan(0);
    expect(authorizations.filter((value) => value !== `Bearer ${ticket}`)).toEqual([]);
    expect(await page.content()).not.toContain(cloud.token);
    expect(problems).toEqual([]);
    await Promise.all([context.close(), friend.close()]);
  });

  it('finds the job again on a desktop in en after a reload while the video is being made, without a second upload', async () => {
    // Arrange: the page's long polls are held, so the reload comes while it still waits for the video
    const { ticket, pageUrl } = await mintTicket();
    const { context, page, authorizations, problems } = await customer(DESKTOP);
    await page.route(/\/jobs\/[^/?]+\?wait=/, () => undefined);
    await page.goto(pageUrl);
    await page.check('#consent');
    await page.setInputFiles('#photo', { name: 'portrait.png', mimeType: 'image/png', buffer: PHOTO });
    await page.waitForSelector('body[data-state="making"]');
    const makingText = await page.textContent('#status');
    const uploads: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/uploads') uploads.push(request.url());
    });

    // Act
    await page.unroute(/\/jobs\/[^/?]+\?wait=/);
    await page.reload();
    await page.waitForSelector('body[data-state="finished"]');
    await page.screenshot({ path: screenshotPath('page-desktop-en.png'), fullPage: true });

    // Assert
    expect(makingText).toBe('Making your video (usually about 3 minutes)…');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('#ready h2')).toBe('Your video is ready');
    expect(await page.textContent('#ready .ai')).toBe('Made with AI');
    expect(await playable(page, '#c-video')).toBe(true);
    expect(uploads).toEqual([]);
    expect(authorizations.filter((value) => value !== `Bearer ${ticket}`)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('refuses a file that is not a photo, and a photo over the size limit, in the browser before anything is uploaded, and says so again in Chinese', async () => {
    // Arrange
    const { pageUrl } = await mintTicket();
    const { context, page } = await customer(DESKTOP);
    const uploads: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/uploads') uploads.push(request.method());
    });
    await page.goto(pageUrl);
    await page.check('#consent');

    // Act: a PDF named .png, then a PNG of 22 MiB (the limit is 20 MiB)
    await page.setInputFiles('#photo', { name: 'scan.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.7\n') });
    await page.waitForSelector('body[data-state="refused"]');
    const typeRefusal = await page.textContent('#c-error');
    const large = Buffer.alloc(22 * 1_048_576);
    PHOTO.copy(large);
    await page.setInputFiles('#photo', { name: 'large.png', mimeType: 'image/png', buffer: large });
    await page.waitForSelector('#c-error:has-text("22 MB")');
    const sizeRefusal = await page.textContent('#c-error');
    await page.click('#language');

    // Assert: refused in plain words, nothing sent; the language button says it all again in Chinese
    expect(typeRefusal).toBe('Please choose a JPEG, PNG or WebP photo.');
    expect(sizeRefusal).toBe('This photo is too large (22 MB). Please choose one up to 20 MB.');
    expect(uploads).toEqual([]);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.textContent('h1')).toBe('制作你的视频');
    expect(await page.textContent('#c-error')).toBe('照片太大（22 MB），请选择不超过 20 MB 的照片。');
    expect(await page.textContent('#language')).toBe('English');
    await context.close();
  });
});
