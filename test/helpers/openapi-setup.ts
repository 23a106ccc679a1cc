/**
 * Jest setupFilesAfterEnv (every test file): a test during which http-submit answered something its OpenAPI document
 * does not describe fails (openapi-check.ts); when the file ends, how many answers were checked goes to the run's folder
 * for openapi-reporter.js.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkedSoFar, takeViolations } from './openapi-check';

afterEach(() => {
  const violations = takeViolations();
  if (violations.length > 0) throw new Error(violations.join('\n'));
});

afterAll(() => {
  const violations = takeViolations();
  const { checked, webhooks, seen } = checkedSoFar();
  const dir = process.env.YIKE_TEST_LOG_DIR;
  if (dir && checked + webhooks > 0) appendFileSync(join(dir, `openapi-${process.pid}.checked`), `${JSON.stringify({ checked, webhooks, seen })}\n`);
  if (violations.length > 0) throw new Error(violations.join('\n'));
});
