/**
 * `agent-credit check`: what `run` would meet, without running — for wiring agent-credit to a
 * fleet. For a Kafka source: the connection (TLS/SASL), the input topics (exist, co-partitioned),
 * the consumer group's position and lag, the output topics. For OTLP/HTTP: the receivers' (HTTP,
 * and gRPC when enabled) and live page ports — bound as `run` binds them, with their TLS certificate (https) when `tls` is set,
 * after reading their TLS and token files (a bad one is a config error naming its key, as in `run`);
 * a port in use is probed in the scheme configured (https with TLS), saying what answers there.
 * Every failing line names the setting to change.
 *
 * Read-only: creates no topic and commits nothing; only `--sample` joins a consumer group (a
 * throwaway one, deleted afterwards), and with exactly-once delivery one throwaway transactional
 * id is claimed, no transaction begun (`transactionLine`).
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createListenerServer, resolveJobListeners, type ListenerSecurity } from '../http/listener-security.js';
import { CONFIG_SCHEMA_VERSION, type AppConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { CHECK_REPORT_VERSION, overallStatus, splitAdvice, type CheckEntry, type CheckName, type CheckReportDocument } from './check-report.js';
import { configAdvice } from '../config/advice.js';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../kafka/client.js';
import { recordKeyText, traceNotKeyed, unkeyedAdvice } from '../sources/kafka/unkeyed.js';
import { evaluationsFromLogs } from '../conventions/evaluations.js';
import { evaluationTimeWarning } from '../conventions/evaluation-time.js';
import type { Evaluation } from '../model/agents.js';
import { contentSpanHasText, contentSpansFromLogs, isContentEvent } from '../conventions/content-events.js';
import { factsOf } from '../conventions/steps.js';
import { decodeRecord, foreignPayload, type TelemetrySignal } from '../sources/kafka/record-decoder.js';
import { mismatchedPartitionCounts } from '../kafka/co-partitioned-assignment.js';
import { isSessionTimeoutRefusal, sessionTimeoutOutsideRange } from '../kafka/session-timeout.js';
import { groupAclMissing, isGroupAuthorizationRefusal } from '../kafka/group-authorization.js';
import { groupMembersLine } from '../kafka/group-members.js';
import { KafkaConnectionConfigError, explainConnectionError, resolveKafkaConnection, type KafkaConnectionOptions } from '../kafka/connection.js';
import { tlsPreflight } from '../kafka/tls-preflight.js';
import { describeUnreachable, noneAccepts, unreachableBootstrapBrokers, unreachableBrokersLine, type UnreachableBroker } from '../kafka/bootstrap-reach.js';
import { withTimeout } from '../runtime/with-timeout.js';
import { RECORD_OVERHEAD_BYTES, creationRefusals, neededMaxMessageBytes, outputTopicSpecs, refusedTopicCreations } from '../sinks/kafka/kafka-event-sink.js';
import { REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES, replayFilterMaxBytes, replayFilterRetentionProblem, replayFilterTopicSpec } from '../runtime/replay-filter-topic.js';
import { transactionTimeoutHint } from '../sinks/kafka/publish-errors.js';
import { loadValueFunction } from '../credit/games/module-game.js';
import { KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES, SHORT_REPLAY_FILTER_ADVICE, replayMetadataBudget } from '../runtime/watermark.js';

/**
 * A line's status. `info` states a fact that needs nothing (the group's lag, the delivery),
 * `skipped` that there was nothing to check (a receiver turned off, an empty topic): both are `·`
 * in the text; in the JSON document `info` is `ok`.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info' | 'skipped';

export interface CheckLine {
  readonly name: CheckName;
  readonly status: CheckStatus;
  /** The line as the text report prints it after its mark: what was found, and for a warning or failure its fix. */
  readonly text: string;
  /** The configuration key (or flag) the line is about, the one to change. */
  readonly setting?: string;
}

