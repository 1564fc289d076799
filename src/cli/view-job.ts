/**
 * `agent-credit view`: the live page and `/metrics` of the whole fleet, fed by the Kafka job's
 * output topics instead of a job's own memory. A job's standings are the episodes it credited
 * itself since it started — each of several instances shows its own partitions' share, and a
 * restart starts them at zero (README, Limits). The view reads `sinks.kafka.topics` (episodes,
 * rewards, preferences) with `read_committed` from `--since` ago: every instance's events, only
 * committed ones, and the recent past after its own restart. It credits nothing and commits
 * nothing (a consumer group of its own, no offsets; deleted when it stops).
 *
 * Loaded lazily by the CLI, as the Kafka job is.
 */
import { hostname } from 'node:os';
import { DEFAULTS } from '../config/defaults.js';
import { ConfigError, FlagError } from '../config/errors.js';
import type { AppConfig } from '../config/schema.js';
import { EVENT_TYPES, isThisMajorVersion, SCHEMA_MAJOR, type CreditEvent } from '../events/schemas.js';
import { watchJobCredentialFiles } from '../http/job-credential-renewal.js';
import { resolveJobListeners } from '../http/listener-security.js';
import { startJobOutputs } from '../http/server-lifecycle.js';
import type { KafkaAdmin, KafkaClient, KafkaConsumer, TopicPartition } from '../kafka/client.js';
import { explainConnectionError, renewableKafkaTls, resolveKafkaConnection } from '../kafka/connection.js';
import { KafkajsClient } from '../kafka/index.js';
import { withAdmin } from '../kafka/with-admin.js';
import { tlsPreflight } from '../kafka/tls-preflight.js';
import { isSessionTimeoutRefusal, sessionTimeoutOutsideRange } from '../kafka/session-timeout.js';
import { isGroupAuthorizationRefusal, viewGroupAclMissing } from '../kafka/group-authorization.js';
import { noRestartAdvice } from '../kafka/refusal-error.js';
import { HealthServer } from '../runtime/health-server.js';
import { HealthState } from '../runtime/health.js';
import { problemLogger } from '../runtime/problem-logger.js';
import { LiveSink } from '../sinks/live/live-sink.js';
import { jobStandings } from '../sinks/standings/index.js';
import type { Logger } from '../telemetry/logger.js';
import { SelfTelemetry } from '../telemetry/self-metrics.js';

export interface ViewJobOptions {
  logger: Logger;
  /** How far back to start reading (ms before now, by record timestamp); `null` = each topic from its start. */
  sinceMs: number | null;
  /** Override for tests (another Kafka client behind the interface). */
  client?: KafkaClient;
  now?: () => number;
  /** Where the configuration set the live page's port, when it did (`configuredLivePort`): said in the start line. */
  livePortFrom?: string;
}

/**
 * Where `sinks.live.port` came from when the configuration set it to another port than the built-in
 * one — an `AGENT_CREDIT_*` variable, or the `-c` file (`origin` is the variable or flag that
 * overrode it, from the loaded configuration's origins) —; undefined for the built-in port or one
 * given by `--live-port`. `view -c` is most often given the Kafka job's own file, whose live port
 * is the job's: the page came up on a port the user did not ask for (or taken by the job on the
 * same host), and nothing said why. Pure.
 */
export function configuredLivePort(port: number, origin: string | undefined, file: string | undefined): string | undefined {
  if (port === DEFAULTS.sinks.live.port) return undefined;
  // an origin that is no variable is the flag (flagOverrides names it): the user's own choice
  const where = origin !== undefined ? (origin.startsWith('AGENT_CREDIT_') ? `${origin}=${port}` : undefined) : file !== undefined ? `sinks.live.port ${port} in ${file}` : undefined;
  if (where === undefined) return undefined;
  return `from the configuration: ${where} (built-in ${DEFAULTS.sinks.live.port}; --live-port sets another)`;
}

