/**
 * A local single-node Kafka (KRaft, combined broker+controller) for tests and demos, built from
 * Maven Central artifacts — no distribution tarball, no Docker.
 *
 *   npm run kafka:start      # prints the bootstrap address, leaves the broker running
 *   npm run kafka:stop       # stops the broker started by kafka:start
 *
 * Settings (environment):
 * - `KAFKA_VERSION` (default 4.1.1; 3.9.1 supported): the `org.apache.kafka:kafka_2.13` version.
 * - `KAFKA_CACHE_DIR` (default `<repo>/.cache/kafka`): resolved jars, `<version>/libs`, reused.
 * - `KAFKA_HEAP` (default `512m`): JVM max heap.
 * - `JAVA_HOME`: the JDK (17+) whose `bin/java` runs the broker; unset, `java` from PATH (`javaTool`).
 *
 * The library functions (`startKafka`, `resolveKafkaLibs`) are what test/integration/global-setup.ts
 * uses. Every start formats fresh storage in a temp dir, so nothing is kept between runs except the jars.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { installKafkajsRequestQueueSchedule } from '../src/kafka/kafkajs-request-queue.js';

const execFileP = promisify(execFile);
// This kafkajs is loaded without src/kafka/kafkajs-module.ts: give it the request-queue fix alone (a
// prototype patch, so loading kafkajs first is fine): no 1 ms timer per idle connection in the
// process holding the broker, no TimeoutNegativeWarning from it on Node ≥ 23.
installKafkajsRequestQueueSchedule(createRequire(import.meta.url));

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');

export const DEFAULT_KAFKA_VERSION = '4.1.1';

export interface KafkaLaunchOptions {
  /** kafka_2.13 version; default env KAFKA_VERSION or 4.1.1. 4.x and 3.9.x are supported. */
  version?: string;
  /** Where resolved jars are cached (`<cacheDir>/<version>/libs`). */
  cacheDir?: string;
  /** JVM max heap, e.g. `512m`. */
  heap?: string;
  /** Max ms to wait for the broker (and its group coordinator) to be ready. Default 120 000. */
  readyTimeoutMs?: number;
  /** Extra server.properties lines (key → value), applied last. */
  extraProperties?: Record<string, string>;
  /**
   * More client listeners beside PLAINTEXT (e.g. `{ name: 'SECURE', protocol: 'SASL_SSL' }`), each
   * on its own free port (`RunningKafka.listeners`). Their settings (keystore, JAAS) go in
   * `extraProperties` as `listener.name.<name lower case>.…` or broker-wide keys.
   * `advertisedPort`: the port the broker tells clients to use for this listener, when something
   * else (a fault-injecting proxy in a test) listens there and forwards to the listener.
   */
  extraListeners?: readonly { name: string; protocol: 'PLAINTEXT' | 'SSL' | 'SASL_SSL' | 'SASL_PLAINTEXT'; advertisedPort?: number }[];
  /** Extra arguments of `kafka-storage format`, e.g. `['--add-scram', 'SCRAM-SHA-512=[name=bob,password=secret]']`. */
  formatArgs?: readonly string[];
  /** Detach the JVM from this process (for `kafka:start`). Default false. */
  detached?: boolean;
}

export interface RunningKafka {
  /** Bootstrap address, `127.0.0.1:<port>` (the PLAINTEXT listener). */
  readonly brokers: string;
  /** Address of each `extraListeners` entry by name. */
  readonly listeners: Readonly<Record<string, string>>;
  readonly version: string;
  /** The JVM's pid (a new one after `restart`). */
  readonly pid: number;
  /** Temp dir holding server.properties, data and broker.log; removed by `stop`. */
  readonly workDir: string;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 20 000); removes the temp dir. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
  /**
   * Stops the JVM (`SIGTERM`: controlled shutdown; `SIGKILL`: a crash), keeps its data, waits
   * `downMs`, and starts it again on the same ports; resolves when it serves metadata again. For
   * tests of clients riding out a broker outage. The pid changes.
   */
  restart(options?: RestartOptions): Promise<void>;
}

export interface RestartOptions {
  /** `SIGTERM` (default): controlled shutdown; `SIGKILL`: a crash. */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** Ms to stay down before starting again. */
  downMs?: number;
  /** Runs while the broker is down, after `downMs` (e.g. a test damaging a log segment in `workDir`). */
  whileDown?: () => Promise<void> | void;
  /**
   * How long to wait for the broker's ports to be free and for it to serve again, from the end of
   * `whileDown` (default: the start's `readyTimeoutMs`, 120 000).
   */
  readyTimeoutMs?: number;
  /** Called once, with the ports, when restart finds one of its ports taken and starts waiting for it. */
  onPortsTaken?: (ports: readonly number[]) => void;
}

