// The unit project of jest.config.js on its own, for StrykerJS (which runs one jest config, not
// projects): the mutants are judged by the nock-only unit suite, never the e2e servers.
const { projects, testTimeout } = require('./jest.config.js');

const { displayName: _name, ...unit } = projects.find((project) => project.displayName === 'unit');

module.exports = {
  ...unit,
  testTimeout,
  rootDir: __dirname,
  // zapier-platform-core force-exits a process above 450 MB RSS after 250 invocations (a Lambda
  // safeguard). Stryker runs the whole suite in one long-lived process with coverage counters, so
  // that check alone is replaced by a no-op here; it stays in place for npm test.
  moduleNameMapper: { '^\\./memory-checker$': '<rootDir>/scripts/mutation/no-memory-check.js' },
};
