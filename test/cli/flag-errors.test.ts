/**
 * A bad command-line flag is headed "invalid command-line flag:", on every command: it read
 * "invalid configuration:", sending the user to a config file or AGENT_CREDIT_* variable that was
 * not at fault. Exit 2 as before (a usage error's code); a setting from the config file or the
 * environment keeps "invalid configuration:".
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_CONVENTIONS } from '../../src/scenarios/types.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
// as `npm start` starts it: the build, or the sources when it is not current (test/support/cli.ts)
const cleanEnv = (extra: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_CREDIT_'))), ...CLI_ENV, ...extra });
// spawnSync's timeout: a flag not refused would start run's job, which runs until killed
const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });

const flagError = (...problems: string[]) => `agent-credit: invalid command-line flag:\n  ${problems.join('\n  ')}\n`;
const flagsError = (...problems: string[]) => `agent-credit: invalid command-line flags:\n  ${problems.join('\n  ')}\n`;

describe('a bad command-line flag: "invalid command-line flag", the flag, what it takes; exit 2', () => {
  const input = join(AGENTS_SDK_FIXTURES, 'kafka', 'otlp_proto');
  // nothing starts: each is refused before any port is opened or file written
  const quiet = ['--no-live', '--no-stdout', '--port', '0', '--grpc-port', '0'];

  it.each([
    // generate's lists: an unknown name, and nothing at all
    ['generate --kinds', ['generate', '--kinds', 'success,bogus'], flagError('--kinds: unknown "bogus"; use success, redundant, saboteur, error-retry, failure, late-repair')],
    ['generate --conventions', ['generate', '--conventions', ','], flagError(`--conventions: no value given; use one or more of ${SCENARIO_CONVENTIONS.join(', ')} (comma-separated), or leave --conventions out for all`)],
    // the integer flags' parser (generate's, run's and demo's --demo-*)
    ['generate --agents below its minimum', ['generate', '--agents', '2'], flagError('--agents: expected an integer ≥ 3, got "2"')],
    ['generate --episodes empty', ['generate', '--episodes='], flagError('--episodes: expected an integer ≥ 1, got ""')],
    ['generate --seed not an integer', ['generate', '--seed', '1.5'], flagError('--seed: expected an integer, got "1.5"')],
    ['generate --steps', ['generate', '--steps', '0'], flagError('--steps: expected an integer ≥ 1, got "0"')],
    ['generate --start-ms', ['generate', '--start-ms', 'now'], flagError('--start-ms: expected an integer ≥ 0, got "now"')],
    ['generate --spacing-ms', ['generate', '--start-ms', '0', '--spacing-ms', '-1'], flagError('--spacing-ms: expected an integer ≥ 0, got "-1"')],
    ['demo --demo-episodes', ['demo', ...quiet, '--demo-episodes', '-1'], flagError('--demo-episodes: expected an integer ≥ 1, got "-1"')],
    ['run --demo --demo-interval-ms', ['run', ...quiet, '--demo', '--demo-interval-ms', '0'], flagError('--demo-interval-ms: expected an integer ≥ 1, got "0"')],
    ['check --demo --demo-seed', ['check', ...quiet, '--demo', '--demo-seed', 'x'], flagError('--demo-seed: expected an integer, got "x"')],
    // generate's other checks
    ['generate --agents above the limit', ['generate', '--agents', '65'], flagError("--agents: at most 64 (the generator's limit), got 65")],
    ['generate --encoding', ['generate', '--encoding', 'xml'], flagError('--encoding: use proto or json, got "xml"')],
    ['generate --spacing-ms without --start-ms', ['generate', '--spacing-ms', '1000'], flagError('--spacing-ms: runs are spaced from --start-ms, and none was given (each run has a seeded start) — give --start-ms too, or leave --spacing-ms out')],
    // a --demo-* flag without --demo (one flag, several)
    ['run --demo-batches without --demo', ['run', ...quiet, '--demo-batches', '2'], flagError('--demo-batches: a demo option, and the demo fleet is off — add --demo (or run `agent-credit demo`)')],
    ['check --demo-* without --demo', ['check', ...quiet, '--demo-episodes', '2', '--demo-seed', '5'], flagsError('--demo-episodes, --demo-seed: demo options, and the demo fleet is off — add --demo (or run `agent-credit demo`)')],
    // view --since
    ['view --since', ['view', '--since', 'yesterday'], flagError('--since: expected a duration such as 30m, 6h or 2d, or all — got "yesterday"')],
    ['view --since without a unit', ['view', '--since', '600'], flagError('--since: "600" has no unit; give one of ms, s, m, h, d (e.g. 600s or 600m), or all')],
    // the flags that set a config key: the key's error, naming the flag
    ['run --port', ['run', '--no-live', '--no-stdout', '--port='], flagError('source.http.port: expected a number 0–65535, got "" (from --port) — a TCP port 0–65535 (0 = any free port)')],
    ['run --port and --metrics-port', ['run', '--no-live', '--no-stdout', '--port', 'abc', '--metrics-port', '70000'], flagsError('source.http.port: expected a number 0–65535, got "abc" (from --port) — a TCP port 0–65535 (0 = any free port)', 'telemetry.metricsPort: expected a number ≤ 65535, got 70000 (from --metrics-port) — a TCP port 0–65535 (0 = any free port)')],
    ['replay --budget', ['replay', input, '--budget', 'abc'], flagError('credit.budget: expected a number > 0, got "abc" (from --budget)')],
    ['view --live-port', ['view', '--live-port='], flagError('sinks.live.port: expected a number 0–65535, got "" (from --live-port) — a TCP port 0–65535 (0 = any free port)')],
    // compare's lists and count
    ['compare --estimators', ['compare', input, '--estimators', 'svarm,bogus'], flagError('--estimators: "bogus" is not one of permutation, kernel, unbiased-kernel, regression-adjusted, tree-msr, svarm, tree-msr-cross-fitted')],
    ['compare --budgets', ['compare', input, '--budgets', 'abc'], flagError('--budgets: give positive integers (evaluations per agent, e.g. 4,10,40), got "abc"')],
    ['compare --seeds', ['compare', input, '--seeds', '0'], flagError('--seeds: give a positive integer, got "0"')],
    // -c: a path on the command line, not a setting in a file
    ['replay --config', ['replay', input, '--config', '/nonexistent/agent-credit.yaml'], flagError('--config /nonexistent/agent-credit.yaml: cannot read the file (ENOENT) — give the path of a YAML file such as deploy/agent-credit.yaml')],
  ])('%s', (_, args, stderr) => {
    // generate's <dir>: a new one, left empty (nothing is written before the flags are checked)
    const argv = args[0] === 'generate' ? [...args, join(tempDir('ac-flag-'), 'runs')] : args;
    const r = cli(argv, args[0] === 'view' ? { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: '127.0.0.1:1' } : {});
    expect(r.stderr).toBe(stderr);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('a setting from the environment keeps "invalid configuration", and so does a flag beside it (each line names where it came from)', () => {
    const env = cli(['run', '--no-live', '--no-stdout'], { AGENT_CREDIT_SOURCE_HTTP_PORT: 'x' });
    expect(env.status).toBe(2);
    expect(env.stderr).toBe('agent-credit: invalid configuration:\n  source.http.port: expected a number 0–65535, got "x" (from AGENT_CREDIT_SOURCE_HTTP_PORT) — a TCP port 0–65535 (0 = any free port)\n');
    const both = cli(['run', '--no-stdout', '--live-port', 'y'], { AGENT_CREDIT_SOURCE_HTTP_PORT: 'x' });
    expect(both.status).toBe(2);
    expect(both.stderr).toBe(
      'agent-credit: invalid configuration:\n  source.http.port: expected a number 0–65535, got "x" (from AGENT_CREDIT_SOURCE_HTTP_PORT) — a TCP port 0–65535 (0 = any free port)\n  sinks.live.port: expected a number 0–65535, got "y" (from --live-port) — a TCP port 0–65535 (0 = any free port)\n',
    );
  });

  it('check --format json names the flag’s key as the setting to change, as for a configuration error', () => {
    const r = cli(['check', '--port', 'x', '--format', 'json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(flagError('source.http.port: expected a number 0–65535, got "x" (from --port) — a TCP port 0–65535 (0 = any free port)'));
    const doc = JSON.parse(r.stdout) as { checks: { name: string; setting: string | null; status: string }[] };
    expect(doc.checks).toEqual([expect.objectContaining({ name: 'config', setting: 'source.http.port', status: 'fail' })]);
  });
});
