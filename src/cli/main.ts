/**
 * `agent-credit` command line: run | replay | compare | generate | demo | check | view | schema.
 *
 * stdout carries only credit events (JSON lines); logs, progress and summaries go to stderr.
 * Flags override the config file and `AGENT_CREDIT_*` variables; every default shown by
 * `--help` comes from src/config/defaults.ts (flags themselves have no commander defaults, so an
 * unset flag never hides a config file value).
 */
import { closeSync, createWriteStream, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
// config/errors and config/defaults, not config/index: its loader (yaml, the config schema and
// every section's schema) is imported by the commands that load a configuration (load below)
import { ArgumentError, ConfigError, FlagError } from '../config/errors.js';
import { DEFAULTS } from '../config/defaults.js';
import type { AppConfig, LoadedConfig } from '../config/index.js';
import { CreditOptionsSchema } from '../credit/options.js';
import { SAMPLERS } from '../credit/shapley/samplers.js';
import { TopicSettingError } from '../kafka/topic-setting-error.js';
import { KafkaRefusalError } from '../kafka/refusal-error.js';
import type { EventSink } from '../sinks/types.js';
import type { listOtlpFiles } from '../sources/file/otlp-files.js';
import type { Logger } from '../telemetry/logger.js';
import type { startDemoFleet } from './demo.js';
import { SCENARIO_CONVENTIONS, SCENARIO_KINDS } from '../scenarios/types.js';
import { AGENT_CREDIT_VERSION } from '../version.js';
import { shellWord } from './shell-word.js';
import { fileInTheWay } from './output-path.js';
// Only what the program definition (the --help texts' defaults and choices) and every command's
// config loading need is imported up front; each command imports the rest (the OTel SDK, the
// demo fleet, pino, the OTLP decoders, the sinks, the JSON Schemas…) when it runs, so `--help`, a
// usage error or `schema` do not pay for them (~150 CLI processes in the tests, each of them did).

interface CommonFlags {
  config?: string;
  logLevel?: string;
  logFormat?: string;
}
/** The receivers', live page's and status server's flags: `run`'s, and `check`'s, which checks what they set. */
interface ListenerFlags extends CommonFlags {
  host?: string;
  port?: string;
  grpcPort?: string;
  grpc?: boolean;
  liveHost?: string;
  livePort?: string;
  live?: boolean;
  metricsPort?: string;
}
interface RunFlags extends ListenerFlags {
  stdout?: boolean;
  demo?: boolean;
  demoEpisodes?: string;
  demoIntervalMs?: string;
  demoBatches?: string;
  demoSeed?: string;
}

/** The integer flags' parser (run's and check's --demo-*, generate's); a bad value is a FlagError naming the flag and the range. */
const int =
  (flag: string, min = Number.MIN_SAFE_INTEGER) =>
  (v: string) => {
    // Number('') and Number(' ') are 0: an empty value (`--demo-seed=$UNSET`) is refused, not read as 0
    const n = v.trim() === '' ? Number.NaN : Number(v);
    if (!Number.isInteger(n) || n < min) throw new FlagError([`${flag}: expected an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, got ${JSON.stringify(v)}`]);
    return n;
  };

/** The demo fleet's flags, checked before anything starts. */
function demoOptions(f: RunFlags): { episodesPerBatch: number; intervalMs: number; batches: number; seed: number } {
  return {
    episodesPerBatch: f.demoEpisodes !== undefined ? int('--demo-episodes', 1)(f.demoEpisodes) : 4,
    intervalMs: f.demoIntervalMs !== undefined ? int('--demo-interval-ms', 1)(f.demoIntervalMs) : 3000,
    batches: f.demoBatches !== undefined ? int('--demo-batches', 0)(f.demoBatches) : 0,
    seed: f.demoSeed !== undefined ? int('--demo-seed')(f.demoSeed) : 1,
  };
}

/** The listeners' flags that set a config key → that key (validated as the config value; errors name the flag). */
const LISTENER_FLAGS = {
  host: ['source.http.host', '--host'],
  port: ['source.http.port', '--port'],
  grpcPort: ['source.grpc.port', '--grpc-port'],
  liveHost: ['sinks.live.host', '--live-host'],
  livePort: ['sinks.live.port', '--live-port'],
  metricsPort: ['telemetry.metricsPort', '--metrics-port'],
} as const;

/** `run`'s flags that set a config key → that key. */
const RUN_FLAGS = {
  ...LISTENER_FLAGS,
  logLevel: ['telemetry.logLevel', '--log-level'],
  logFormat: ['telemetry.logFormat', '--log-format'],
} as const;

/** `--no-grpc` and `--no-live` → their config keys (undefined when not given: the config decides). */
const listenerSwitches = (f: ListenerFlags) => ({ 'source.grpc.enabled': f.grpc === false ? false : undefined, 'sinks.live.enabled': f.live === false ? false : undefined });

/**
 * CLI flags → dotted config overrides (highest precedence). The text of a flag is converted and
 * validated as its `AGENT_CREDIT_*` variable is: an empty `--port=` (e.g. `--port=$PORT` with PORT
 * unset) read as 0 — any free port — and the job started on a random port without a word.
 */
function runOverrides(f: RunFlags): FlagOverrides {
  const { overrides, flagNames } = flagOverrides(RUN_FLAGS, f);
  return { overrides: { ...overrides, ...listenerSwitches(f), 'sinks.stdout.enabled': f.stdout === false ? false : undefined }, flagNames };
}

type FlagOverrides = { overrides: Record<string, unknown>; flagNames: Record<string, string> };

/** Flags of a `{ prop: [config key, flag] }` table → overrides of those keys, and the flag that set each (errors name it). */
function flagOverrides<T extends Record<string, readonly [string, string]>>(table: T, f: { [K in keyof T]?: string | undefined }): FlagOverrides {
  const overrides: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [prop, [key, flag]] of Object.entries(table)) {
    overrides[key] = f[prop as keyof T];
    flagNames[key] = flag;
  }
  return { overrides, flagNames };
}

async function load(f: CommonFlags, overrides: Record<string, unknown>, flagNames?: Record<string, string>): Promise<AppConfig> {
  return (await loadWithOrigins(f, overrides, flagNames)).config;
}

async function loadWithOrigins(f: CommonFlags, overrides: Record<string, unknown>, flagNames?: Record<string, string>): Promise<LoadedConfig> {
  const { loadConfig } = await import('../config/load.js');
  return loadConfig({ ...(f.config !== undefined ? { file: f.config } : {}), overrides, ...(flagNames ? { flagNames } : {}) });
}

/**
 * The log level of `replay` and `compare`: `warn` where the configuration says `info` (the
 * default, and a file written for `run`), so a batch run prints only what went wrong — but a level
 * asked for by `--log-level` or AGENT_CREDIT_TELEMETRY_LOG_LEVEL is taken as given. `--log-level
 * info` was turned into warn as well: a correction's info line, say, could not be shown.
 */
function batchLogLevel(loaded: LoadedConfig): AppConfig['telemetry']['logLevel'] {
  const level = loaded.config.telemetry.logLevel;
  return level === 'info' && !loaded.origins.has('telemetry.logLevel') ? 'warn' : level;
}