export interface ViewStats {
  /** Events read and put on the board. */
  events: number;
  /** Records that are no event of this major schema version (another producer on the topic, a future major version). */
  skipped: number;
  /** Partitions whose records up to the end offset they had at start have been read. */
  caughtUp: number;
  partitions: number;
}

export interface ViewJob {
  readonly liveUrl: string | undefined;
  readonly metricsUrl: string | undefined;
  readonly telemetry: SelfTelemetry;
  stats(): ViewStats;
  /** Resolves once every partition has been read up to where it ended when the view started. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `--since`: `30m`, `6h`, `2d`, `90s`, `500ms`, or `all` (null: each topic from its start). A
 * number without a unit is refused: it was read as ms, so `--since 600` (meant as seconds or
 * minutes) read the last 0.6 s and the board showed next to nothing, without a word.
 */
export function parseSince(v: string): number | null {
  const t = v.trim().toLowerCase();
  if (t === 'all') return null;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(t);
  if (!m) throw new FlagError([`--since: expected a duration such as 30m, 6h or 2d, or all — got ${JSON.stringify(v)}`]);
  if (m[2] === undefined) throw new FlagError([`--since: ${JSON.stringify(v)} has no unit; give one of ms, s, m, h, d (e.g. ${m[1]}s or ${m[1]}m), or all`]);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * Where the view starts reading, for its start-up line: the window in the largest unit that
 * writes it whole (6h, 90m, 2500ms) and the instant it starts at. The line said
 * "21600000 ms ago" for the default `--since 6h`, a number the user never typed.
 */
export function describeSince(sinceMs: number | null, fromMs: number | null): string {
  // a window reaching back to 1970 or before is read from each topic's start (startViewJob), and
  // past ±8.64e15 ms no Date can be made of it: toISOString threw once the view had started
  if (sinceMs === null || fromMs === null || fromMs <= 0) return 'the start of each topic';
  const units = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const;
  const [unit, size] = units.find(([, size]) => sinceMs > 0 && sinceMs % size === 0) ?? ['ms', 1];
  return `${sinceMs / size}${unit} ago (${new Date(fromMs).toISOString()})`;
}

/**
 * A record of an output topic as an event, or why it is not one. Events of a later minor version
 * carry fields this one does not know; the board reads only the fields it knows (README, Events:
 * versions), so they are taken as they are.
 */
export function outputEventOf(value: Uint8Array | null): CreditEvent | string {
  if (value === null) return 'empty record';
  let e: unknown;
  try {
    e = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof e !== 'object' || e === null) return 'not a JSON object';
  const o = e as { schema_version?: unknown; event_type?: unknown };
  if (!isThisMajorVersion(o.schema_version)) return `schema_version ${String(o.schema_version)} is not ${SCHEMA_MAJOR}.x`;
  if (typeof o.event_type !== 'string' || !EVENT_TYPES.has(o.event_type)) return `unknown event_type ${String(o.event_type)}`;
  const missing = missingBoardField(e as Record<string, unknown>, o.event_type);
  if (missing !== undefined) return `${o.event_type} without ${missing}`;
  return e as CreditEvent;
}

const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The first field the board (src/events/agent-board.ts) reads that `e` lacks or has of another
 * type, or undefined. A record that claims to be an event without them (a hand-written test
 * message, another producer) threw in the batch handler, which kafkajs retries for ever — the
 * partition stopped there — or put NaN into an agent's credit. Only these are checked: fields of a
 * later minor version, and the rest, are the events' own business.
 */
function missingBoardField(e: Record<string, unknown>, type: string): string | undefined {
  if (!isString(e.episode_id)) return 'episode_id';
  if (!Number.isInteger(e.episode_revision)) return 'episode_revision';
  if (!Array.isArray(e.trace_ids) || !e.trace_ids.every(isString)) return 'trace_ids';
  if (!isNumber(e.emitted_at_ms)) return 'emitted_at_ms';
  if (type === 'episode_credit') {
    if (!isString(e.outcome)) return 'outcome';
    if (!isNumber(e.system_value)) return 'system_value';
    if (!Array.isArray(e.agents) || !e.agents.every((a) => isObject(a) && isString(a.agent_id) && isString(a.agent_name) && isNumber(a.credit))) return 'agents (agent_id, agent_name, credit)';
    if (e.first_error != null && !(isObject(e.first_error) && (e.first_error.agent_id === undefined || isString(e.first_error.agent_id)))) return 'first_error.agent_id';
  } else if (type === 'message_reward') {
    if (!isString(e.step_id)) return 'step_id';
    if (!isString(e.agent_id) || !isString(e.agent_name)) return 'agent_id, agent_name';
    if (!isObject(e.components) || !isNumber(e.components.sabotage) || !isNumber(e.components.redundancy)) return 'components (sabotage, redundancy)';
  } else if (!isString(e.event_id)) return 'event_id';
  return undefined;
}

/** Where each partition of the topics starts: by timestamp, or the start of the log. */
async function startOffsets(admin: KafkaAdmin, topics: readonly string[], fromMs: number | null): Promise<Map<string, { start: string; end: string }>> {
  const out = new Map<string, { start: string; end: string }>();
  for (const topic of topics) {
    const ends = await admin.fetchEndOffsets(topic);
    const starts = fromMs === null || !admin.offsetsForTimestamp ? undefined : new Map((await admin.offsetsForTimestamp(topic, fromMs)).map((p) => [p.partition, p.offset]));
    for (const p of ends) out.set(`${topic}\u0000${p.partition}`, { start: starts?.get(p.partition) ?? p.low ?? '0', end: p.offset });
  }
  return out;
}

export async function startViewJob(config: AppConfig, options: ViewJobOptions): Promise<ViewJob> {
  const log = options.logger;
  const kafka = config.source.kafka;
  if (config.source.kind !== 'kafka' || !kafka) {
    throw new ConfigError(['source.kind: `view` reads the output topics of the Kafka job — use the job\'s configuration (source.kind: kafka, source.kafka.brokers: the cluster it publishes to)']);
  }
  if (!config.sinks.live.enabled && config.telemetry.metricsPort === null) {
    throw new ConfigError(['sinks.live.enabled: `view` serves the live page and /metrics — enable sinks.live, or set telemetry.metricsPort for /metrics alone']);
  }
  const connection = resolveKafkaConnection({ ssl: kafka.ssl, sasl: kafka.sasl });
  const security = resolveJobListeners(config);
  const now = options.now ?? Date.now;
  const topicsOf = config.sinks.kafka.topics;
  const topics = [topicsOf.episodes, topicsOf.rewards, topicsOf.preferences];

  // its agent gauges are the fleet's: labelled apart from the instances' (standings="job"), which Prometheus may scrape too
  const telemetry = new SelfTelemetry({ standings: 'view' });
  const health = new HealthState();
  health.register('kafka', 'joining');
  const standings = jobStandings(config.telemetry.maxAgents, telemetry);
  const fromMs = options.sinceMs === null ? null : now() - options.sinceMs;
  // telemetry posted to the page is logged as the jobs log it (the exporter's own log is often off)
  const sendTo = `the collector that writes the Kafka job's input topics (source.kafka.spansTopic "${kafka.spansTopic}"): \`view\` only shows the job's output`;
  const live = config.sinks.live.enabled
    ? new LiveSink({ ...config.sinks.live, health, telemetry, board: standings.board, security: security.live, scope: { kind: 'view', fromMs: fromMs === null || fromMs <= 0 ? null : fromMs }, sendTo, onProblem: problemLogger(log) })
    : undefined;
  const statusServer = config.telemetry.metricsPort !== null ? new HealthServer({ host: config.telemetry.metricsHost, port: config.telemetry.metricsPort, security: security.status }, health, telemetry) : undefined;
  const outputs = await startJobOutputs(live ? [standings, live] : [standings], statusServer);
  const renewal = watchJobCredentialFiles(security, [renewableKafkaTls({ ssl: kafka.ssl }, connection)], telemetry, log);

  const client = options.client ?? new KafkajsClient({ brokers: kafka.brokers, clientId: `${kafka.clientId}-view`, logger: log, ...connection });
  const groupId = `${kafka.groupId}.view.${hostname()}.${process.pid}.${now()}`;
  const stats: ViewStats = { events: 0, skipped: 0, caughtUp: 0, partitions: 0 };
  let consumer: KafkaConsumer | undefined;
  /** Set once a consumer is made: from then on there may be a group to delete. */
  let joining = false;
  let announceCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => (announceCaughtUp = r));
  const close = async () => {
    renewal.stop();
    await consumer?.disconnect().catch(() => undefined);
    // the group has no offsets and no members now: remove it rather than leave it listed. Only
    // when the consumer got to join one: a start that failed before (a broker out of reach) would
    // otherwise wait out a second round of connection retries before its error is shown.
    if (joining) {
      const admin = await client.admin().catch(() => undefined);
      await admin?.deleteGroups([groupId]).catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
    }
    for (const o of [...outputs].reverse()) await o.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
  };
  try {
    if (connection.ssl) await tlsPreflight(kafka.brokers, connection.ssl);
    const offsets = await withAdmin(client, async (admin) => {
      const missing = await admin.missingTopics(topics);
      if (missing.length > 0) {
        const keys = Object.entries(topicsOf).filter(([, t]) => missing.includes(t)).map(([k]) => `sinks.kafka.topics.${k}`);
        throw new ConfigError([`${keys.join(', ')}: ${missing.join(', ')} not on the cluster — name the topics the job publishes to (its sinks.kafka.topics), or start the job once (it creates them)`]);
      }
      // a window reaching before 1970 is all of it: negative timestamps are ListOffsets's special values (-1 the end)
      return startOffsets(admin, topics, fromMs === null || fromMs <= 0 ? null : fromMs);
    });
    // partitions with nothing to read up to their end at start are caught up already
    const pending = new Set([...offsets].filter(([, o]) => BigInt(o.start) < BigInt(o.end)).map(([k]) => k));
    stats.partitions = offsets.size;
    stats.caughtUp = offsets.size - pending.size;
    if (pending.size === 0) announceCaughtUp();

    joining = true;
    consumer = client.createConsumer({ groupId, isolation: 'read_committed', sessionTimeoutMs: kafka.sessionTimeoutMs, heartbeatIntervalMs: kafka.heartbeatIntervalMs, metadataMaxAgeMs: kafka.metadataMaxAgeMs });
    await consumer.connect();
    await consumer.subscribe(topics, { fromBeginning: true });
    const c = consumer;
    /** Per partition, the offset after the last record read: where a rejoin resumes. */
    const next = new Map<string, string>();
    /** The partition has been read up to `at` (exclusive). */
    const passed = (tp: TopicPartition, at: string): void => {
      const key = `${tp.topic}\u0000${tp.partition}`;
      next.set(key, at);
      const end = offsets.get(key)?.end;
      if (end !== undefined && pending.has(key) && BigInt(at) >= BigInt(end)) {
        pending.delete(key);
        stats.caughtUp++;
        if (pending.size === 0) {
          log.info({ events: stats.events, skipped: stats.skipped }, 'view: read the output topics up to where they ended at start — live from here');
          announceCaughtUp();
        }
      }
    };
    /** The last crash's error (joining again after it says so). */
    let lastCrash: string | undefined;
    await c.run({
      onAssignment: (assignment: readonly TopicPartition[]) => {
        // After a rejoin (the broker went away, a session timeout) kafkajs resumes from committed
        // offsets — none here — so each partition is placed where the view left it; starting it at
        // --since again would feed the board everything once more (beyond its de-duplication
        // memory: counted twice) and re-push it to the page.
        for (const tp of assignment) {
          const key = `${tp.topic}\u0000${tp.partition}`;
          const at = next.get(key) ?? offsets.get(key)?.start;
          if (at !== undefined) c.seek(tp, at);
        }
      },
      onState: (state, detail) => {
        if (state === 'joined') health.set('kafka', true, 'reading the output topics');
        // connected again after a crash kafkajs restarts from: the detail kept the crash's
        // connection error until the join completed, with the brokers back and answering
        else if (state === 'joining') health.set('kafka', false, lastCrash !== undefined ? `joining the group again after a crash (${lastCrash}): the brokers answer` : 'joining');
        else if (state === 'crashed') {
          lastCrash = detail?.error ?? 'unknown';
          // the brokers refused the session timeout: kafkajs's text named only their settings
          const setting = detail !== undefined && isSessionTimeoutRefusal(detail.error);
          if (setting) detail = { ...detail, error: `${detail!.error} — ${sessionTimeoutOutsideRange(kafka.sessionTimeoutMs)}` };
          // the brokers refuse the view's group to this principal: kafkajs's text named no ACL
          const acl = detail !== undefined && isGroupAuthorizationRefusal(detail.error);
          if (acl) detail = { ...detail, error: `${detail!.error} — ${viewGroupAclMissing(groupId, `${kafka.groupId}.view.`)}` };
          health.set('kafka', false, `consumer crashed: ${detail?.error ?? 'unknown'}${detail?.restart ? ' (restarting)' : ''}`);
          // not restarting (a non-retriable error, e.g. the group or topics no longer authorized):
          // the view would serve frozen standings while /healthz said ok — a restart is what helps,
          // unless the brokers refuse a setting or the group (then it fails the same way)
          if (detail?.restart === false && !health.live().reason) {
            const why = acl || setting ? noRestartAdvice(acl ? 'acl' : 'setting', 'error') : '/healthz fails so that the view is restarted';
            log.error({ error: detail.error }, `view: the consumer stopped for good — ${why}`);
            health.setFatal(`the Kafka consumer stopped for good: ${detail.error ?? 'unknown'}`);
          }
        }
        else if (state === 'rebalancing') health.set('kafka', false, 'rejoining');
      },
      onBatch: async (batch, control) => {
        const events: CreditEvent[] = [];
        for (const r of batch.records) {
          const e = outputEventOf(r.value);
          if (typeof e === 'string') stats.skipped++;
          else events.push(e);
        }
        stats.events += events.length;
        // the standings first (the live page's table reads the board), then the page's feed
        standings.publish(events);
        live?.publish(events);
        const last = batch.records.at(-1);
        if (last) {
          control.resolveOffset(last.offset);
          passed(batch, (BigInt(last.offset) + 1n).toString());
        }
      },
      // the job's exactly-once delivery ends each transaction in a marker no batch hands out
      onBatchEnd: (tp, at) => passed(tp, at),
    });
  } catch (err) {
    await close();
    throw err instanceof ConfigError ? err : explainConnectionError(err, 'source.kafka', connection);
  }
  const liveUrl = live?.address().url;
  const metricsUrl = statusServer ? `${statusServer.scheme()}://${config.telemetry.metricsHost}:${statusServer.port()}/metrics` : liveUrl ? `${liveUrl}/metrics` : undefined;
  log.info({ live: liveUrl, ...(liveUrl !== undefined && options.livePortFrom !== undefined ? { livePort: options.livePortFrom } : {}), metrics: metricsUrl, topics, since: describeSince(options.sinceMs, fromMs) }, 'agent-credit view: the fleet\'s credit from the output topics');
  let stopping: Promise<void> | undefined;
  return {
    liveUrl,
    metricsUrl,
    telemetry,
    stats: () => ({ ...stats }),
    caughtUp: () => caughtUp,
    stop: () => (stopping ??= close()),
  };
}
