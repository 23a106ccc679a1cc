import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import OSS from 'ali-oss';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from '../../local/dev-fixtures';
import { describeWithBrowser, launchBrowser } from '../helpers/browser';
import { startNpmStart, type RunningLocalCloud } from '../helpers/npm-start';

/**
 * The page in a real browser (headless Debian Chromium driven by playwright-core) against npm start's local cloud:
 * token → app → drop a PNG → PostObject straight to the local OSS (CORS) → the upload trigger submits the job →
 * the page follows it to the finished video. `.ci/run` installs Chromium when it is missing.
 */

const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'try-page.png');

describeWithBrowser('the page in a browser (headless Chromium against npm start)', () => {
  jest.setTimeout(240_000);
  let cloud: RunningLocalCloud;
  let browser: Browser;
  let iceUrl: string;
  let ossUrl: string;

  beforeAll(async () => {
    [cloud, browser] = await Promise.all([startNpmStart({ LOCAL_ICE_JOB_SECONDS: '2', LOCAL_WATCHER_SECONDS: '1' }), launchBrowser()]);
    iceUrl = /ICE endpoint\s+(http:\/\/\S+)/.exec(cloud.stdout())![1]!;
    ossUrl = /OSS endpoint\s+(http:\/\/\S+)/.exec(cloud.stdout())![1]!;
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), cloud?.stop()]);
  });

  async function iceJobs(): Promise<{ jobId: string; appId: string; appParams: Record<string, string> }[]> {
    return ((await (await fetch(`${iceUrl}/__local/jobs`)).json()) as { jobs: never[] }).jobs;
  }

  /** A page in the operator mode with the token entered and the app chosen; CSP violations and page errors are collected. */
  async function openPage(app: string, url = cloud.pageUrl): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    // Waits for what the page shows end when it shows it; this only ends a hang (a busy machine is slow).
    page.setDefaultTimeout(90_000);
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // The page opens in the customer mode; the operator mode is behind its "For developers" link.
    await page.goto(url);
    await page.click('#operator-link');
    await page.fill('#token', cloud.token);
    await page.click('#connect');
    await page.waitForSelector('#try:not([hidden])');
    await page.selectOption('#app', app);
    return { page, problems };
  }

  /** What a user's drag and drop delivers: a DataTransfer holding the file, dropped on the drop zone. */
  async function dropFile(page: Page, name: string, type: string, bytes: Buffer): Promise<void> {
    await page.evaluate(
      ({ name, type, base64 }) => {
        const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        // Browser globals (this runs in the page); the project's TypeScript has no DOM types.
        const browser = globalThis as any;
        const transfer = new browser.DataTransfer();
        transfer.items.add(new browser.File([data], name, { type }));
        const zone = browser.document.getElementById('drop');
        zone.dispatchEvent(new browser.DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new browser.DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { name, type, base64: bytes.toString('base64') },
    );
  }

  /** Every text the notice banner shows from now on, however briefly (read back with shownNotices). */
  async function recordNotices(page: Page): Promise<void> {
    await page.evaluate(() => {
      const browser = globalThis as any;
      const notice = browser.document.getElementById('notice');
      browser.__notices = [];
      new browser.MutationObserver(() => {
        if (!notice.hidden && notice.textContent) browser.__notices.push(notice.textContent);
      }).observe(notice, { attributes: true, childList: true, characterData: true, subtree: true });
    });
  }
  const shownNotices = (page: Page) => page.evaluate(() => (globalThis as any).__notices as string[]);

  it('takes a dropped PNG through upload, submit, queue and execution to a playing video, with times on each step', async () => {
    // Arrange
    const { page, problems } = await openPage('female');
    const jobsBefore = (await iceJobs()).length;

    // Act
    await dropFile(page, 'portrait.png', 'image/png', TINY_PNG);
    await page.waitForSelector('body[data-state="finished"]');
    const playable = await page.$eval('#video', (video) => {
      const element = video as any;
      return element.readyState >= 1
        ? true
        : new Promise<boolean>((resolve) => {
            element.addEventListener('loadedmetadata', () => resolve(true), { once: true });
            element.addEventListener('error', () => resolve(false), { once: true });
          });
    });
    // docs/try-page.png (README.md) is refreshed on demand only (npm run screenshot), so test runs leave the tree clean.
    const screenshot = process.env.UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT) ? SCREENSHOT : join(tmpdir(), 'yike-try-page.png');
    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });

    // Assert: exactly one new ICE job, for the uploaded object, whose own copy (JOB_RESULTS copy) the page plays
    const jobs = await iceJobs();
    expect(jobs).toHaveLength(jobsBefore + 1);
    const job = jobs[jobs.length - 1]!;
    expect(job.appId).toBe('sys-ao-smith-1');
    // IMAGE_URL_MODE=auto (the default) found the form npm start's ICE takes: a Yike asset id (LOCAL_ICE_ACCEPTS).
    expect(job.appParams['LoadImage.1.TargetImage']).toMatch(/^[0-9a-f]{32}$/);
    const src = await page.getAttribute('#video', 'src');
    const uploadKey = /\/\.yike-results\/(uploads\/female\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.png)\/0\.mp4\?/.exec(src!)![1]!;
    const ownCopy = `${ossUrl.replace('127.0.0.1', 'localhost')}/yike-uploads/.yike-results/${uploadKey}/0.mp4`;
    expect(src!.startsWith(`${ownCopy}?OSSAccessKeyId=`)).toBe(true);
    expect(new URL(src!).searchParams.get('Signature')).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
    expect(await page.getAttribute('#video-link', 'href')).toBe(src);
    expect(await page.textContent('#video-link')).toMatch(/^your copy \(link valid until /);
    expect(playable).toBe(true);
    // The bytes it played are ICE's output, byte for byte.
    const [copied, original] = await Promise.all([fetch(src!), fetch(`${iceUrl.replace('http:', 'https:')}/__local/outputs/${job.jobId}.mp4`)]);
    expect(Buffer.from(await copied.arrayBuffer()).equals(Buffer.from(await original.arrayBuffer()))).toBe(true);
    expect(await page.textContent('#job-id')).toBe(`JobId ${job.jobId} (sys-ao-smith-1)`);
    const steps = await page.$$eval('#timeline li', (items) =>
      items.map((item: any) => ({ step: item.dataset.step, className: item.className, time: item.querySelector('time')!.textContent })),
    );
    expect(steps.map((step) => step.step)).toEqual(['uploading', 'submitted', 'queued', 'executing', 'finished']);
    for (const step of steps) {
      expect(step.className).toBe('done');
      // Queued may pass between two status reads (ICE keeps no time for it): a dash then, never blank.
      expect({ step: step.step, time: step.time }).toEqual({
        step: step.step,
        time: step.step === 'queued' ? expect.stringMatching(/\d|\u2014/) : expect.stringMatching(/\d/),
      });
    }
    expect(await page.isHidden('#error')).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses a dropped .txt file in plain words, and nothing is uploaded or submitted', async () => {
    // Arrange
    const { page, problems } = await openPage('male');
    const jobsBefore = (await iceJobs()).length;

    // Act
    await dropFile(page, 'notes.txt', 'text/plain', Buffer.from('not an image'));
    await page.waitForSelector('#error:not([hidden])');

    // Assert
    expect(await page.textContent('#error')).toBe(
      'That file is not an image this service takes. fileName: must end in one of .jpg, .jpeg, .png, .webp (NOT_AN_IMAGE)',
    );
    expect(await page.getAttribute('#timeline li[data-step="uploading"]', 'class')).toBe('failed');
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await iceJobs()).toHaveLength(jobsBefore);
    expect(problems.filter((text) => !/status of 415/.test(text))).toEqual([]);
    await page.close();
  });

  it("shows ICE's precheck refusal with ICE's code when the bytes are not an image, and no job is submitted", async () => {
    // Arrange: a .png name and type, but text inside (OSS stores it; ICE's precheck reads it and refuses)
    const { page } = await openPage('female');
    const jobsBefore = (await iceJobs()).length;

    // Act
    await dropFile(page, 'fake.png', 'image/png', Buffer.from('this is not a PNG'));
    await page.waitForSelector('#error:not([hidden])');

    // Assert
    // IMAGE_URL_MODE=auto tried every form for this image before it answered.
    expect(await page.textContent('#error')).toMatch(
      /^ICE refused the image before making anything \(no charge\)\. ICE's precheck refused oss:\/\/yike-uploads\/uploads\/female\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.png in every form \(yike-asset: Failed ImageCheckFailed; media-id: Failed ImageCheckFailed; public: Failed ImageCheckFailed; signed: Failed ImageCheckFailed; cdn: Failed ImageCheckFailed\) \(PRECHECK_FAILED\)$/,
    );
    expect(await page.getAttribute('#timeline li[data-step="uploading"]', 'class')).toBe('done');
    expect(await page.getAttribute('#timeline li[data-step="submitted"]', 'class')).toBe('failed');
    expect(await iceJobs()).toHaveLength(jobsBefore);
    await page.close();
  });

  it('shows no CORS banner on the page opened at localhost: the rule allows the origin the browser uses', async () => {
    // Arrange: the same page at http://localhost:<port>/, another origin to the browser than 127.0.0.1
    const { page, problems } = await openPage('female', cloud.pageUrl.replace('127.0.0.1', 'localhost'));
    await recordNotices(page);

    // Act
    await dropFile(page, 'portrait.png', 'image/png', TINY_PNG);
    await page.waitForSelector('body[data-state="finished"]');

    // Assert
    expect(new URL(page.url()).hostname).toBe('localhost');
    expect(await shownNotices(page)).toEqual([]);
    expect(await page.isHidden('#notice')).toBe(true);
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.getAttribute('#video', 'src')).toMatch(/\/yike-uploads\/\.yike-results\/uploads\/female\/.+\/0\.mp4\?OSSAccessKeyId=/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('says which origin has no CORS rule when the bucket has none, follows the upload to its video, and drops the banner once the upload is found', async () => {
    // Arrange: the bucket loses its CORS rule (as a bucket nobody configured)
    const client = new OSS({
      endpoint: ossUrl,
      bucket: 'yike-uploads',
      region: 'oss-cn-shanghai',
      ...LOCAL_STS_CREDENTIALS,
      stsToken: LOCAL_STS_CREDENTIALS.securityToken,
      refreshSTSTokenInterval: 300_000,
    } as OSS.Options);
    await client.deleteBucketCORS('yike-uploads');
    const { page } = await openPage('female');
    await recordNotices(page);

    // Act
    await dropFile(page, 'portrait.png', 'image/png', TINY_PNG);
    await page.waitForSelector('body[data-state="finished"]');

    // Assert
    expect(await shownNotices(page)).toEqual([
      `The browser blocked the bucket's answer: the bucket has no CORS rule for this page's origin. Add the CORS rule from docs/page.md for ${new URL(cloud.pageUrl).origin} to the bucket. Looking for the job anyway... (CORS_BLOCKED)`,
    ]);
    expect(await page.isHidden('#notice')).toBe(true);
    expect(await page.getAttribute('#video', 'src')).toMatch(/\/yike-uploads\/\.yike-results\/uploads\/female\/.+\/0\.mp4\?OSSAccessKeyId=/);
    expect(await page.isHidden('#error')).toBe(true);
    await page.close();
  });
});
