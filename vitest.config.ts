import { defineConfig } from 'vitest/config';

// Two tiers (ARCHITECTURE.md "Tests"): `unit` drives the profile logic in-process on a fake clock and a fake
// Cognito, in seconds; `end-to-end` starts real processes (emulator, daemon, tmux). `npm test` runs both,
// `npm run test:unit` the first alone.
export default defineConfig({
  test: {
    // Tests start real processes; two cores in CI.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globals: false,
    setupFiles: ['test/setup.ts'],
    projects: [
      {
        extends: true,
        // The daemon's log is for a person reading it; the tests assert on state and calls.
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          env: { COG_TOKEN_LOG: 'error' },
        },
      },
      { extends: true, test: { name: 'end-to-end', include: ['test/*.test.ts'] } },
    ],
  },
});