export interface CheckReport {
  readonly lines: readonly CheckLine[];
  /** True when no line failed (warnings allowed). */
  readonly ok: boolean;
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', info: '·', skipped: '·' };

export interface RenderOptions {
  /**
   * The flags check was given that `run` takes (`--port 4400`, `--config x.yaml`): the last line
   * names the run command they make. It said "`agent-credit run` … should start" after
   * `check --port 4400`, a run on the configuration's port 4318.
   */
  readonly runFlags?: readonly string[];
  /** All the flags check was given (`--sample` too): the command to run again when not ready. */
  readonly checkFlags?: readonly string[];
  /**
   * The `AGENT_CREDIT_*` variables that set the configuration, as shell assignments
   * (src/cli/run-environment.ts): both commands start with them — `run` needs the same environment.
   */
  readonly environment?: readonly string[];
  /** `--log-level`: lines below it are left out (✗ lines are kept at error and fatal, the last line at all but silent). */
  readonly level?: string;
}

/** The statuses a log level keeps: ✗ is what check is for, so fatal keeps it as error does. */
const KEPT: Readonly<Record<string, readonly CheckStatus[]>> = {
  silent: [],
  fatal: ['fail'],
  error: ['fail'],
  warn: ['fail', 'warn'],
};

/** The command the report ends on: the run command it vouches for, or the check to run again. */
function nextCommand(report: CheckReport, options: RenderOptions): string {
  const command = (name: string, flags: readonly string[] = []) => [...(options.environment ?? []), 'agent-credit', name, ...flags].join(' ');
  return report.ok ? command('run', options.runFlags) : command('check', options.checkFlags);
}

export function renderCheckReport(report: CheckReport, options: RenderOptions = {}): string {
  const kept = options.level === undefined ? undefined : KEPT[options.level];
  if (options.level === 'silent') return '';
  const lines = report.lines.filter((l) => kept === undefined || kept.includes(l.status)).map((l) => `${MARK[l.status]} ${l.text}`);
  lines.push(
    report.ok
      ? `ready: \`${nextCommand(report, options)}\` with this configuration should start`
      : `not ready: fix the ✗ lines (each names its setting) and run \`${nextCommand(report, options)}\` again`,
  );
  return lines.join('\n');
}

/** The entry of a line in the JSON document: its fix split off the text, `info` as ok. */
export function checkEntry(line: CheckLine): CheckEntry {
  const { detail, advice } = line.status === 'warn' || line.status === 'fail' ? splitAdvice(line.text) : { detail: line.text, advice: undefined };
  return { name: line.name, setting: line.setting ?? null, status: line.status === 'info' ? 'ok' : line.status, detail, advice: advice ?? null };
}

/**
 * The report as the JSON document (`check --format json`; schemas/check-report.schema.json): every
 * line whatever `level` says — a consumer filters by status —, and the command the text's last line names.
 */
export function checkReportDocument(report: CheckReport, options: RenderOptions & { agentCreditVersion: string }): CheckReportDocument {
  const checks = report.lines.map(checkEntry);
  return {
    report_version: CHECK_REPORT_VERSION,
    agent_credit_version: options.agentCreditVersion,
    config_schema_version: CONFIG_SCHEMA_VERSION,
    status: overallStatus(checks),
    ready: report.ok,
    command: nextCommand(report, options),
    checks,
  };
}

export interface CheckDeps {
  /** The Kafka client to check with (default: kafkajs with the configured TLS/SASL). */
  kafkaClient?: (config: NonNullable<AppConfig['source']['kafka']>) => Promise<KafkaClient>;
  /**
   * The bootstrap brokers that do not accept a connection (default: a TCP connection to each,
   * src/kafka/bootstrap-reach.ts — none tried when `kafkaClient` is given, whose brokers need not exist).
   */
  unreachableBrokers?: (brokers: readonly string[]) => Promise<UnreachableBroker[]>;
  /**
   * Also read a few records of each input topic (from the beginning, in a throwaway consumer
   * group that commits nothing) and decode them as `run` would: catches a wrong encoding or a
   * collector that writes something else. Default false.
   */
  sample?: boolean;
  /** Ms to wait for the sample records (default 20 000). */
  sampleTimeoutMs?: number;
  /** The environment `run` would start in (its OTEL_* variables; default process.env). */
  env?: NodeJS.ProcessEnv;
}

export async function runChecks(config: AppConfig, deps: CheckDeps = {}): Promise<CheckReport> {
  const lines: CheckLine[] = configAdvice(config).map((a) => ({ name: 'config', setting: a.key, status: 'warn', text: a.message }));
  // TLS and token files, read as `run` reads them: a bad one is a ConfigError (exit 2) naming its key
  const security = resolveJobListeners(config);
  if (config.source.kind === 'kafka') await checkKafka(config, lines, deps);
  else if (config.source.kind === 'otlp-http') {
    const { host, port } = config.source.http;
    lines.push(await portLine(host, port, listenerKeys('source.http'), 'OTLP/HTTP receiver', security.receiver));
    // bound with a node server as the HTTP one is: a port free to it is free to grpc-js; the security is source.http's
    const g = config.source.grpc;
    if (g.enabled) lines.push(await portLine(g.host, g.port, listenerKeys('source.grpc'), 'OTLP/gRPC receiver', security.receiver, '', true));
    else lines.push({ name: 'listener', setting: 'source.grpc.enabled', status: 'skipped', text: 'OTLP/gRPC receiver: off (source.grpc.enabled: false) — exporters must send OTLP/HTTP' });
    // `run` traces itself as the OTEL_* variables say and refuses an export into its own receiver:
    // OTEL_EXPORTER_OTLP_ENDPOINT exported for the app in this shell stopped `run` after check said "ready"
    const env = deps.env ?? process.env;
    const { selfTracingRequested, assertNoSelfLoop } = await import('../telemetry/self-tracing.js');
    if (selfTracingRequested(env)) {
      try {
        assertNoSelfLoop(env, config.source.http, g.enabled ? g : undefined);
      } catch (err) {
        // the problem alone: a ConfigError's message starts with its "invalid configuration" heading
        const problem = err instanceof ConfigError ? err.problems.join('; ') : err instanceof Error ? err.message : String(err);
        lines.push({ name: 'self_tracing', status: 'fail', text: `self-tracing: ${problem}` });
      }
    }
    // without this line the report read as if the input had been sampled and decoded
    if (deps.sample) lines.push({ name: 'kafka.sample', setting: 'source.kind', status: 'skipped', text: '--sample reads records of the Kafka input topics; source.kind is otlp-http: nothing to sample (set source.kind: kafka to sample the topics)' });
  } else {
    // `run` refuses it (exit 2): saying "ready: `agent-credit run` … should start" sent the operator to a run that stops at once
    lines.push({ name: 'source.kind', setting: 'source.kind', status: 'fail', text: 'source.kind: "file" is for `agent-credit replay` and `compare` (they read source.file.paths); `run` refuses it — set source.kind to otlp-http or kafka to run' });
  }
  if (config.source.kind !== 'file' && config.sinks.live.enabled) lines.push(await portLine(config.sinks.live.host, config.sinks.live.port, listenerKeys('sinks.live'), 'live page', security.live));
  const t = config.telemetry;
  if (config.source.kind !== 'file' && t.metricsPort !== null) {
    lines.push(await portLine(t.metricsHost, t.metricsPort, { host: 'telemetry.metricsHost', port: 'telemetry.metricsPort' }, 'status server (/metrics, /healthz, /readyz)', security.status, ' for /metrics'));
  }
  const game = await valueFunctionLine(config);
  if (game) lines.push(game);
  return { lines, ok: lines.every((l) => l.status !== 'fail') };
}

/**
 * The pluggable value function `run` would load at start: a module game is loaded (its top-level
 * code runs, as in `run`) and its export checked; an http judge's host is connected to (no request
 * is sent: a judge need not answer GET). The built-in provenance game needs nothing.
 */
async function valueFunctionLine(config: AppConfig): Promise<CheckLine | undefined> {
  const c = config.credit;
  if (c.game === 'module' && c.module) {
    try {
      await loadValueFunction(c.module.path, { exportName: c.module.exportName });
      return { name: 'value_function', setting: 'credit.module.path', status: 'ok', text: `module game: ${c.module.path} loads and exports ${c.module.exportName ?? 'value'}()` };
    } catch (err) {
      return { name: 'value_function', setting: /has no exported function/.test(String(err)) ? 'credit.module.exportName' : 'credit.module.path', status: 'fail', text: err instanceof Error ? err.message : String(err) };
    }
  }
  if (c.game === 'http' && c.judge) {
    const url = new URL(c.judge.url);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = connect({ host, port, timeout: 5_000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(Object.assign(new Error('no answer within 5 s'), { code: 'ETIMEDOUT' }));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    });
    if (!err) return { name: 'value_function', setting: 'credit.judge.url', status: 'ok', text: `http judge: ${host}:${port} accepts connections (credit.judge.url; no request sent)` };
    return { name: 'value_function', setting: 'credit.judge.url', status: 'fail', text: `http judge: cannot connect to ${host}:${port} (${err.code ?? err.message}) — check credit.judge.url, or start the judge` };
  }
  return undefined;
}

/** How the listener is secured, for the report: `https, client certificates required, bearer token required` (`scope`: where they are). */
function securityText(security: ListenerSecurity, scope = ''): string {
  const parts = [security.tls ? `https${security.tls.ca !== undefined ? `, client certificates required${scope}` : ''}` : 'http', security.auth ? `bearer token required${scope}` : 'no authentication'];
  return parts.join(', ');
}

const listenerKeys = (prefix: string) => ({ host: `${prefix}.host`, port: `${prefix}.port` });

/** `grpc`: the listener speaks OTLP/gRPC — an occupant is not asked over HTTP/1.1, and the failure says the receiver can be turned off. */
async function portLine(host: string, port: number, keys: { host: string; port: string }, what: string, security: ListenerSecurity = {}, scope = '', grpc = false): Promise<CheckLine> {
  const how = securityText(security, scope);
  // bound as run binds it: with TLS, the https server is created from the certificate and key read above
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = createListenerServer(security.tls, (_req, res) => res.end());
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    s.listen(port, host, () => s.close(() => resolve(undefined)));
  });
  if (!err) return { name: 'listener', setting: keys.port, status: 'ok', text: port === 0 ? `${what}: any free port on ${host} (${keys.port} 0; ${how})` : `${what}: ${host}:${port} is free to listen on (${how})` };
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EADDRNOTAVAIL') {
    // the host, not the port: as run says it (withListenHint)
    return { name: 'listener', setting: keys.host, status: 'fail', text: `${what}: cannot listen on ${host}:${port} (${err.code}) — set ${keys.host} to an address of this machine (127.0.0.1 for this machine only, 0.0.0.0 for every interface)` };
  }
  const answer = err.code === 'EADDRINUSE' && !grpc ? await whatAnswers(host, port, security) : undefined;
  const off = grpc ? '; or set source.grpc.enabled: false (--no-grpc) when your exporters send OTLP/HTTP only' : '';
  return { name: 'listener', setting: keys.port, status: 'fail', text: `${what}: cannot listen on ${host}:${port} (${err.code ?? err.message}) — change ${keys.port} (or ${keys.host}), or stop what uses it${answer ? ` (${answer})` : ''}${off}` };
}

