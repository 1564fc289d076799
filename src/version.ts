/**
 * agent-credit's version, read from its package.json (one level up from src/ and dist/
 * alike, and shipped in the package): `--version` said a literal '0.1.0' that a release had to
 * remember to change; check's JSON report and the self-metrics resource (`service.version`) name it too.
 */
import { readFileSync } from 'node:fs';

export const AGENT_CREDIT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
