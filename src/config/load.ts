/**
 * Loads the configuration: YAML file (optional) → `AGENT_CREDIT_*` environment overrides →
 * explicit overrides (CLI flags) → validation. Throws `ConfigError` whose lines each name the
 * key path, the bad value, what is accepted and (for env values) the variable — a `FlagError`
 * ("invalid command-line flag") when the flags alone are at fault.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { AppConfigSchema, type AppConfig } from './schema.js';
import { ConfigError, FlagError, describeIssue, didYouMean, formatPath, originOf } from './errors.js';
import { envOverrides, envValue } from './env.js';
import { acceptedKeysAt, declaredKeyPath, schemaAt, unknownKeys } from './schema-walk.js';

export interface LoadConfigOptions {
  /** Path of a YAML file; omitted = defaults + env. */
  file?: string;
  /** YAML text instead of a file (tests, ConfigMaps); `origin` names it in errors. */
  text?: string;
  origin?: string;
  /** Default: process.env. Pass `{}` to ignore the environment. */
  env?: NodeJS.ProcessEnv;
  /** Highest precedence, by dotted path, e.g. `{ 'source.http.port': 0 }` (CLI flags). */
  overrides?: Readonly<Record<string, unknown>>;
  /**
   * CLI flags by dotted path, e.g. `{ 'credit.budget': '--budget' }`: such an override given as
   * text is converted as an `AGENT_CREDIT_*` value is (then validated the same way), and an error
   * names the flag.
   */
  flagNames?: Readonly<Record<string, string>>;
}

export interface LoadedConfig {
  config: AppConfig;
  /** Where each overridden value came from (`AGENT_CREDIT_…` or `--flag`), by dotted path. */
  origins: Map<string, string>;
}

/**
 * yaml's message for a syntax error, without its position (given as line:col before it) and
 * without the input it quotes: yaml ends some messages with the text it stopped at — "Block scalar
 * header includes extra characters: >…", an escape sequence — so a password or token starting with
 * > or | (a block scalar header) was quoted whole in the error, on stderr and in the job's log.
 */
export function yamlProblem(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/: (?:"(?:[^"\\]|\\.)*"|\S+)$/, '')
    .replace(/^(Invalid escape sequence) \S+$/, '$1');
}

const YAML_FIX = 'fix the YAML; indent with spaces, quote values containing ": " or starting with > | * & ! @ %';

/**
 * The config key that starts on `line` (1-based) of `text`, with its path, as yaml read the
 * document up to its errors (`source.kafka.groupId`); undefined when no key starts there or the
 * path is not one the schema knows. An indentation error is given at column 1 (where the
 * indentation starts), and the line's key was nowhere in the message: with a long config, which
 * section the line was in had to be worked out by hand. Only keys the schema declares are named, so a
 * value that a broken document turned into a key (a password on a mis-indented line) is never shown;
 * a key in a map setting (any header name of `credit.judge.headers`) is the map's (`declaredKeyPath`).
 */
function keyOnLine(doc: Document, text: string, line: number): string | undefined {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) return undefined;
  let from = 0;
  for (let l = 0; l < line - 1; l++) from += lines[l]!.length + 1;
  const end = from + lines[line - 1]!.length;
  let found: { at: number; path: string[] } | undefined;
  const walk = (node: unknown, path: string[], depth: number): void => {
    if (!isMap(node) || depth > 20) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const here = [...path, String(pair.key.value)];
      const at = pair.key.range[0];
      if (at >= from && at < end && (found === undefined || at < found.at)) found = { at, path: here };
      walk(pair.value, here, depth + 1);
    }
  };
  walk(doc.contents, [], 0);
  const named = found !== undefined ? declaredKeyPath(AppConfigSchema, found.path) : undefined;
  return named !== undefined && named.length > 0 ? named.join('.') : undefined;
}

