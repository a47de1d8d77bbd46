// The unit project of jest.config.js on its own, for StrykerJS (which runs one jest config, not
// projects): the mutants are judged by the nock-only unit suite, never the e2e servers.
const { projects, testTimeout } = require('./jest.config.js');

const { displayName: _name, ...unit } = projects.find((project) => project.displayName === 'unit');

// MUTATION_TESTS="test/receiver/handler.test.ts test/receiver/log-privacy.test.ts" narrows the run to
// those test files (paths from the project root, space or comma separated). Jest loads every test
// file of its config for each mutant, even when a mutant's covering tests are all in one of them, so
// a run over code only a few suites reach is several times faster with them alone. Results of tests
// left out are kept in the incremental baseline; name every suite that reaches the mutated code.
const only = (process.env.MUTATION_TESTS ?? '')
  .split(/[\s,]+/)
  .filter(Boolean)
  .map((file) => `<rootDir>/${file.replace(/^\.\//, '')}`);

// It keeps the unit project's stand-in for zapier-platform-core's memory watchdog, which would
// otherwise force-exit Stryker's long-lived process after 250 invocations.
// test/project-hygiene.test.ts reads the git work tree, and Stryker's sandbox copy is not one (it
// sits in the ignored .stryker-tmp/); it checks no code, so no mutant depends on it.
module.exports = {
  ...unit,
  ...(only.length > 0 ? { testMatch: only } : {}),
  testTimeout,
  rootDir: __dirname,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/project-hygiene\\.test\\.ts$'],
};