/** `view`'s flags that set a config key → that key. */
const VIEW_FLAGS = {
  liveHost: ['sinks.live.host', '--live-host'],
  livePort: ['sinks.live.port', '--live-port'],
  metricsPort: ['telemetry.metricsPort', '--metrics-port'],
  logLevel: ['telemetry.logLevel', '--log-level'],
  logFormat: ['telemetry.logFormat', '--log-format'],
} as const;

/** `replay`'s credit flags → their config keys (validated as the config value; errors name the flag). */
const CREDIT_FLAGS = {
  estimator: ['credit.estimator', '--estimator'],
  budget: ['credit.budget', '--budget'],
  seed: ['credit.seed', '--seed'],
  targetHalfWidth: ['credit.targetHalfWidth', '--target-half-width'],
} as const;

function creditFlagOverrides(f: ReplayFlags): FlagOverrides {
  return flagOverrides(CREDIT_FLAGS, f);
}

/**
 * Runs until SIGINT/SIGTERM/SIGHUP, then stops gracefully (second signal: exit at once). SIGHUP is
 * what closing the terminal that runs `npm start` sends: Node's default for it is to die at once,
 * so the open episodes were lost (never closed with reason shutdown, credited or written).
 */
function untilSignal(logger: Logger, stop: () => Promise<void>, message: string): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal: sig }, message);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/**
 * A stop asked for while the Kafka job starts: joining the group can take a whole session timeout
 * after an unclean stop, and a SIGTERM then (a rolling restart, Ctrl-C on a job that looks hung)
 * met Node's default — exit 143 at once, no line saying why. Nothing has been read before the
 * join completes (kafkajs fetches only after it), so nothing is held, credited or committed: exit 0
 * at once, saying so. `remove()` once started hands signals to `untilSignal`'s graceful stop.
 */
function exitOnSignalWhileStarting(logger: Logger): { remove(): void } {
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ signal: sig }, 'stopping while starting (checking topics or joining the consumer group): nothing has been read yet, so nothing is lost — exiting');
    process.exit(0);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  return { remove: () => signals.forEach((s) => process.off(s, onSignal)) };
}

/**
 * What the demo fleet sends to the job's own receiver: its bearer token when `source.http.auth`
 * asks for one (the first token of `tokenFile`). (TLS is refused before the job starts: the fleet
 * speaks plain OTLP/HTTP to 127.0.0.1 and could not verify the receiver's certificate for that name.)
 */
function demoHeaders(config: AppConfig): Record<string, string> | undefined {
  const auth = config.source.http.auth;
  if (!auth) return undefined;
  // the job has read and checked the file at its start (a bad one stopped it, naming the key)
  const token = auth.token ?? readFileSync(auth.tokenFile!, 'utf8').split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  return token === undefined ? undefined : { Authorization: `Bearer ${token}` };
}

/** `--demo-*` flags given to `run` without `--demo`: refused, as they would be ignored (the plain job started, with no fleet and no word). */
function refuseDemoFlagsWithoutDemo(f: RunFlags): void {
  const given = ([['demoEpisodes', '--demo-episodes'], ['demoIntervalMs', '--demo-interval-ms'], ['demoBatches', '--demo-batches'], ['demoSeed', '--demo-seed']] as const).filter(([k]) => f[k] !== undefined).map(([, flag]) => flag);
  if (given.length === 0) return;
  throw new FlagError([`${given.join(', ')}: ${given.length === 1 ? 'a demo option' : 'demo options'}, and the demo fleet is off — add --demo (or run \`agent-credit demo\`)`]);
}

/**
 * The OTLP receivers' flags given for a Kafka source, which starts no receiver: `run --port 4400`
 * with source.kind kafka started without a word about the flag (and check, given it, checked no
 * port), so a user could think the job listened there. Said by run (a warning) and check (a ! line).
 */
function ignoredReceiverFlags(f: RunFlags, config: AppConfig): string | undefined {
  if (config.source.kind !== 'kafka') return undefined;
  const given: string[] = ([['host', '--host'], ['port', '--port'], ['grpcPort', '--grpc-port']] as const).filter(([k]) => f[k] !== undefined).map(([, flag]) => flag);
  if (f.grpc === false) given.push('--no-grpc');
  if (given.length === 0) return undefined;
  const one = given.length === 1;
  return `${given.join(', ')}: ${one ? 'an OTLP receiver flag' : 'OTLP receiver flags'}, and source.kind is kafka — the Kafka job reads the collector's topics and starts no receiver, so ${one ? 'it is' : 'they are'} ignored; leave ${one ? 'it' : 'them'} out, or set source.kind: otlp-http to receive OTLP`;
}

/**
 * What `run --demo` refuses in a configuration (`check --demo` too): the fleet sends plain OTLP/HTTP
 * to the job's own receiver. The line names the setting and where it came from (`origins`: an
 * `AGENT_CREDIT_…` variable or a flag; else the file): it began "--demo:", under "invalid
 * configuration", naming neither the setting at fault nor its source.
 */
function refuseDemoWith(config: AppConfig, origins: ReadonlyMap<string, string>, file: string | undefined): void {
  if (config.source.kind === 'kafka') {
    const from = origins.get('source.kind') ?? origins.get('source') ?? file;
    throw new ConfigError([
      `source.kind: kafka${from !== undefined ? ` (from ${from})` : ''} — the demo (agent-credit demo, run --demo) sends its fleet as OTLP/HTTP to the job's own receiver, which a Kafka job does not start: run the demo with source.kind otlp-http (the default: without this setting), or feed the Kafka job through your collector`,
    ]);
  }
  if (config.source.kind === 'otlp-http' && config.source.http.tls) throw new ConfigError(['source.http.tls: --demo sends plain OTLP/HTTP to the receiver on this machine — run the demo without source.http.tls (real exporters can use the TLS receiver)']);
}

