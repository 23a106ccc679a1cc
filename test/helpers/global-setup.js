const { execFileSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = function globalSetup() {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
  // The local stand-ins speak HTTPS with a CA of their own (local/tls.ts): workers trust it from their start.
  process.env.NODE_EXTRA_CA_CERTS = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'scripts', 'local-tls.js')], {
    encoding: 'utf8',
  }).trim();
  // One folder per run for the log lines the secrets check scans (log-tee.js, secrets-reporter.js); workers inherit it.
  if (!process.env.YIKE_TEST_LOG_DIR) process.env.YIKE_TEST_LOG_DIR = mkdtempSync(path.join(tmpdir(), 'yike-test-logs-'));
};