/** Which logging binding a Kafka line needs (the published pom leaves it out). */
function loggingProfile(version: string): { profile: string; jvmFlag: string } {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (!Number.isFinite(major)) throw new Error(`KAFKA_VERSION: "${version}" is not a version like 4.1.1`);
  if (major >= 4) {
    return { profile: 'log4j2', jvmFlag: `-Dlog4j2.configurationFile=${join(HERE, 'kafka', 'log4j2.properties')}` };
  }
  if (major === 3) {
    return { profile: 'reload4j', jvmFlag: `-Dlog4j.configuration=file:${join(HERE, 'kafka', 'log4j.properties')}` };
  }
  throw new Error(`KAFKA_VERSION: ${version} is not supported; use a 4.x (default ${DEFAULT_KAFKA_VERSION}) or 3.9.x release`);
}

/**
 * Resolves kafka_2.13:<version> and its runtime dependencies with Maven into
 * `<cacheDir>/<version>/libs` (once; a `.complete` marker makes later calls free).
 * Needs `mvn` and network access to Maven Central on the first call.
 */
export async function resolveKafkaLibs(version: string, cacheDir: string): Promise<string> {
  const libs = join(cacheDir, version, 'libs');
  // `.complete` inside libs, so a directory is complete the moment it appears (the rename below);
  // `<version>/.complete` is the marker of caches written before the staging directory.
  const complete = (): boolean => existsSync(join(libs, '.complete')) || (existsSync(join(cacheDir, version, '.complete')) && existsSync(libs));
  if (complete()) return libs;
  // Maven copies into a directory of this call's own, renamed into place when complete: test files
  // run two at a time, and two that start a broker of a version not yet cached (on a fresh machine)
  // resolve it at once. Writing into the shared `libs` directly, one call's clean-up removed jars
  // the other's broker was about to load.
  const staging = join(cacheDir, version, `libs.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  const { profile } = loggingProfile(version);
  try {
    await execFileP(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(HERE, 'kafka', 'pom.xml'),
        `-Dkafka.version=${version}`,
        '-P',
        profile,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
      ],
      { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
    );
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `Resolving org.apache.kafka:kafka_2.13:${version} with Maven failed (is mvn installed and Maven Central reachable? ` +
        `is KAFKA_VERSION a published version?): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
  if (!readdirSync(staging).some((f) => f.startsWith('kafka_2.13-'))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`Maven finished but ${staging} has no kafka_2.13 jar; delete ${join(cacheDir, version)} and retry`);
  }
  writeFileSync(join(staging, '.complete'), new Date().toISOString()); // the JVM's `libs/*` reads only jars
  if (!complete()) {
    // a `libs` that is not complete is an interrupted resolution of the layout before staging
    rmSync(libs, { recursive: true, force: true });
    try {
      renameSync(staging, libs);
    } catch (err) {
      // lost the rename to a concurrent call: its directory is complete, and identical
      if (!complete()) throw err;
    }
  }
  rmSync(staging, { recursive: true, force: true }); // ours, if another call's copy won
  return libs;
}

/**
 * The JDK tool to run (`java`, `keytool`): `$JAVA_HOME/bin/<tool>` when JAVA_HOME is set, else
 * `<tool>` from PATH — the rule of Kafka's own bin/kafka-run-class.sh and of Maven's `mvn`. Always
 * PATH before. On macOS a JDK from Homebrew or an installer is found through JAVA_HOME
 * (`/usr/libexec/java_home`), and /usr/bin/java is a stub that answers "Unable to locate a Java
 * Runtime" when no JDK is registered; on a machine with several JDKs, Maven resolved the jars
 * with the JAVA_HOME one while the broker was started with an older java on PATH, and Kafka 4
 * (Java 17+) failed with UnsupportedClassVersionError.
 */
export function javaTool(tool: 'java' | 'javac' | 'keytool', env: NodeJS.ProcessEnv = process.env): string {
  const home = env.JAVA_HOME;
  return home ? join(home, 'bin', tool) : tool;
}

