import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { linkSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { CreditEventSchema, type CreditEvent } from '../../src/events/schemas.js';
import type { AgentBoardSnapshot } from '../../src/events/agent-board.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { REFUSED_PORT } from '../support/ports.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
/**
 * Runs the CLI exactly as `npm start` does (bin/agent-credit.js: the build, or the sources when it
 * is not current — test/support/cli.ts), with a clean AGENT_CREDIT_* environment.
 */
const cleanEnv = (extra: Record<string, string> = {}) => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
  return { ...env, ...CLI_ENV, ...extra };
};
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv(env), encoding: 'utf8', timeout: 60_000 });

/**
 * A command's `--help` → its own options, each as its flags (`['-c', '--config']`): what README's row
 * of the command must show (one of the flags will do). --help and --version are every command's.
 */
function helpFlags(help: string): string[][] {
  const options: string[][] = [];
  for (const line of help.split('\n')) {
    const head = /^ {2}((?:-\w, )?--[\w-]+)(?: <[\w-]+>)?(?: |$)/.exec(line);
    if (head && !['--help', '--version'].some((f) => head[1]!.endsWith(f))) options.push(head[1]!.split(', '));
  }
  return options;
}

/** A command's `--help` → its options: each flag (`-c` and `--config`) → the option's text, wrapped lines joined. */
function helpOptions(help: string): Map<string, string> {
  const options = new Map<string, string>();
  let current: string[] = [];
  for (const line of help.split('\n')) {
    const head = /^ {2}((?:-\w, )?--[\w-]+)(?: <[\w-]+>)?(?: +(.*))?$/.exec(line);
    if (head) {
      current = head[1]!.split(', ');
      for (const flag of current) options.set(flag, head[2] ?? '');
    } else if (/^ {3,}\S/.test(line)) for (const flag of current) options.set(flag, `${options.get(flag)} ${line.trim()}`);
    else current = [];
  }
  return options;
}

