// The unit project of jest.config.js on its own, for StrykerJS (which runs one jest config, not
// projects): the mutants are judged by the nock-only unit suite, never the e2e servers.
const { projects, testTimeout } = require('./jest.config.js');

const { displayName: _name, ...unit } = projects.find((project) => project.displayName === 'unit');

// It keeps the unit project's stand-in for zapier-platform-core's memory watchdog, which would
// otherwise force-exit Stryker's long-lived process after 250 invocations.
module.exports = { ...unit, testTimeout, rootDir: __dirname };