async function runCommand(f: RunFlags, forceDemo: boolean): Promise<void> {
  if (!forceDemo && !f.demo) refuseDemoFlagsWithoutDemo(f);
  // the demo's flags before the configuration (as check reads them): a bad one came after its advice's warnings
  const demo = forceDemo || f.demo ? demoOptions(f) : undefined;
  const flags = runOverrides(f);
  const { config, origins } = await loadWithOrigins(f, flags.overrides, flags.flagNames);
  const { createLogger } = await import('../telemetry/logger.js');
  const logger = createLogger(config.telemetry.logLevel, undefined, config.telemetry.logFormat);
  // The events' reader went away (`npm start --silent | jq` and jq ended, a log shipper restarted):
  // ending quietly with 0, as replay does, stopped a long-running job without a word and with the
  // code of a clean stop, so a supervisor restarting on failure left it down. Say so and exit 1
  // (nothing is written to stdout any more; Kafka mode replays from the committed offsets).
  onStdoutClosed = () => {
    logger.error('stdout was closed (EPIPE): the reader of the credit events went away — exiting with code 1; pipe the events into a reader that keeps running, write them to a file, or run with --no-stdout');
    process.exit(1);
  };
  const { configAdvice } = await import('../config/advice.js');
  for (const a of configAdvice(config)) logger.warn({ key: a.key }, a.message);
  const ignored = ignoredReceiverFlags(f, config);
  if (ignored !== undefined) logger.warn(ignored);
  // Own spans via the OTel Node SDK, only when OTEL_* variables ask for it (src/telemetry/self-tracing.ts).
  const [{ startSelfTracing }, { stoppingMessage }] = await Promise.all([import('../telemetry/self-tracing.js'), import('./stop-message.js')]);
  const selfTracing = startSelfTracing(config.source.kind === 'otlp-http' ? { receiver: config.source.http, grpcReceiver: config.source.grpc.enabled ? config.source.grpc : undefined } : {});
  if (selfTracing) logger.info('self-tracing: exporting agent-credit spans as the OTEL_* environment configures');
  const stopTracing = async () => selfTracing?.shutdown().catch((err: unknown) => logger.warn({ err: String(err) }, 'self-tracing shutdown failed'));
  if (config.source.kind === 'kafka') {
    if (forceDemo || f.demo) refuseDemoWith(config, origins, f.config);
    const { startKafkaJob } = await import('./kafka-job.js');
    const whileStarting = exitOnSignalWhileStarting(logger);
    const job = await startKafkaJob(config, logger).finally(() => whileStarting.remove());
    let stopping = false;
    untilSignal(
      logger,
      async () => {
        stopping = true;
        await job.stop();
        await stopTracing();
      },
      stoppingMessage('kafka'),
    );
    // The consumer stopped for good on a refused setting or ACL (after the start: a transaction
    // timeout refused at the first assignment, an ACL removed while running): a restart fails the
    // same way, so exit 2 as a refusal at start does, rather than stay up reading nothing.
    void job.failed.then(async (err) => {
      if (stopping) return;
      stopping = true;
      await job.stop().catch((stopErr: unknown) => logger.warn({ err: String(stopErr) }, 'stop failed'));
      await stopTracing();
      process.stderr.write(`agent-credit: ${err.message}\n`);
      process.exit(2);
    });
    return;
  }
  if (config.source.kind === 'file') {
    throw new ConfigError([`source.kind: "file" is for \`agent-credit replay <files|dir...>\`; \`run\` serves otlp-http or kafka`]);
  }
  if (demo) refuseDemoWith(config, origins, f.config);
  const { startLocalJob } = await import('../runtime/local-job.js');
  const job = await startLocalJob(config, { logger });
  let fleet: ReturnType<typeof startDemoFleet> | undefined;
  if (demo) {
    const { startDemoFleet } = await import('./demo.js');
    fleet = startDemoFleet({ endpoint: job.receiverUrl, ...demo, headers: demoHeaders(config), logger });
    logger.info({ live: job.liveUrl }, 'demo fleet started: credit appears on stdout and the live page within seconds');
  }
  untilSignal(
    logger,
    async () => {
      fleet?.stop();
      await job.stop();
      await stopTracing();
    },
    stoppingMessage('otlp-http'),
  );
}

interface ReplayFlags extends CommonFlags {
  out?: string;
  summary?: boolean;
  episodes?: boolean;
  estimator?: string;
  budget?: string;
  seed?: string;
  targetHalfWidth?: string;
  maxHeldMb?: string;
}

/** MiB of events `replay --episodes` holds by default (TrainingLedger's maxHeldBytes: ~11,000 generated episodes). */
const DEFAULT_MAX_HELD_MB = 256;
const MAX_HELD_MB = 2 ** 20;

async function replayCommand(inputs: string[], f: ReplayFlags): Promise<void> {
  // before the input is read: a bad value must not cost a replay
  if (f.maxHeldMb !== undefined && !f.episodes) throw new FlagError(['--max-held-mb: bounds the training records held until the end, and there are none without --episodes — add --episodes, or leave --max-held-mb out']);
  const maxHeldMb = f.maxHeldMb !== undefined ? int('--max-held-mb', 1)(f.maxHeldMb) : DEFAULT_MAX_HELD_MB;
  // 1e303 is an integer too: it overflowed to Infinity bytes, refused by the ledger without naming the flag
  if (maxHeldMb > MAX_HELD_MB) throw new FlagError([`--max-held-mb: at most ${MAX_HELD_MB} (1 TiB), got ${JSON.stringify(f.maxHeldMb)}`]);
  const credit = creditFlagOverrides(f);
  const loaded = await loadWithOrigins(f, { 'telemetry.logLevel': f.logLevel, 'telemetry.logFormat': f.logFormat, ...credit.overrides }, credit.flagNames);
  const config = loaded.config;
  const { createLogger } = await import('../telemetry/logger.js');
  const logger = createLogger(batchLogLevel(loaded), undefined, loaded.config.telemetry.logFormat);
  const toFile = f.out !== undefined && f.out !== '-'; // `-o -`: stdout, as usual for CLI tools
  const leftOut: string[] = [];
  const files = withoutOutput(await inputFiles('replay', inputs, config, leftOut), inputs.length > 0 ? inputs : config.source.file.paths, toFile ? f.out! : undefined);
  if (files.length === 0) throw await noOtlpFiles('replay', leftOut, inputs.length === 0);
  const { replayFiles } = await import('../runtime/local-replay.js');
  const [{ StdoutSink }, { TrainingRecordSink }, { SummaryCollector, renderSummary }, { ProgressBar }] = await Promise.all([
    import('../sinks/stdout/stdout-sink.js'),
    import('../sinks/stdout/training-record-sink.js'),
    import('./summary.js'),
    import('./progress.js'),
  ]);
  // Opened before any input is read: an unwritable --out must not cost a whole replay's events.
  const out = toFile ? createWriteStream(f.out!, { fd: openOutput(f.out!, { flag: 'replay --out', holds: 'the events', example: 'events.jsonl' }) }) : process.stdout;
  const summary = new SummaryCollector();
  // --episodes: one training record per episode (TrainingLedger) instead of the events, held
  // within --max-held-mb alone: the ledger's count bound (100,000 episodes) wrote records early
  // past it whatever --max-held-mb allowed, while the note said to raise --max-held-mb
  const sink = f.episodes
    ? new TrainingRecordSink({ stream: out, endOnClose: toFile, onEvents: (e) => summary.add(e), ledger: { maxHeldBytes: maxHeldMb * 2 ** 20, maxEpisodes: Number.MAX_SAFE_INTEGER } })
    : new StdoutSink({ stream: out, endOnClose: toFile, eventTypes: config.sinks.stdout.eventTypes });
  // The summary counts every event the replay published, whatever sinks.stdout.eventTypes writes:
  // fed by the written ones, `eventTypes: [message_reward]` made it say "episodes: 0" and list no agent.
  const summarySink: EventSink = { name: 'summary', start: async () => undefined, publish: (events) => summary.add(events), flush: async () => undefined, close: async () => undefined };
  const progress = new ProgressBar();
  const stats = await replayFiles(config, files, {
    sinks: f.episodes ? [sink] : [sink, summarySink],
    logger,
    onRequest: (done, total, s) => progress.update(done, total, `requests · ${s.spansIn} spans · ${s.episodesClosed} episodes`),
  });
  progress.done();
  await sink.close();
  if (f.summary !== false) {
    process.stderr.write(`${renderSummary(summary.summary(), { ...stats, undecodable: stats.undecodable.length, evaluationRecordsRefused: stats.invalidEvaluations.length })}\n`);
  }
  // records written before the end (`early`) were said by their field only: a researcher's dataset
  // of a large corpus held partial revisions and repeated episodes without a word on the terminal
  const early = sink instanceof TrainingRecordSink ? sink.stats().released_early : 0;
  if (early > 0) {
    process.stderr.write(
      `note: ${early} training record(s) were written before the end of the replay (early: true), to keep the events held within --max-held-mb ${maxHeldMb}; ` +
        `a later revision of such an episode follows as another record (supersedes_revision) — raise --max-held-mb (and Node's heap with it: NODE_OPTIONS=--max-old-space-size=<MiB>) for one final record per episode\n`,
    );
  }
  failOnUndecodable('replay', stats.undecodable.length);
  failOnInvalidEvaluations('replay', stats.invalidEvaluations.length);
  // an episode whose credit failed has no events in the output: as undecodable input, the exit
  // code says so — it was 0, and a script building a dataset did not notice the episodes missing
  if (stats.creditFailures > 0) {
    process.stderr.write(`agent-credit replay: credit failed for ${stats.creditFailures} episode(s), which have no events in the output (see the error lines above: runtime.creditTimeoutMs, the value function); exit code 1\n`);
    process.exitCode = 1;
  }
}