/**
 * What answers on a port in use, asked in the configured scheme (https with TLS — a plain request
 * to a TLS listener only gets its connection closed — accepting any certificate: this names the
 * occupant, it does not trust it) with `GET /healthz`, which agent-credit's listeners answer (its
 * OTLP/HTTP receiver with a 404 whose Status names the OTLP paths).
 */
function whatAnswers(host: string, port: number, security: ListenerSecurity, timeoutMs = 2_000): Promise<string | undefined> {
  const scheme = security.tls ? 'https' : 'http';
  return new Promise((resolve) => {
    const options = { host, port, path: '/healthz', method: 'GET', timeout: timeoutMs, ...(security.tls ? { rejectUnauthorized: false } : {}) };
    const req = (security.tls ? httpsRequest : httpRequest)(options, (res) => {
      const server = res.headers.server ? `, Server: ${res.headers.server}` : '';
      const said = (who: string) => resolve(`an ${scheme} server answers there: GET /healthz → ${res.statusCode}${server}${who}`);
      if (res.statusCode !== 404) {
        res.resume();
        said(res.statusCode === 200 ? ' — an agent-credit already running?' : '');
        return;
      }
      // agent-credit's OTLP/HTTP receiver serves no /healthz: its 404 says so in an OTLP Status.
      // Without this, a second `run` beside the first read "GET /healthz → 404" on 4318 — as if not an agent-credit.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('error', () => said(''));
      res.on('end', () => said(/"message":"no OTLP endpoint at \/healthz/.test(body) ? ' (an agent-credit OTLP/HTTP receiver) — an agent-credit already running?' : ''));
    });
    // it read "no http answer there: no answer"
    req.on('timeout', () => {
      resolve(`something accepts connections there but sent no ${scheme} answer within ${timeoutMs / 1000} s — not an agent-credit, whose listeners answer GET /healthz`);
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const plain = security.tls && /wrong version number|packet length too long|EPROTO/i.test(`${e.message} ${e.code ?? ''}`);
      resolve(plain ? 'what answers there does not speak TLS' : `no ${scheme} answer there: ${e.code ?? e.message}`);
    });
    req.end();
  });
}

/** `1 span`, `2 spans`: the sample's counts are often 1 ("1 log records" read as a slip). */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Errors the Kafka client logged (kafkajs reports a consumer's failures there, not to the caller). */
type ErrorLog = string[];

async function defaultClient(kafka: NonNullable<AppConfig['source']['kafka']>, errors: ErrorLog, connection: KafkaConnectionOptions): Promise<KafkaClient> {
  const { KafkajsClient } = await import('../kafka/kafkajs-client.js');
  const note = (obj: object, msg?: string) => {
    const detail = (obj as { kafka?: { error?: unknown } }).kafka?.error;
    errors.push(`${msg ?? ''}${detail !== undefined ? `: ${String(detail)}` : ''}`);
  };
  const logger = { debug() {}, info() {}, warn: note, error: note };
  return new KafkajsClient({ brokers: kafka.brokers, clientId: `${kafka.clientId}-check`, connectionTimeoutMs: 5_000, requestTimeoutMs: 10_000, logger, ...connection });
}

async function checkKafka(config: AppConfig, lines: CheckLine[], deps: CheckDeps): Promise<void> {
  const kafka = config.source.kafka!;
  const sasl = kafka.sasl;
  // a command by its program only: its arguments may be secrets (as in oauthbearer.ts's errors)
  const who = sasl?.mechanism === 'oauthbearer' ? `with a token from ${sasl.tokenEndpoint ?? (sasl.tokenFile !== undefined ? sasl.tokenFile : `the command ${sasl.tokenCommand?.[0] ?? ''}`)}` : `as ${sasl?.username}`;
  const security = `${kafka.ssl === false ? 'plaintext' : 'TLS'}${sasl ? `, SASL ${sasl.mechanism} ${who}` : ''}`;
  let admin: KafkaAdmin;
  let client: KafkaClient;
  const errors: ErrorLog = [];
  let connection: KafkaConnectionOptions | undefined;
  // each bootstrap broker tried first (src/kafka/bootstrap-reach.ts): every one refusing now is the
  // answer now (kafkajs retried it ~14 s, as for a starting broker), and one wrong entry among good
  // ones went unnoticed ("connected to a,b"), as kafkajs needs one to answer
  const probe = deps.unreachableBrokers ?? (deps.kafkaClient ? undefined : unreachableBootstrapBrokers);
  const away: UnreachableBroker[] = probe ? await probe(kafka.brokers).catch(() => []) : [];
  if (noneAccepts(kafka.brokers, away)) {
    lines.push({ name: 'kafka.connection', setting: 'source.kafka.brokers', status: 'fail', text: `kafka: cannot connect to ${kafka.brokers.join(',')} (${security}): ${kafka.brokers.length === 1 ? 'no broker there accepts a connection' : 'no broker of these accepts a connection'} — ${describeUnreachable(away)} — check source.kafka.brokers (host:port of a listener this client can reach), or start the brokers` });
    return;
  }
  try {
    connection = deps.kafkaClient ? undefined : resolveKafkaConnection(kafka);
    if (connection?.ssl) await tlsPreflight(kafka.brokers, connection.ssl);
    client = deps.kafkaClient ? await deps.kafkaClient(kafka) : await defaultClient(kafka, errors, connection!);
    admin = await client.admin();
  } catch (err) {
    if (err instanceof KafkaConnectionConfigError) throw err; // a setting, not the cluster: exit 2 like any config error
    const explained = explainConnectionError(err, 'source.kafka', connection);
    const hint = explained === err ? ' — check source.kafka.brokers (host:port of a listener this client can reach)' : '';
    lines.push({ name: 'kafka.connection', setting: 'source.kafka.brokers', status: 'fail', text: `kafka: cannot connect to ${kafka.brokers.join(',')} (${security}): ${explained.message}${hint}` });
    return;
  }
  try {
    const inputs: { key: string; topic: string }[] = [
      { key: 'source.kafka.spansTopic', topic: kafka.spansTopic },
      ...(kafka.logsTopic ? [{ key: 'source.kafka.logsTopic', topic: kafka.logsTopic }] : []),
      ...(kafka.evaluationsTopic ? [{ key: 'source.kafka.evaluationsTopic', topic: kafka.evaluationsTopic }] : []),
    ];
    const missing = new Set(await admin.missingTopics(inputs.map((i) => i.topic)));
    const answered = kafka.brokers.filter((b) => !away.some((u) => u.broker === b));
    lines.push({ name: 'kafka.connection', setting: 'source.kafka.brokers', status: 'ok', text: `kafka: connected to ${(answered.length > 0 ? answered : kafka.brokers).join(',')} (${security})` });
    if (away.length > 0 && answered.length > 0) lines.push({ name: 'kafka.connection', setting: 'source.kafka.brokers', status: 'warn', text: unreachableBrokersLine(away) });
    const present = inputs.filter((i) => !missing.has(i.topic));
    const counts = present.length > 0 ? await admin.partitionCounts(present.map((i) => i.topic)) : new Map<string, number>();
    for (const i of inputs) {
      if (missing.has(i.topic)) lines.push({ name: 'kafka.input_topic', setting: i.key, status: 'fail', text: `${i.key}: topic "${i.topic}" does not exist (or this client may not Describe it) — create it or point ${i.key} at the topic your collector's kafka exporter writes` });
      else lines.push({ name: 'kafka.input_topic', setting: i.key, status: 'ok', text: `${i.key}: "${i.topic}", ${counts.get(i.topic) ?? '?'} partitions` });
    }
    const mismatch = mismatchedPartitionCounts(new Map(present.filter((i) => counts.has(i.topic)).map((i) => [i.topic, counts.get(i.topic)!])));
    if (mismatch.length > 0) {
      lines.push({ name: 'kafka.partition_counts', status: 'warn', text: `input topics have different partition counts (${mismatch.join(', ')}): a trace's spans and its evaluation may be read by different instances — give them the same count` });
    }
    if (present.length > 0) {
      const logged = errors.length;
      await groupLines(admin, kafka.groupId, kafka.fromBeginning, present.map((i) => i.topic), lines).catch((err: unknown) => {
        // the brokers refuse run's group to this principal: kafkajs says "Failed to find group
        // coordinator" (the refusal is only in its log), and check ended there naming neither the
        // group nor an ACL — run's consumer would crash for good at its first join
        if (!isGroupAuthorizationRefusal(`${err instanceof Error ? err.message : String(err)} ${errors.slice(logged).join(' ')}`)) throw err;
        lines.push({ name: 'kafka.group', setting: 'source.kafka.groupId', status: 'fail', text: groupAclMissing(kafka.groupId) });
      });
      // who else is in the group (a principal that may not Describe it: nothing said, run will tell)
      const members = await admin.groupMembers?.(kafka.groupId).catch(() => undefined);
      const shared = members && groupMembersLine(kafka.groupId, present.map((i) => i.topic), members);
      if (shared) lines.push({ name: 'kafka.group', setting: 'source.kafka.groupId', ...shared });
    }
    // what the brokers check at run's group join: outside their range it is refused, and run's
    // consumer crashed for good while check said ready (a client that may not read it skips this)
    const range = await admin.sessionTimeoutRange?.().catch(() => undefined);
    if (range !== undefined && (kafka.sessionTimeoutMs < range.min || kafka.sessionTimeoutMs > range.max)) {
      lines.push({ name: 'kafka.session_timeout', setting: 'source.kafka.sessionTimeoutMs', status: 'fail', text: sessionTimeoutOutsideRange(kafka.sessionTimeoutMs, range) });
    }
    if (deps.sample && present.length > 0) {
      const withData: (typeof present[number] & { partitions: number[]; held: Map<number, bigint> })[] = [];
      for (const i of present) {
        const ends = await admin.fetchEndOffsets(i.topic);
        // records still in the log: above the log start (retention may have emptied it)
        const held = ends.filter((e) => BigInt(e.offset) > BigInt(e.low ?? '0'));
        if (held.length > 0) withData.push({ ...i, partitions: ends.map((e) => e.partition), held: new Map(held.map((e) => [e.partition, BigInt(e.offset)])) });
        else lines.push({ name: 'kafka.sample', setting: i.key, status: 'skipped', text: `${i.key}: "${i.topic}" holds no records now: nothing to sample` });
      }
      if (withData.length > 0) await sampleLines(client, kafka, withData, lines, deps.sampleTimeoutMs ?? 20_000, errors, config.episodes.keyBy, range);
    }
    const outputs = Object.entries(config.sinks.kafka.topics).map(([name, topic]) => ({ key: `sinks.kafka.topics.${name}`, topic }));
    const missingOut = new Set(await admin.missingTopics(outputs.map((o) => o.topic)));
    // what `run` checks at start: each existing output topic takes records of sinks.kafka.maxRecordBytes
    const need = neededMaxMessageBytes(config.sinks.kafka);
    const limits = await admin.maxMessageBytes?.(outputs.filter((o) => !missingOut.has(o.topic)).map((o) => o.topic)).catch(() => undefined);
    // what `run` asks at start when it creates them: would the brokers? (ACLs, a topic policy or
    // their partition limit, a max.message.bytes they refuse — run stopped there while check said
    // "will be created"); a client that cannot ask, or an error that is no refusal, says nothing
    const refusals = config.sinks.kafka.createTopics && missingOut.size > 0
      ? await admin.validateTopics?.(outputTopicSpecs(config.sinks.kafka).filter((t) => missingOut.has(t.topic))).then(() => undefined, (err: unknown) => creationRefusals(err, config.sinks.kafka))
      : undefined;
    for (const o of outputs) {
      const max = limits?.get(o.topic);
      if (!missingOut.has(o.topic) && max !== undefined && max < need) {
        lines.push({ name: 'kafka.output_topic', setting: o.key, status: 'fail', text: `${o.key}: "${o.topic}" has max.message.bytes ${max}, below sinks.kafka.maxRecordBytes ${config.sinks.kafka.maxRecordBytes} + ${RECORD_OVERHEAD_BYTES} — lower sinks.kafka.maxRecordBytes or raise the topic's max.message.bytes to ${need}` });
      } else if (!missingOut.has(o.topic)) lines.push({ name: 'kafka.output_topic', setting: o.key, status: 'ok', text: `${o.key}: "${o.topic}" exists${max !== undefined ? ` (max.message.bytes ${max})` : ''}` });
      else if (refusals?.has(o.topic)) lines.push({ name: 'kafka.output_topic', setting: o.key, status: 'fail', text: refusals.get(o.topic)! });
      else if (config.sinks.kafka.createTopics) lines.push({ name: 'kafka.output_topic', setting: o.key, status: 'info', text: `${o.key}: "${o.topic}" will be created at start (${config.sinks.kafka.partitions} partitions; sinks.kafka.createTopics)` });
      else lines.push({ name: 'kafka.output_topic', setting: o.key, status: 'fail', text: `${o.key}: "${o.topic}" does not exist and sinks.kafka.createTopics is false — create it or set createTopics: true` });
    }
    lines.push(await replayFilterTopicLine(admin, config.sinks.kafka));
    // what run reads at start to size the replay filter (KafkaPipeline.sizeReplayMetadata)
    const metadataLimit = await admin.offsetMetadataMaxBytes?.().catch(() => undefined);
    const filter =
      metadataLimit === undefined
        ? ''
        : `; the brokers' offset.metadata.max.bytes is ${metadataLimit}: the replay filter that keeps a restart from publishing again takes up to ${replayMetadataBudget(metadataLimit)} bytes per input partition${metadataLimit < KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES ? ` — below Kafka's default 4096, ${SHORT_REPLAY_FILTER_ADVICE}` : ''}`;
    lines.push({
      name: 'kafka.delivery',
      setting: 'sinks.kafka.delivery',
      status: metadataLimit !== undefined && metadataLimit < KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES ? 'warn' : 'info',
      text: `delivery ${config.sinks.kafka.delivery}${config.sinks.kafka.delivery === 'exactly-once' ? ': read the output topics with isolation.level=read_committed' : ''}; compression ${config.sinks.kafka.compression}${filter}`,
    });
    if (config.sinks.kafka.delivery === 'exactly-once') lines.push(await transactionLine(client, kafka, errors, config.sinks.kafka.transactionTimeoutMs));
  } catch (err) {
    lines.push({ name: 'kafka.connection', setting: 'source.kafka.brokers', status: 'fail', text: `kafka (${kafka.brokers.join(',')}, ${security}): ${explainConnectionError(err, 'source.kafka', connection).message}` });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The side topic replay filters too long for the offset metadata are written to, as `run` prepares
 * it at start (src/runtime/replay-filter-topic.ts): found, or created with createTopics — would the
 * brokers? Never a failure: without it `run` starts and hashes such filters, as before (a warn line
 * says what that costs).
 */
async function replayFilterTopicLine(admin: KafkaAdmin, sink: AppConfig['sinks']['kafka']): Promise<CheckLine> {
  const setting = 'sinks.kafka.replayFilterTopic';
  const topic = sink.replayFilterTopic;
  const hashed = 'replay filters too long for the offset metadata are hashed, and a restart or rebalance with more than ~950 runs open on a partition publishes some episodes again';
  const line = (status: CheckLine['status'], text: string): CheckLine => ({ name: 'kafka.output_topic', setting, status, text });
  if (topic === null) return line('info', `${setting} is null: ${hashed}`);
  const missing = (await admin.missingTopics([topic])).length > 0;
  if (!missing) {
    const max = (await admin.maxMessageBytes?.([topic]).catch(() => undefined))?.get(topic);
    if (max !== undefined && replayFilterMaxBytes(max) <= 0) return line('warn', `${setting}: "${topic}" has max.message.bytes ${max}, too small for any filter: ${hashed} — raise it to ${REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES}`);
    const retention = replayFilterRetentionProblem(topic, (await admin.cleanupPolicies?.([topic]).catch(() => undefined))?.get(topic));
    if (retention !== undefined) return line('warn', `${setting}: ${retention}`);
    return line('ok', `${setting}: "${topic}" exists${max !== undefined ? ` (max.message.bytes ${max}: filters of up to ${replayFilterMaxBytes(max)} bytes)` : ''}`);
  }
  if (!sink.createTopics) return line('warn', `${setting}: "${topic}" does not exist and sinks.kafka.createTopics is false: ${hashed} — create it compacted (cleanup.policy=compact, max.message.bytes=${REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES}) or set ${setting} to null`);
  const refused = await admin.validateTopics?.([replayFilterTopicSpec(topic, sink.partitions)]).then(
    () => undefined,
    (err: unknown) => {
      // kafkajs's "Topic creation errors" carries a reason per topic
      const refused = refusedTopicCreations(err);
      if (refused === undefined) return err instanceof Error ? err.message : String(err);
      const mine = refused.find((e) => e.topic === topic);
      return mine === undefined ? undefined : `${mine.type ?? 'error'}: ${mine.message ?? 'no reason given'}`;
    },
  );
  if (refused !== undefined) return line('warn', `${setting}: the brokers would not create "${topic}" (${refused}): ${hashed} — grant this principal Create on it, or create it compacted yourself`);
  return line('info', `${setting}: "${topic}" will be created at start (compacted, ${sink.partitions} partitions; sinks.kafka.createTopics)`);
}

/**
 * Exactly-once: whether this principal may claim a transactional id as `run` names them,
 * `<groupId>-<input topic>-<partition>` (TransactionalId Describe and Write; IdempotentWrite on the
 * cluster for brokers before 2.8). Without them every partition's producer is refused at
 * assignment and run publishes nothing, while check said ready. The probe claims a throwaway id
 * under the same prefix, `<groupId>-<spans topic>-check-<random>` (no partition's id: claiming one
 * would fence a running instance's producer), and begins no transaction; the broker forgets the id
 * after its transactional.id.expiration.ms.
 */
async function transactionLine(client: KafkaClient, kafka: NonNullable<AppConfig['source']['kafka']>, errors: ErrorLog, transactionTimeoutMs: number): Promise<CheckLine> {
  const prefix = `${kafka.groupId}-${kafka.spansTopic}-`;
  // with run's transaction timeout: the broker checks it against its transaction.max.timeout.ms at this claim
  const producer = client.createTransactionalProducer({ transactionalId: `${prefix}check-${randomUUID().slice(0, 8)}`, transactionTimeoutMs });
  const logged = errors.length; // kafkajs names the refusal only in its log ('Failed to find group coordinator' thrown)
  try {
    await withTimeout(producer.connect(), 15_000, 'no transaction coordinator answered within 15 s');
    return { name: 'kafka.transactions', setting: 'sinks.kafka.delivery', status: 'ok', text: `exactly-once: this principal may claim transactional ids under "${prefix}" (run claims ${kafka.groupId}-<input topic>-<partition>), with a transaction timeout of ${transactionTimeoutMs} ms (sinks.kafka.transactionTimeoutMs)` };
  } catch (err) {
    const log = errors.slice(logged).filter((e) => e.trim() !== '');
    const text = `${err instanceof Error ? err.message : String(err)}${log.length > 0 ? ` (kafka: ${log.at(-1)})` : ''}`;
    // refused for its timeout: run's producers all are, whatever the ACLs (it read as a coordinator problem, a warning)
    const timeout = transactionTimeoutHint(err, transactionTimeoutMs);
    if (timeout !== undefined) return { name: 'kafka.transactions', setting: 'sinks.kafka.transactionTimeoutMs', status: 'fail', text: `exactly-once: run's transactional producers would publish nothing: ${timeout}` };
    const denied = /AUTHORIZATION_FAILED|not authorized|authorization failed/i.test(`${text} ${(err as { type?: unknown }).type ?? ''}`);
    return {
      name: 'kafka.transactions',
      setting: 'sinks.kafka.delivery',
      // refused: an ACL to grant; anything else (a timeout, no coordinator) may pass by itself
      status: denied ? 'fail' : 'warn',
      text: denied
        ? `exactly-once: the broker refused a transactional id under "${prefix}" (${text}) — run claims one per input partition (${kafka.groupId}-<input topic>-<partition>) and would publish nothing: grant this principal Describe and Write on TransactionalId resources with the prefix "${kafka.groupId}-" (and IdempotentWrite on the cluster for brokers before 2.8), or set sinks.kafka.delivery: at-least-once`
        : `exactly-once: claiming a transactional id under "${prefix}" failed (${text}) — run claims one per input partition and publishes nothing until it can: check that the brokers run the transaction coordinator (transaction.state.log.replication.factor and min.isr within the number of brokers), or set sinks.kafka.delivery: at-least-once`,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/**
 * The group's position: records behind on partitions with a committed offset (from there, or from
 * the log start if retention passed it), and what a partition without one will read.
 */
async function groupLines(admin: KafkaAdmin, groupId: string, fromBeginning: boolean, topics: readonly string[], lines: CheckLine[]): Promise<void> {
  const committed = new Map((await admin.fetchCommittedOffsets(groupId, topics)).filter((c) => BigInt(c.offset) >= 0n).map((c) => [`${c.topic}\u0000${c.partition}`, BigInt(c.offset)]));
  if (committed.size === 0) {
    const startsText = fromBeginning ? 'from their beginning' : 'only new records';
    lines.push({ name: 'kafka.group', setting: 'source.kafka.groupId', status: 'info', text: `source.kafka.groupId "${groupId}": no committed offsets yet — the first run reads the topics ${startsText} (source.kafka.fromBeginning ${fromBeginning})` });
    return;
  }
  let behind = 0n;
  let uncommitted = 0;
  let uncommittedRecords = 0n;
  let atEnd = 0;
  for (const topic of topics) {
    // a partition without a commit in a topic the group has committed on was added since (or its
    // offset expired): read from its beginning whatever fromBeginning says (KafkaPipeline placeUncommitted)
    const topicCommitted = [...committed.keys()].some((k) => k.startsWith(`${topic}\u0000`));
    for (const e of await admin.fetchEndOffsets(topic)) {
      const end = BigInt(e.offset);
      const low = BigInt(e.low ?? '0');
      const at = committed.get(`${topic}\u0000${e.partition}`);
      if (at === undefined) {
        if (!fromBeginning && !topicCommitted) {
          atEnd++;
          continue;
        }
        uncommitted++;
        if (end > low) uncommittedRecords += end - low;
      } else {
        const from = at > low ? at : low;
        if (end > from) behind += end - from;
      }
    }
  }
  const rest =
    (uncommitted === 0 ? '' : `; ${uncommitted} partition(s) without a commit, read from their beginning (${uncommittedRecords} record(s) there)`) +
    (atEnd === 0 ? '' : `; ${atEnd} partition(s) of topics the group has not committed on, started at their end (source.kafka.fromBeginning false)`);
  lines.push({ name: 'kafka.group', setting: 'source.kafka.groupId', status: 'info', text: `source.kafka.groupId "${groupId}": ${committed.size} partition(s) with committed offsets, ${behind} record(s) behind there${rest}` });
}

const SAMPLE_RECORDS = 5;

/** Deletes the sampling group (bounded: a check must not hang on it); false when it stays. */
async function deleteGroup(client: KafkaClient, groupId: string): Promise<boolean> {
  const attempt = (async () => {
    const admin = await client.admin();
    try {
      await admin.deleteGroups([groupId]);
    } finally {
      await admin.disconnect();
    }
  })();
  return withTimeout(attempt, 10_000, 'deleting the sampling group timed out').then(
    () => true,
    () => false,
  );
}

/** Which records a sample line speaks of: `partition 0, offsets 0–4`, or per partition when several. */
function sampleWhere(byPartition: readonly (readonly [number, readonly ConsumedRecord[]])[]): string {
  const span = (rs: readonly ConsumedRecord[]) => (rs.length === 1 ? `offset ${rs[0]!.offset}` : `offsets ${rs[0]!.offset}–${rs.at(-1)!.offset}`);
  if (byPartition.length === 1) return `partition ${byPartition[0]![0]}, ${span(byPartition[0]![1])}`;
  return `partitions ${byPartition.map(([p, rs]) => `${p} (${span(rs)})`).join(', ')}`;
}

/**
 * Reads the first records of every partition that holds some, of each topic, and reports how they
 * decode (see CheckDeps.sample). Every partition: it read only the first batch of a topic, one
 * partition's — a producer writing another encoding, or poison, on the other partitions went unseen.
 */
async function sampleLines(
  client: KafkaClient,
  kafka: NonNullable<AppConfig['source']['kafka']>,
  /** `held`: the partitions that hold records, each with its end (last stable) offset. */
  inputs: readonly { key: string; topic: string; partitions: readonly number[]; held: ReadonlyMap<number, bigint> }[],
  lines: CheckLine[],
  timeoutMs: number,
  errors: ErrorLog,
  keyBy: AppConfig['episodes']['keyBy'],
  sessionRange: { min: number; max: number } | undefined,
): Promise<void> {
  // per topic, per partition: its first records
  const samples = new Map<string, Map<number, ConsumedRecord[]>>();
  // partitions read to their end without a record delivered: under read_committed, aborted
  // transactions' records only (kafkajs moves past them without a batch); nothing to wait for
  const drained = new Map<string, Set<number>>();
  const sampledAll = (i: (typeof inputs)[number]): boolean => [...i.held.keys()].every((p) => samples.get(i.topic)?.has(p) === true || drained.get(i.topic)?.has(p) === true);
  const groupId = `${kafka.groupId}-check-${randomUUID().slice(0, 8)}`;
  // read as run reads (source.kafka.isolationLevel): under read_committed, the default, an aborted
  // transaction's records were sampled — and reported as poison run would dead-letter — though run never sees them
  // and joins with run's session timeout: the brokers accept a join only within their
  // group.min/max.session.timeout.ms, and a fixed 10 s was refused where run's was not (brokers
  // with a minimum of 15 s: "holds records but none could be read", blaming an ACL) or taken where run's is refused
  const consumer = client.createConsumer({ groupId, sessionTimeoutMs: kafka.sessionTimeoutMs, heartbeatIntervalMs: kafka.heartbeatIntervalMs, maxWaitMs: 200, isolation: kafka.isolationLevel });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const timer = setTimeout(resolveDone, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe(inputs.map((i) => i.topic), { fromBeginning: true });
    await consumer.run({
      onAssignment: () => {},
      onBatch: async (batch) => {
        let topic = samples.get(batch.topic);
        if (topic === undefined) samples.set(batch.topic, (topic = new Map()));
        if (!topic.has(batch.partition) && batch.records.length > 0) {
          topic.set(batch.partition, batch.records.slice(0, SAMPLE_RECORDS));
          // nothing resolves offsets here, so a sampled partition would be fetched again and again,
          // crowding out the others in each fetch: stop fetching it
          consumer.pause([{ topic: batch.topic, partition: batch.partition }]);
        }
        if (inputs.every(sampledAll)) resolveDone();
      },
      onBatchEnd: ({ topic, partition }, nextOffset) => {
        const input = inputs.find((i) => i.topic === topic);
        const high = input?.held.get(partition);
        if (input === undefined || high === undefined || BigInt(nextOffset) < high || samples.get(topic)?.has(partition) === true) return;
        let set = drained.get(topic);
        if (set === undefined) drained.set(topic, (set = new Set()));
        set.add(partition);
        if (inputs.every(sampledAll)) resolveDone();
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    // the sampling group has served its purpose: do not leave it listed on the cluster
    if (!(await deleteGroup(client, groupId))) {
      lines.push({ name: 'kafka.sample', status: 'info', text: `the sampling consumer group ${groupId} could not be deleted (no DELETE permission on it?); it holds no offsets and expires by itself` });
    }
  }
  for (const i of inputs) {
    const byPartition = [...(samples.get(i.topic) ?? new Map<number, ConsumedRecord[]>())].sort(([a], [b]) => a - b);
    const records = byPartition.length === 0 ? undefined : byPartition.flatMap(([, rs]) => rs);
    if (!records && [...i.held.keys()].every((p) => drained.get(i.topic)?.has(p) === true)) {
      lines.push({ name: 'kafka.sample', setting: i.key, status: 'skipped', text: `${i.key}: "${i.topic}" holds no committed records (aborted transactions' only, which run skips too): nothing to sample` });
      continue;
    }
    if (!records) {
      // The topic holds records, so not reading one is a failure: typically an ACL (Read on the
      // topic, or on the consumer group) — kafkajs reports such errors only in its log.
      const last = errors.filter((e) => e.trim() !== '').at(-1);
      // the brokers refused the join's session timeout (run's: run meets the same), not an ACL
      const why = isSessionTimeoutRefusal(last) ? sessionTimeoutOutsideRange(kafka.sessionTimeoutMs, sessionRange) : `check that this principal may Read the topic and use consumer groups (here the throwaway group "${groupId}"; run uses source.kafka.groupId)`;
      lines.push({
        name: 'kafka.sample',
        setting: i.key,
        status: 'fail',
        text: `${i.key}: "${i.topic}" holds records but none could be read within ${timeoutMs / 1000} s${last ? ` (kafka: ${last})` : ''} — ${why}`,
      });
      continue;
    }
    const signal: TelemetrySignal = i.topic === kafka.spansTopic ? 'traces' : i.topic === kafka.evaluationsTopic ? 'evaluations' : 'logs';
    const setting = signal === 'traces' ? kafka.spansEncoding : kafka.logsEncoding;
    const where = sampleWhere(byPartition);
    const unread = [...i.held.keys()].filter((p) => !byPartition.some(([q]) => q === p));
    if (unread.length > 0) {
      // records there, none delivered: read to the end (aborted transactions' only), or none within the time (a transaction still open, a slow fetch)
      const ended = unread.filter((p) => drained.get(i.topic)?.has(p) === true);
      const waiting = unread.filter((p) => !ended.includes(p));
      const parts = (ps: readonly number[]) => `${ps.length === 1 ? 'partition' : 'partitions'} ${ps.join(', ')}`;
      const said = [
        ...(ended.length > 0 ? [`${parts(ended)} of "${i.topic}" ${ended.length === 1 ? 'holds' : 'hold'} no committed record (aborted transactions' only, which run skips too)`] : []),
        ...(waiting.length > 0 ? [`${parts(waiting)} of "${i.topic}" gave no record within ${timeoutMs / 1000} s (a transaction still open there holds back read_committed readers, run too)`] : []),
      ];
      lines.push({ name: 'kafka.sample', setting: i.key, status: 'info', text: `${i.key}: ${said.join('; ')}; the other partitions were sampled` });
    }
    const decoded = records.map((r) => ({ r, d: decodeRecord(r, signal, setting, { encodingHint: false }) }));
    const bad = decoded.find((x) => !x.d.ok);
    const badCount = decoded.filter((x) => !x.d.ok).length;
    if (bad && !bad.d.ok && badCount === decoded.length) {
      // none decodes: the setting (or the topic) is wrong — say which encoding they are in, if either
      const encodingKey = signal === 'traces' ? 'source.kafka.spansEncoding' : 'source.kafka.logsEncoding';
      const other = setting === 'otlp_proto' ? 'otlp_json' : setting === 'otlp_json' ? 'otlp_proto' : undefined;
      const asOther = other && signal !== 'evaluations' && decoded.every((x) => decodeRecord(x.r, signal, other).ok) ? ` (they decode as ${other})` : '';
      // the evaluation-record reason already names the schema file: do not name it twice
      // another signal's OTLP, Jaeger, Zipkin, raw: the reason names the exporter's setting, and no value of ours reads them
      const foreign = signal !== 'evaluations' && bad.r.value !== null && foreignPayload(bad.r.value, signal) !== undefined;
      const fix =
        signal === 'evaluations'
          ? `the topic should hold evaluation records${bad.d.reason.includes('evaluation-record.schema.json') ? '' : ' (schemas/evaluation-record.schema.json)'}`
          : foreign
            ? `or point ${i.key} at a topic the exporter writes OTLP ${signal} to`
            : `set ${encodingKey} (now ${setting}) to the exporter's encoding (otlp_proto or otlp_json)${asOther}, or point ${i.key} at the topic it writes`;
      lines.push({ name: 'kafka.sample', setting: signal !== 'evaluations' && !foreign ? encodingKey : i.key, status: 'fail', text: `${i.key}: the record at offset ${bad.r.offset} (partition ${bad.r.partition}) does not decode: ${bad.d.reason} — ${fix}` });
      continue;
    }
    if (bad && !bad.d.ok) {
      // some decode: the setting is right and these few are poison, which run dead-letters and passes
      lines.push({
        name: 'kafka.sample',
        setting: i.key,
        status: 'warn',
        text: `${i.key}: ${badCount} of ${decoded.length} sample record(s) (${where}) do not decode — offset ${bad.r.offset}: ${bad.d.reason}; run sends such records to the dead-letter topic (sinks.kafka.topics.dlq) and goes on`,
      });
    }
    let detail = '';
    let sampled: readonly Evaluation[] = [];
    if (signal === 'traces') {
      const spans = decoded.flatMap((x) => (x.d.ok && x.d.signal === 'traces' ? x.d.spans : []));
      const byConvention = new Map<string, number>();
      for (const s of spans) {
        const c = factsOf(s).convention;
        byConvention.set(c, (byConvention.get(c) ?? 0) + 1);
      }
      detail = `${count(spans.length, 'span')}; conventions: ${[...byConvention].map(([c, n]) => `${c} ${n}`).join(', ')}`;
      if (spans.length > 0 && (byConvention.get('unknown') ?? 0) === spans.length) {
        lines.push({ name: 'kafka.sample', setting: i.key, status: 'warn', text: `${i.key}: ${records.length} sample record(s) (${where}) decode, but none of their ${spans.length} spans follows the GenAI, OpenInference or OpenLLMetry conventions or the Vercel AI SDK's telemetry: no agent steps will be found in them` });
        continue;
      }
    } else if (signal === 'logs') {
      const logs = decoded.flatMap((x) => (x.d.ok && x.d.signal === 'logs' ? x.d.logs : []));
      sampled = evaluationsFromLogs(logs);
      const evaluations = sampled.length;
      const contents = logs.filter(isContentEvent).length;
      const read = contentSpansFromLogs(logs);
      const withText = read.filter(contentSpanHasText).length;
      detail = `${count(logs.length, 'log record')}, ${count(evaluations, 'evaluation')}, ${count(contents, 'GenAI message-content event')} (${withText} with message text)`;
      if (contents > 0 && withText === 0) {
        // capture off (the instrumentations' default), or every one unsampled: nothing to read
        lines.push({
          name: 'kafka.sample',
          setting: i.key,
          status: 'warn',
          text: `${i.key}: the ${contents} GenAI message-content event(s) in the sample (${where}) carry no message text${read.length === 0 ? ' (or name unsampled spans)' : ''}: only tool-call names and ids are read from them — set OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true in the instrumented apps for text (C8 text passed on, duplicate detection)`,
        });
      }
      if (logs.length > 0 && evaluations === 0) {
        const seen = contents > 0 ? ` (${contents} are GenAI message-content events, read as the messages of their LLM spans; a sample may hold no verdict by chance)` : '';
        lines.push({ name: 'kafka.sample', setting: i.key, status: 'warn', text: `${i.key}: ${records.length} sample record(s) (${where}) decode, but none of their ${logs.length} log records is a gen_ai.evaluation.result event${seen}: episodes get evaluations only from those (or from evaluator spans, an evaluations topic, a root score attribute)` });
        continue;
      }
    } else {
      sampled = decoded.flatMap((x) => (x.d.ok && x.d.signal === 'evaluations' ? x.d.evaluations : []));
      detail = `${sampled.length} evaluations`;
    }
    // as run warns when it reads them (src/conventions/evaluation-time.ts): said before the job runs
    const mistimed = sampled.flatMap((e) => evaluationTimeWarning(e) ?? []);
    if (mistimed.length > 0) {
      lines.push({ name: 'kafka.sample', setting: i.key, status: 'warn', text: `${i.key}: ${mistimed.length} of the ${sampled.length} evaluation(s) in the sample (${where}) — ${mistimed[0]!.message}` });
    }
    if (keyBy === 'trace' && signal !== 'evaluations') {
      // as run warns (once per topic): the exporter's partition_*_by_id settings are off by default
      for (const x of decoded) {
        if (!x.d.ok || x.d.signal === 'evaluations') continue;
        const key = recordKeyText(x.r);
        const traceId = traceNotKeyed(key, x.d.signal === 'traces' ? x.d.spans : x.d.logs);
        if (traceId === undefined) continue;
        const one = i.partitions.length === 1 ? ` (harmless while "${i.topic}" has 1 partition)` : '';
        lines.push({ name: 'kafka.sample', setting: i.key, status: 'warn', text: `${i.key}: ${unkeyedAdvice(i.topic, signal === 'logs', key, traceId)}${one}` });
        break;
      }
    }
    const encodings = [...new Set(decoded.flatMap((x) => (!x.d.ok ? [] : 'encoding' in x.d ? [x.d.encoding] : ['json'])))].join(', ');
    lines.push({ name: 'kafka.sample', setting: i.key, status: 'ok', text: `${i.key}: ${decoded.length - badCount} sample record(s) (${where}) decode as ${encodings} (${detail})` });
  }
}
