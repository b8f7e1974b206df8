// Ends the test run with the plain line `N passed, N failed` (CI reads that line, not jest's
// summary). A suite that fails to load counts as failed too. Printed as the process exits, so it
// comes after jest's summary and the global teardown's messages.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