/** What to say when the JVM cannot be started: where java was looked for. */
function javaAdvice(): string {
  const java = javaTool('java');
  return process.env.JAVA_HOME
    ? `java is run as ${java} (JAVA_HOME): does it hold a JDK 17+?`
    : 'java is taken from PATH (JAVA_HOME is not set): is a JDK 17+ installed and on PATH, or set JAVA_HOME to it?';
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `n` distinct TCP ports free on 127.0.0.1 right now. All are held open until the last is picked:
 * asking the OS for one port at a time can hand back the port just released (it did: broker and
 * controller on the same port, which KRaft refuses at format time).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      srv.unref();
      servers.push(srv);
      await new Promise<void>((res, rej) => {
        srv.once('error', rej);
        srv.listen(0, '127.0.0.1', () => res());
      });
    }
    return servers.map((srv) => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') throw new Error('no port');
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((res) => (srv.listening ? srv.close(() => res()) : res()))));
  }
}

/** What the broker's log (or its start's error) says when a port it was given is taken. */
const BIND_FAILED = /Address already in use|BindException/;

/** Which of `ports` cannot be listened on at 127.0.0.1 right now (EADDRINUSE: a socket holds it). */
export async function takenPorts(ports: readonly number[]): Promise<number[]> {
  const taken: number[] = [];
  for (const port of ports) {
    const srv = createServer();
    srv.unref();
    const free = await new Promise<boolean>((res, rej) => {
      srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? res(false) : rej(err)));
      srv.listen(port, '127.0.0.1', () => res(true));
    });
    if (free) await new Promise<void>((res) => srv.close(() => res()));
    else taken.push(port);
  }
  return taken;
}

function serverProperties(opts: {
  brokerPort: number;
  controllerPort: number;
  dataDir: string;
  extra: Record<string, string>;
  listeners?: readonly { name: string; protocol: string; port: number; advertisedPort?: number }[];
}): string {
  const more = opts.listeners ?? [];
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    // One quorum style only: static voters + plain `format` (kafka-notes.md).
    'controller.quorum.voters': `1@127.0.0.1:${opts.controllerPort}`,
    listeners: [`PLAINTEXT://127.0.0.1:${opts.brokerPort}`, ...more.map((l) => `${l.name}://127.0.0.1:${l.port}`), `CONTROLLER://127.0.0.1:${opts.controllerPort}`].join(','),
    'advertised.listeners': [`PLAINTEXT://127.0.0.1:${opts.brokerPort}`, ...more.map((l) => `${l.name}://127.0.0.1:${l.advertisedPort ?? l.port}`)].join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...more.map((l) => `${l.name}:${l.protocol}`)].join(','),
    'log.dirs': opts.dataDir,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    // Single node: RF 1, one partition for the internal topics so the first join/transaction is quick.
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    // Tests kill consumers on purpose; let them use short session timeouts.
    'group.min.session.timeout.ms': '1000',
    'num.network.threads': '2',
    'num.io.threads': '2',
    'log.flush.interval.messages': '1000000',
    ...opts.extra,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}

