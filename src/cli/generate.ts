/**
 * `agent-credit generate`: writes generated multi-agent runs as OTLP files that `replay` and
 * `compare` read — one `NNNN-traces.{pb,json}` and `NNNN-logs.{pb,json}` pair per run (the real
 * OTel JS SDK's spans and log records, serialized by its OTLP serializers) plus `expected.ndjson`,
 * what each run was built to show (kind, convention, agents, saboteur, redundant agent…). For
 * researchers: a corpus to compare estimators on without a fleet (researcher review: there was no
 * way to produce one from the CLI).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, FlagError } from '../config/errors.js';
import { episodeSeed } from '../credit/episode-seed.js';
import { fileInTheWay } from './output-path.js';
import { SCENARIO_CONVENTIONS, SCENARIO_KINDS, generateFleet, type ScenarioConvention, type ScenarioExpectation, type ScenarioKind } from '../scenarios/index.js';

export interface GenerateOptions {
  dir: string;
  episodes: number;
  seed: number;
  kinds?: readonly string[];
  conventions?: readonly string[];
  agents?: number;
  steps?: number;
  /** Start of the first run (unix ms) and the time between runs; default: seeded start per run. */
  baseTimeMs?: number;
  spacingMs?: number;
  encoding: 'proto' | 'json';
  /** Replace a corpus already in `dir` (its run files and expected.ndjson are removed first). */
  force?: boolean;
  /** Told what the corpus holds that its options did not say (passingFailureNote); the CLI writes it on stderr. */
  onNote?: (note: string) => void;
}

/**
 * A note when `failure` or `late-repair` runs pass. Only the first coder's lookup fails in such a
 * run, so with more coders (`--agents` 4 or more) their functions count and the score reaches 4/7,
 * 8/11…: a pass (src/scenarios/README.md). Such a run is credited as a success — no first error, no
 * preference pair — which a researcher asking for `--kinds failure --agents 6` to get failed
 * episodes and rejected samples learnt only from the replay's `failures: 0`.
 */
export function passingFailureNote(expected: readonly Pick<ScenarioExpectation, 'kind' | 'label' | 'score' | 'agents'>[]): string | undefined {
  const failures = expected.filter((e) => e.kind === 'failure' || e.kind === 'late-repair');
  const passing = failures.filter((e) => e.label === 'pass');
  if (passing.length === 0) return undefined;
  const kinds = [...new Set(failures.map((e) => e.kind))].join(' and ');
  const scores = [...new Set(passing.map((e) => Number(e.score.toFixed(2))))].sort((a, b) => a - b).join(', ');
  const agents = [...new Set(passing.map((e) => e.agents.length))].sort((a, b) => a - b).join(', ');
  return (
    `note: ${passing.length} of ${failures.length} ${kinds} runs pass (score ${scores} with ${agents} agents): only the first coder's lookup fails and the other coders' functions count, ` +
    `so replay credits them as successes — no first error, no preference pair; give --agents 3 (the default) for ${kinds} runs that fail`
  );
}

/** A file `generate` writes: a run's traces or logs, or the expected.ndjson. */
const CORPUS_FILE = /^(\d{4,}-(traces|logs)\.(pb|json)|expected\.ndjson)$/;

/**
 * The corpus files already in `dir`. Writing over them in place left the runs of a larger older
 * corpus (or the other encoding's files) beside the new ones: `replay <dir>` then credited runs that
 * expected.ndjson no longer described, without a word.
 */
function corpusFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => CORPUS_FILE.test(f)).sort();
}

/**
 * Runs a file-system step on `path` in <dir>; its error becomes an ArgumentError naming <dir> and
 * the fix, as replay's --out does (a bare "EACCES: permission denied, mkdir 'runs'" or "ENOTDIR:
 * not a directory, scandir …", exit 1, named neither). Not a ConfigError's "invalid
 * configuration": generate reads no configuration.
 */
function writing<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ArgumentError([`<dir>: cannot write ${path} (${code}); give a directory you can write to (created when missing)`]);
  }
}

/** Names a flag's unknown values and the accepted ones, as FlagError. */
function pick<T extends string>(flag: string, values: readonly string[] | undefined, known: readonly T[]): T[] | undefined {
  if (values === undefined) return undefined;
  // `--kinds ,` or `--kinds "$UNSET"`: an empty list failed later as 'invalid fleet option "mix"' (exit 1), naming no flag
  if (values.length === 0) throw new FlagError([`${flag}: no value given; use one or more of ${known.join(', ')} (comma-separated), or leave ${flag} out for all`]);
  const bad = values.filter((v) => !known.includes(v as T));
  if (bad.length > 0) throw new FlagError([`${flag}: unknown ${bad.map((b) => JSON.stringify(b)).join(', ')}; use ${known.join(', ')}`]);
  return values as T[];
}

