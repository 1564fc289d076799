import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreditEventSchema } from '../../src/events/schemas.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
// as `npm start` starts it: the build, or the sources when it is not current (test/support/cli.ts)
const cleanEnv = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_CREDIT_'))), ...CLI_ENV });
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });

describe('agent-credit generate', () => {
  it('writes a reproducible corpus of runs that replay reads as it is, one episode per run', () => {
    const a = tempDir('ac-gen-');
    const b = tempDir('ac-gen-');
    const args = ['--episodes', '4', '--seed', '7', '--agents', '5', '--kinds', 'error-retry,saboteur', '--start-ms', '1767225600000', '--spacing-ms', '120000'];
    expect(cli(['generate', a, ...args]).status).toBe(0);
    expect(cli(['generate', b, ...args]).status).toBe(0);
    const files = readdirSync(a).sort();
    expect(files).toEqual(['0000-logs.pb', '0000-traces.pb', '0001-logs.pb', '0001-traces.pb', '0002-logs.pb', '0002-traces.pb', '0003-logs.pb', '0003-traces.pb', 'expected.ndjson']);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f)))).toBe(true);
    const expected = readFileSync(join(a, 'expected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trace_id: string; kind: string; agents: string[] });
    expect(expected.map((e) => e.kind).every((k) => k === 'error-retry' || k === 'saboteur')).toBe(true);
    for (const e of expected) expect(e.agents.length).toBeGreaterThanOrEqual(5);
    const r = cli(['replay', a, '--no-summary']);
    expect(r.status).toBe(0);
    const credits = r.stdout.trim().split('\n').map((l) => CreditEventSchema.parse(JSON.parse(l))).filter((e) => e.event_type === 'episode_credit');
    expect(credits.map((e) => e.episode_id).sort()).toEqual(expected.map((e) => e.trace_id).sort());
    expect(credits.every((e) => e.episode_revision === 0)).toBe(true);
  }, 120_000);

  it('refuses unknown kinds and out-of-range counts, naming the flag (exit 2)', () => {
    const dir = tempDir('ac-gen-');
    const kinds = cli(['generate', dir, '--kinds', 'success,nope']);
    expect(kinds.status).toBe(2);
    expect(kinds.stderr).toContain('--kinds: unknown "nope"; use success, redundant, saboteur, error-retry, failure');
    // an empty list (`--kinds ,`, `--conventions "$UNSET"`) named an internal option: 'invalid fleet option "mix"', exit 1
    for (const flag of ['--kinds', '--conventions']) {
      const empty = cli(['generate', dir, flag, ',']);
      expect(empty.status).toBe(2);
      expect(empty.stderr).toContain(`${flag}: no value given; use one or more of`);
    }
    const agents = cli(['generate', dir, '--agents', '2']);
    expect(agents.status).toBe(2);
    expect(agents.stderr).toContain('--agents: expected an integer ≥ 3');
    // an empty value (--episodes=$UNSET) is refused, not taken as the default
    const empty = cli(['generate', dir, '--episodes=']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('--episodes: expected an integer ≥ 1, got ""');
    // --spacing-ms spaces runs from --start-ms: alone it was ignored (each run kept its seeded start) and exit 0
    const spacing = cli(['generate', dir, '--episodes', '2', '--spacing-ms', '1000']);
    expect(spacing.status).toBe(2);
    expect(spacing.stderr).toContain('--spacing-ms: runs are spaced from --start-ms, and none was given (each run has a seeded start) — give --start-ms too, or leave --spacing-ms out');
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  it('two corpora with one seed and other options get other trace ids (they can be replayed together)', () => {
    const a = tempDir('ac-gen-');
    const b = tempDir('ac-gen-');
    expect(cli(['generate', a, '--episodes', '2', '--seed', '3', '--agents', '4']).status).toBe(0);
    expect(cli(['generate', b, '--episodes', '2', '--seed', '3', '--agents', '6']).status).toBe(0);
    const ids = (dir: string) => readFileSync(join(dir, 'expected.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { trace_id: string }).trace_id);
    const both = [...ids(a), ...ids(b)];
    expect(new Set(both).size).toBe(4);
  }, 60_000);

  // "ENOTDIR: not a directory, scandir …" / "EACCES: permission denied, mkdir …" (exit 1) named neither <dir> nor the fix,
  // and an unwritable directory failed only after the runs were generated
  it('a <dir> it cannot write (a file, or under one) is refused naming <dir> and the fix (exit 2), as replay --out is', () => {
    const dir = tempDir('ac-gen-');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // a file as <dir> itself: "invalid configuration: … cannot write <file> (ENOTDIR)" sent the user
    // to a config file generate does not even read, and did not say the path was a file
    const onFile = cli(['generate', file, '--episodes', '1']);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr).toBe(`agent-credit: <dir>: ${file} is a file, not a directory — give a directory for the runs (created when missing), e.g. agent-credit generate runs/\n`);
    expect(readFileSync(file, 'utf8')).toBe('x');
    // with a trailing slash (`generate runs/`): "cannot write <file>/ (ENOTDIR)"
    const onFileSlash = cli(['generate', `${file}/`, '--episodes', '1']);
    expect(onFileSlash.status).toBe(2);
    expect(onFileSlash.stderr).toBe(`agent-credit: <dir>: ${file}/ is a file, not a directory — give a directory for the runs (created when missing), e.g. agent-credit generate runs/\n`);
    // a path under that file: "cannot write <file>/runs/a (ENOTDIR)" did not say which part was the file
    for (const under of [join(file, 'runs'), join(file, 'runs', 'a')]) {
      const r = cli(['generate', under, '--episodes', '1']);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`agent-credit: <dir>: ${file} is a file, not a directory, so ${under} cannot be created in it — give a directory for <dir> (created when missing), e.g. agent-credit generate runs/\n`);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  }, 60_000);

  it('does not mix a new corpus into an older one in the same directory: refuses (exit 2), or replaces it with --force', () => {
    // Written in place, 3 runs over a 5-run corpus left runs 0003 and 0004 beside them: replay
    // credited 5 episodes while expected.ndjson described 3.
    const dir = tempDir('ac-gen-');
    expect(cli(['generate', dir, '--episodes', '5', '--seed', '2']).status).toBe(0);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const before = readdirSync(dir).sort();
    const refused = cli(['generate', dir, '--episodes', '3', '--seed', '4']);
    expect(refused.status).toBe(2);
    // <dir>'s problem, not the configuration's (generate reads none): it was headed "invalid configuration:"
    expect(refused.stderr).toBe(`agent-credit: <dir>: ${dir} already holds a corpus (11 files, e.g. 0000-logs.pb); its runs would be mixed with the new ones when replayed — give an empty or new directory, or --force to replace that corpus\n`);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(cli(['generate', dir, '--episodes', '3', '--seed', '4', '--encoding', 'json', '--force']).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['0000-logs.json', '0000-traces.json', '0001-logs.json', '0001-traces.json', '0002-logs.json', '0002-traces.json', 'expected.ndjson', 'notes.txt']);
    const expected = readFileSync(join(dir, 'expected.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { trace_id: string }).trace_id);
    const r = cli(['replay', dir, '--no-summary']);
    expect(r.status).toBe(0);
    const credited = r.stdout.trim().split('\n').map((l) => CreditEventSchema.parse(JSON.parse(l))).filter((e) => e.event_type === 'episode_credit').map((e) => e.episode_id);
    expect(credited.sort()).toEqual(expected.sort());
  }, 120_000);
  it('says when failure runs pass (--agents 4 or more: the other coders’ functions count), which replay credits as successes', () => {
    // `--kinds failure --agents 4` wrote runs that all scored 4/7 and passed; the only sign was the
    // replay's `failures: 0` — no first error, no preference pair, for a researcher after rejected samples
    const many = tempDir('ac-gen-');
    const r = cli(['generate', many, '--episodes', '2', '--seed', '3', '--kinds', 'failure', '--agents', '4', '--conventions', 'genai']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('note: 2 of 2 failure runs pass (score 0.57 with 4 agents): ');
    expect(r.stderr).toContain('give --agents 3 (the default) for failure runs that fail');
    const replayed = cli(['replay', many, '--no-summary']);
    expect(replayed.status).toBe(0);
    const credits = replayed.stdout.trim().split('\n').map((l) => CreditEventSchema.parse(JSON.parse(l))).filter((e) => e.event_type === 'episode_credit');
    expect(credits.map((e) => e.outcome)).toEqual(['success', 'success']);
    const few = tempDir('ac-gen-');
    const quiet = cli(['generate', few, '--episodes', '2', '--seed', '3', '--kinds', 'failure', '--conventions', 'genai']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toContain('note:');
    const failed = cli(['replay', few, '--no-summary']).stdout.trim().split('\n').map((l) => CreditEventSchema.parse(JSON.parse(l))).filter((e) => e.event_type === 'episode_credit');
    expect(failed.map((e) => e.outcome)).toEqual(['failure', 'failure']);
  }, 120_000);
});
