// Runs the secrets check over every log line the suite produced (collected by log-tee.js) when the run ends.
// It counts as one test: a finding makes it a failed test, so the "N passed, N failed" line and the exit code
// say so. Listed before the default reporter so jest's own summary includes it.
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { scanLogText } = require('./secrets-scan');

class SecretsReporter {
  onRunComplete(_contexts, results) {
    const dir = process.env.YIKE_TEST_LOG_DIR;
    if (!dir) return;
    let lines = 0;
    const findings = [];
    const files = readdirSync(dir).filter((name) => name.endsWith('.log'));
    for (const name of files) {
      const text = readFileSync(join(dir, name), 'utf8');
      lines += text.split('\n').filter(Boolean).length;
      for (const finding of scanLogText(text)) findings.push({ file: name, ...finding });
    }
    results.numTotalTests += 1;
    if (findings.length === 0) {
      results.numPassedTests += 1;
      process.stdout.write(`\nsecrets scan: ${lines} log lines from ${files.length} test workers, 0 secrets found\n`);
    } else {
      results.numFailedTests += 1;
      process.stdout.write(`\nsecrets scan FAILED: ${findings.length} secrets in ${lines} log lines (logs kept in ${dir})\n`);
      for (const finding of findings.slice(0, 20)) process.stdout.write(`  ${finding.file}:${finding.line} ${finding.kind}: ${finding.excerpt}\n`);
    }
    if (findings.length === 0 && !process.env.YIKE_KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
  }
}
module.exports = SecretsReporter;
