// Stands in for zapier-platform-core's tools/memory-checker.js during `npm run mutation` only
// (see stryker.jest.config.js): a long-lived test process must not be force-exited.
module.exports = () => undefined;