/**
 * The OTLP files of the arguments, else of `source.file.paths`. A path that does not exist is a
 * ConfigError (exit 2, as "no OTLP files found") naming where it was given: it exited 1 with
 * "replay: … does not exist" — for compare too, and without naming source.file.paths when it came from there.
 */
async function inputFiles(command: string, inputs: readonly string[], config: AppConfig, leftOut: string[]): Promise<ReturnType<typeof listOtlpFiles>> {
  const fromConfig = inputs.length === 0;
  const paths = fromConfig ? config.source.file.paths : inputs;
  // Nothing named at all: "no OTLP files found — directories are searched for *.pb, …" read as if
  // a directory had been searched, when `agent-credit replay` was typed without its inputs.
  // Not "invalid configuration" either: the command's arguments are missing, no setting is wrong.
  if (paths.length === 0) {
    throw new ArgumentError([`${command}: no input given — name OTLP files or directories (e.g. \`agent-credit ${command} runs/\`), or list them in source.file.paths of the config file (-c)`]);
  }
  // other failures than "no such file" (a link loop, no permission) are listOtlpFiles's to name
  const absent = (p: string) => {
    try {
      return statSync(p, { throwIfNoEntry: false }) === undefined;
    } catch {
      return false;
    }
  };
  const missing = paths.flatMap((p, i) => (absent(p) ? [{ p, i }] : []));
  if (missing.length > 0) {
    if (fromConfig) throw new ConfigError(missing.map(({ p, i }) => `source.file.paths[${i}]: ${p} does not exist — give OTLP files or directories (or pass them to ${command} as arguments)`));
    throw new ArgumentError(missing.map(({ p }) => `${command}: input path ${p} does not exist — give OTLP files or directories`));
  }
  const { listOtlpFiles } = await import('../sources/file/otlp-files.js');
  return listOtlpFiles(paths, leftOut);
}

/**
 * No input file to read: which names directories are searched for, and the files left out. It said
 * only "no OTLP files found" for a directory of `.ndjson` (or `.txt`, `.json.gz`) files, which do
 * exist: nothing told which names are read. A configuration error when the paths came from
 * source.file.paths (`fromConfig`); of the arguments' else, without that heading (as a missing input path).
 */
async function noOtlpFiles(command: string, leftOut: readonly string[], fromConfig: boolean): Promise<ConfigError> {
  const { DATA_EXTENSIONS } = await import('../sources/file/otlp-files.js');
  const names = DATA_EXTENSIONS.map((e) => `*${e}`).join(', ');
  const skipped = leftOut.length === 0 ? '' : ` (left out: ${leftOut.length} file(s) of other names, e.g. ${leftOut[0]})`;
  return new (fromConfig ? ConfigError : ArgumentError)([`${command}: no OTLP files found — directories are searched for ${names}${skipped}; give such files or directories (or source.file.paths), or name a file itself (read whatever its name)`]);
}

/**
 * The inputs without the `--out` file. `--out` is truncated before the inputs are read, so an input
 * named as the output (`replay events.jsonl -o events.jsonl`) was emptied and the replay read
 * nothing of it, and a previous output inside an input directory (`replay runs/ -o
 * runs/events.jsonl`, run again) was listed, emptied and warned about as an empty input: the
 * first is refused, the second left out.
 */
function withoutOutput(files: ReturnType<typeof listOtlpFiles>, given: readonly string[], out: string | undefined): ReturnType<typeof listOtlpFiles> {
  if (out === undefined) return files;
  // The file itself (device and inode), not its real path: on macOS and Windows names are
  // case-insensitive, so `replay Events.jsonl -o events.jsonl` named one file by two real paths
  // and emptied the input; so did a hard link. (bigint: Windows file ids exceed 2^53.) A file
  // system without file ids (inode 0: some network shares) falls back to the real path.
  const real = (p: string) => {
    try {
      const st = statSync(p, { bigint: true });
      return st.ino === 0n ? realpathSync(p) : `${st.dev}:${st.ino}`;
    } catch {
      return undefined; // an output that does not exist yet is no input
    }
  };
  const target = real(out);
  if (target === undefined) return files;
  if (given.some((p) => real(p) === target)) {
    throw new ArgumentError([`replay --out: ${out} is also an input — writing the events there would empty it before it is read; give another output file`]);
  }
  return files.filter((file) => real(file.path) !== target);
}

/**
 * Undecodable requests were skipped (each logged with path and reason) and every good episode was
 * emitted; the exit code still says the input was not all read, so scripts notice.
 */
function failOnUndecodable(command: string, n: number): void {
  if (n === 0) return;
  process.stderr.write(`agent-credit ${command}: ${n} undecodable request(s) skipped (see the error lines above); exit code 1\n`);
  process.exitCode = 1;
}

/** Evaluation records refused as the live paths refuse them (each logged): the rest was replayed, and the exit code says so, as for undecodable input. */
function failOnInvalidEvaluations(command: string, n: number): void {
  if (n === 0) return;
  process.stderr.write(`agent-credit ${command}: ${n} evaluation record(s) refused (see the error lines above: each needs trace_id, conversation_id or response_id, name, and score or label — schemas/evaluation-record.schema.json); exit code 1\n`);
  process.exitCode = 1;
}

/** An output file flag (`replay --out`, `compare --json`), and what it holds with a file name to suggest, for its errors. */
interface OutputFlag {
  flag: string;
  holds: string;
  example: string;
}

/**
 * Runs `f` on the output file `path` given by `out.flag`; a directory there, or a file-system
 * error, becomes an ArgumentError naming the flag and the fix — a flag's value, so not headed
 * "invalid configuration" (as the input paths are not: b85ff7cf), and a directory said so rather
 * than "(EISDIR)".
 */