/** Writes the runs; returns the paths written (traces and logs files, then expected.ndjson). */
export async function generateFiles(o: GenerateOptions): Promise<string[]> {
  const kinds = pick('--kinds', o.kinds, SCENARIO_KINDS as readonly ScenarioKind[]);
  const conventions = pick('--conventions', o.conventions, SCENARIO_CONVENTIONS as readonly ScenarioConvention[]);
  if (o.agents !== undefined && o.agents > 64) throw new FlagError([`--agents: at most 64 (the generator's limit), got ${o.agents}`]);
  // without a start the runs keep their seeded starts: a spacing alone was ignored without a word
  if (o.spacingMs !== undefined && o.baseTimeMs === undefined) throw new FlagError(['--spacing-ms: runs are spaced from --start-ms, and none was given (each run has a seeded start) — give --start-ms too, or leave --spacing-ms out']);
  // a file there failed the directory listing: "invalid configuration: … cannot write <file> (ENOTDIR)";
  // a file above it (<file>/runs) failed as "cannot write <file>/runs (ENOTDIR)", naming no file
  const file = fileInTheWay(o.dir);
  if (file === o.dir) throw new ArgumentError([`<dir>: ${o.dir} is a file, not a directory — give a directory for the runs (created when missing), e.g. agent-credit generate runs/`]);
  if (file !== undefined) throw new ArgumentError([`<dir>: ${file} is a file, not a directory, so ${o.dir} cannot be created in it — give a directory for <dir> (created when missing), e.g. agent-credit generate runs/`]);
  const old = writing(o.dir, () => corpusFilesIn(o.dir));
  if (old.length > 0 && o.force !== true) {
    throw new ArgumentError([`<dir>: ${o.dir} already holds a corpus (${old.length} files, e.g. ${old[0]}); its runs would be mixed with the new ones when replayed — give an empty or new directory, or --force to replace that corpus`]);
  }
  // before the runs are generated: an unwritable <dir> failed after it, with a bare "EACCES: permission denied, mkdir …" (exit 1)
  writing(o.dir, () => mkdirSync(o.dir, { recursive: true }));
  // The corpus's options are mixed into the fleet seed: trace ids come from the seed, so two corpora
  // with one --seed and other --agents (say) had the same ids and merged when replayed together
  // (researcher review). The same seed and options still give the same files.
  const shape = JSON.stringify([o.agents ?? null, o.steps ?? null, kinds ?? null, conventions ?? null, o.baseTimeMs ?? null, o.spacingMs ?? null]);
  const runs = await generateFleet({
    episodes: o.episodes,
    seed: episodeSeed(o.seed, shape),
    ...(kinds ? { mix: Object.fromEntries(kinds.map((k) => [k, 1])) } : {}),
    ...(conventions ? { conventions } : {}),
    ...(o.agents !== undefined ? { agents: o.agents } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.baseTimeMs !== undefined ? { baseTimeMs: o.baseTimeMs } : {}),
    ...(o.spacingMs !== undefined ? { spacingMs: o.spacingMs } : {}),
  });
  for (const f of old) writing(join(o.dir, f), () => rmSync(join(o.dir, f)));
  const width = Math.max(4, String(runs.length - 1).length);
  const ext = o.encoding === 'json' ? 'json' : 'pb';
  const written: string[] = [];
  const expected: string[] = [];
  runs.forEach((run, i) => {
    const stem = String(i).padStart(width, '0');
    const traces = join(o.dir, `${stem}-traces.${ext}`);
    const logs = join(o.dir, `${stem}-logs.${ext}`);
    writing(traces, () => writeFileSync(traces, o.encoding === 'json' ? run.tracesJson : run.tracesProto));
    writing(logs, () => writeFileSync(logs, o.encoding === 'json' ? run.logsJson : run.logsProto));
    written.push(traces, logs);
    expected.push(JSON.stringify({ run: stem, trace_id: run.traceId, ...run.expected }));
  });
  const exp = join(o.dir, 'expected.ndjson');
  writing(exp, () => writeFileSync(exp, `${expected.join('\n')}\n`));
  written.push(exp);
  const note = passingFailureNote(runs.map((run) => run.expected));
  if (note !== undefined) o.onNote?.(note);
  return written;
}
