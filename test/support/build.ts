/**
 * Whether this checkout's build (dist/, which `npm ci` / `npm install` make: `prepare`) is exactly
 * its sources, and modules from it when it is. Tests that start the CLI (test/support/cli.ts) or
 * credit worker threads (test/runtime/credit-workers.test.ts) take the build for speed: from the
 * sources, every process and worker thread registers tsx and transforms the modules it loads (a
 * credit worker starts in ~2.5 s instead of ~1 s). A build that is not the sources there are now
 * never runs: only when dist/.build-stamp names the digest of the current src/ — stricter than the
 * launcher's own rule (bin/launch-target.js), which trusts a stamp newer than every source file (a
 * file restored with its old time would run stale).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
// plain JavaScript (it runs before anything can load TypeScript): typed here
const { sourcesDigest } = (await import(new URL('bin/launch-target.js', root).href)) as { sourcesDigest(srcDir: URL): string };

function buildIsCurrent(): boolean {
  const stamp = new URL('dist/.build-stamp', root);
  if (!existsSync(stamp)) return false;
  const built = /^sources sha256:([0-9a-f]{64})$/m.exec(readFileSync(stamp, 'utf8'))?.[1];
  return built !== undefined && built === sourcesDigest(new URL('src/', root));
}

/** dist/ was built from exactly the sources in src/ now (its stamp names their digest), when this file was loaded. */
export const BUILD_IS_CURRENT = buildIsCurrent();

/**
 * The module `src/<path>.ts` — compiled, `dist/<path>.js`, when BUILD_IS_CURRENT. Its classes are
 * then the build's: compare errors by message, not with instanceof against a class from src/.
 */
export async function fromBuild<T>(path: string): Promise<T> {
  return (await import(fileURLToPath(new URL(BUILD_IS_CURRENT ? `dist/${path}.js` : `src/${path}.ts`, root)))) as T;
}