describe('agent-credit CLI', () => {
  it('--help lists every command; run --help shows every option with its default', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    // every command of README's table of entry points
    for (const c of ['run', 'replay', 'compare', 'generate', 'demo', 'check', 'view', 'schema']) expect(top.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    // check's help says what README says it checks: also the value function run would load
    expect(cli(['check', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/value function \(a module game loaded, an http judge’s host connected to\)/);
    const run = cli(['run', '--help']);
    expect(run.status).toBe(0);
    for (const [flag, def] of [['--port', '4318'], ['--grpc-port', '4317'], ['--host', '127.0.0.1'], ['--live-port', '8080'], ['--log-level', 'info'], ['--demo-interval-ms', '3000']] as const) {
      expect(run.stdout).toMatch(new RegExp(`${flag} [^\\n]*(\\n\\s+[^-\\s][^\\n]*)*\\(default: ${def.replace('.', '\\.')}\\)`));
    }
    // README's table of commands and the help agree: every flag a row shows is the command's, and a
    // value it shows as a number (a default: `--budget 2000`, `--since 6h`) is the help's default
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `agent-credit (\w+)([^`]*)` \|/gm)];
    expect(rows.map((r) => r[1])).toEqual(['run', 'replay', 'compare', 'generate', 'demo', 'check', 'view', 'schema']);
    // deploy/README's table of commands and main.ts's header name them all too (they missed
    // generate, check and view)
    const deployRows = new Set(
      [...readFileSync(join(root, 'deploy/README.md'), 'utf8').matchAll(/^\| (`agent-credit .*?) \| /gm)].flatMap((r) => [...r[1]!.matchAll(/`agent-credit (\w+)/g)].map((c) => c[1])),
    );
    expect([...deployRows].sort()).toEqual(rows.map((r) => r[1]).sort());
    const header = /command line: ([\w |]+)\./.exec(readFileSync(join(root, 'src/cli/main.ts'), 'utf8'))?.[1]?.split(' | ');
    expect(header?.sort()).toEqual(rows.map((r) => r[1]).sort());
    // README's telemetry row names every command that takes --log-format (check was left out)
    const logFormatOn = /`--log-format` on ([^)]*)\)/.exec(readme)?.[1] ?? '';
    const shown = new Map<string, Set<string>>();
    for (const [, command, args] of rows) {
      const help = cli([command!, '--help']).stdout;
      const options = helpOptions(help);
      if (options.has('--log-format')) expect(logFormatOn, `README's telemetry row: --log-format on ${command}`).toContain(`\`${command}\``);
      const flags = new Set<string>();
      for (const [, flag, value] of args!.replaceAll('\\|', '|').matchAll(/(?<![\w-])(--?[a-z][\w-]*)(?: ([^\s\]…-][^\s\]…]*))?/g)) {
        expect(options.has(flag!), `README's ${command} row shows ${flag}, which \`${command} --help\` does not list`).toBe(true);
        if (value !== undefined && /^\d/.test(value)) expect(/\(default: ([^)]*)\)/.exec(options.get(flag!)!)?.[1], `README's ${command} row: ${flag} ${value}`).toBe(value);
        flags.add(flag!);
      }
      shown.set(command!, flags);
      // and every flag of the help is in the row (replay's left out --no-summary, -c, --log-level and
      // --log-format; view's --live-host and --log-level): check's row may refer to run's flags
      // ("[run's flags: --port … --demo …]"), which run's row lists
      const inherited = args!.includes("run's flags") ? (shown.get('run') ?? new Set<string>()) : new Set<string>();
      for (const aliases of helpFlags(help)) {
        expect(aliases.some((f) => flags.has(f) || inherited.has(f)), `\`${command} --help\` lists ${aliases.join(', ')}, which README's ${command} row does not show`).toBe(true);
      }
    }
    // what the help says the commands do: --metrics-port adds a server (the live page keeps
    // serving /metrics: "separate … port" said otherwise), schema names all it writes
    for (const command of ['run', 'check', 'view']) expect(helpOptions(cli([command, '--help']).stdout).get('--metrics-port')).toMatch(/^telemetry\.metricsPort: also serve \/metrics, \/healthz, \/readyz on this port/);
    expect(cli(['schema', '--help']).stdout.replace(/\s+/g, ' ')).toContain('of the events, the training records (replay --episodes), the evaluation records, the config file and check --format json’s report');
  });

  it('view without a Kafka source, or with a --since it cannot read, exits 2 naming what to set', () => {
    const noKafka = cli(['view', '--log-level', 'silent']);
    expect(noKafka.status).toBe(2);
    expect(noKafka.stderr).toMatch(/source\.kind: `view` reads the output topics of the Kafka job/);
    const badSince = cli(['view', '--since', 'yesterday']);
    expect(badSince.status).toBe(2);
    expect(badSince.stderr).toContain('--since: expected a duration such as 30m, 6h or 2d, or all');
    // a bare number was read as ms: `--since 600` showed the last 0.6 s without a word
    const bareSince = cli(['view', '--since', '600']);
    expect(bareSince.status).toBe(2);
    expect(bareSince.stderr).toContain('--since: "600" has no unit; give one of ms, s, m, h, d (e.g. 600s or 600m), or all');
    expect(helpOptions(cli(['view', '--help']).stdout).get('--since')).toContain('ms, s, m, h or d');
    // its flags are read as run's are: an empty --live-port= is not "any free port"
    const emptyPort = cli(['view', '--live-port='], { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: '127.0.0.1:1' });
    expect(emptyPort.status).toBe(2);
    expect(emptyPort.stderr).toMatch(/sinks\.live\.port: .*\(from --live-port\)/);
  });

  it('a bad setting exits with code 2 and a message naming the key and the variable', () => {
    const r = cli(['run'], { AGENT_CREDIT_EPISODES_GRACEMS: 'soon' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('episodes.graceMs: expected a number ≥ 0, got "soon" (from AGENT_CREDIT_EPISODES_GRACEMS)');
    expect(r.stdout).toBe('');
  });

  it('an OTEL_EXPORTER_OTLP_ENDPOINT pointing at the job\'s own receiver exits 2, as a refused setting does — it exited 1, the code of a runtime failure', () => {
    // nothing starts before the refusal (self-tracing is set up before the receiver binds); spawnSync's timeout bounds a run that did
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [BIN, 'run', '--port', '4399', '--grpc-port', '0', '--no-live', '--no-stdout'], { cwd: root, env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 });
    const loop = run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4399' });
    expect(loop.status).toBe(2);
    expect(loop.stderr).toContain("agent-credit: invalid configuration (environment):\n  OTEL_EXPORTER_OTLP_ENDPOINT (http://127.0.0.1:4399) points at agent-credit's own OTLP/HTTP receiver (source.http 127.0.0.1:4399)");
    expect(loop.stderr).toContain('env -u OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(run({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://localhost:4399/v1/traces' }).status).toBe(2);
  });

  it('a usage error (a value outside --log-level\'s choices, an unknown option) exits 2 as a bad setting does — it exited 1, the code of a runtime failure; --help still exits 0', () => {
    const level = cli(['run', '--log-level', 'loud']);
    expect(level.status).toBe(2);
    expect(level.stderr).toContain("error: option '--log-level <level>' argument 'loud' is invalid. Allowed choices are fatal, error, warn, info, debug, trace, silent.");
    expect(cli(['run'], { AGENT_CREDIT_TELEMETRY_LOG_LEVEL: 'loud' }).status).toBe(2);
    const unknown = cli(['check', '--since', '6h']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--since'");
    expect(cli(['check', '--help']).status).toBe(0);
  });

  it('run --port= (empty, e.g. --port=$PORT unset) is refused naming the flag — it read as 0 and started on a random port; run flags name themselves as replay flags do', () => {
    // spawnSync's timeout: before the fix the job started and ran until killed
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'run', '--no-live', '--no-stdout', ...args], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    const empty = run(['--port=']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('source.http.port: expected a number 0–65535, got "" (from --port)');
    const range = run(['--metrics-port', '70000']);
    expect(range.status).toBe(2);
    expect(range.stderr).toContain('telemetry.metricsPort: expected a number ≤ 65535, got 70000 (from --metrics-port)');
    const demo = spawnSync(process.execPath, [BIN, 'demo', '--no-live', '--no-stdout', '--port', '0', '--grpc-port', '0', '--demo-seed='], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    expect(demo.status).toBe(2);
    expect(demo.stderr).toContain('--demo-seed: expected an integer, got ""');
  });

  it('run with a kafka source on an address where no broker listens names source.kafka.brokers (it said only "Connection error: connect ECONNREFUSED")', async () => {
    const port = REFUSED_PORT;
    const r = cli(['run', '--no-live', '--no-stdout', '--log-level', 'silent'], { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port} — check source\\.kafka\\.brokers \\(host:port of a listener this client can reach\\)`));
  });

  it('run on a busy port names the setting and its flag', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const r = cli(['run', '--port', String(port), '--no-live', '--no-stdout']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE.* — choose another port with source\.http\.port \(--port\) \(0 = any free port\)/);
      // the live page on a busy port names its own setting (startJobOutputs, shared with the Kafka job)
      const live = cli(['run', '--port', '0', '--grpc-port', '0', '--live-port', String(port), '--no-stdout']);
      expect(live.status).toBe(1);
      expect(live.stderr).toMatch(/EADDRINUSE.* — choose another port with sinks\.live\.port \(--live-port\) \(0 = any free port\)/);
      // the OTLP/gRPC receiver's port (4317 taken by a local collector, say): its key, its flag, and how to do without it
      const grpcBusy = cli(['run', '--port', '0', '--grpc-port', String(port), '--no-live', '--no-stdout']);
      expect(grpcBusy.status).toBe(1);
      expect(grpcBusy.stderr).toMatch(/EADDRINUSE.* — choose another port with source\.grpc\.port \(--grpc-port\) \(0 = any free port\); or set source\.grpc\.enabled: false \(--no-grpc\) when your exporters send OTLP\/HTTP only/);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('run on a host that is not an address of this machine names the host setting and its flag (it said only "listen EADDRNOTAVAIL" / "getaddrinfo ENOTFOUND")', () => {
    const r = cli(['run', '--host', '192.0.2.1', '--port', '0', '--grpc-port', '0', '--no-live', '--no-stdout', '--log-level', 'error']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('address not available 192.0.2.1 — set source.http.host (--host) to an address of this machine (127.0.0.1 for this machine only, 0.0.0.0 for every interface)');
    const live = cli(['run', '--port', '0', '--grpc-port', '0', '--live-host', '192.0.2.1', '--live-port', '0', '--no-stdout', '--log-level', 'error']);
    expect(live.status).toBe(1);
    expect(live.stderr).toContain('— set sinks.live.host (--live-host) to an address of this machine');
  });

  it('replay writes events to --out and a summary table to stderr', () => {
    const out = join(tempDir('ac-replay-'), 'events.jsonl');
    const r = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const events = readFileSync(out, 'utf8').trim().split('\n').map((l) => CreditEventSchema.parse(JSON.parse(l)));
    const episodes = events.filter((e) => e.event_type === 'episode_credit');
    expect(r.stderr).toMatch(new RegExp(`episodes: ${episodes.length}\\s+failures: ${episodes.filter((e) => e.outcome === 'failure').length}`));
    expect(r.stderr).toMatch(/agent\s+episodes\s+mean credit/);
    // sinks.stdout.eventTypes selects what is written, not what the summary counts (it said "episodes: 0" and listed no agent)
    const rewardsOnly = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--out', out], { AGENT_CREDIT_SINKS_STDOUT_EVENT_TYPES: 'message_reward' });
    expect(rewardsOnly.status, rewardsOnly.stderr).toBe(0);
    expect(new Set(readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as CreditEvent).event_type))).toEqual(new Set(['message_reward']));
    expect(rewardsOnly.stderr).toMatch(new RegExp(`episodes: ${episodes.length}\\s+failures: ${episodes.filter((e) => e.outcome === 'failure').length}`));
    expect(rewardsOnly.stderr).toMatch(/\ntriage\s+9\s/);
  });

  it('replay --out never empties an input: named as an input it is refused, an earlier output inside an input directory is left out (it was emptied, then warned about as an empty input)', () => {
    const dir = tempDir('ac-replay-out-');
    const src = `${AGENTS_SDK_FIXTURES}/genai/otlp-http`;
    for (const f of readdirSync(src)) writeFileSync(join(dir, f), readFileSync(join(src, f)));
    const input = join(dir, '0001-traces.pb');
    const before = readFileSync(input);
    const same = cli(['replay', input, '-o', input, '--no-summary']);
    expect(same.status).toBe(2);
    expect(same.stderr).toBe(`agent-credit: replay --out: ${input} is also an input — writing the events there would empty it before it is read; give another output file\n`);
    expect(readFileSync(input).equals(before)).toBe(true);
    const out = join(dir, 'events.jsonl');
    writeFileSync(out, 'an earlier replay\n');
    const again = cli(['replay', dir, '-o', out, '--no-summary']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('no spans or log records in this file');
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as CreditEvent).event_type).filter((t) => t === 'episode_credit')).toHaveLength(3);
  }, 60_000);

  it('replay --out is refused when it is an input under another name — a hard link here, the same file in another letter case on macOS and Windows (it emptied the input: the names differ in their real paths)', () => {
    const dir = tempDir('ac-replay-out-link-');
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, readFileSync(join(`${AGENTS_SDK_FIXTURES}/genai/otlp-http`, '0001-traces.pb')));
    const before = readFileSync(input);
    const other = join(dir, 'Events.jsonl'); // what a case-insensitive file system makes of that name
    linkSync(input, other);
    const r = cli(['replay', other, '-o', input, '--no-summary']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`replay --out: ${input} is also an input`);
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it('replay logs at warn by default, but --log-level info (or the variable) is taken as asked (it was turned into warn too)', () => {
    const args = ['replay', `${AGENTS_SDK_FIXTURES}/genai/otlp-http`, '--no-summary'];
    const info = /"level":30,.*credit runs in worker threads/;
    expect(cli(args, { AGENT_CREDIT_RUNTIME_CREDIT_WORKERS: '1' }).stderr).not.toMatch(info);
    expect(cli([...args, '--log-level', 'info'], { AGENT_CREDIT_RUNTIME_CREDIT_WORKERS: '1' }).stderr).toMatch(info);
    expect(cli(args, { AGENT_CREDIT_RUNTIME_CREDIT_WORKERS: '1', AGENT_CREDIT_TELEMETRY_LOG_LEVEL: 'info' }).stderr).toMatch(info);
    expect(cli(['replay', '--help']).stdout).toMatch(/--log-level <level>\s+log level on stderr \(default: warn,/);
    // --out said it writes events; with --episodes it writes training records
    expect(cli(['replay', '--help']).stdout).toMatch(/-o, --out <file>\s+write the events \(with --episodes, the training\s+records\) to this JSON-lines file/);
  }, 60_000);

  it('replay -o - writes to stdout, and a reader that closes the pipe early ends it quietly (no "EPIPE" error line)', async () => {
    const r = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '-o', '-', '--no-summary']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(3);
    expect(readdirSync(root)).not.toContain('-');
    // `| head -1`: read one line, then close our end
    const child = spawn(process.execPath, [BIN, 'replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--no-summary'], { cwd: root, env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|sink publish failed/);
    expect(code).toBe(0);
  });

  it('run: a reader that closes stdout stops the job with an error line and exit code 1 (it exited 0 without a word, like replay | head)', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--demo', '--port', '0', '--grpc-port', '0', '--live-port', '0', '--demo-interval-ms', '300', '--demo-episodes', '2'], { cwd: root, env: cleanEnv() });
    try {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // `npm start --silent | jq` and jq ends: read the first events, then close our end
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const exited = await Promise.race([code, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 30_000).unref())]);
      expect(exited, stderr.slice(-2000)).toBe(1);
      expect(stderr).toMatch(/"level":50[^\n]*stdout was closed \(EPIPE\): the reader of the credit events went away — exiting with code 1/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('an input path that does not exist is a setting\'s error (exit 2, as "no OTLP files found") naming where it was given — it exited 1, said "replay:" for compare, and did not name source.file.paths', () => {
    const missing = join(tmpdir(), 'agent-credit-no-such-input');
    for (const command of ['replay', 'compare']) {
      const r = cli([command, missing]);
      expect(r.status).toBe(2);
      // given as an argument, not in the config: it was reported as "invalid configuration"
      expect(r.stderr).toBe(`agent-credit: ${command}: input path ${missing} does not exist — give OTLP files or directories\n`);
    }
    const replay = cli(['replay'], { AGENT_CREDIT_SOURCE_FILE_PATHS: missing });
    expect(replay.status).toBe(2);
    expect(replay.stderr).toContain(`source.file.paths[0]: ${missing} does not exist — give OTLP files or directories (or pass them to replay as arguments)`);
  });

  it('replay and compare without inputs and without source.file.paths say no input was given — they said "no OTLP files found — directories are searched for …", as if one had been', () => {
    for (const command of ['replay', 'compare']) {
      const r = cli([command]);
      expect(r.status).toBe(2);
      // no setting is wrong, the arguments are missing: it was headed "invalid configuration:"
      expect(r.stderr).toBe(`agent-credit: ${command}: no input given — name OTLP files or directories (e.g. \`agent-credit ${command} runs/\`), or list them in source.file.paths of the config file (-c)\n`);
    }
  });

  it('replay with a judge that refuses connections runs to the end and says so — it exited 13 (unsettled top-level await) with no output at the judge\'s retry backoff (an unref\'d timer)', async () => {
    const port = REFUSED_PORT;
    const r = cli(['replay', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')], { AGENT_CREDIT_CREDIT_GAME: 'http', AGENT_CREDIT_CREDIT_JUDGE: `{url: "http://127.0.0.1:${port}/judge"}` });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/value function failing \(credit\.game: http\).*unreachable/);
    expect(r.stderr).toMatch(/^episodes: 3 /m);
  });

  // import() gives a SyntaxError without its place: "cannot load "…": Unexpected token ';'" left the user to find it
  // (the CLI, not vitest: vite's transform reports its own parse failure, with a place)
  it('a value-function module with a syntax error: the error says where in the file', () => {
    const r = cli(['replay', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')], { AGENT_CREDIT_CREDIT_GAME: 'module', AGENT_CREDIT_CREDIT_MODULE_PATH: join(root, 'test/runtime/modules/syntax-error.mjs') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/module game: cannot load ".*syntax-error\.mjs": Unexpected token ';' \(at line 3: "return coalition\.length \+;"\)$/m);
  });

  // a module the config names that is missing or has no such function exited 1 (a runtime failure), while a missing
  // TLS file named by a setting exits 2: now 2 as well, in this thread and from the credit workers
  it('a credit.module.path that is missing or exports no function exits 2, as other settings do', () => {
    for (const creditWorkers of ['0', '1']) {
      const missing = cli(['replay', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')], { AGENT_CREDIT_CREDIT_GAME: 'module', AGENT_CREDIT_CREDIT_MODULE_PATH: 'no-such-module.mjs', AGENT_CREDIT_RUNTIME_CREDIT_WORKERS: creditWorkers });
      expect(missing.stderr).toMatch(/module game: file not found: "no-such-module\.mjs"/);
      expect(missing.status).toBe(2);
    }
    const noFunction = cli(['replay', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')], { AGENT_CREDIT_CREDIT_GAME: 'module', AGENT_CREDIT_CREDIT_MODULE_PATH: join(root, 'test/games/modules/wrong-export.mjs') });
    expect(noFunction.stderr).toMatch(/has no exported function "value"/);
    expect(noFunction.status).toBe(2);
  });

  // an episode whose credit failed has no events in the output: replay exited 0, and a script did not notice
  it('replay exits 1 when credit failed for an episode (none of its events in the output), saying so after the summary', () => {
    const never = join(root, 'test/runtime/modules/never-settles.mjs');
    const r = cli(['replay', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')], {
      AGENT_CREDIT_CREDIT_GAME: 'module',
      AGENT_CREDIT_CREDIT_MODULE_PATH: never,
      AGENT_CREDIT_CREDIT_TIMEOUT_MS: '60000',
      AGENT_CREDIT_RUNTIME_CREDIT_TIMEOUT_MS: '300',
    });
    expect(r.stderr).toMatch(/credit failures: 3/);
    expect(r.stderr).toMatch(/^agent-credit replay: credit failed for 3 episode\(s\), which have no events in the output .*; exit code 1$/m);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('replay and compare skip an undecodable file, name it in an error line, emit every good episode, count it in the summary and exit 1 (one bad file lost the whole replay)', () => {
    const dir = tempDir('cli-undecodable-');
    const genai = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
    for (const f of readdirSync(genai)) writeFileSync(join(dir, f), readFileSync(join(genai, f)));
    writeFileSync(join(dir, '0002a-traces.pb'), 'garbage\n');
    const r = cli(['replay', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as CreditEvent).filter((e) => e.event_type === 'episode_credit')).toHaveLength(3);
    expect(r.stderr).toMatch(/"level":50.*"file":"[^"]*0002a-traces\.pb","reason":"[^"]*cannot decode as OTLP traces/);
    expect(r.stderr).toMatch(/^episodes: 3 .*\n.*undecodable requests skipped: 1$/m);
    expect(r.stderr).toContain('1 undecodable request(s) skipped');
    const c = cli(['compare', dir, '--estimators', 'svarm', '--budgets', '4', '--seeds', '1']);
    expect(c.status).toBe(1);
    expect(c.stdout).toMatch(/3 of 3 episodes compared/);
    expect(c.stderr).toContain('agent-credit compare: 1 undecodable request(s) skipped');
  });

  // it said only "unexpected wire type 7 at byte 1" (.pb.gz), or "not JSON" once per "line" (.jsonl)
  it.each(['0001-traces.pb.gz', 'traces.jsonl'])('replay of a gzip-compressed OTLP file (%s) says once that it is compressed and how to read it', (name) => {
    const gz = join(tempDir('cli-gzip-'), name);
    writeFileSync(gz, gzipSync(readFileSync(join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http', '0001-traces.pb'))));
    const r = cli(['replay', gz]);
    expect(r.status).toBe(1);
    const skipped = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { file?: string; reason?: string }).filter((l) => l.file !== undefined);
    expect(skipped.map((l) => l.file!.endsWith(name))).toEqual([true]); // one request, the whole file (no "file:line")
    expect(skipped[0]!.reason).toContain('(the file is gzip-compressed: decompress it first, e.g. gunzip)');
  });

  it('replay --estimator/--budget/--seed/--target-half-width set the credit.* keys as their variables do, and a bad value names the flag', () => {
    const dir = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
    const strip = (out: string) => out.trim().split('\n').map((l) => JSON.stringify({ ...(JSON.parse(l) as object), emitted_at_ms: 0 }));
    const flags = cli(['replay', dir, '--no-summary', '--estimator', 'permutation', '--budget', '12', '--seed', '7', '--target-half-width', '0.001']);
    expect(flags.status).toBe(0);
    const env = cli(['replay', dir, '--no-summary'], { AGENT_CREDIT_CREDIT_ESTIMATOR: 'permutation', AGENT_CREDIT_CREDIT_BUDGET: '12', AGENT_CREDIT_CREDIT_SEED: '7', AGENT_CREDIT_CREDIT_TARGETHALFWIDTH: '0.001' });
    expect(strip(flags.stdout)).toEqual(strip(env.stdout));
    const credit = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as CreditEvent).filter((e) => e.event_type === 'episode_credit');
    expect(credit(flags.stdout).every((e) => e.estimator.name === 'permutation' && e.estimator.evaluations <= 12)).toBe(true);
    for (const [flag, value, message] of [
      ['--budget', 'abc', 'credit.budget: expected a number > 0, got "abc" (from --budget)'],
      ['--estimator', 'foo', 'got "foo" (from --estimator)'],
      ['--seed', '1.5', 'credit.seed: expected an integer, got 1.5 (from --seed)'],
      ['--target-half-width', '0', 'credit.targetHalfWidth: expected a number > 0, got 0 (from --target-half-width)'],
    ] as const) {
      const r = cli(['replay', dir, flag, value]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('compare with no comparable episode fails instead of printing a table of zero errors', () => {
    const r = cli(['compare', `${AGENTS_SDK_FIXTURES}/genai/otlp-http/0001-traces.pb`]); // spans only: no evaluation
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/compare: none of the \d+ closed episode\(s\) could be compared \(skipped: \d+ .*\): nothing was measured/);
    // the table on stdout measured nothing either: its rows said "mean abs error 0, relative MSE 0"
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| permutation |'));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^\| permutation \| \d+·n \| 0 \| — \| — \| — \| — \| — \| — \| — \| — \|$/);
  });

  it('compare on input that closes no episode says why: every file undecodable, or evaluations without their spans', () => {
    const dir = tempDir('ac-compare-nothing-');
    writeFileSync(join(dir, 'a.pb'), 'garbage');
    writeFileSync(join(dir, 'b.json'), '{"name":"not otlp"}');
    const json = join(dir, 'report.json');
    const r = cli(['compare', dir, '--json', json]);
    expect(r.status).toBe(1);
    // it said "none of the 0 closed episode(s) could be compared (skipped: none)"
    expect(r.stderr).toContain('compare: no episode closed: 2 request(s) of the input could not be read (undecodable, or evaluation records refused — see the error lines above): nothing was measured');
    expect((JSON.parse(readFileSync(json, 'utf8')) as { episodes: number }).episodes).toBe(0);
    const logs = cli(['compare', join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http', '0004-logs.pb')]);
    expect(logs.status).toBe(1);
    expect(logs.stderr).toContain("compare: no episode closed: the input's 1 request(s) held no spans (evaluations alone make no episode: give the traces too): nothing was measured");
  });

  it('compare with a judge that refuses connections groups the episodes it left out under one reason — each had its own line, naming its game and coalition', async () => {
    const port = REFUSED_PORT;
    const json = join(tempDir('ac-compare-judge-down-'), 'report.json');
    const r = cli(['compare', `${AGENTS_SDK_FIXTURES}/genai/otlp-http`, '--estimators', 'svarm', '--budgets', '4', '--seeds', '1', '--json', json, '--log-level', 'error'], {
      AGENT_CREDIT_CREDIT_GAME: 'http',
      AGENT_CREDIT_CREDIT_JUDGE: `{url: "http://127.0.0.1:${port}/judge", retries: 0}`,
    });
    expect(r.status).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { episodes: number; compared: number; skipped: Record<string, number> };
    expect(report.episodes).toBe(3);
    expect(report.compared).toBe(0);
    const reasons = Object.keys(report.skipped);
    expect(reasons).toHaveLength(1);
    expect(report.skipped[reasons[0]!]).toBe(3);
    expect(reasons[0]).toMatch(/^exact reference not reached \(GameEvaluationError: .*unreachable/);
    expect(reasons[0]).not.toMatch(/[0-9a-f]{32}/); // no episode's id in the reason
    expect(r.stdout).toMatch(/0 of 3 episodes compared \(left out: 3 exact reference not reached \(/);
    expect(r.stderr).toMatch(/none of the 3 closed episode\(s\) could be compared \(skipped: 3 exact reference not reached \(/);
  });

  it('compare prints one row per estimator and budget for the recorded fixtures, and --json writes the same report', () => {
    const json = join(tempDir('ac-compare-'), 'report.json');
    const r = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--estimators', 'permutation,regression-adjusted', '--budgets', '4,20', '--seeds', '2', '--json', json]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { episodes: number; compared: number; rows: { estimator: string; budgetPerPlayer: number; runs: number }[] };
    expect(report.episodes).toBeGreaterThan(0);
    expect(report.compared).toBeGreaterThan(0);
    expect(r.stdout).toContain(`${report.compared} of ${report.episodes} episodes compared`);
    expect(report.rows.map((x) => `${x.estimator} ${x.budgetPerPlayer}`)).toEqual(['permutation 4', 'permutation 20', 'regression-adjusted 4', 'regression-adjusted 20']);
    for (const row of report.rows) {
      expect(row.runs).toBe(report.compared * 2);
      expect(r.stdout).toMatch(new RegExp(`^\\| ${row.estimator} \\| ${row.budgetPerPlayer}·n \\| ${row.runs} \\|`, 'm'));
    }
  });

  it('replay --out and compare --json that cannot be written fail before reading any input, naming the flag (events were lost with exit 0)', () => {
    const missing = join(tmpdir(), `ac-no-such-dir-${process.pid}`, 'x.jsonl');
    const replay = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--out', missing]);
    expect(replay.status).toBe(2);
    // a flag's path, not the configuration: it was headed "invalid configuration:"
    expect(replay.stderr).toBe(`agent-credit: replay --out: cannot write ${missing} (ENOENT); give a file path in an existing directory you can write to\n`);
    const compare = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--json', missing]);
    expect(compare.status).toBe(2);
    expect(compare.stderr).toBe(`agent-credit: compare --json: cannot write ${missing} (ENOENT); give a file path in an existing directory you can write to\n`);
  });

  it('replay --out or compare --json under a file (notes.txt/x.jsonl) names the file in the way (it said "cannot write … (ENOTDIR)")', () => {
    const notes = join(tempDir('ac-out-file-'), 'notes.txt');
    writeFileSync(notes, 'not a directory\n');
    for (const [flag, holds, example] of [['--out', 'replay --out', 'events.jsonl'], ['--json', 'compare --json', 'compare.json']] as const) {
      const target = join(notes, 'x.out');
      const r = cli([holds.split(' ')[0]!, `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, flag, target]);
      expect(r.status, holds).toBe(2);
      expect(r.stderr).toBe(`agent-credit: ${holds}: ${notes} is a file, not a directory, so ${target} cannot be written in it — give a file path in an existing directory, e.g. ${example}\n`);
    }
  });

  it('replay --out or compare --json naming a directory fails before the run, saying it is a directory (compare ran to the end, then the rename failed with EISDIR and left its temporary file)', () => {
    const dir = tempDir('ac-compare-dir-');
    const r = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--json', dir]);
    expect(r.status).toBe(2);
    // "invalid configuration: compare --json: cannot write <dir> (EISDIR)" named no configuration at fault and left the errno to decode
    expect(r.stderr).toBe(`agent-credit: compare --json: ${dir} is a directory — give a file path for the report, e.g. ${join(dir, 'compare.json')}\n`);
    expect(r.stdout).not.toContain('episodes compared');
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`${dir.split('/').pop()!}.`))).toEqual([]);
    const replay = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--out', dir]);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toBe(`agent-credit: replay --out: ${dir} is a directory — give a file path for the events, e.g. ${join(dir, 'events.jsonl')}\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replay --out or compare --json ending in a slash where no directory is says whether a file stands there or nothing (it was a bare EISDIR)', () => {
    const dir = tempDir('ac-out-slash-');
    const runs = join(dir, 'runs');
    writeFileSync(runs, 'kept\n');
    const onFile = cli(['replay', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--out', `${runs}/`]);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr).toBe(`agent-credit: replay --out: ${runs}/ ends with a slash, a directory, but ${runs} is a file — give it without the slash to write the events there (replacing it), or a file path in a directory, e.g. events.jsonl\n`);
    expect(readFileSync(runs, 'utf8')).toBe('kept\n');
    const none = join(dir, 'reports');
    const missing = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--json', `${none}/`]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`agent-credit: compare --json: ${none}/ ends with a slash, a directory, and there is none — give a file path for the report, e.g. ${join(none, 'compare.json')} (after creating ${none}) or compare.json\n`);
    expect(readdirSync(dir)).toEqual(['runs']);
  });

  it('compare --json keeps an existing report when the run fails (it was truncated before the run) and leaves no temporary file', () => {
    const dir = tempDir('ac-compare-keep-');
    const report = join(dir, 'report.json');
    writeFileSync(report, '{"previous":"report"}\n');
    const config = join(dir, 'bad-module.yaml');
    writeFileSync(config, 'credit:\n  game: module\n  module:\n    path: ./no-such-game.mjs\n');
    const r = cli(['compare', '-c', config, `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--json', report]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('credit.module.path');
    expect(readFileSync(report, 'utf8')).toBe('{"previous":"report"}\n');
    expect(readdirSync(dir).sort()).toEqual(['bad-module.yaml', 'report.json']); // no temporary file left
  });

  it('a CommonJS module game without the function lists its exports as written — on Node 24 the list also showed "module.exports", a key Node adds to the namespace of a CommonJS module', () => {
    const dir = tempDir('ac-module-export-cjs-');
    writeFileSync(join(dir, 'game.cjs'), 'exports.score = (coalition) => coalition.length;\n');
    const config = join(dir, 'agent-credit.yaml');
    writeFileSync(config, `credit:\n  game: module\n  module:\n    path: ${join(dir, 'game.cjs')}\nsinks:\n  live:\n    enabled: false\nsource:\n  http:\n    port: 0\n  grpc:\n    enabled: false\n`);
    const check = cli(['check', '-c', config]);
    expect(check.status).toBe(1);
    expect(check.stdout + check.stderr).toMatch(/has no exported function "value" \(exports found: default, score\);/);
  });

  it('a module game without the function to call names credit.module.exportName — it said to set "the \\"exportName\\" option", which no config key is called', () => {
    const dir = tempDir('ac-module-export-');
    writeFileSync(join(dir, 'game.mjs'), 'export function score(coalition) { return coalition.length > 0 ? 1 : 0; }\n');
    const config = join(dir, 'agent-credit.yaml');
    writeFileSync(config, `credit:\n  game: module\n  module:\n    path: ${join(dir, 'game.mjs')}\nruntime:\n  creditWorkers: 1\nsinks:\n  live:\n    enabled: false\nsource:\n  http:\n    port: 0\n  grpc:\n    port: 0\n`);
    const check = cli(['check', '-c', config]);
    expect(check.status).toBe(1);
    expect(check.stdout + check.stderr).toMatch(/✗ module game: .* has no exported function "value" \(exports found: score\); export function value\(coalition, episode\) or set credit\.module\.exportName/);
    const replay = cli(['replay', '-c', config, `${AGENTS_SDK_FIXTURES}/genai/otlp-http`]);
    expect(replay.status).not.toBe(0);
    expect(replay.stderr).toContain('set credit.module.exportName');
    // and the key it names works
    writeFileSync(config, `${readFileSync(config, 'utf8').replace('game.mjs\n', 'game.mjs\n    exportName: score\n')}`);
    const fixed = cli(['check', '-c', config]);
    expect(fixed.stdout).toContain('loads and exports score()');
    expect(fixed.status).toBe(0);
  });

  it('demo flags are checked before anything starts; compare quotes a bad --budgets as typed', () => {
    const demo = cli(['demo', '--demo-episodes', '-1', '--port', '0', '--grpc-port', '0', '--live-port', '0']);
    expect(demo.status).toBe(2);
    expect(demo.stderr).toContain('--demo-episodes: expected an integer ≥ 1, got "-1"');
    expect(demo.stderr).not.toMatch(/running|demo fleet started/);
    const budgets = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--budgets', 'abc']);
    expect(budgets.status).toBe(2);
    expect(budgets.stderr).toContain('--budgets: give positive integers (evaluations per agent, e.g. 4,10,40), got "abc"');
  });

  it('run with a --demo-* flag but without --demo is refused, naming the flag and the fix — it started the plain job without a word (no fleet, no credit) and ignored the flag', () => {
    // spawnSync's timeout: before the fix the job started and ran until killed
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'run', '--no-live', '--no-stdout', '--port', '0', '--grpc-port', '0', ...args], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    const batches = run(['--demo-batches', '2']);
    expect(batches.status).toBe(2);
    expect(batches.stderr).toContain('--demo-batches: a demo option, and the demo fleet is off — add --demo (or run `agent-credit demo`)');
    expect(batches.stderr).not.toMatch(/running/);
    const several = run(['--demo-episodes', '2', '--demo-seed', '5']);
    expect(several.status).toBe(2);
    expect(several.stderr).toContain('--demo-episodes, --demo-seed: demo options, and the demo fleet is off — add --demo (or run `agent-credit demo`)');
  });

  it('check takes run’s listener flags and checks the ports they set — it refused them (unknown option \'--port\'), so it checked the configuration’s ports, not the run the user types', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const taken = cli(['check', '--port', String(port), '--grpc-port', '0', '--no-live']);
      expect(taken.status).toBe(1);
      expect(taken.stdout).toMatch(new RegExp(`✗ OTLP/HTTP receiver: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
      const live = cli(['check', '--port', '0', '--no-grpc', '--live-port', String(port)]);
      expect(live.status).toBe(1);
      expect(live.stdout).toContain('· OTLP/gRPC receiver: off');
      expect(live.stdout).toMatch(new RegExp(`✗ live page: cannot listen on 127\\.0\\.0\\.1:${port}`));
      const free = cli(['check', '--port', '0', '--grpc-port', '0', '--no-live', '--metrics-port', '0']);
      expect(free.status).toBe(0);
      expect(free.stdout).toContain('✓ status server (/metrics, /healthz, /readyz): any free port on 127.0.0.1');
      // read as run reads them: an empty value names the flag
      const empty = cli(['check', '--port=']);
      expect(empty.status).toBe(2);
      expect(empty.stderr).toContain('source.http.port: expected a number 0–65535, got "" (from --port)');
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('check takes every flag of run’s, so a run command line with `check` for `run` is checked — it stopped at "unknown option \'--log-level\'" (--log-format, --no-stdout, --demo*)', () => {
    const ports = ['--port', '0', '--grpc-port', '0'];
    const full = cli(['check', ...ports, '--live-port', '0', '--log-level', 'debug', '--log-format', 'pretty', '--no-stdout']);
    expect(full.stderr).toBe('');
    expect(full.status).toBe(0);
    expect(full.stdout).toContain('✓ OTLP/HTTP receiver: any free port on 127.0.0.1');
    // --no-stdout is read as run reads it: with the live page off too, run's warning
    const dropped = cli(['check', ...ports, '--no-live', '--no-stdout']);
    expect(dropped.status).toBe(0);
    expect(dropped.stdout).toMatch(/^! sinks\.stdout and sinks\.live are both off/m);
    // --log-level leaves out the report's lines below it; silent: the exit code only
    const warn = cli(['check', ...ports, '--no-live', '--log-level', 'warn']);
    expect(warn.status).toBe(0);
    expect(warn.stdout).toMatch(/^! sinks\.live is off/m);
    expect(warn.stdout).not.toMatch(/^✓/m);
    expect(warn.stdout).toMatch(/^ready: /m);
    const silent = cli(['check', '--host', '192.0.2.1', ...ports, '--no-live', '--log-level', 'silent']);
    expect(silent.status).toBe(1);
    expect(silent.stdout).toBe('');
    // the demo flags as run reads them: a --demo-* without --demo, and --demo with a Kafka source, are refused
    const demoSeed = cli(['check', ...ports, '--no-live', '--demo-seed', '3']);
    expect(demoSeed.status).toBe(2);
    expect(demoSeed.stderr).toContain('--demo-seed: a demo option, and the demo fleet is off — add --demo (or run `agent-credit demo`)');
    expect(cli(['check', ...ports, '--no-live', '--demo', '--demo-seed', '3', '--demo-batches', '1']).status).toBe(0);
    const kafkaDemo = cli(['check', '--demo'], { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: '127.0.0.1:1' });
    expect(kafkaDemo.status).toBe(2);
    // it began "--demo: …" under "invalid configuration", naming neither the setting nor where it came from
    expect(kafkaDemo.stderr).toContain('invalid configuration:\n  source.kind: kafka (from AGENT_CREDIT_SOURCE_KIND) — the demo (agent-credit demo, run --demo) sends its fleet as OTLP/HTTP to the job\'s own receiver, which a Kafka job does not start: run the demo with source.kind otlp-http');
    const dir = tempDir('ac-demo-kafka-');
    const config = join(dir, 'kafka.yaml');
    writeFileSync(config, 'source:\n  kind: kafka\n  kafka:\n    brokers: ["127.0.0.1:1"]\n');
    const fromFile = cli(['demo', '-c', config]);
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toContain(`source.kind: kafka (from ${config}) — the demo (agent-credit demo, run --demo) sends its fleet`);
    // and its help says what they do there
    expect(cli(['check', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/Takes every flag of run’s .*--log-level leaves out the report’s lines below it/);
  });

  it('check’s last line names the run command of the flags it was given — it said "`agent-credit run` … should start" after check --port 4400, a run on the configuration’s port', () => {
    const dir = tempDir('ac check flags ');
    const config = join(dir, 'agent credit.yaml');
    writeFileSync(config, 'sinks:\n  live:\n    enabled: false\n');
    const ready = cli(['check', '-c', config, '--port', '0', '--grpc-port', '0', '--no-stdout', '--log-level', 'warn', '--sample']);
    expect(ready.status).toBe(0);
    // as typed again for a shell (the path quoted), check's own --sample left out
    expect(ready.stdout.trimEnd().split('\n').at(-1)).toBe(`ready: \`agent-credit run --config '${config}' --port 0 --grpc-port 0 --no-stdout --log-level warn\` with this configuration should start`);
    // not ready: the check to run again, with its flags
    const notReady = cli(['check', '--host', '192.0.2.1', '--port', '0', '--no-grpc', '--no-live', '--sample']);
    expect(notReady.status).toBe(1);
    expect(notReady.stdout.trimEnd().split('\n').at(-1)).toBe('not ready: fix the ✗ lines (each names its setting) and run `agent-credit check --host 192.0.2.1 --port 0 --no-grpc --no-live --sample` again');
    // the AGENT_CREDIT_* variables that set the configuration are named too: `run` needs the same
    // environment (it named the flags only, and a run without them met another configuration)
    const byEnv = cli(['check', '--no-live'], { AGENT_CREDIT_SOURCE_HTTP_PORT: '0', AGENT_CREDIT_SOURCE_GRPC_PORT: '0', AGENT_CREDIT_SOURCE_GRPC_HOST: '127.0.0.1' });
    expect(byEnv.status).toBe(0);
    expect(byEnv.stdout.trimEnd().split('\n').at(-1)).toBe('ready: `AGENT_CREDIT_SOURCE_GRPC_HOST=127.0.0.1 AGENT_CREDIT_SOURCE_GRPC_PORT=0 AGENT_CREDIT_SOURCE_HTTP_PORT=0 agent-credit run --no-live` with this configuration should start');
    const bare = cli(['check'], { AGENT_CREDIT_SOURCE_HTTP_PORT: '0', AGENT_CREDIT_SOURCE_GRPC_PORT: '0', AGENT_CREDIT_SINKS_LIVE_ENABLED: 'false' });
    expect(bare.stdout.trimEnd().split('\n').at(-1)).toBe('ready: `AGENT_CREDIT_SINKS_LIVE_ENABLED=false AGENT_CREDIT_SOURCE_GRPC_PORT=0 AGENT_CREDIT_SOURCE_HTTP_PORT=0 agent-credit run` with this configuration should start');
  });

  it('the OTLP receivers’ flags with a Kafka source are said to be ignored — run --port 4400 started the Kafka job, which has no receiver, without a word', () => {
    const kafka = { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: '127.0.0.1:1' };
    const said = '--port, --no-grpc: OTLP receiver flags, and source.kind is kafka — the Kafka job reads the collector\'s topics and starts no receiver, so they are ignored; leave them out, or set source.kind: otlp-http to receive OTLP';
    const check = cli(['check', '--port', '4400', '--no-grpc', '--no-live'], kafka);
    expect(check.status).toBe(1); // no broker there
    expect(check.stdout).toContain(`! ${said}`);
    const run = cli(['run', '--port', '4400', '--no-grpc', '--no-live', '--no-stdout', '--log-level', 'warn', '--log-format', 'pretty'], kafka);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`WARN  ${said}`);
    // not for an otlp-http source, whose receiver they set
    expect(cli(['check', '--port', '0', '--grpc-port', '0', '--no-live']).stdout).not.toContain('OTLP receiver flag');
  });

  it('--log-format pretty (or telemetry.logFormat: pretty) writes readable log lines — the logs were JSON lines only', () => {
    const dir = tempDir('ac-log-format-');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"nope": 1}\n');
    const pretty = /^\d\d:\d\d:\d\d\.\d{3} ERROR replay: request skipped, it cannot be decoded .* file=\S+bad\.json reason="/m;
    const flag = cli(['replay', bad, '--no-summary', '--log-format', 'pretty']);
    expect(flag.status).toBe(1);
    expect(flag.stderr).toMatch(pretty);
    expect(flag.stderr).not.toMatch(/^\{/m);
    expect(cli(['replay', bad, '--no-summary'], { AGENT_CREDIT_TELEMETRY_LOG_FORMAT: 'pretty' }).stderr).toMatch(pretty);
    // the default stays one JSON object per line
    expect(cli(['replay', bad, '--no-summary']).stderr).toMatch(/^\{"level":50,.*"msg":"replay: request skipped/m);
    expect(cli(['run', '--log-format', 'loud']).stderr).toContain("error: option '--log-format <format>' argument 'loud' is invalid. Allowed choices are json, pretty.");
  });

  it('check --sample on an OTLP/HTTP configuration says there is nothing to sample — it printed the same report as without --sample, as if the input had been read and decoded', () => {
    const r = cli(['check', '--sample'], { AGENT_CREDIT_SOURCE_HTTP_PORT: '0', AGENT_CREDIT_SOURCE_GRPC_PORT: '0', AGENT_CREDIT_SINKS_LIVE_ENABLED: 'false' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('· --sample reads records of the Kafka input topics; source.kind is otlp-http: nothing to sample (set source.kind: kafka to sample the topics)');
    expect(cli(['check'], { AGENT_CREDIT_SOURCE_HTTP_PORT: '0', AGENT_CREDIT_SOURCE_GRPC_PORT: '0', AGENT_CREDIT_SINKS_LIVE_ENABLED: 'false' }).stdout).not.toContain('--sample');
  });

  it('compare refuses an unknown estimator with exit code 2, naming the flag', () => {
    const r = cli(['compare', `${AGENTS_SDK_FIXTURES}/kafka/otlp_proto`, '--estimators', 'shapiq']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--estimators: "shapiq" is not one of permutation, kernel, unbiased-kernel, regression-adjusted');
  });

  it('schema writes the JSON Schemas that are committed', () => {
    const dir = tempDir('ac-schema-');
    const r = cli(['schema', '--dir', dir]);
    expect(r.status).toBe(0);
    for (const f of ['episode-credit', 'message-reward', 'preference-pair', 'agent-credit-config', 'check-report']) {
      expect(readFileSync(join(dir, `${f}.schema.json`), 'utf8')).toBe(readFileSync(join(root, 'schemas', `${f}.schema.json`), 'utf8'));
    }
  });

  // it stopped with a bare "ENOTDIR: not a directory, mkdir …" / "EACCES: permission denied, mkdir 'schemas'" (exit 1)
  it('schema into a --dir it cannot write names the flag and the fix (exit 2)', () => {
    const file = join(tempDir('ac-schema-'), 'a-file');
    writeFileSync(file, 'x');
    // a path under that file: "cannot write the schemas to <file>/schemas (ENOTDIR)" did not say which part was the file
    const r = cli(['schema', '--dir', join(file, 'schemas')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`agent-credit: --dir: ${file} is a file, not a directory, so ${join(file, 'schemas')} cannot be created in it — give a directory for the schemas (created when missing), e.g. --dir /tmp/agent-credit-schemas\n`);
    // a file as the directory itself: "cannot write … (EEXIST)" did not say what was wrong
    const onFile = cli(['schema', '--dir', file]);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr).toBe(`agent-credit: --dir: ${file} is a file, not a directory — give a directory for the schemas (created when missing), e.g. --dir /tmp/agent-credit-schemas\n`);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('npm start -- --demo', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the receiver and live page, and credit from the simulated fleet appears on stdout as valid events', async () => {
    // Free ports via flags (0 = any free port); the ports in use are read from the startup log.
    child = spawn(process.execPath, [BIN, 'run', '--demo', '--port', '0', '--grpc-port', '0', '--live-port', '0', '--demo-interval-ms', '500', '--demo-episodes', '3'], {
      cwd: root,
      env: cleanEnv(),
    });
    const proc = child;
    let liveUrl = '';
    const stderrLines: string[] = [];
    createInterface({ input: proc.stderr }).on('line', (line) => {
      stderrLines.push(line);
      const m = /"live":"(http:\/\/[^"]+)"/.exec(line);
      if (m && !liveUrl) liveUrl = m[1]!;
    });
    const events: CreditEvent[] = [];
    const enough = new Promise<void>((resolve, reject) => {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        // stdout carries only events: every line must be a valid CreditEvent.
        const parsed = CreditEventSchema.safeParse(JSON.parse(line));
        if (!parsed.success) reject(new Error(`invalid event line: ${line.slice(0, 200)}: ${parsed.error.message}`));
        else events.push(parsed.data);
        const kinds = new Set(events.map((e) => e.event_type));
        if (kinds.has('episode_credit') && kinds.has('message_reward') && events.filter((e) => e.event_type === 'episode_credit').length >= 3) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`exited early (${code}): ${stderrLines.slice(-5).join('\n')}`)));
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no credit within 40 s; stderr:\n${stderrLines.slice(-10).join('\n')}`)), 40_000).unref());
    await Promise.race([enough, timeout]);

    // Rewards conserve agent credit: per agent, message rewards of an episode sum to its credit
    // (the agents' credits summing to R − b alone said nothing about the rewards printed).
    const credit = events.find((e) => e.event_type === 'episode_credit')!;
    if (credit.event_type !== 'episode_credit') throw new Error('not an episode_credit');
    expect(credit.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(credit.system_value - credit.baseline, 6);
    const rewards = events.filter((e) => e.event_type === 'message_reward' && e.episode_id === credit.episode_id && e.episode_revision === credit.episode_revision);
    expect(rewards).toHaveLength(credit.messages);
    for (const a of credit.agents) {
      const mine = rewards.filter((r) => r.event_type === 'message_reward' && r.agent_id === a.agent_id);
      expect(mine.reduce((s, r) => s + (r.event_type === 'message_reward' ? r.reward : 0), 0), a.agent_id).toBeCloseTo(a.credit, 6);
    }

    expect(liveUrl).not.toBe('');
    const metrics = await (await fetch(`${liveUrl}/metrics`)).text();
    expect(Number(/agent_credit_spans_received_total\{[^}]*\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/agent_credit_events_published_total\{[^}]*sink="stdout"/);
    // the fleet's standings: per-agent gauges and /api/agents, from the events it published
    const standings = (await (await fetch(`${liveUrl}/api/agents`)).json()) as AgentBoardSnapshot;
    expect(standings.episodes).toBeGreaterThanOrEqual(3);
    const someAgent = standings.agents[0]!;
    expect(metrics).toMatch(new RegExp(`agent_credit_agent_episodes\\{agent_id="${someAgent.agent_id}",agent_name="${someAgent.agent_name}"[^}]*\\} \\d+`));
    expect(metrics).toMatch(/agent_credit_agent_credit_sum\{/);
    expect((await fetch(`${liveUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${liveUrl}/`)).text()).toContain('agent-credit');

    // Graceful stop on SIGTERM: exit code 0.
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});

describe('run --demo with a secured receiver', () => {
  it('sends the receiver\'s bearer token (source.http.auth): credit appears', async () => {
    const proc = spawn(process.execPath, [BIN, 'run', '--demo', '--port', '0', '--grpc-port', '0', '--live-port', '0', '--demo-interval-ms', '300', '--demo-episodes', '2'], {
      cwd: root,
      env: cleanEnv({ AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN: 'demo-Token+1/x=' }),
    });
    try {
      const stderr: string[] = [];
      createInterface({ input: proc.stderr }).on('line', (l) => stderr.push(l));
      const credited = await new Promise<boolean>((resolve) => {
        createInterface({ input: proc.stdout }).on('line', (line) => {
          if ((JSON.parse(line) as CreditEvent).event_type === 'episode_credit') resolve(true);
        });
        proc.on('exit', () => resolve(false));
        setTimeout(() => resolve(false), 40_000).unref();
      });
      expect(credited, stderr.slice(-5).join('\n')).toBe(true);
      expect(stderr.join('\n')).not.toMatch(/demo fleet batch failed/);
    } finally {
      proc.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses source.http.tls, naming the key (the fleet speaks plain OTLP/HTTP)', () => {
    const r = cli(['run', '--demo', '--port', '0', '--grpc-port', '0', '--live-port', '0'], { AGENT_CREDIT_SOURCE_HTTP_TLS_CERT_FILE: '/nonexistent/tls.crt', AGENT_CREDIT_SOURCE_HTTP_TLS_KEY_FILE: '/nonexistent/tls.key' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('source.http.tls: --demo sends plain OTLP/HTTP to the receiver on this machine');
  });
});

