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
          // workers on 2 cores. The integration project runs after this one (vitest runs a
          // project without file parallelism as its own group, last), so the two never overlap.
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
          // Integration tests share one broker; run files one at a time to keep 2 cores calm.
          fileParallelism: false,
        },
      },
    ],
  },
});
