// Prints jest's totals as one plain line ("N passed, N failed") that the landing reads; .ci/run repeats it
// as its very last line (from JEST_TOTALS_FILE) after jest's own summary.
const { writeFileSync } = require('node:fs');

class TotalsReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`\n${line}\n`);
    if (process.env.JEST_TOTALS_FILE) writeFileSync(process.env.JEST_TOTALS_FILE, `${line}\n`);
  }
}
module.exports = TotalsReporter;
