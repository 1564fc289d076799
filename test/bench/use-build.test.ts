/**
 * bench/lib/use-build.mjs: `npm run bench` measures the code `npm start` runs. With the build up
 * to date, modules asked for under src/ come from dist/; with AGENT_CREDIT_FROM_SOURCES=1 (or a
 * stale build) from src/, and the report's wording (bench/lib/code.ts) says which.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchCode, benchCodeImports } from '../../bench/lib/code.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// plain JavaScript (it runs before anything can load TypeScript): typed here
const { launchTarget } = (await import(new URL('../../bin/launch-target.js', import.meta.url).href)) as {
  launchTarget(root: URL, env: NodeJS.ProcessEnv): { target: string; reason: string };
};

/** This process's environment without the project's own variables (a developer's AGENT_CREDIT_FROM_SOURCES, say). */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_CREDIT_'))),
  ...extra,
});

/** Where a src/ module resolves — and so is loaded from — in a child started the way `npm run bench` starts. */
function loadedFrom(env: NodeJS.ProcessEnv): { code: string; url: string } {
  const script = "console.log(JSON.stringify({ code: process.env.AGENT_CREDIT_BENCH_CODE, url: import.meta.resolve('./src/events/event-json.js') }));";
  const run = spawnSync(process.execPath, ['--import', 'tsx', ...benchCodeImports(root, { AGENT_CREDIT_BENCH_CODE: 'x' }), '--input-type=module', '-e', script], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { code: string; url: string };
}

describe('bench/lib/use-build.mjs', () => {
  it('loads src/ modules from dist/ when the build is up to date, and says so', () => {
    const env = cleanEnv();
    const { target, reason } = launchTarget(new URL('../../', import.meta.url), env);
    const { code, url } = loadedFrom(env);
    if (target === 'dist') {
      expect(code).toBe('dist');
      expect(url).toBe(new URL('../../dist/events/event-json.js', import.meta.url).href);
      expect(benchCode({ AGENT_CREDIT_BENCH_CODE: code })).toMatch(/^the compiled build \(dist\//);
    } else {
      // a work tree edited since its last build: the sources run and the reason is reported
      expect(code).toBe(`sources: ${reason}`);
      expect(url).toBe(new URL('../../src/events/event-json.ts', import.meta.url).href);
    }
  });

  it('runs the sources, and reports why, with AGENT_CREDIT_FROM_SOURCES=1', () => {
    const { code, url } = loadedFrom(cleanEnv({ AGENT_CREDIT_FROM_SOURCES: '1' }));
    expect(code).toBe('sources: AGENT_CREDIT_FROM_SOURCES=1');
    expect(url).toBe(new URL('../../src/events/event-json.ts', import.meta.url).href);
    expect(benchCode({ AGENT_CREDIT_BENCH_CODE: code })).toBe('the TypeScript sources through tsx (AGENT_CREDIT_FROM_SOURCES=1), not the compiled build `npm start` runs');
  });

  it('leaves a bench started another way on the sources, with no flags for its children', () => {
    expect(benchCodeImports(root, {})).toEqual([]);
    expect(benchCode({})).toMatch(/^the TypeScript sources through tsx \(the benchmark was not started by `npm run bench`\)/);
  });
});
