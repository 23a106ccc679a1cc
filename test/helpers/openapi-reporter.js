// Prints, once when the run ends, how many of http-submit's answers the suite checked against the OpenAPI document
// (test/helpers/openapi-check.ts; each test file appends its count to the run's folder, openapi-setup.ts) and which
// documented answers they covered. Listed before secrets-reporter.js, which removes the folder.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Every answer docs/openapi.json documents, named as openapi-check.ts names what it saw (`<route> <status>`). */
function documentedAnswers(rootDir) {
  const document = JSON.parse(readFileSync(join(rootDir, 'docs', 'openapi.json'), 'utf8'));
  const answers = ['Internal 500', 'NotFound 404', 'MethodNotAllowed 405'];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const status of Object.keys(operation.responses).filter((status) => status !== '500')) answers.push(`${method.toUpperCase()} ${path} ${status}`);
    }
  }
  return answers;
}

class OpenApiReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

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
    const documented = documentedAnswers(this.rootDir);
    const covered = documented.filter((answer) => seen.has(answer)).length;
    process.stdout.write(
      `\nopenapi check: ${checked} http-submit responses (${covered} of the ${documented.length} route/status answers the document lists) and ${webhooks} webhook deliveries checked against the OpenAPI document\n`,
    );
  }
}
module.exports = OpenApiReporter;
