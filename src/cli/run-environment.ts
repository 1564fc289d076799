/**
 * The `AGENT_CREDIT_*` variables that set the configuration check read, written as a shell's
 * assignments for the command check's last line names (`AGENT_CREDIT_SOURCE_KIND=kafka agent-credit
 * run --port 4400`): `run` reads the same variables, and started without them it meets another
 * configuration than the one check vouched for. The line named the flags only.
 *
 * Pure: the origins of the loaded configuration (src/config/load.ts) and the environment in, the
 * assignments out.
 */
import { ENV_PREFIX } from '../config/env.js';
import { holdsSecret } from '../config/errors.js';
import { AppConfigSchema } from '../config/schema.js';
import { schemaAt } from '../config/schema-walk.js';
import { shellWord } from './shell-word.js';

/**
 * One `VARIABLE=value` per variable that set a key of the configuration, sorted by name. A variable
 * whose key a flag set again is left out (the flag is named, and wins in `run` as in check); one
 * that is or holds a secret (a password, a token, a judge's URL or headers) is written
 * `VARIABLE="$VARIABLE"` — the value taken from the environment it is run in, never printed on
 * stdout and into CI logs.
 */
export function environmentAssignments(origins: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [dotted, variable] of origins) {
    // a flag's origin (`--port`) or a variable's: only the latter's are settings of the environment
    if (!variable.startsWith(ENV_PREFIX)) continue;
    const text = env[variable];
    if (text === undefined) continue;
    const path = dotted.split('.');
    out.push(holdsSecret(path, schemaAt(AppConfigSchema, path)) ? `${variable}="$${variable}"` : `${variable}=${shellWord(text)}`);
  }
  return out.sort();
}
