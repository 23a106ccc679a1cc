import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium (or CHROMIUM_PATH), driven by playwright-core, for the page's browser tests. Without one the tests
 * are skipped on a developer's machine and fail under CI, where .ci/run installs it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`No browser at ${CHROMIUM}: .ci/run installs Debian's chromium (or set CHROMIUM_PATH)`);
if (!haveBrowser) process.stderr.write(`browser tests: skipped, no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);

export const describeWithBrowser = haveBrowser ? describe : describe.skip;

/** Headless, quiet (no background networking, updates or sync), as a container runs it. */
const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
}
