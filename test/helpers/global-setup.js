const { execFileSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = function globalSetup() {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
  // One folder per run for the log lines the secrets check scans (log-tee.js, secrets-reporter.js); workers inherit it.
  if (!process.env.YIKE_TEST_LOG_DIR) process.env.YIKE_TEST_LOG_DIR = mkdtempSync(path.join(tmpdir(), 'yike-test-logs-'));
};
