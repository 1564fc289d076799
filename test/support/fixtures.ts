/**
 * Where the recorded agents-sdk telemetry lives (see its README): `AGENT_CREDIT_FIXTURES` when set,
 * else `../shared/fixtures/agents-sdk` beside the repository, else the workplace's
 * `/work/shared/fixtures/agents-sdk` (so a clone anywhere on the machine still finds it).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function resolveFixtures(): string {
  const fromEnv = process.env.AGENT_CREDIT_FIXTURES;
  if (fromEnv) return fromEnv;
  const besideRepo = fileURLToPath(new URL('../../../shared/fixtures/agents-sdk', import.meta.url));
  if (existsSync(besideRepo)) return besideRepo;
  return '/work/shared/fixtures/agents-sdk';
}

export const AGENTS_SDK_FIXTURES = resolveFixtures();
