import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, no broker) and `integration` (talks to the real Kafka broker
// the project starts itself in test/integration/global-setup.ts). `npm test` runs both;
// `npx vitest run --project unit` skips the broker while iterating.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    setupFiles: ['test/support/kafkajs-as-shipped.ts', 'test/support/temp-dir-cleanup.ts'],
    hookTimeout: 240_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**'],
          pool: 'threads',
          // Vitest's default is cores − 1: one worker on a 2-core CI machine, so the unit files ran
          // one after another while much of their time is waiting (child processes, timers). Two
          // workers on 2 cores. The integration project runs after this one (its groupOrder), so
          // the two never overlap.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          pool: 'forks',
          // Three files at a time on 2 cores: most of an integration test's time is waiting on the
          // broker (session timeouts, transactions, restarts of a file's own broker) — one file at a
          // time left both cores mostly idle (540 s of the suite's ~990), and two still waited
          // (~380 s of file time per worker). Files share the broker but never its names
          // (`unique()` topics and groups); files that restart a broker start their own. Its own
          // group, after the unit files: the two never overlap, so a timing assumption of an
          // integration test meets at most two other files' load (passed twice at three with the
          // machine loaded by a unit run and a helper's tests besides, 348 s and 447 s).
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
