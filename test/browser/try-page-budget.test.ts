import type { Browser, Page } from 'playwright-core';
import { TINY_PNG } from '../../local/dev-fixtures';
import { describeWithBrowser, launchBrowser } from '../helpers/browser';
import { startNpmStart, type RunningLocalCloud } from '../helpers/npm-start';

/**
 * The page with a daily budget (npm start with JOB_BUDGET_PER_DAY=2; its demo job spends the first): it says how
 * many jobs are left, says plainly when the budget is spent, and tells the user an upload over it waits.
 */

describeWithBrowser('the page in a browser with a daily budget (headless Chromium against npm start)', () => {
  jest.setTimeout(240_000);
  let cloud: RunningLocalCloud;
  let browser: Browser;

  beforeAll(async () => {
    [cloud, browser] = await Promise.all([startNpmStart({ LOCAL_ICE_JOB_SECONDS: '2', LOCAL_WATCHER_SECONDS: '1', JOB_BUDGET_PER_DAY: '2' }), launchBrowser()]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), cloud?.stop()]);
  });

  async function dropFile(page: Page, name: string): Promise<void> {
    await page.evaluate(
      ({ name, base64 }) => {
        const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        // Browser globals (this runs in the page); the project's TypeScript has no DOM types.
        const browser = globalThis as any;
        const transfer = new browser.DataTransfer();
        transfer.items.add(new browser.File([data], name, { type: 'image/png' }));
        browser.document.getElementById('drop').dispatchEvent(new browser.DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { name, base64: TINY_PNG.toString('base64') },
    );
  }

  it('shows "1 job left today", then says the budget is spent, and that the next photo waits for it', async () => {
    // Arrange
    const page = await browser.newPage();
    // Waits for what the page shows end when it shows it; this only ends a hang (a busy machine is slow).
    page.setDefaultTimeout(90_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${cloud.pageUrl}#operator`);
    await page.fill('#token', cloud.token);
    await page.click('#connect');
    await page.waitForSelector('#usage:not([hidden])');
    const before = await page.textContent('#usage');

    // Act: the day's last job, then one more photo
    await dropFile(page, 'last.png');
    await page.waitForSelector('body[data-state="finished"]');
    await page.waitForSelector('body[data-budget="spent"]');
    const spent = await page.textContent('#usage');
    await dropFile(page, 'over.png');
    await page.waitForSelector('body[data-state="deferred"]');

    // Assert
    expect(before).toBe('1 job left today.');
    expect(spent).toMatch(/^Today's budget is spent: a photo dropped now waits, and is submitted first when the budget renews at .+\.$/);
    expect(await page.textContent('#notice')).toMatch(
      /^Waiting for the budget: the image is kept and is submitted when the budget renews at .+\. Nothing is charged until then\.$/,
    );
    expect(await page.isHidden('#error')).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
