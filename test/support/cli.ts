/**
 * The CLI in a child process, started as `npm start` starts it: `node bin/agent-credit.js …`. The
 * launcher runs the compiled build (dist/), which `npm ci` / `npm install` build (`prepare`), and
 * starts in half the time of `node --import tsx src/cli/main.ts` (no transform of the sources at
 * every start: ~90 processes in test/cli/cli.test.ts). A build that is not exactly the sources
 * there are now never runs: `CLI_ENV` sets AGENT_CREDIT_FROM_SOURCES=1 unless dist/.build-stamp
 * names the digest of the current src/ — stricter than the launcher's own rule, which trusts a
 * stamp newer than every source file (a file restored with its old time would run stale).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
// plain JavaScript (it runs before anything can load TypeScript): typed here
const { sourcesDigest } = (await import(new URL('bin/launch-target.js', root).href)) as { sourcesDigest(srcDir: URL): string };

/** bin/agent-credit.js, the launcher `npm start` and the installed `agent-credit` command run. */
export const BIN = fileURLToPath(new URL('bin/agent-credit.js', root));

/** Whether dist/ was built from exactly the sources in src/ now (its stamp names their digest). */
export function buildIsCurrent(): boolean {
  const stamp = new URL('dist/.build-stamp', root);
  if (!existsSync(stamp)) return false;
  const built = /^sources sha256:([0-9a-f]{64})$/m.exec(readFileSync(stamp, 'utf8'))?.[1];
  return built !== undefined && built === sourcesDigest(new URL('src/', root));
}

/** Environment for a child started with BIN: the sources (through tsx) when the build is not current. */
export const CLI_ENV: Readonly<Record<string, string>> = buildIsCurrent() ? {} : { AGENT_CREDIT_FROM_SOURCES: '1' };
