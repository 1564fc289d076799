/**
 * agent-credit's version, read from its package.json (two levels up from src/cli/ and dist/cli/
 * alike, and shipped in the package): `--version` said a literal '0.1.0' that a release had to
 * remember to change, and check's JSON report names the version too.
 */
import { readFileSync } from 'node:fs';

export const AGENT_CREDIT_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