/** Parses YAML text into a plain object; YAML syntax errors become ConfigErrors with line and column (yaml's), and the key on that line when known. */
export function parseConfigText(text: string, origin: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const key = pos ? keyOnLine(doc, text, pos.line) : undefined;
        return `${origin}${pos ? `:${pos.line}:${pos.col}` : ''}: YAML syntax error${key !== undefined ? ` in ${key}` : ''} — ${yamlProblem(e.message)} (${YAML_FIX})`;
      }),
      origin,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS() as unknown;
  } catch (err) {
    // yaml throws a bare ReferenceError naming the alias — a value starting with * (a password
    // "*…") is one — which left the command with exit 1, no line, and the value after the *
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new ConfigError([`${origin}: YAML syntax error — a value starts with * (an alias) and no &anchor of that name comes before it (${YAML_FIX})`], origin);
    }
    throw err;
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([`(root): expected a mapping of sections (source, episodes, conventions, evaluation, credit, sinks, telemetry, runtime), got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`], origin);
  }
  return value as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = target;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

/**
 * Validates a raw (merged) config object; throws ConfigError listing every problem. `flags`: the
 * origins (in `origins`) that are command-line flags (`--port`): when every problem's value came
 * from one, the error is a FlagError — `run --port abc` was headed "invalid configuration:", as if a
 * config file or variable were at fault. A problem from anywhere else keeps the configuration's
 * heading for all (each line still names its flag).
 */
export function validateConfig(raw: unknown, origins: ReadonlyMap<string, string> = new Map(), origin?: string, flags: ReadonlySet<string> = new Set()): AppConfig {
  const acceptedKeys = (p: readonly PropertyKey[]) => acceptedKeysAt(AppConfigSchema, p);
  const problems: string[] = [];
  let fromFlagsOnly = true;
  const fromFlag = (path: readonly PropertyKey[]) => {
    const from = originOf(origins, path);
    return from !== undefined && flags.has(from);
  };
  for (const path of unknownKeys(AppConfigSchema, raw)) {
    const parent = path.slice(0, -1);
    const from = originOf(origins, path);
    const keys = acceptedKeys(parent);
    fromFlagsOnly &&= fromFlag(path);
    problems.push(`${formatPath(path)}: unknown key${from ? ` (from ${from})` : ''}${didYouMean(String(path.at(-1)), keys)} — accepted keys here: ${keys.join(', ')}`);
  }
  const parsed = AppConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Unknown keys are already reported above (with stage schemas included).
      if (issue.code === 'unrecognized_keys') continue;
      fromFlagsOnly &&= fromFlag(issue.path);
      problems.push(describeIssue(issue, raw, { origins, acceptedKeys, schemaAt: (p) => schemaAt(AppConfigSchema, p) }));
    }
  }
  if (problems.length > 0 && fromFlagsOnly) throw new FlagError(problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems.length ? problems : ['(root): invalid configuration'], origin);
  return parsed.data;
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  let raw: Record<string, unknown> = {};
  const origin = options.file ?? options.origin;
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      // the fix depends on why: "give the path of a YAML file" sent a user whose file exists but is unreadable, or who gave its directory, looking for the wrong thing
      const fix =
        code === 'EACCES' || code === 'EPERM'
          ? `make it readable by this process (user id ${process.getuid?.() ?? '?'})`
          : code === 'EISDIR'
            ? 'it is a directory: give the path of the YAML file in it, such as deploy/agent-credit.yaml'
            : 'give the path of a YAML file such as deploy/agent-credit.yaml';
      // the --config flag's path, not a setting in it: "invalid configuration" sent the user looking in a file never read
      throw new FlagError([`--config ${options.file}: cannot read the file (${code}) — ${fix}`]);
    }
    raw = parseConfigText(text, options.file);
  } else if (options.text !== undefined) {
    raw = parseConfigText(options.text, options.origin ?? 'config');
  }
  const origins = new Map<string, string>();
  const flags = new Set<string>();
  for (const o of envOverrides(AppConfigSchema, options.env ?? process.env)) {
    setPath(raw, o.path, o.value);
    origins.set(o.path.join('.'), o.variable);
  }
  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    const flag = options.flagNames?.[dotted];
    setPath(raw, dotted.split('.'), flag !== undefined && typeof value === 'string' ? envValue(schemaAt(AppConfigSchema, dotted.split('.')), value) : value);
    origins.set(dotted, flag ?? `command-line flag for ${dotted}`);
    if (flag !== undefined) flags.add(flag);
  }
  return { config: validateConfig(raw, origins, origin, flags), origins };
}