/** Waits until an admin metadata request succeeds and the group coordinator answers. */
async function waitReady(brokers: string, deadline: number, child: ChildProcess, logFile: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'kafka-launcher', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Kafka broker exited (${child.exitCode ?? child.signalCode}) before it was ready; log:\n${tail(logFile)}`);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      // describeGroups finds the group coordinator (creating __consumer_offsets); until it is
      // loaded the broker answers COORDINATOR_NOT_AVAILABLE / LOADING and we try again.
      await admin.describeGroups(['kafka-launcher-probe']);
      await admin.disconnect();
      return;
    } catch (err) {
      lastErr = err;
      await admin.disconnect().catch(() => undefined);
      await sleep(300);
    }
  }
  throw new Error(`Kafka broker at ${brokers} not ready in time (${String(lastErr)}); log:\n${tail(logFile)}`);
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Classpath and logging flag for running the Apache Kafka Java client (kafka-clients and its
 * snappy/lz4/zstd codecs, all among the broker's resolved jars) — tests use it as an independent
 * producer and consumer (test/integration/support/java-client.ts).
 */
/**
 * `KAFKA_CACHE_DIR` as an absolute path (Maven runs in another directory: a relative one resolved
 * there, and the jars were not found afterwards); empty or unset = `<repo>/.cache/kafka`.
 */
export function kafkaCacheDir(): string {
  const dir = process.env.KAFKA_CACHE_DIR;
  return dir ? resolve(dir) : join(REPO, '.cache', 'kafka');
}

export async function kafkaJavaClasspath(options: { version?: string; cacheDir?: string } = {}): Promise<{ classpath: string; jvmFlag: string }> {
  const v = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  const libs = await resolveKafkaLibs(v, options.cacheDir ?? kafkaCacheDir());
  return { classpath: join(libs, '*'), jvmFlag: loggingProfile(v).jvmFlag };
}

/** Resolves jars (cached), formats KRaft storage in a temp dir and starts one broker+controller. */
export async function startKafka(options: KafkaLaunchOptions = {}): Promise<RunningKafka> {
  // The ports are picked free, then bound by the JVM seconds later: meanwhile another process (a
  // client socket of a test running in parallel) can take one. Then the broker cannot bind and
  // exits; a new start with new ports is all it takes.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKafkaOnce(options);
    } catch (err) {
      if (attempt >= 3 || !BIND_FAILED.test(String((err as Error).message))) throw err;
    }
  }
}

async function startKafkaOnce(options: KafkaLaunchOptions): Promise<RunningKafka> {
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  const cacheDir = options.cacheDir ?? kafkaCacheDir();
  const heap = options.heap ?? process.env.KAFKA_HEAP ?? '512m';
  const libs = await resolveKafkaLibs(version, cacheDir);
  const { jvmFlag } = loggingProfile(version);
  const classpath = join(libs, '*');

  const workDir = mkdtempSync(join(tmpdir(), `agent-credit-kafka-${version}-`));
  const extra = options.extraListeners ?? [];
  const [brokerPort, controllerPort, ...extraPorts] = (await freePorts(2 + extra.length)) as [number, number, ...number[]];
  const listeners = extra.map((l, i) => ({ ...l, port: extraPorts[i]! }));
  const propsFile = join(workDir, 'server.properties');
  writeFileSync(
    propsFile,
    serverProperties({ brokerPort, controllerPort, dataDir: join(workDir, 'data'), extra: options.extraProperties ?? {}, listeners }),
  );
  const jvm = [`-Xmx${heap}`, '-Xss1m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', jvmFlag];

  // KRaft needs formatted storage: a fresh random cluster id (22 chars base64url) every start.
  // Kafka rejects ids that start with '-' (they read as a CLI flag), as its own random-uuid avoids them.
  const clusterId = randomBytes(16).toString('base64url').slice(0, 22).replace(/^-/, 'A');
  try {
    await execFileP(javaTool('java'), [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, ...(options.formatArgs ?? [])], {
      timeout: 120_000,
    });
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Formatting KRaft storage failed (${javaAdvice()}): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }

  const logFile = join(workDir, 'broker.log');
  const launch = (): { child: ChildProcess; exited: Promise<void> } => {
    const fd = openSync(logFile, 'a');
    const child = spawn(javaTool('java'), [...jvm, '-cp', classpath, 'kafka.Kafka', propsFile], {
      stdio: ['ignore', fd, fd],
      detached: options.detached ?? false,
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not spawn java (${javaAdvice()})`);
    return { child, exited: new Promise<void>((r) => child.once('exit', () => r())) };
  };
  let jvmProcess = launch();

  const kill = async (signal: 'SIGTERM' | 'SIGKILL', timeoutMs: number): Promise<void> => {
    const { child, exited } = jvmProcess;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const killTimer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    killTimer.unref();
    await exited;
    clearTimeout(killTimer);
  };

  let stopped = false;
  const stop = async (timeoutMs = 20_000): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill('SIGTERM', timeoutMs);
    rmSync(workDir, { recursive: true, force: true });
  };

  const brokers = `127.0.0.1:${brokerPort}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    await waitReady(brokers, Date.now() + readyTimeoutMs, jvmProcess.child, logFile);
  } catch (err) {
    await stop(5_000);
    throw err;
  }
  // The broker must come back on the ports its clients know; while it is down another socket may take
  // one — a client's connect() draws its local port from the range listen(0) picked these from, and
  // clients reconnect all through an outage —, and the JVM then exits at once on a BindException.
  // Such a socket is gone again soon: wait for the ports (and launch again if the JVM lost the race
  // anyway) until the deadline, then name the port.
  const ports = [brokerPort, controllerPort, ...listeners.map((l) => l.port)];
  const restart = async ({ signal = 'SIGTERM', downMs = 0, whileDown, readyTimeoutMs: timeoutMs = readyTimeoutMs, onPortsTaken }: RestartOptions = {}): Promise<void> => {
    if (stopped) throw new Error('restart: this broker was stopped; start a new one with startKafka()');
    await kill(signal, 20_000);
    if (downMs > 0) await sleep(downMs);
    if (whileDown) await whileDown();
    const deadline = Date.now() + timeoutMs;
    let told = false;
    for (;;) {
      const taken = await takenPorts(ports);
      if (taken.length === 0) {
        jvmProcess = launch();
        try {
          await waitReady(brokers, deadline, jvmProcess.child, logFile);
          return;
        } catch (err) {
          if (Date.now() >= deadline || !BIND_FAILED.test(String((err as Error).message))) throw err;
          continue;
        }
      }
      if (!told) onPortsTaken?.(taken);
      told = true;
      if (Date.now() >= deadline) {
        const where = taken.map((p) => `127.0.0.1:${p}`).join(', ');
        throw new Error(
          `restart: ${where} ${taken.length === 1 ? 'is' : 'are'} still taken after waiting ${timeoutMs} ms — another process listens there or connected from there ` +
            `(\`ss -tanp | grep :${taken[0]}\` shows which); the broker can only come back on the ports its clients know`,
        );
      }
      await sleep(200);
    }
  };
  if (options.detached) jvmProcess.child.unref();
  return {
    brokers,
    listeners: Object.fromEntries(listeners.map((l) => [l.name, `127.0.0.1:${l.port}`])),
    version,
    get pid() {
      return jvmProcess.child.pid!;
    },
    workDir,
    stop,
    restart,
  };
}

