/**
 * Configuration errors that say where and what: `<key path>: expected …, got … — <how to fix>`.
 * Every message names the key (dotted path), the bad value and what is accepted; values that
 * came from the environment also name the variable.
 */
import type { z } from 'zod';
import { MAX_CREDIT_WORKER_HEAP_MB, MIN_CREDIT_WORKER_HEAP_MB } from './defaults.js';
import { hasKeyBelow } from './schema-walk.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem, each starting with the key path. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], origin?: string) {
    super(`invalid configuration${origin ? ` (${origin})` : ''}:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * A command's argument or flag that cannot be used (an input path that does not exist, a file given
 * for `schema --dir`): exit 2 as a setting's error, and a ConfigError where check lists problems, but
 * without the "invalid configuration" heading — no configuration was at fault, and `replay
 * /nonexistent` read as if the config file were.
 */
export class ArgumentError extends ConfigError {
  constructor(problems: readonly string[]) {
    super(problems);
    this.message = problems.join('\n');
  }
}

/**
 * A command-line flag's value that cannot be used (`generate --kinds bogus`, `compare --budgets x`,
 * `--demo-seed` without `--demo`, a flag setting a key to a value the key refuses): exit 2 and a
 * ConfigError where check lists problems, as ArgumentError, under its own heading "invalid
 * command-line flag:" — these were headed "invalid configuration:", which sent the user to a config
 * file or AGENT_CREDIT_* variable that was not at fault. Each problem starts with the flag (or the
 * key it sets, naming the flag) and says what is accepted.
 */
export class FlagError extends ArgumentError {
  constructor(problems: readonly string[]) {
    super(problems);
    this.message = `${flagHeading(problems)}:\n  ${problems.join('\n  ')}`;
  }
}

/** "invalid command-line flag", or "…flags" when the problems name more than one (`--demo-episodes, --demo-seed: …` is one problem). */
function flagHeading(problems: readonly string[]): string {
  const several = problems.length > 1 || /^--[\w-]+(?:, --[\w-]+)+:/.test(problems[0] ?? '');
  return `invalid command-line flag${several ? 's' : ''}`;
}

/** Where a value came from, per dotted key path, so messages can name the env var. */
export type ValueOrigins = ReadonlyMap<string, string>;

/**
 * Where the value at `path` came from: the origin of the path or of the nearest key above it that
 * was set as a whole — `AGENT_CREDIT_SINKS_STDOUT_EVENT_TYPES=episode_credit,foo` sets the list, and
 * the problem is at `sinks.stdout.eventTypes[1]` (it was named without its variable).
 */
export function originOf(origins: ValueOrigins | undefined, path: readonly PropertyKey[]): string | undefined {
  if (!origins || origins.size === 0) return undefined;
  for (let n = path.length; n >= 1; n--) {
    const from = origins.get(path.slice(0, n).map(String).join('.'));
    if (from !== undefined) return from;
  }
  return undefined;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}`;
  // JSON.stringify writes them as null: YAML's .inf / .nan were shown as "got null"
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(value);
  }
}

/**
 * Keys whose values are secrets (source.kafka.sasl.password / clientSecret, ssl.passphrase,
 * credit.judge.headers — an Authorization header, source.http.auth.token / sinks.live.auth.token,
 * and source.kafka.sasl.tokenCommand, whose arguments may be secrets — README: "the command's
 * arguments are never quoted in errors", as oauthbearer.ts and check name it by its program only):
 * never echoed in an error.
 */
const SECRET_KEYS = new Set(['password', 'passphrase', 'clientSecret', 'headers', 'token', 'tokenCommand']);

/**
 * Keys whose values are URLs (credit.judge.url / batchUrl, source.kafka.sasl.tokenEndpoint): their
 * query may carry a key (`/score?api_key=…`), so it is not shown — as the judge's own messages show
 * its URL (http-judge.ts shownUrl). A judge left configured under another credit.game, or given
 * without its scheme, had its api_key quoted in the error.
 */
const URL_KEYS = new Set(['url', 'batchUrl', 'tokenEndpoint']);

/**
 * Whether the value at `path` is a secret or may hold one — a secret key on the path, a URL (its
 * query may carry a key), a mapping with secret keys below (`schema`: the setting's schema there).
 * Such a value is never written out whole: check's last line names its variable instead.
 */
export function holdsSecret(path: readonly PropertyKey[], schema?: unknown): boolean {
  return path.some((k) => SECRET_KEYS.has(String(k))) || URL_KEYS.has(String(path.at(-1))) || hasKeyBelow(schema as Parameters<typeof hasKeyBelow>[0], SECRET_KEYS);
}