function writableOutput<T>(path: string, out: OutputFlag, f: () => T): T {
  // statSync may itself fail (EACCES on the way): the write below then names that
  let dir = false;
  try {
    dir = statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    // left to f
  }
  if (dir) throw new ArgumentError([`${out.flag}: ${path} is a directory — give a file path for ${out.holds}, e.g. ${join(path, out.example)}`]);
  // `runs/` that is no directory: the write failed with a bare EISDIR, whether runs was a file
  // or nothing at all, and the message said neither
  const bare = path.replace(/(?<=[^/])\/+$/, '');
  if (bare !== path) {
    let file = false;
    try {
      file = statSync(bare, { throwIfNoEntry: false }) !== undefined;
    } catch {
      // left to f
    }
    throw new ArgumentError([
      file
        ? `${out.flag}: ${path} ends with a slash, a directory, but ${bare} is a file — give it without the slash to write ${out.holds} there (replacing it), or a file path in a directory, e.g. ${out.example}`
        : `${out.flag}: ${path} ends with a slash, a directory, and there is none — give a file path for ${out.holds}, e.g. ${join(bare, out.example)} (after creating ${bare}) or ${out.example}`,
    ]);
  }
  try {
    return f();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    // `notes.txt/out.ndjson` failed as "cannot write … (ENOTDIR)", not saying which part was a file
    const file = code === 'ENOTDIR' ? fileInTheWay(dirname(path)) : undefined;
    if (file !== undefined) throw new ArgumentError([`${out.flag}: ${file} is a file, not a directory, so ${path} cannot be written in it — give a file path in an existing directory, e.g. ${out.example}`]);
    throw new ArgumentError([`${out.flag}: cannot write ${path} (${code}); give a file path in an existing directory you can write to`]);
  }
}

/** Opens (creates or truncates) an output file now, or fails naming the flag and the fix. */
function openOutput(path: string, out: OutputFlag): number {
  return writableOutput(path, out, () => openSync(path, 'w'));
}

/**
 * Checks that `path` can be written without touching what it holds: a temporary file beside it
 * (same directory, so the final rename is atomic) is created and removed. Fails naming the flag;
 * a directory is refused first (writableOutput) — the probe beside it passed, and the rename at
 * the end failed with EISDIR after the whole run, leaving the temporary file.
 */
function checkReplaceable(path: string, out: OutputFlag): string {
  return writableOutput(path, out, () => {
    const probe = `${path}.${process.pid}.tmp`;
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
    return path;
  });
}

/** Writes `text` to a temporary file beside `path` and renames it over `path` (never a half-written file). */
function replaceFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true }); // no temporary file left behind (disk full, path replaced by a directory meanwhile)
    throw err;
  }
}

interface CompareFlags extends CommonFlags {
  estimators?: string;
  budgets?: string;
  seeds?: string;
  json?: string;
}

const list = (v: string | undefined, fallback: string) => (v ?? fallback).split(',').map((x) => x.trim()).filter(Boolean);

/** `compare`: replay files, keep the closed episodes, run every estimator against the exact reference. */
async function compareCommand(inputs: string[], f: CompareFlags): Promise<void> {
  const loaded = await loadWithOrigins(f, { 'telemetry.logLevel': f.logLevel, 'telemetry.logFormat': f.logFormat });
  const config = loaded.config;
  const { createLogger } = await import('../telemetry/logger.js');
  const logger = createLogger(batchLogLevel(loaded), undefined, loaded.config.telemetry.logFormat);
  const leftOut: string[] = [];
  const files = await inputFiles('compare', inputs, config, leftOut);
  if (files.length === 0) throw await noOtlpFiles('compare', leftOut, inputs.length === 0);
  const { COMPARABLE_ESTIMATORS, DEFAULT_COMPARED, checkCompareOptions, compareEstimators, renderCompareReport } = await import('../runtime/compare-estimators.js');
  const options = {
    estimators: list(f.estimators, DEFAULT_COMPARED.join(',')) as (typeof COMPARABLE_ESTIMATORS)[number][],
    budgetsPerPlayer: list(f.budgets, '4,10,40').map(Number),
    seeds: f.seeds === undefined ? 3 : Number(f.seeds),
    // as typed, for the error messages (Number('abc') reads as NaN)
    budgetsText: f.budgets,
    seedsText: f.seeds,
  };
  try {
    checkCompareOptions(options);
  } catch (err) {
    // --estimators, --budgets, --seeds: the flags' values, not the configuration
    throw new FlagError([(err as Error).message]);
  }
  // Checked before the (long) run, so an unwritable --json fails at once; an existing report is
  // replaced only when the new one is complete (a run that fails keeps the old file).
  const json = f.json ? checkReplaceable(f.json, { flag: 'compare --json', holds: 'the report', example: 'compare.json' }) : undefined;
  const { replayEpisodes } = await import('../runtime/local-replay.js');
  const { gameFactoryOf, processOptionsOf } = await import('../runtime/local-stages.js');
  // The value function is loaded before the replay: a wrong credit.module.path fails at once.
  const game = await gameFactoryOf(config);
  // The episodes exactly as `replay` closes them, in its close order; credit is run below, once per estimator.
  const { episodes, stats: replayed } = await replayEpisodes(config, files, { logger });
  const { ProgressBar } = await import('./progress.js');
  const progress = new ProgressBar();
  const report = await compareEstimators(episodes, processOptionsOf(config, game.gameFactory), {
    ...options,
    onEpisode: (done, total) => progress.update(done, total, 'episodes'),
  });
  progress.done();
  process.stdout.write(`${renderCompareReport(report)}\n`);
  if (json !== undefined) replaceFile(json, `${JSON.stringify(report, null, 2)}\n`);
  // A table of zero errors over nothing reads as a perfect result: fail instead (the report, and
  // --json, still say what was left out and why). With no episode at all say what the input held:
  // "none of the 0 closed episode(s) could be compared (skipped: none)" named no cause for a
  // directory whose every file was undecodable.
  if (report.compared === 0) {
    const unread = replayed.undecodable.length + replayed.invalidEvaluations.length;
    const why =
      report.episodes > 0
        ? `none of the ${report.episodes} closed episode(s) could be compared (skipped: ${Object.entries(report.skipped).map(([why, n]) => `${n} ${why}`).join('; ') || 'none'})`
        : unread > 0
          ? `no episode closed: ${unread} request(s) of the input could not be read (undecodable, or evaluation records refused — see the error lines above)${replayed.requests > 0 ? ` and the ${replayed.requests} read held no spans` : ''}`
          : `no episode closed: the input's ${replayed.requests} request(s) held no spans (evaluations alone make no episode: give the traces too)`;
    throw new Error(`compare: ${why}: nothing was measured`);
  }
  failOnUndecodable('compare', replayed.undecodable.length);
  failOnInvalidEvaluations('compare', replayed.invalidEvaluations.length);
}

/**
 * Runs a batch command (replay, compare) with the event loop held open until it settles. The
 * pipeline waits on unref'd timers — the judge's retry backoff, `AbortSignal.timeout`,
 * `runtime.creditTimeoutMs` — and with no server keeping the loop alive (as in `run`), Node ended
 * the process at such a wait: `replay` with a judge that refused connections exited 13 (an
 * unsettled top-level await) with no output and no error line.
 */
async function keptAlive<T>(command: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 2 ** 30);
  try {
    return await command();
  } finally {
    clearInterval(hold);
  }
}

/**
 * The flags given on the command line, written out again (`--config x.yaml --port 4400 --no-live`,
 * in the order of the command's options) but those in `skip`: for check's last line, which names
 * the run command it checked.
 */
function givenFlags(cmd: Command, skip: readonly string[] = []): string[] {
  const given: string[] = [];
  for (const o of cmd.options) {
    const name = o.attributeName();
    if (skip.includes(name) || cmd.getOptionValueSource(name) !== 'cli' || o.long === undefined) continue;
    const v: unknown = cmd.getOptionValue(name);
    if (typeof v === 'boolean') {
      if (v !== o.negate) given.push(o.long);
    } else given.push(`${o.long} ${shellWord(String(v))}`);
  }
  return given;
}

