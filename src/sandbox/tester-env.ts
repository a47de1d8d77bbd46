/**
 * Imported first by the demo: zapier-platform-core reads NODE_ENV once, when it is loaded, to tell
 * whether it runs under a test harness (as with jest). The demo drives the app through the same app
 * tester, so it takes the same mode: the platform's output checks are enforced as errors, and the
 * per-invocation memory report that Zapier's Lambda runtime prints stays out of the summary.
 */
if (!(process.env.NODE_ENV ?? '').startsWith('test')) process.env.NODE_ENV = 'test';

export {};
