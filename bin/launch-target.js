// Which code bin/agent-credit.js runs (see there): the compiled build when its stamp
// (dist/.build-stamp, written last by `npm run build`) is at least as new as every source file,
// or else names the digest of exactly the sources there are now; otherwise the TypeScript
// sources. Plain JavaScript: it runs before anything can load TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

const isSource = (name) => /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts');

/** Newest modification time of the .ts/.mjs sources under `dir` (a directory URL), in ms. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(new URL(`${entry.name}/`, dir)));
    else if (isSource(entry.name)) newest = Math.max(newest, statSync(new URL(entry.name, dir)).mtimeMs);
  }
  return newest;
}

/**
 * SHA-256 over the .ts/.mjs sources under `srcDir` (a directory URL): each one's path below it and
 * its bytes, in path order. scripts/finish-build.mjs writes it into the stamp.
 */
export function sourcesDigest(srcDir) {
  const hash = createHash('sha256');
  const walk = (dir, rel) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.isDirectory()) walk(new URL(`${entry.name}/`, dir), `${rel}${entry.name}/`);
      else if (isSource(entry.name)) hash.update(`${rel}${entry.name}\0`).update(readFileSync(new URL(entry.name, dir))).update('\0');
    }
  };
  walk(srcDir, '');
  return hash.digest('hex');
}

/** The sources' digest a stamp records (its `sources sha256:` line), if it has one. */
function stampedDigest(stamp) {
  return /^sources sha256:([0-9a-f]{64})$/m.exec(readFileSync(stamp, 'utf8'))?.[1];
}

/**
 * 'dist' or 'sources' for the package at `root` (a directory URL), with why. Sources when
 * AGENT_CREDIT_FROM_SOURCES=1, when there is no complete build, or when a source file changed
 * after it (an edit must never run stale). A source file newer than the stamp with the content
 * the build was made from is not a change: npm sets every file of a package it installs (from a
 * tarball, a registry or a git URL) to the time it extracted it, dist/ first and src/ after, so
 * by times alone an installed package always looked edited and ran its sources through tsx.
 */
export function launchTarget(root, env = process.env) {
  if (env.AGENT_CREDIT_FROM_SOURCES === '1') return { target: 'sources', reason: 'AGENT_CREDIT_FROM_SOURCES=1' };
  const stamp = new URL('dist/.build-stamp', root);
  if (!existsSync(stamp)) return { target: 'sources', reason: 'no complete build (dist/.build-stamp): npm run build' };
  const src = new URL('src/', root);
  if (existsSync(src) && newestSource(src) > statSync(stamp).mtimeMs) {
    const built = stampedDigest(stamp);
    if (built === undefined || built !== sourcesDigest(src)) return { target: 'sources', reason: 'a source file is newer than the build: npm run build' };
  }
  return { target: 'dist', reason: 'the build is up to date' };
}