// ---- CLI: `tsx scripts/kafka.ts start|stop` -------------------------------------------------

/** Where kafka:start records the broker it left running (read by kafka:stop and kafka:seed). */
export const STATE_FILE = join(REPO, '.kafka', 'state.json');

interface BrokerState {
  pid: number;
  brokers: string;
  workDir: string;
}

/**
 * Whether the broker `state` records is still the one running: its pid alive AND its listener
 * accepting connections. The pid alone is not enough: .kafka/state.json outlives a reboot (or a
 * broker killed some other way), and pids start low again after a boot, so the recorded pid was
 * often a process of the same user by then — `kafka:start` refused to start ("already running")
 * and `kafka:stop`, as told, sent that unrelated process SIGTERM and then SIGKILL.
 */
export async function brokerOfState(state: BrokerState): Promise<boolean> {
  if (!isAlive(state.pid)) return false;
  const [host, port] = [state.brokers.slice(0, state.brokers.lastIndexOf(':')), Number(state.brokers.slice(state.brokers.lastIndexOf(':') + 1))];
  return new Promise<boolean>((res) => {
    const socket = connect({ host, port });
    const done = (answers: boolean) => {
      socket.destroy();
      res(answers);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true)).once('error', () => done(false));
  });
}

export async function cli(cmd: string | undefined, stateFile = STATE_FILE): Promise<void> {
  if (cmd === 'start') {
    if (existsSync(stateFile)) {
      const s = JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerState;
      if (await brokerOfState(s)) {
        console.log(`Kafka already running: ${s.brokers} (pid ${s.pid}); npm run kafka:stop first`);
        return;
      }
    }
    const k = await startKafka({ detached: true });
    mkdirSync(dirname(stateFile), { recursive: true });
    writeFileSync(stateFile, JSON.stringify({ pid: k.pid, brokers: k.brokers, version: k.version, workDir: k.workDir }, null, 2));
    console.log(`Kafka ${k.version} running at ${k.brokers} (pid ${k.pid}, dir ${k.workDir})`);
    console.log(`export KAFKA_BROKERS=${k.brokers}`);
    // the broker has no topics, and the job creates no input topic: say how to get some
    console.log('input topics otlp_spans / otlp_logs with recorded collector records: npm run kafka:seed');
    return;
  }
  if (cmd === 'stop') {
    if (!existsSync(stateFile)) {
      console.log('No Kafka started by kafka:start (no .kafka/state.json)');
      return;
    }
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerState;
    if (await brokerOfState(s)) {
      process.kill(s.pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      // A ref'd timer: this loop is all the CLI process is doing.
      while (isAlive(s.pid) && Date.now() < deadline) await new Promise<void>((r) => setTimeout(r, 200));
      if (isAlive(s.pid)) process.kill(s.pid, 'SIGKILL');
      console.log(`Kafka (pid ${s.pid}) stopped`);
    } else if (isAlive(s.pid)) {
      console.log(
        `Nothing answers at ${s.brokers}, so pid ${s.pid} is not the broker kafka:start recorded (a stale .kafka/state.json, e.g. from before a reboot): left running; state removed. ` +
          `If it is a hung broker, kill it yourself.`,
      );
    } else {
      console.log(`Kafka (pid ${s.pid}) was no longer running; state removed`);
    }
    rmSync(s.workDir, { recursive: true, force: true });
    rmSync(stateFile, { force: true });
    return;
  }
  console.error('usage: tsx scripts/kafka.ts start|stop   (env KAFKA_VERSION, KAFKA_CACHE_DIR, KAFKA_HEAP, JAVA_HOME)');
  process.exitCode = 2;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