/** The value with secret keys (at any depth) replaced, for messages; `key` is the key holding it. */
function scrub(value: unknown, key?: string, depth = 0): unknown {
  if (typeof value === 'string') {
    // a URL's user:password@ (a token endpoint or judge URL given with credentials, which is refused)
    const shown = value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i, '$1(credentials hidden)@');
    return key !== undefined && URL_KEYS.has(key) ? shown.replace(/\?[\s\S]*$/, '?(query hidden)') : shown;
  }
  if (value === null || typeof value !== 'object' || depth > 10 || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, undefined, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) ? '(hidden)' : scrub(v, k, depth + 1)]));
}

/**
 * `show` for the value at `path` (`schema`: the setting's schema there): a secret shows as its kind
 * only — and so does a list, or YAML-flow text (`{…`, `[…`), where a mapping holding secrets
 * belongs, which scrub cannot look into: a variable's YAML flow that does not parse
 * (`AGENT_CREDIT_SOURCE_KAFKA_SASL='{…, password: p]w}'`) is kept as text, and was quoted whole,
 * password included. Other text there (`AGENT_CREDIT_SOURCE_KAFKA_SSL=yes`) is still shown.
 */
function showAt(path: readonly PropertyKey[], value: unknown, schema?: unknown): string {
  const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
  if (value !== undefined && path.some((k) => SECRET_KEYS.has(String(k)))) return `${kind} (value hidden: a secret)`;
  const flowText = typeof value === 'string' && /^\s*[{[]/.test(value);
  if ((flowText || Array.isArray(value)) && hasKeyBelow(schema as Parameters<typeof hasKeyBelow>[0], SECRET_KEYS)) {
    return `${kind} (value hidden: ${formatPath(path)} holds secrets)`;
  }
  return show(scrub(value, path.length > 0 ? String(path[path.length - 1]) : undefined));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A fix-it hint from the key's name (units are part of the key names: `…Ms`, `…Bytes`, `port`). */
function hintFor(path: readonly PropertyKey[]): string | undefined {
  const key = String(path[path.length - 1] ?? '');
  if (/Ms$/.test(key)) return 'set it in milliseconds, e.g. 2000';
  if (/Bytes$/.test(key)) return 'set it in bytes, e.g. 16777216 for 16 MiB';
  if (/port$/i.test(key)) return 'a TCP port 0–65535 (0 = any free port)';
  if (key === 'brokers') return 'a list of host:port, e.g. [localhost:9092]';
  // the range, not "or more": the hint follows a value above the maximum too
  if (key === 'creditWorkerMaxHeapMb') return `MB of JS heap per credit worker: set ${MIN_CREDIT_WORKER_HEAP_MB} to ${MAX_CREDIT_WORKER_HEAP_MB} (a worker needs about 24 MB to start and credit an episode: below that none starts), or 0 for V8's default`;
  if (key === 'successThreshold' && path.length === 2) return 'a threshold per evaluation name, e.g. { task_success: 0.7 }; one for every evaluation is credit.defaultSuccessThreshold';
  if (key === 'normalization' && path.length === 2) return 'a score range per evaluation name, e.g. { helpfulness: { min: 1, max: 5 } }; where lower is better, { hallucination: { min: 0, max: 1, higherIsBetter: false } }';
  return undefined;
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** The command-line flag that turns a section with an `enabled` switch off. */
const OFF_FLAGS: Readonly<Record<string, string>> = { 'sinks.stdout': '--no-stdout', 'sinks.live': '--no-live', 'source.grpc': '--no-grpc' };

/**
 * The fix for a boolean given to a section that has an `enabled` switch (`sinks.stdout: false`,
 * `AGENT_CREDIT_SINKS_LIVE=false`): that switch, in the form the value came in, and the flag.
 */
function switchFix(where: string, value: boolean, from: string | undefined): string {
  const setting = from?.startsWith('AGENT_CREDIT_') ? `${from}_ENABLED=${value}` : `${where}.enabled: ${value}`;
  const flag = !value && OFF_FLAGS[where] !== undefined ? ` (or ${OFF_FLAGS[where]})` : '';
  return `to turn it ${value ? 'on' : 'off'}, set ${setting}${flag}`;
}

/** One message per zod issue. `input` is the merged raw config the issues refer to. */
export interface DescribeContext {
  origins?: ValueOrigins;
  /** Keys accepted at a path (from the schema), for unknown-key messages. */
  acceptedKeys?: (path: readonly PropertyKey[]) => readonly string[];
  /** The schema expected at a path, to state bounds and choices in type errors. */
  schemaAt?: (path: readonly PropertyKey[]) => unknown;
}

/**
 * " ≥ 0", " > 0", " 0–65535", " > 0 and < 1" etc. from a zod number schema's bound checks (zod 4
 * keeps each bound with its `inclusive` flag: `.positive()` is > 0, so "≥ 0" would name a value
 * the schema refuses).
 */
function boundsText(schema: unknown): string {
  type Def = { innerType?: unknown; checks?: readonly { _zod?: { def?: { check?: string; value?: unknown; inclusive?: boolean } } }[] };
  let core = schema as { _zod?: { def?: Def } } | undefined;
  for (let i = 0; i < 5 && core?._zod?.def?.innerType; i++) core = core._zod.def.innerType as { _zod?: { def?: Def } };
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) < Number.MAX_SAFE_INTEGER;
  let lo: { value: number; inclusive: boolean } | undefined;
  let hi: { value: number; inclusive: boolean } | undefined;
  for (const c of core?._zod?.def?.checks ?? []) {
    const d = c._zod?.def;
    if (!d || !finite(d.value)) continue;
    const bound = { value: d.value, inclusive: d.inclusive !== false };
    // The tightest bound wins (several checks may bound the same side).
    if (d.check === 'greater_than' && (!lo || bound.value > lo.value || (bound.value === lo.value && !bound.inclusive))) lo = bound;
    if (d.check === 'less_than' && (!hi || bound.value < hi.value || (bound.value === hi.value && !bound.inclusive))) hi = bound;
  }
  const loText = lo && `${lo.inclusive ? '≥' : '>'} ${lo.value}`;
  const hiText = hi && `${hi.inclusive ? '≤' : '<'} ${hi.value}`;
  if (lo && hi) return lo.inclusive && hi.inclusive ? ` ${lo.value}–${hi.value}` : ` ${loText} and ${hiText}`;
  if (loText) return ` ${loText}`;
  if (hiText) return ` ${hiText}`;
  return '';
}

/**
 * What a union accepts, from its options: `"auto" or an integer 0–64` (runtime.creditWorkers),
 * `true or false, or a mapping (ca, cert, …)` (source.kafka.ssl). zod says only "Invalid input".
 */
function unionText(schema: unknown): string | undefined {
  type Def = { type?: string; innerType?: unknown; in?: unknown; options?: unknown[]; values?: unknown[]; shape?: Record<string, unknown>; checks?: readonly { _zod?: { def?: { format?: string } } }[] };
  const defOf = (x: unknown) => (x as { _zod?: { def?: Def } } | undefined)?._zod?.def;
  const core = (x: unknown) => {
    let c = x;
    for (let i = 0; i < 10; i++) {
      const d = defOf(c);
      if (d?.innerType && ['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type ?? '')) c = d.innerType;
      else if (d?.type === 'pipe' && d.in) c = d.in;
      else break;
    }
    return c;
  };
  const union = defOf(core(schema));
  if (union?.type !== 'union' || !union.options) return undefined;
  const parts = union.options.map((o) => {
    const c = core(o);
    const d = defOf(c);
    switch (d?.type) {
      case 'literal':
        return (d.values ?? []).map((v) => JSON.stringify(v)).join(' or ');
      case 'enum':
        return `one of ${Object.values((d as { entries?: Record<string, unknown> }).entries ?? {}).map((v) => JSON.stringify(v)).join(' | ')}`;
      case 'number': {
        const int = (d.checks ?? []).some((k) => /int$/.test(k._zod?.def?.format ?? ''));
        return `${int ? 'an integer' : 'a number'}${boundsText(c)}`;
      }
      case 'boolean':
        return 'true or false';
      case 'string':
        return 'a string';
      case 'array':
        return 'a list';
      case 'object':
        return `a mapping (${Object.keys(d.shape ?? {}).join(', ')})`;
      case 'record':
        return 'a mapping';
      default:
        return undefined;
    }
  });
  if (parts.some((p) => p === undefined)) return undefined;
  return parts.join(parts.some((p) => p!.includes(' or ')) ? ', or ' : ' or ');
}

export function describeIssue(issue: z.core.$ZodIssue, input: unknown, ctx: DescribeContext = {}): string {
  const origins = ctx.origins;
  const path = issue.path;
  const where = formatPath(path);
  const value = valueAt(input, path);
  const from = originOf(origins, path);
  const fromText = from ? ` (from ${from})` : '';
  const hint = hintFor(path);
  const got = showAt(path, value, ctx.schemaAt?.(path));
  let text: string;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'integer' : issue.expected;
      const bounds = expected === 'number' || expected === 'integer' ? boundsText(ctx.schemaAt?.(path)) : '';
      text = `expected ${article(expected)}${bounds}, got ${got}`;
      // `credit:` with every key below it commented out is null in YAML
      if (expected === 'object' && value === null && !from) text += ` — a key with nothing under it (every line below commented out) is null in YAML: write ${formatPath(path).split('.').at(-1)}: {} or remove the line`;
      // a variable's YAML flow that does not parse is kept as text (env.ts): say why it is not a mapping
      if (expected === 'object' && typeof value === 'string' && from?.startsWith('AGENT_CREDIT_')) text += ' — the variable is read as YAML flow ({key: value, …}) and its text is not a mapping: quote a value that holds , [ ] { } or # ("…")';
      // `stdout: false` is how one would turn a sink off, but the switch is the section's `enabled`
      if (expected === 'object' && typeof value === 'boolean' && (ctx.acceptedKeys?.(path) ?? []).includes('enabled')) text += ` — ${switchFix(where, value, from)}`;
      // `eventTypes: episode_credit` is one item, not a list (a variable's text is split at commas
      // already); a secret (tokenCommand's arguments) is not written out in the fix either
      if (expected === 'array' && typeof value === 'string' && !from && !holdsSecret(path, ctx.schemaAt?.(path)) && value.length <= 200) text += ` — write a list: ${String(path.at(-1))}: [${value}]`;
      break;
    }
    case 'too_small': {
      const unit = issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : '';
      const cmp = issue.inclusive === false ? '>' : '≥';
      const what = issue.origin === 'array' ? 'a list of' : issue.origin === 'string' ? 'a string of' : 'a number';
      text = issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
        ? `expected a number ${cmp} ${String(issue.minimum)}, got ${got}`
        : `expected ${what} ${cmp} ${String(issue.minimum)}${unit}, got ${got}`;
      break;
    }
    case 'too_big': {
      const cmp = issue.inclusive === false ? '<' : '≤';
      // zod's origin is `int` for an integer past the safe range ("expected int ≤ 9007199254740991")
      const what = issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint' ? 'a number' : issue.origin === 'array' ? 'a list of' : issue.origin === 'string' ? 'a string of' : issue.origin;
      const unit = issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : '';
      text = `expected ${what} ${cmp} ${String(issue.maximum)}${unit}, got ${got}`;
      break;
    }
    case 'invalid_value':
      text = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}, got ${got}`;
      // YAML reads a bare `null` as no value: the choice "null" (the null removal protocol) needs quotes
      if (value === null && issue.values.includes('null')) text += ` — a bare null is no value in YAML: quote the choice, ${formatPath(path).split('.').at(-1)}: "null"`;
      break;
    case 'invalid_union': {
      const accepted = unionText(ctx.schemaAt?.(path));
      text = accepted ? `expected ${accepted}, got ${got}` : `${issue.message}${value !== undefined ? `, got ${got}` : ''}`;
      break;
    }
    case 'unrecognized_keys':
      return issue.keys
        .map((k) => {
          const keys = ctx.acceptedKeys?.(path) ?? [];
          const keyFrom = originOf(origins, [...path, k]);
          const accepted = keys.length ? keys.join(', ') : 'see deploy/agent-credit.yaml';
          return `${formatPath([...path, k])}: unknown key${keyFrom ? ` (from ${keyFrom})` : ''}${didYouMean(String(k), keys)} — accepted keys here: ${accepted}`;
        })
        .join('\n  ');
    default:
      text = `${issue.message}${value !== undefined ? `, got ${got}` : ''}`;
  }
  return `${where}: ${text}${fromText}${hint ? ` — ${hint}` : ''}`;
}

/**
 * The accepted key a misspelt one most likely meant: same letters ignoring case and `_`/`-`
 * (`groupID`, `group_id` → groupId), else the nearest within two edits (`tickIntervall`); '' when
 * none is close. Appended to "unknown key" messages as " — did you mean groupId?".
 */
export function didYouMean(key: string, accepted: readonly string[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const same = accepted.find((a) => norm(a) === norm(key));
  if (same !== undefined) return ` — did you mean ${same}?`;
  let best: string | undefined;
  let bestD = 3;
  for (const a of accepted) {
    const d = editDistance(norm(key), norm(a), bestD);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== undefined && key.length > 3 ? ` — did you mean ${best}?` : '';
}

/** Levenshtein distance, giving up (returning `cap`) once it cannot be below `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}
