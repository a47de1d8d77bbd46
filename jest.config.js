// Three projects, run one after the other by `npm test` (the third, `browser`, drives Chromium): unit tests intercept HTTP with nock and
// forbid real connections; end-to-end tests use real HTTP on 127.0.0.1. They never share a worker,
// so nock's patching of node's http module cannot meet the real servers of the e2e suite.
// Workers are set by the npm scripts: two for the unit project (CPU-bound, two cores), three for the
// end-to-end project, whose suites mostly wait on timers and other processes. Each suite holds on a
// busy machine on its own, so running them side by side only costs wall time when cores are short.
// ts-jest transpiles only: tsconfig's isolatedModules makes it skip type information, and
// `npm run typecheck` checks every file once.
const shared = {
  testEnvironment: 'node',
  // tsc writes a copy of package.json into dist/; jest must not see two packages of one name.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/build/', '<rootDir>/.tmp/', '<rootDir>/.stryker-tmp/', '<rootDir>/cdk.out/'],
  // ts first, so `../index` resolves to index.ts rather than the index.js shim
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // zapier-platform-core's memory watchdog (see the file) would end a long test worker.
  moduleNameMapper: { '^\\./memory-checker$': '<rootDir>/test/support/no-memory-check.js' },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/*.test.ts', '<rootDir>/test/sandbox/**/*.test.ts', '<rootDir>/test/receiver/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup-nock.ts'],
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // The consoles in a real Chromium (test/support/browser.ts): one suite at a time, since a
    // browser alone can keep both cores busy.
    { ...shared, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
  ],
};
