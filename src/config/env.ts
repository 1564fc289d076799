/**
 * Environment overrides: `AGENT_CREDIT_<SECTION>_<KEY>` sets `<section>.<key>` over the file.
 *
 * Words are separated by `_` and matched case-insensitively against the schema's keys, so both
 * `AGENT_CREDIT_EPISODES_GRACEMS` and `AGENT_CREDIT_EPISODES_GRACE_MS` mean `episodes.graceMs`,
 * and `AGENT_CREDIT_SOURCE_HTTP_PORT` means `source.http.port`. Inside a map of names
 * (credit.successThreshold, normalization, labelScores, judge.headers) a one-word name is taken
 * lower-case (`…_SUCCESS_THRESHOLD_HELPFULNESS`); a longer one — and any in source.kafka.sasl.extensions,
 * whose keys are case-sensitive (CASE_SENSITIVE_MAPS) — is refused (mapKeyProblem): set the whole map
 * as YAML flow (`AGENT_CREDIT_CREDIT_SUCCESS_THRESHOLD='{task_success: 0.7}'`).
 *
 * Values: numbers and booleans as written (`2000`, `true`), `null` (the choice "null" where a setting has it:
 * credit.removalProtocol), lists comma-separated, each item trimmed
 * (`a:9092,b:9092`) or as YAML flow (`[a:9092, b:9092]`), objects as YAML flow (`{kind: http}`).
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, didYouMean } from './errors.js';
import { kindOf, schemaAt, shapeOf, unwrap } from './schema-walk.js';

export const ENV_PREFIX = 'AGENT_CREDIT_';

/**
 * `AGENT_CREDIT_*` variables that are switches of the process, not settings (read where they act):
 * `AGENT_CREDIT_KAFKAJS_FAST_PATHS=off` runs kafkajs unmodified (src/kafka/kafkajs-fast-paths.ts);
 * `AGENT_CREDIT_FROM_SOURCES=1` makes bin/agent-credit.js run the TypeScript sources, not the build;
 * `AGENT_CREDIT_FIXTURES` is the folder of recorded telemetry the tests and deploy/smoke-kafka.ts
 * read (test/support/fixtures.ts) — exported in a shell, it reaches every CLI those start.
 * Before, the first and the third were refused as unknown settings: the documented opt-out stopped
 * the job, and a fixture folder exported for the tests stopped every command (the smoke test's job too).
 */
const PROCESS_SWITCHES: ReadonlySet<string> = new Set(['AGENT_CREDIT_KAFKAJS_FAST_PATHS', 'AGENT_CREDIT_FROM_SOURCES', 'AGENT_CREDIT_FIXTURES']);

export interface EnvOverride {
  variable: string;
  path: string[];
  value: unknown;
}

const camel = (words: readonly string[]) => words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join('');

/** Key path for the words after the prefix, or undefined when no setting has that name. */
export function resolveEnvPath(root: z.core.$ZodType, words: readonly string[]): string[] | undefined {
  return resolveEnv(root, words)?.path;
}

/**
 * `resolveEnvPath`, and how many words made the key of a map (a record: credit.successThreshold,
 * normalization, labelScores, judge.headers, source.kafka.sasl.extensions) when the path ends in one.
 */
function resolveEnv(root: z.core.$ZodType, words: readonly string[]): { path: string[]; recordKeyWords: number } | undefined {
  let recordKeyWords = 0;
  const walk = (schema: z.core.$ZodType, rest: readonly string[]): string[] | undefined => {
    if (rest.length === 0) return [];
    const kind = kindOf(schema);
    if (kind === 'record') {
      recordKeyWords = rest.length;
      return [camel(rest)];
    }
    const shape = shapeOf(schema);
    if (!shape) return undefined;
    for (let j = rest.length; j >= 1; j--) {
      const cand = rest.slice(0, j).join('').toLowerCase();
      const key = Object.keys(shape).find((k) => k.toLowerCase() === cand);
      if (key === undefined) continue;
      const tail = walk(shape[key]!, rest.slice(j));
      if (tail) return [key, ...tail];
    }
    return undefined;
  };
  const path = walk(root, words);
  return path && { path, recordKeyWords };
}

/**
 * Maps whose keys are case-sensitive identifiers, so a one-word variable — taken lower-case — names
 * the wrong key: SASL extensions (Confluent Cloud's `logicalCluster`, `identityPoolId`; a
 * `logicalcluster` extension is not one). Their variables are refused with the YAML-flow fix.
 */
const CASE_SENSITIVE_MAPS: ReadonlySet<string> = new Set(['source.kafka.sasl.extensions']);

/**
 * The keys of a map are names — evaluation names (`task_success`), labels (`not_relevant`), header
 * names (`x-api-key`) — which a variable's words cannot spell: `…_SUCCESS_THRESHOLD_TASK_SUCCESS`
 * set `successThreshold.taskSuccess`, a threshold no evaluation named `task_success` ever reads,
 * without a word (and `…_NORMALIZATION_HALLUCINATION_MIN` failed as "normalization.hallucinationMin:
 * expected an object"). A one-word name is taken, lower-case; a longer one is refused with the fix:
 * the whole map as YAML flow in the map's own variable.
 */
