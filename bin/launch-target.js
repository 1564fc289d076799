// Which code bin/agent-credit.js runs (see there): the compiled build when its stamp
// (dist/.build-stamp, written last by `npm run build`) is at least as new as every source file,
// else the TypeScript sources. Plain JavaScript: it runs before anything can load TypeScript.
import { existsSync, readdirSync, statSync } from 'node:fs';

/** Newest modification time of the .ts/.mjs sources under `dir` (a directory URL), in ms. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(new URL(`${entry.name}/`, dir)));
    else if (/\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(new URL(entry.name, dir)).mtimeMs);
  }
  return newest;
}

/**
 * 'dist' or 'sources' for the package at `root` (a directory URL), with why. Sources when
 * AGENT_CREDIT_FROM_SOURCES=1, when there is no complete build, or when a source file changed
 * after it (an edit must never run stale). npm packs every file with one fixed time, so an
 * installed package runs its build.
 */
export function launchTarget(root, env = process.env) {
  if (env.AGENT_CREDIT_FROM_SOURCES === '1') return { target: 'sources', reason: 'AGENT_CREDIT_FROM_SOURCES=1' };
  const stamp = new URL('dist/.build-stamp', root);
  if (!existsSync(stamp)) return { target: 'sources', reason: 'no complete build (dist/.build-stamp): npm run build' };
  const src = new URL('src/', root);
  if (existsSync(src) && newestSource(src) > statSync(stamp).mtimeMs) return { target: 'sources', reason: 'a source file is newer than the build: npm run build' };
  return { target: 'dist', reason: 'the build is up to date' };
}