/**
 * A flag's default as its help shows it: the built-in value, or — when `-c` / `AGENT_CREDIT_*`
 * variables set it otherwise (helpConfiguration) — the value in effect, saying where it comes
 * from. The help showed the built-in defaults alone, so `run -c prod.yaml --help` listed port 4318
 * for a configuration that listens on 4400.
 */
function shownDefault(builtIn: string | number | boolean, effective: string | number | boolean | null | undefined, as: (v: string | number | boolean) => string = String): string {
  if (effective === undefined || effective === null || effective === builtIn) return as(builtIn);
  return `${as(effective)}, from the configuration; built-in ${as(builtIn)}`;
}

const onOff = (v: string | number | boolean): string => (v === true ? 'enabled' : v === false ? 'off' : String(v));

/**
 * The configuration a help screen's defaults come from: when the command line asks for help and
 * names a config file (`-c f`, `--config f`, `--config=f`) or the environment sets
 * `AGENT_CREDIT_*` variables, the configuration they make; undefined otherwise, or when it does
 * not load (the help then shows the built-in defaults; running the command says what is wrong).
 */
export async function helpConfiguration(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<AppConfig | undefined> {
  const args = argv.slice(2);
  if (!args.includes('--help') && !args.includes('-h')) return undefined;
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-c' || a === '--config') && args[i + 1] !== undefined) file = args[i + 1];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  if (file === undefined && !Object.keys(env).some((k) => k.startsWith('AGENT_CREDIT_'))) return undefined;
  try {
    const { loadConfig } = await import('../config/load.js');
    return loadConfig({ ...(file !== undefined ? { file } : {}), env }).config;
  } catch {
    return undefined;
  }
}

export function buildProgram(effective?: AppConfig): Command {
  const d = DEFAULTS;
  const e = effective;
  const cd = CreditOptionsSchema.parse({}); // the credit stage's own defaults
  const program = new Command('agent-credit')
    .description('OpenTelemetry traces of multi-LLM-agent runs → Shapley agent credit, per-message rewards and preference pairs, live.')
    .version(AGENT_CREDIT_VERSION)
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    // a usage error (unknown option, a value outside --log-level's choices, a missing argument) exits 2
    // as a bad setting does (main): it exited 1, the code of a runtime failure, so `--log-level loud`
    // and AGENT_CREDIT_TELEMETRY_LOG_LEVEL=loud ended differently. Inherited by the subcommands.
    .exitOverride();

  const configOption = () => new Option('-c, --config <file>', 'YAML config file (see deploy/agent-credit.yaml; env AGENT_CREDIT_<SECTION>_<KEY> overrides it)');
  // replay and compare: warn unless asked (batchLogLevel); the help said info for them too
  const logOption = (defaultText: string = shownDefault(d.telemetry.logLevel, e?.telemetry.logLevel)) => new Option('--log-level <level>', `log level on stderr (default: ${defaultText})`).choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
  const batchLogOption = () => logOption(`warn, or telemetry.logLevel when it is not ${d.telemetry.logLevel}`);
  const logFormatOption = () => new Option('--log-format <format>', `log lines on stderr: json (one object per line, for log shippers) or pretty (readable, for a terminal) (default: ${shownDefault(d.telemetry.logFormat, e?.telemetry.logFormat)})`).choices(['json', 'pretty']);
  // run's and view's: "separate … port" in run's help read as if the live page stopped serving them
  const metricsPortOption = () =>
    new Option('--metrics-port <port>', `telemetry.metricsPort: also serve /metrics, /healthz, /readyz on this port, on telemetry.metricsHost (default: ${e?.telemetry.metricsPort != null ? `${e.telemetry.metricsPort}, from the configuration; built-in: only on the live page` : 'only on the live page'})`);
  // the listeners' options (LISTENER_FLAGS)
  const addListenerOptions = (c: Command) =>
    c
      .option('--host <host>', `OTLP/HTTP receiver interface (default: ${shownDefault(d.source.http.host, e?.source.http.host)})`)
      .option('--port <port>', `OTLP/HTTP receiver port, 0 = any free (default: ${shownDefault(d.source.http.port, e?.source.http.port)})`)
      .option('--grpc-port <port>', `OTLP/gRPC receiver port (on source.grpc.host), 0 = any free (default: ${shownDefault(d.source.grpc.port, e?.source.grpc.port)})`)
      .option('--no-grpc', `do not start the OTLP/gRPC receiver (default: ${shownDefault(d.source.grpc.enabled, e?.source.grpc.enabled, onOff)})`)
      .option('--live-host <host>', `live page interface (default: ${shownDefault(d.sinks.live.host, e?.sinks.live.host)})`)
      .option('--live-port <port>', `live page port: /, /events, /api/recent, /api/agents, /metrics, /healthz, /readyz (default: ${shownDefault(d.sinks.live.port, e?.sinks.live.port)})`)
      .option('--no-live', `disable the live page server (default: ${shownDefault(d.sinks.live.enabled, e?.sinks.live.enabled, onOff)})`)
      .addOption(metricsPortOption());
  // run's options: run's, demo's and check's, which checks what they set
  const addRunOptions = (c: Command) =>
    addListenerOptions(c.addOption(configOption()))
      .option('--no-stdout', `do not write events to stdout (default: ${shownDefault(d.sinks.stdout.enabled, e?.sinks.stdout.enabled, onOff)})`)
      .addOption(logOption())
      .addOption(logFormatOption())
      .option('--demo-episodes <n>', 'demo: runs per batch (default: 4)')
      .option('--demo-interval-ms <ms>', 'demo: ms between batches (default: 3000)')
      .option('--demo-batches <n>', 'demo: stop sending after n batches, 0 = never (default: 0)')
      .option('--demo-seed <n>', 'demo: seed of the first batch (default: 1)');

  const demoOption = () => new Option('--demo', 'also start a simulated agent fleet that sends OTLP to the receiver (default: off)');
  addRunOptions(program.command('run').description(`run the stream processor (default source: OTLP/HTTP on ${d.source.http.host}:${d.source.http.port} and OTLP/gRPC on ${d.source.grpc.host}:${d.source.grpc.port}; kafka when source.kind is kafka)`))
    .addOption(demoOption())
    .action((f: RunFlags) => runCommand(f, false));

  addRunOptions(program.command('demo').description('run with the simulated agent fleet (= run --demo)')).action((f: RunFlags) => runCommand(f, true));

  program
    .command('replay')
    .description('replay OTLP files (protobuf/JSON request bodies, JSON lines, collector kafka record dumps) → events (or, --episodes, training records) on stdout or --out')
    .argument('[inputs...]', 'files or directories (default: source.file.paths)')
    .addOption(configOption())
    .option('-o, --out <file>', 'write the events (with --episodes, the training records) to this JSON-lines file, - for stdout (default: stdout)')
    .option('--no-summary', 'do not print the summary table on stderr (default: printed)')
    .option('--episodes', 'write one training record per episode instead of the events: its last revision’s episode_credit and message_rewards and the preference pairs to keep (schemas/training-record.schema.json)')
    .option('--estimator <name>', `credit.estimator: auto, exact, ${SAMPLERS.join(', ')} (default: ${shownDefault(cd.estimator, e?.credit.estimator)})`)
    .option('--budget <n>', `credit.budget: value-function evaluations per episode (default: ${shownDefault(cd.budget, e?.credit.budget)})`)
    .option('--seed <n>', `credit.seed: seed of the sampled estimators (default: ${shownDefault(cd.seed, e?.credit.seed)})`)
    .option('--target-half-width <x>', `credit.targetHalfWidth: samplers stop once every interval is this narrow (default: ${shownDefault(cd.targetHalfWidth, e?.credit.targetHalfWidth)})`)
    .option('--max-held-mb <n>', `with --episodes: MiB of events held until the end of the replay (at the default ~11,000 generated episodes); beyond it the oldest episodes are written early (early: true in their record), and a later revision again; raise Node's heap with it (default: ${DEFAULT_MAX_HELD_MB})`)
    .addOption(batchLogOption())
    .addOption(logFormatOption())
    .action((inputs: string[], f: ReplayFlags) => keptAlive(() => replayCommand(inputs, f)));

  program
    .command('compare')
    .description('replay OTLP files and compare the sampled Shapley estimators with the exact agent credit of each episode (errors, interval coverage, cost)')
    .argument('[inputs...]', 'files or directories (default: source.file.paths)')
    .addOption(configOption())
    .option('--estimators <list>', `comma-separated: ${SAMPLERS.join(', ')} (default: these ${SAMPLERS.length}), or tree-msr-cross-fitted (tree-msr with credit.treeMsrFit: cross-fitted)`)
    .option('--budgets <list>', 'value-function evaluations per agent, comma-separated (default: 4,10,40)')
    .option('--seeds <n>', 'runs per episode, estimator and budget, seeds credit.seed, credit.seed + 1, … (default: 3)')
    .option('--json <file>', 'also write the report as JSON to this file')
    .addOption(batchLogOption())
    .addOption(logFormatOption())
    .action((inputs: string[], f: CompareFlags) => keptAlive(() => compareCommand(inputs, f)));

  program
    .command('generate')
    .description('write generated multi-agent runs (real OTel SDK spans and evaluation log records) as OTLP files for replay and compare, with expected.ndjson saying what each run shows')
    .argument('<dir>', 'output directory (created if missing)')
    .option('--episodes <n>', 'runs to write (default: 10)')
    .option('--seed <n>', 'seed of the corpus: the same seed and options give the same files (default: 1)')
    .option('--kinds <list>', `comma-separated, drawn uniformly: ${SCENARIO_KINDS.join(', ')} (default: all)`)
    .option('--conventions <list>', `comma-separated, drawn uniformly: ${SCENARIO_CONVENTIONS.join(', ')} (default: all)`)
    .option('--agents <n>', 'agents per run, 3–64; redundant and saboteur runs get at least 4 (default: the kind’s minimum, 3 or 4)')
    .option('--steps <n>', 'implementation steps per coder (default: 2)')
    .option('--start-ms <ms>', 'start of the first run, unix ms; runs follow each other by --spacing-ms (default: a seeded start per run)')
    .option('--spacing-ms <ms>', 'time between run starts with --start-ms (default: 60000)')
    .option('--encoding <enc>', 'proto or json (default: proto)')
    .option('--force', 'replace a corpus already in <dir> (its NNNN-traces/logs files and expected.ndjson are removed first; other files are kept)')
    .action(async (dir: string, f: { episodes?: string; seed?: string; kinds?: string; conventions?: string; agents?: string; steps?: string; startMs?: string; spacingMs?: string; encoding?: string; force?: boolean }) => {
      const { generateFiles } = await import('./generate.js');
      if (f.encoding !== undefined && f.encoding !== 'proto' && f.encoding !== 'json') throw new FlagError([`--encoding: use proto or json, got ${JSON.stringify(f.encoding)}`]);
      const csv = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));
      const written = await generateFiles({
        dir,
        episodes: f.episodes !== undefined ? int('--episodes', 1)(f.episodes) : 10,
        seed: f.seed !== undefined ? int('--seed')(f.seed) : 1,
        kinds: csv(f.kinds),
        conventions: csv(f.conventions),
        ...(f.agents !== undefined ? { agents: int('--agents', 3)(f.agents) } : {}),
        ...(f.steps !== undefined ? { steps: int('--steps', 1)(f.steps) } : {}),
        ...(f.startMs !== undefined ? { baseTimeMs: int('--start-ms', 0)(f.startMs) } : {}),
        ...(f.spacingMs !== undefined ? { spacingMs: int('--spacing-ms', 0)(f.spacingMs) } : {}),
        encoding: f.encoding === 'json' ? 'json' : 'proto',
        force: f.force === true,
        onNote: (note) => process.stderr.write(`${note}\n`),
      });
      process.stderr.write(`wrote ${(written.length - 1) / 2} runs to ${dir} (${written.length} files, expected.ndjson last)\n`);
    });

  // every flag of run's (and --demo): a run command line with `run` swapped for `check` is checked as
  // run reads it — it stopped at "unknown option '--log-level'" (or --no-stdout, --demo-seed, …)
  addRunOptions(
    program
      .command('check')
      .description(
        'check what `run` would meet without running: Kafka connection (TLS/SASL), input and output topics, consumer group lag and members; or the OTLP/HTTP ports; and the value function (a module game loaded, an http judge’s host connected to). ' +
          'Takes every flag of run’s (give the ones you give run; the last line names them, after the AGENT_CREDIT_* variables that set the configuration, as the run command): the listener flags set the ports checked, --no-stdout and --demo* are checked as run reads them, --log-level leaves out the report’s lines below it (error: ✗ only, warn: ✗ and !, silent: none; not in --format json), --log-format changes nothing (the report is not a log). Exit 1 when something fails',
      ),
  )
    .addOption(demoOption())
    .option('--sample', 'also read and decode the first records of each input topic (throwaway consumer group, no commits)')
    // --format, as --log-format: compare's --json names a file to write besides its table, and this document replaces the text on stdout
    .addOption(new Option('--format <format>', 'the report on stdout: text (a line per check, for a person) or json (one JSON document for scripts and CI: every check with its status, detail and fix; schemas/check-report.schema.json) (default: text)').choices(['text', 'json']))
    .action(async (f: RunFlags & { sample?: boolean; format?: string }, cmd: Command) => {
      const { checkReportDocument, renderCheckReport, runChecks } = await import('./check.js');
      const json = f.format === 'json';
      // the variables that set the configuration, once it is loaded: the commands named start with them
      let environment: readonly string[] = [];
      const rendering = () => ({ runFlags: givenFlags(cmd, ['sample', 'format']), checkFlags: givenFlags(cmd), environment, ...(f.logLevel !== undefined ? { level: f.logLevel } : {}) });
      const check = async () => {
        // run's flags read as run reads them: a --demo-* without --demo, or a bad one, is refused as run refuses it
        if (!f.demo) refuseDemoFlagsWithoutDemo(f);
        else demoOptions(f);
        const flags = runOverrides(f);
        const { config, origins } = await loadWithOrigins(f, flags.overrides, flags.flagNames);
        environment = (await import('./run-environment.js')).environmentAssignments(origins, process.env);
        if (f.demo) refuseDemoWith(config, origins, f.config);
        const checked = await runChecks(config, { sample: f.sample === true });
        const ignored = ignoredReceiverFlags(f, config);
        return ignored === undefined ? checked : { ...checked, lines: [{ name: 'flags' as const, status: 'warn' as const, text: ignored }, ...checked.lines] };
      };
      if (!json) {
        const report = await check();
        const text = renderCheckReport(report, rendering());
        if (text !== '') process.stdout.write(`${text}\n`);
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const print = (report: Parameters<typeof checkReportDocument>[0]) => process.stdout.write(`${JSON.stringify(checkReportDocument(report, { ...rendering(), agentCreditVersion: AGENT_CREDIT_VERSION }))}\n`);
      let report;
      try {
        report = await withStdoutOnStderr(check);
      } catch (err) {
        // a setting run refuses (exit 2, its message on stderr as ever): the document says so too, so
        // a script that reads stdout learns why there is no report of the checks
        if (await isSettingError(err)) print({ ok: false, lines: settingErrorLines(err as Error) });
        throw err;
      }
      print(report);
      if (!report.ok) process.exitCode = 1;
    });

  program
    .command('view')
    .description("serve the live page and /metrics of the whole fleet from the Kafka job's output topics (every instance's events, read_committed), starting --since ago: standings that survive restarts and cover all instances")
    .addOption(configOption())
    .option('--since <duration>', 'read events from this long ago: a number with a unit, ms, s, m, h or d (30m, 6h, 2d), or all (each topic from its start) (default: 6h)')
    .option('--live-host <host>', `sinks.live.host (default: ${shownDefault(d.sinks.live.host, e?.sinks.live.host)})`)
    .option('--live-port <port>', `sinks.live.port (default: ${shownDefault(d.sinks.live.port, e?.sinks.live.port)})`)
    .addOption(metricsPortOption())
    .addOption(logOption())
    .addOption(logFormatOption())
    .action(async (f: CommonFlags & { since?: string; liveHost?: string; livePort?: string; metricsPort?: string }) => {
      const { parseSince, startViewJob, configuredLivePort } = await import('./view-job.js');
      const sinceMs = parseSince(f.since ?? '6h');
      const { overrides, flagNames } = flagOverrides(VIEW_FLAGS, f);
      const loaded = await loadWithOrigins(f, overrides, flagNames);
      const config = loaded.config;
      const livePortFrom = configuredLivePort(config.sinks.live.port, loaded.origins.get('sinks.live.port'), f.config);
      const { createLogger } = await import('../telemetry/logger.js');
      const logger = createLogger(config.telemetry.logLevel, undefined, config.telemetry.logFormat);
      // a stop while it joins its group (Node's default was exit 143, no line): nothing to lose yet
      const whileStarting = exitOnSignalWhileStarting(logger);
      const job = await startViewJob(config, { logger, sinceMs, ...(livePortFrom !== undefined ? { livePortFrom } : {}) }).finally(() => whileStarting.remove());
      untilSignal(logger, () => job.stop(), 'stopping the view');
    });

  program
    .command('schema')
    .description('write the JSON Schemas (generated from the zod schemas) of the events, the training records (replay --episodes), the evaluation records, the config file and check --format json’s report')
    .option('-d, --dir <dir>', 'output directory (default: schemas)')
    .action(async (f: { dir?: string }) => {
      const { writeSchemaFiles } = await import('./schema-files.js');
      const dir = f.dir ?? 'schemas';
      // a file there made mkdir fail with "cannot write … (EEXIST)", which did not say what was wrong;
      // a file above it (<file>/schemas) with "(ENOTDIR)", which did not say which part was a file
      const file = fileInTheWay(dir);
      if (file === dir) {
        throw new ArgumentError([`--dir: ${dir} is a file, not a directory — give a directory for the schemas (created when missing), e.g. --dir /tmp/agent-credit-schemas`]);
      }
      if (file !== undefined) {
        throw new ArgumentError([`--dir: ${file} is a file, not a directory, so ${dir} cannot be created in it — give a directory for the schemas (created when missing), e.g. --dir /tmp/agent-credit-schemas`]);
      }
      let written: string[];
      try {
        written = writeSchemaFiles(dir);
      } catch (err) {
        // it stopped with a bare "EACCES: permission denied, mkdir 'schemas'" (exit 1), naming no flag
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new ArgumentError([`--dir: cannot write the schemas to ${dir} (${code}); give a directory you can write to (created when missing), e.g. --dir /tmp/agent-credit-schemas`]);
      }
      for (const p of written) process.stderr.write(`wrote ${p}\n`);
    });
  return program;
}

