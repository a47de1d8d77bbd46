// Stands in for zapier-platform-core's tools/memory-checker.js in jest (jest.config.js): core
// force-exits a process above 450 MB RSS after 250 invocations, a safeguard for Zapier's Lambda
// workers. A jest worker runs thousands of invocations with the whole toolchain loaded, so the
// check would end the test run, not guard anything.
module.exports = () => undefined;
