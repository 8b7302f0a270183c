// Sums jest's --json result files into the one closing line CI reads: "tests: N passed, N failed".
const fs = require("node:fs");
let passed = 0, failed = 0, suitesFailed = 0;
for (const f of process.argv.slice(2)) {
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  suitesFailed += r.numFailedTestSuites;
}
if (suitesFailed) console.log(`(${suitesFailed} test file(s) failed to run or had failures)`);
console.log(`tests: ${passed} passed, ${failed + (passed + failed === 0 ? 1 : 0)} failed`);
process.exit(failed || suitesFailed || passed === 0 ? 1 : 0);