/**
 * What a reader closing stdout (EPIPE) does. `agent-credit replay … | head`: the reader's choice,
 * not a failure to log ("sink publish failed: write EPIPE"): stop quietly, as other CLI tools do.
 * `run` replaces it (runCommand).
 */
let onStdoutClosed = (): void => process.exit(0);

/** ModuleGameError (module-game.ts) or a CreditWorkerPoolError with `setting` (pool.ts), told by name: main does not load the credit modules up front. */
function isModuleSettingError(err: unknown): err is Error {
  return err instanceof Error && (err.name === 'ModuleGameError' || (err.name === 'CreditWorkerPoolError' && (err as Error & { setting?: unknown }).setting === true));
}

/**
 * A setting's error (exit 2): a ConfigError; a topic a setting names that is missing (input or
 * output) or too small for the job's records; a credit.module.path module that cannot be loaded or
 * has no such function (in this thread or in the credit workers) — it exited 1, while a missing
 * TLS file named by a setting exits 2; a Kafka consumer stopped for good at start by a setting or
 * an ACL the brokers refuse.
 */
async function isSettingError(err: unknown): Promise<boolean> {
  // kafka/connection is loaded with the config: a command that loaded none cannot have thrown its error
  const { KafkaConnectionConfigError } = await import('../kafka/connection.js');
  return err instanceof ConfigError || err instanceof TopicSettingError || err instanceof KafkaConnectionConfigError || err instanceof KafkaRefusalError || isModuleSettingError(err);
}

