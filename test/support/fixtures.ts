/**
 * Where the recorded agents-sdk telemetry lives (see its README): `AGENT_CREDIT_FIXTURES` when set,
 * else `../shared/fixtures/agents-sdk` beside the repository, else the workplace's
 * `/work/shared/fixtures/agents-sdk`, else the snapshot of it in this repository
 * (test/fixtures/agents-sdk), so a checkout on its own passes `npm test`. The snapshot is checked
 * against the shared copy whenever that is found (test/support/fixtures-snapshot.test.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The copy of the recorded telemetry kept in this repository. */
export const FIXTURES_SNAPSHOT = fileURLToPath(new URL('../fixtures/agents-sdk', import.meta.url));

function resolveFixtures(): string {
  const fromEnv = process.env.AGENT_CREDIT_FIXTURES;
  // a mistyped path made the fixture tests that guarded on the folder skip, green, and the others
  // fail on a file they could not open: say so once, here
  if (fromEnv && !existsSync(fromEnv)) throw new Error(`AGENT_CREDIT_FIXTURES=${fromEnv}: no such folder — point it at the agents-sdk fixtures, or unset it to use the copy found beside the checkout or test/fixtures/agents-sdk`);
  if (fromEnv) return fromEnv;
  const besideRepo = fileURLToPath(new URL('../../../shared/fixtures/agents-sdk', import.meta.url));
  if (existsSync(besideRepo)) return besideRepo;
  if (existsSync('/work/shared/fixtures/agents-sdk')) return '/work/shared/fixtures/agents-sdk';
  return FIXTURES_SNAPSHOT;
}

export const AGENTS_SDK_FIXTURES = resolveFixtures();
