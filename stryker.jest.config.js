// The unit project of jest.config.js on its own, for StrykerJS (which runs one jest config, not
// projects): the mutants are judged by the nock-only unit suite, never the e2e servers.
const { projects, testTimeout } = require('./jest.config.js');

const { displayName: _name, ...unit } = projects.find((project) => project.displayName === 'unit');

// It keeps the unit project's stand-in for zapier-platform-core's memory watchdog, which would
// otherwise force-exit Stryker's long-lived process after 250 invocations.
// test/project-hygiene.test.ts reads the git work tree, and Stryker's sandbox copy is not one (it
// sits in the ignored .stryker-tmp/); it checks no code, so no mutant depends on it.
module.exports = {
  ...unit,
  testTimeout,
  rootDir: __dirname,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/project-hygiene\\.test\\.ts$'],
};