/** A setting's error as check's lines: one per problem of a ConfigError, named for the key (or flag) it starts with. */
function settingErrorLines(err: Error): { name: 'config'; status: 'fail'; text: string; setting?: string }[] {
  const problems = err instanceof ConfigError ? err.problems : [err.message];
  return problems.map((text) => {
    // a key or flag before ": ", else a flag with its value or beside another flag
    // (`--config x.yaml: cannot read…`, `--demo-episodes, --demo-seed: …`): the setting was null
    const setting = /^((?:--)?[\w.[\]-]+): /.exec(text)?.[1] ?? /^(--[\w-]+)[ ,]/.exec(text)?.[1];
    return { name: 'config', status: 'fail', text, ...(setting !== undefined ? { setting } : {}) };
  });
}

/**
 * Runs `work` with stdout's writes sent to stderr: `check --format json` prints one document on
 * stdout, and what runs during the checks — a module game's top-level code (its console.log) — would
 * have written into it.
 */
async function withStdoutOnStderr<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return onStdoutClosed();
    // the terminal closed (SIGHUP, whose graceful stop is under way): the events shown there have
    // nowhere to go, the other sinks still get them — thrown, it ended the stop halfway
    if (err.code === 'EIO') return;
    throw err;
  });
  try {
    await buildProgram(await helpConfiguration(argv)).parseAsync([...argv]);
  } catch (err) {
    // commander has written its message (and the usage) already; --help and --version end with 0
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    // a setting's error, like ConfigError (isSettingError says which)
    if (await isSettingError(err)) {
      process.stderr.write(`agent-credit: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`agent-credit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

await main();
