import { readFileSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Test files of pure code share one module graph per worker (`unit-shared`, isolate: false): a file
// isolated in its own worker thread re-imports and re-compiles the sources it tests (~0.5 s a file
// on 2 cores, most of a small file's time), and its code never warms up. Only directories of pure
// code are listed, and of their files only those that leave no process-wide state behind: a file
// that records a run through an instrumentation (test/support/*-run.ts: it patches node:http, openai,
// … for the rest of the process — a later file's server then got `undefined` from writeHead), sets a
// global OTel provider or context manager, mocks a module or listens on the process stays in `unit`.
const SHARED_DIRS = ['credit', 'conventions', 'episodes', 'otlp', 'events', 'games', 'schemas', 'scenarios'];
const PROCESS_WIDE = /-run\.js'|@opentelemetry\/(instrumentation|sdk-node|context-async-hooks)|setGlobal|registerInstrumentations|vi\.(doMock|mock)\(|process\.on\(/;
const sharedFiles = SHARED_DIRS.flatMap((dir) =>
  readdirSync(`test/${dir}`, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${dir}/${f.split('\\').join('/')}`),
).filter((f) => !PROCESS_WIDE.test(readFileSync(f, 'utf8')));

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
          exclude: ['test/integration/**', ...sharedFiles],
          pool: 'threads',
          // Vitest's default is cores − 1: one worker on a 2-core CI machine, so the unit files ran
          // one after another while much of their time is waiting (child processes, timers). Two
          // workers on 2 cores. The integration project runs after this one and unit-shared (its
          // groupOrder), so the two never overlap.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'unit-shared',
          include: sharedFiles,
          pool: 'threads',
          isolate: false,
          // the same group as `unit`, so the same worker count (vitest requires it)
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
