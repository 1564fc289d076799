/**
 * The CLI in a child process, started as `npm start` starts it: `node bin/agent-credit.js …`. The
 * launcher runs the compiled build (dist/), which `npm ci` / `npm install` build (`prepare`), and
 * starts in half the time of `node --import tsx src/cli/main.ts` (no transform of the sources at
 * every start: ~90 processes in test/cli/cli.test.ts). A build that is not exactly the sources
 * there are now never runs: `CLI_ENV` sets AGENT_CREDIT_FROM_SOURCES=1 unless dist/.build-stamp
 * names the digest of the current src/ (test/support/build.ts).
 */
import { fileURLToPath } from 'node:url';
import { BUILD_IS_CURRENT } from './build.js';

/** bin/agent-credit.js, the launcher `npm start` and the installed `agent-credit` command run. */
export const BIN = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));

/** Environment for a child started with BIN: the sources (through tsx) when the build is not current. */
export const CLI_ENV: Readonly<Record<string, string>> = BUILD_IS_CURRENT ? {} : { AGENT_CREDIT_FROM_SOURCES: '1' };