function mapKeyProblem(root: z.core.$ZodType, variable: string, path: readonly string[], words: readonly string[]): string {
  const map = path.slice(0, -1);
  const value = schemaAt(root, [...map, '*']);
  const keys = value ? Object.keys(shapeOf(value) ?? {}) : [];
  const name = words.join('_').toLowerCase();
  // the value is not shown: a map may hold secrets (credit.judge.headers)
  const example = keys.length > 0 ? `{<name>: {${keys.map((k) => `${k}: …`).join(', ')}}}` : `{${name}: …}`;
  const mapVariable = `${ENV_PREFIX}${map.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
  if (words.length === 1) {
    return `${variable}: the keys of ${map.join('.')} are case-sensitive (Confluent Cloud's logicalCluster, identityPoolId) and a variable's name has none: it would set ${JSON.stringify(name)} — set the whole map as YAML flow, e.g. ${mapVariable}='{logicalCluster: …}', or set it in the file`;
  }
  return `${variable}: ${map.join('.')} is a map of names, and a variable of several words after it cannot tell ${JSON.stringify(name)} from ${JSON.stringify(name.replace(/_/g, '-'))} or ${JSON.stringify(camel(name.split('_')))} — set the whole map as YAML flow, e.g. ${mapVariable}='${example}', or set it in the file`;
}

/** The deepest section (object with listed keys, below the root) that a prefix of `words` names, for messages. */
function nearestSection(root: z.core.$ZodType, words: readonly string[]): { path: string[]; schema: z.core.$ZodType; rest: readonly string[] } | undefined {
  for (let j = words.length - 1; j >= 1; j--) {
    const path = resolveEnvPath(root, words.slice(0, j));
    if (!path || path.length === 0) continue;
    const schema = schemaAt(root, path);
    if (schema && kindOf(schema) !== 'record' && Object.keys(shapeOf(schema) ?? {}).length > 0) return { path, schema, rest: words.slice(j) };
  }
  return undefined;
}

const envName = (path: readonly string[]): string => `${ENV_PREFIX}${path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;

/** Converts the text of a variable to the value the target setting expects (zod validates it after). */
export function envValue(target: z.core.$ZodType | undefined, text: string): unknown {
  const t = text.trim();
  const kind = target ? kindOf(target) : 'unknown';
  // `null` is no value — except where it is one of the setting's choices (credit.removalProtocol,
  // credit.judge.removalProtocol: the null removal protocol), which `null` made unreachable
  if (t === 'null' && !(kind === 'enum' && enumValues(target!).includes('null'))) return null;
  switch (kind) {
    case 'number':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'boolean':
      return /^(true|1|yes|on)$/i.test(t) ? true : /^(false|0|no|off)$/i.test(t) ? false : text;
    case 'array':
      if (t.startsWith('[')) return yamlOr(text);
      // items trimmed: `service.namespace, service.name` set the attribute " service.name", which no resource has
      return t === '' ? [] : t.split(',').map((s) => envValue(target ? schemaAt(unwrap(target), [0]) : undefined, s.trim()));
    case 'string':
    case 'enum':
      return text;
    default:
      return yamlOr(text);
  }
}

/** The choices of an enum setting (through its default/optional wrappers). */
function enumValues(target: z.core.$ZodType): unknown[] {
  const def = (unwrap(target) as unknown as { _zod: { def: { entries?: Record<string, unknown> } } })._zod.def;
  return Object.values(def.entries ?? {});
}

function yamlOr(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch {
    return text;
  }
}

/** All `AGENT_CREDIT_*` overrides in `env`; throws a ConfigError naming each variable it cannot place. */
export function envOverrides(root: z.core.$ZodType, env: NodeJS.ProcessEnv): EnvOverride[] {
  const out: EnvOverride[] = [];
  const problems: string[] = [];
  for (const [variable, text] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || text === undefined || PROCESS_SWITCHES.has(variable)) continue;
    const words = variable.slice(ENV_PREFIX.length).split('_').filter((w) => w !== '');
    const resolved = resolveEnv(root, words);
    const path = resolved?.path;
    if (resolved && (resolved.recordKeyWords > 1 || (resolved.recordKeyWords === 1 && CASE_SENSITIVE_MAPS.has(resolved.path.slice(0, -1).join('.'))))) {
      problems.push(mapKeyProblem(root, variable, resolved.path, words.slice(words.length - resolved.recordKeyWords)));
      continue;
    }
    if (!path) {
      const near = nearestSection(root, words);
      if (near) {
        // the section was found, the key was not (AGENT_CREDIT_SOURCE_KAFKA_BROKER): name its keys
        const keys = Object.keys(shapeOf(near.schema) ?? {});
        // a misspelt key in a file is answered "did you mean port?"; in a variable it was not
        const meant = /did you mean (\S+)\?/.exec(didYouMean(near.rest.join('_'), keys))?.[1];
        const hint = meant !== undefined ? ` — did you mean ${envName([...near.path, meant])}?` : '';
        problems.push(`${variable}: no setting has this name${hint} — ${near.path.join('.')} has the keys ${keys.join(', ')} (e.g. ${envName([...near.path, keys[0]!])})`);
        continue;
      }
      const sections = Object.keys(shapeOf(root) ?? {}).join(', ');
      problems.push(`${variable}: no setting has this name — use AGENT_CREDIT_<SECTION>_<KEY> with a section of ${sections} (e.g. AGENT_CREDIT_SOURCE_HTTP_PORT=4318)`);
      continue;
    }
    out.push({ variable, path, value: envValue(schemaAt(root, path), text) });
  }
  if (problems.length) throw new ConfigError(problems, 'environment');
  return out;
}
