// Prints, once when the run ends, how many of http-submit's answers the suite checked against the OpenAPI document
// (test/helpers/openapi-check.ts; each test file appends its count to the run's folder, openapi-setup.ts) and which
// documented answers they covered. Listed before secrets-reporter.js, which removes the folder.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

class OpenApiReporter {
  onRunComplete() {
    const dir = process.env.YIKE_TEST_LOG_DIR;
    if (!dir) return;
    let checked = 0;
    let webhooks = 0;
    const seen = new Set();
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.checked'))) {
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line);
        checked += entry.checked;
        webhooks += entry.webhooks;
        for (const answer of entry.seen) seen.add(answer);
      }
    }
    process.stdout.write(
      `\nopenapi check: ${checked} http-submit responses (${seen.size} distinct route/status answers) and ${webhooks} webhook deliveries checked against the OpenAPI document\n`,
    );
  }
}
module.exports = OpenApiReporter;
