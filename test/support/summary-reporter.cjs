// Ends the test run with the plain line `N passed, N failed` (CI reads that line, not jest's
// summary). A suite that fails to load counts as failed too.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
