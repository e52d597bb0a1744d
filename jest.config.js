// Three projects (unit, integration, e2e) so `npm test` runs all, and each can be run alone.
// Integration tests share one lab brought up by globalSetup; they fail (never skip) without it.
// ts-jest transpiles only (tsconfig has isolatedModules); `npm run typecheck` does the type checking.
const transform = {
  '^.+\\.ts$': ['ts-jest', {}],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  // Every project writes what it produced (logs, Slack calls, uploads…) under KBOPS_TEST_ARTIFACTS;
  // the teardown scans it for every lab secret and fails the run on any occurrence.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
    },
    {
      // The real Bolt app over signed HTTP, against a fake Slack Web API and a private lab.
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
    {
      // Faults on purpose against private labs: kills, cut connections, a stopped state database.
      displayName: 'chaos',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
    },
  ],
};
