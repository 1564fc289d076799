/**
 * Which code the benchmark measures: set by ./use-build.mjs, which `npm run bench` loads with
 * `--import`. Without it (the bench loaded another way, e.g. by the test suite) the sources run
 * through tsx.
 */
import { join } from 'node:path';

/** The RESULTS.md wording for the code under measurement. */
export function benchCode(env: NodeJS.ProcessEnv = process.env): string {
  const code = env.AGENT_CREDIT_BENCH_CODE;
  if (code === 'dist') return 'the compiled build (dist/, tsc ES2022), as `npm start` runs it when the build is up to date (bin/launch-target.js)';
  if (code?.startsWith('sources: ')) return `the TypeScript sources through tsx (${code.slice('sources: '.length)}), not the compiled build \`npm start\` runs`;
  return 'the TypeScript sources through tsx (the benchmark was not started by `npm run bench`), not the compiled build `npm start` runs';
}

/** Node flags that make a child process measure the same code as this one (empty unless `npm run bench` chose). */
export function benchCodeImports(repo: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return env.AGENT_CREDIT_BENCH_CODE === undefined ? [] : ['--import', join(repo, 'bench', 'lib', 'use-build.mjs')];
}
