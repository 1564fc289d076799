/**
 * The agent-credit configuration: one YAML file + `AGENT_CREDIT_*` environment overrides,
 * validated by this schema (see ./defaults.ts for every default, ./env.ts for the override
 * names, deploy/agent-credit.yaml for a documented example).
 *
 * Sections own their own objects: source, episodes, conventions, evaluation, credit, sinks,
 * telemetry, runtime. Stage options
 * (episodes, credit, kafka source/sink topics) come from the stages' own schemas.
 */
import { z } from 'zod';
import { KafkaCompressionSchema, KafkaSinkTopicsSchema } from '../sinks/kafka/config.js';
import { KafkaSaslSchema, KafkaTlsSchema } from '../kafka/connection.js';
import { KafkaTopicNameSchema } from '../kafka/topic-name.js';
import { KafkaSourceConfigSchema } from '../sources/kafka/config.js';
import { ListenerAuthSchema } from '../http/bearer-auth.js';
import { ListenerTlsSchema } from '../http/listener-tls.js';
import { DEFAULTS, MAX_CREDIT_WORKER_HEAP_MB, MAX_TIMER_MS, MIN_CREDIT_WORKER_HEAP_MB } from './defaults.js';
import { ConventionsOptionsSchema, CreditOptionsSchema, EpisodesOptionsSchema } from './stage-options.js';

const Port = z.number().int().min(0).max(65_535);
const Host = z.string().min(1);

export const SourceKindSchema = z.enum(['otlp-http', 'kafka', 'file']);
export type SourceKind = z.infer<typeof SourceKindSchema>;

/** Embedded OTLP/HTTP receiver (`POST /v1/traces`, `POST /v1/logs`). */
const HttpSourceSchema = z.strictObject({
  host: Host.default(DEFAULTS.source.http.host).describe('interface to listen on; 0.0.0.0 to accept remote exporters'),
  port: Port.default(DEFAULTS.source.http.port).describe('OTLP/HTTP port (4318 is the OTLP default); 0 = any free port'),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(DEFAULTS.source.http.maxBodyBytes)
    .describe('largest request body accepted, after gzip decompression (bytes); larger → 413'),
  // Security of the listener (src/http/listener-tls.ts, bearer-auth.ts), as the collector's otlp receiver + bearertokenauth.
  tls: ListenerTlsSchema.optional().describe('serve https: certFile and keyFile (PEM), clientCaFile for mutual TLS; unset = plain http'),
  auth: ListenerAuthSchema.optional().describe('require Authorization: Bearer <token> on every request (401 otherwise): token (best from AGENT_CREDIT_SOURCE_HTTP_AUTH_TOKEN) or tokenFile; unset = none'),
});

/**
 * Embedded OTLP/gRPC receiver (TraceService/Export, LogsService/Export) beside the HTTP one, with
 * the same handler; its security and message size limit are source.http's (one receiver, two
 * transports), so it is never open while OTLP/HTTP is protected.
 */
const GrpcSourceSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.source.grpc.enabled).describe('also receive OTLP/gRPC (the default protocol of Python\'s opentelemetry-instrument); false = OTLP/HTTP only'),
  host: Host.default(DEFAULTS.source.grpc.host).describe('interface to listen on; 0.0.0.0 to accept remote exporters'),
  port: Port.default(DEFAULTS.source.grpc.port).describe('OTLP/gRPC port (4317 is the OTLP default); 0 = any free port. TLS, bearer token and message size limit are source.http\'s'),
});

/** Kafka source: the collector's kafka exporter topics. Field schema from src/sources/kafka. */
const KafkaSourceSectionSchema = KafkaSourceConfigSchema.extend({
  clientId: z.string().min(1).default(DEFAULTS.source.kafka.clientId).describe('kafka client id'),
  // Connection settings of the whole job (consumer, producers, admin): src/kafka/connection.ts.
  ssl: KafkaTlsSchema.default(DEFAULTS.source.kafka.ssl),
  sasl: KafkaSaslSchema.optional(),
});

/**
 * What is wrong with one bootstrap broker, or undefined. kafkajs splits it at its last ':' and
 * connects: `localhost` (no port), `PLAINTEXT://host:9092` or `http://host:9092` (a scheme, as in
 * the brokers' own listener settings) and `host:99999` passed the config and then failed — in
 * `check`, and at every kafkajs retry of `run` — with "Failed to connect: Port should be >= 0 and
 * < 65536. Received type number (NaN).", naming neither the setting nor the fix.
 */
function brokerProblem(broker: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+._-]*):\/\//i.exec(broker);
  if (scheme) return `a broker is host:port, without ${scheme[1]}:// (the scheme of a listener setting): write ${broker.slice(scheme[0].length).replace(/\/.*$/, '') || 'localhost:9092'}`;
  const port = /:(\d+)$/.exec(broker)?.[1];
  if (port === undefined) return `a broker is host:port and "${broker}" has no port: write e.g. ${broker.endsWith(':') ? `${broker}9092` : `${broker}:9092`} (9092 is Kafka's default)`;
  if (Number(port) < 1 || Number(port) > 65_535) return `a broker's port is 1–65535, got ${port} in "${broker}"`;
  return undefined;
}

/** Replay source: OTLP files or directories (collector kafka record dumps included). */
const FileSourceSchema = z.strictObject({
  paths: z.array(z.string().min(1)).default([]),
});

const SourceSchema = z
  .strictObject({
    kind: SourceKindSchema.default(DEFAULTS.source.kind),
    http: HttpSourceSchema.default(() => HttpSourceSchema.parse({})),
    grpc: GrpcSourceSchema.default(() => GrpcSourceSchema.parse({})),
    kafka: KafkaSourceSectionSchema.optional(),
    file: FileSourceSchema.default(() => FileSourceSchema.parse({})),
  })
  .superRefine((s, ctx) => {
    if (s.kind === 'kafka' && !s.kafka) {
      ctx.addIssue({ code: 'custom', path: ['kafka'], message: 'source.kind is kafka: set source.kafka.brokers (e.g. [localhost:9092])' });
    }
    for (const [i, broker] of (s.kafka?.brokers ?? []).entries()) {
      const problem = brokerProblem(broker);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['kafka', 'brokers', i], message: problem });
    }
    // A topic's records are decoded as the one signal its key names (spans first): with one topic
    // for two keys, the other signal's records failed to decode, every one to the dead-letter topic.
    const k = s.kafka;
    // kafkajs refuses the consumer when it would not heartbeat within the session: `check` said
    // ready and `run` (or `view`) stopped at the group join with kafkajs's "Consumer
    // heartbeatInterval (30000) must be lower than sessionTimeout (30000)", naming neither key.
    if (k && k.heartbeatIntervalMs >= k.sessionTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'heartbeatIntervalMs'],
        message: `expected a number below source.kafka.sessionTimeoutMs ${k.sessionTimeoutMs} (the Kafka client refuses a consumer that would not heartbeat within its session: about a third of it is usual, ${Math.max(100, Math.floor(k.sessionTimeoutMs / 3))}; or raise sessionTimeoutMs)`,
      });
    }
    // kafkajs heartbeats between fetches, and a fetch of idle partitions waits maxWaitMs: at or
    // above the session the brokers dropped the member at every idle fetch ("The coordinator is not
    // aware of this member, re-joining the group"), each rebalance dropping the open episodes to
    // rebuild them from the committed offsets (on the broker: 3 rebalances in 40 s of idle topics).
    if (k && k.maxWaitMs >= k.sessionTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'maxWaitMs'],
        message: `expected a number below source.kafka.sessionTimeoutMs ${k.sessionTimeoutMs} (the consumer does not heartbeat while a fetch of idle partitions waits this long: the brokers drop it from the group, which rebalances over and over; the default is 1000)`,
      });
    }
    if (k) {
      const keys = [
        ['spansTopic', k.spansTopic],
        ['logsTopic', k.logsTopic],
        ['evaluationsTopic', k.evaluationsTopic],
      ] as const;
      for (const [i, [key, topic]] of keys.entries()) {
        const first = keys.find(([, t], j) => j < i && t !== null && t === topic);
        if (topic === null || !first) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['kafka', key],
          message: `"${topic}" is also source.kafka.${first[0]}: each input topic carries one signal (its records are decoded as ${first[0] === 'spansTopic' ? 'OTLP spans' : 'OTLP logs'}) — ${key === 'evaluationsTopic' ? 'give the evaluation records a topic of their own' : "give the collector's kafka exporter a topic per signal (traces.topic and logs.topic; in versions with a single topic setting, one exporter per pipeline, each with its own topic) and name each here, or set source.kafka.logsTopic to null"}`,
        });
      }
    }
  });

const StdoutSinkSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.sinks.stdout.enabled).describe('one CreditEvent per line on stdout'),
  /** Only these event types; empty = all. */
  eventTypes: z.array(z.enum(['episode_credit', 'message_reward', 'preference_pair'])).default([]),
});

const LiveSinkSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.sinks.live.enabled),
  host: Host.default(DEFAULTS.sinks.live.host),
  port: Port.default(DEFAULTS.sinks.live.port).describe('live page, /events (SSE), /api/recent, /api/agents (JSON), /metrics, /healthz, /readyz'),
  /** Recent events kept for new page visitors (ring buffer). */
  bufferEvents: z.number().int().min(1).max(100_000).default(DEFAULTS.sinks.live.bufferEvents),
  /** Concurrent SSE clients; more are refused with 503. */
  maxClients: z.number().int().min(1).max(10_000).default(DEFAULTS.sinks.live.maxClients),
  tls: ListenerTlsSchema.optional().describe('serve the live page over https: certFile and keyFile (PEM), clientCaFile for mutual TLS; unset = plain http'),
  auth: ListenerAuthSchema.optional().describe(
    'require a bearer token for /, /events, /api/recent, /api/agents and /metrics (/healthz and /readyz stay open for probes): token (best from AGENT_CREDIT_SINKS_LIVE_AUTH_TOKEN) or tokenFile; a browser opens /?token=<token> once and gets an HttpOnly SameSite=Strict cookie; unset = none',
  ),
});

/** Output topics of the Kafka runtime (kafka source only: it always publishes there, in the same transaction as its offsets). */
export const KafkaSinkSectionSchema = z.strictObject({
  topics: KafkaSinkTopicsSchema.default(() => KafkaSinkTopicsSchema.parse({})),
  delivery: z.enum(['exactly-once', 'at-least-once']).default(DEFAULTS.sinks.kafka.delivery),
  partitions: z.number().int().min(1).default(DEFAULTS.sinks.kafka.partitions),
  createTopics: z.boolean().default(DEFAULTS.sinks.kafka.createTopics),
  /** Largest event record published; larger events go to the DLQ as a description (never a stalled partition). */
  maxRecordBytes: z.number().int().min(1024).default(DEFAULTS.sinks.kafka.maxRecordBytes),
  compression: KafkaCompressionSchema.default(DEFAULTS.sinks.kafka.compression),
  transactionTimeoutMs: z
    .number()
    .int()
    .min(1_000)
    .max(2_147_483_647)
    .default(DEFAULTS.sinks.kafka.transactionTimeoutMs)
    .describe("exactly-once: the producers' transaction timeout (ms; a transaction a killed instance left open is aborted after it) — at most the brokers' transaction.max.timeout.ms, or every producer is refused"),
  replayFilterTopic: KafkaTopicNameSchema.nullable()
    .default(DEFAULTS.sinks.kafka.replayFilterTopic)
    .describe(
      "compacted topic a partition's replay filter is written to when the open runs' ids do not fit the offset commit's metadata (~115 under the brokers' default offset.metadata.max.bytes): the commit points at it, so a restart or rebalance skips exactly the episodes already published; created at start with createTopics. null = never (the filter is then hashed, and past ~950 open runs on a partition a restart publishes some episodes again)",
    ),
});

const SinksSchema = z.strictObject({
  stdout: StdoutSinkSchema.default(() => StdoutSinkSchema.parse({})),
  live: LiveSinkSchema.default(() => LiveSinkSchema.parse({})),
  kafka: KafkaSinkSectionSchema.default(() => KafkaSinkSectionSchema.parse({})),
});

const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const TelemetrySchema = z.strictObject({
  logLevel: LogLevelSchema.default(DEFAULTS.telemetry.logLevel).describe('pino level; logs go to stderr'),
  logFormat: z
    .enum(['json', 'pretty'])
    .default(DEFAULTS.telemetry.logFormat)
    .describe('json: one JSON object per line (for log shippers); pretty: time, level, message and fields on one readable line (for a terminal)'),
  /** Port of a separate /metrics + /healthz + /readyz server; null = served by the live page server. */
  metricsPort: Port.nullable().default(DEFAULTS.telemetry.metricsPort),
  metricsHost: Host.default(DEFAULTS.telemetry.metricsHost),
  maxAgents: z
    .number()
    .int()
    .positive()
    .default(DEFAULTS.telemetry.maxAgents)
    .describe(
      "agents the fleet's standings keep: the live page's agent table and one set of agent_credit_agent_* series per agent on /metrics; past it the least recently credited agent is dropped (counted in agent_credit_agents_dropped_total) — raise it for a fleet of more agents, at 15 series each",
    ),
  // Security of the status server (src/runtime/health-server.ts); only with metricsPort (else /metrics is the live page's: sinks.live.tls / auth).
  metricsTls: ListenerTlsSchema.extend({
    clientCaFile: z
      .string()
      .min(1)
      .optional()
      .describe('PEM file of the CA(s) that sign client certificates: set = /metrics answers only a connection that presented a certificate signed by one (the handshake asks without requiring it, so /healthz and /readyz still answer probes)'),
  })
    .optional()
    .describe(
    'serve the status server (telemetry.metricsPort) over https: certFile and keyFile (PEM); clientCaFile = /metrics needs a client certificate signed by it (/healthz and /readyz answer without one, for probes); unset = plain http',
  ),
  metricsAuth: ListenerAuthSchema.optional().describe(
    'require a bearer token for /metrics on the status server (telemetry.metricsPort; /healthz and /readyz stay open for probes): token (best from AGENT_CREDIT_TELEMETRY_METRICS_AUTH_TOKEN) or tokenFile — Prometheus sends it with authorization.credentials_file; unset = none',
  ),
}).superRefine((t, ctx) => {
  // Without a status server there is nothing for them to secure: silently ignoring them would leave /metrics open where the operator thinks it is closed.
  for (const key of ['metricsTls', 'metricsAuth'] as const) {
    if (t[key] !== undefined && t.metricsPort === null) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `only with telemetry.metricsPort (the separate status server): metricsPort is null, so /metrics is served by the live page — secure it there with sinks.live.${key === 'metricsTls' ? 'tls' : 'auth'}, or set telemetry.metricsPort`,
      });
    }
  }
});

const RuntimeSchema = z.strictObject({
  /** Closed episodes waiting for credit before the receiver answers 503 (retryable). */
  creditQueueMax: z.number().int().min(1).default(DEFAULTS.runtime.creditQueueMax),
  /**
   * Bytes of those episodes (their spans, as the assembler estimates them: Episode.bytes) at which
   * the queue is full too: a count alone let 256 large runs (up to episodes.maxBytesPerEpisode each)
   * pile up in the heap while credit fell behind.
   */
  creditQueueMaxBytes: z.number().int().min(1).default(DEFAULTS.runtime.creditQueueMaxBytes),
  creditConcurrency: z.number().int().min(1).max(64).default(DEFAULTS.runtime.creditConcurrency),
  /**
   * Worker threads that run credit (src/runtime/credit-workers): 0 = in the main thread, `auto` =
   * cores − 1. Credit is CPU bound; workers let it use the other cores while the main thread
   * ingests and publishes. Each worker builds its own game (an http judge cache per worker).
   * With workers, at least 16 episodes per worker are credited at once (creditConcurrency is raised).
   */
  creditWorkers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default(DEFAULTS.runtime.creditWorkers),
  /**
   * MB of JS heap (V8's old generation, `resourceLimits.maxOldGenerationSizeMb`) each credit worker
   * may use; 0 = V8's default. A worker that reaches it is stopped and replaced, and the episode it
   * was crediting fails, counted as a value-function failure for a judge or module game. Without a
   * limit a value function that leaks grew the whole process until the OOM killer ended the job.
   * At least MIN_CREDIT_WORKER_HEAP_MB: below ~20 MB no worker could even start (each ran out of
   * memory as it loaded, retried every 5 s), and nothing said the limit was the cause.
   */
  creditWorkerMaxHeapMb: z
    .union([z.literal(0), z.number().int().min(MIN_CREDIT_WORKER_HEAP_MB).max(MAX_CREDIT_WORKER_HEAP_MB)])
    .default(DEFAULTS.runtime.creditWorkerMaxHeapMb),
  /** Ms between assembler ticks (close-policy timers). At most MAX_TIMER_MS, as creditTimeoutMs. */
  tickIntervalMs: z.number().int().min(10).max(MAX_TIMER_MS).default(DEFAULTS.runtime.tickIntervalMs),
  /**
   * Ms one episode's credit may take before it is reported as failed. At most MAX_TIMER_MS (≈ 24.8
   * days), the longest Node.js timer: 3000000000 fired after 1 ms, and every episode with an async
   * value function failed "timed out after 3000000000 ms".
   */
  creditTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).default(DEFAULTS.runtime.creditTimeoutMs),
  /** Kafka source: ms publishing may fail without a break before /readyz says not ready. */
  readinessPublishFailureMs: z.number().int().min(0).default(DEFAULTS.runtime.readinessPublishFailureMs),
  /**
   * Kafka source: ms without any progress (no record processed, nothing published) while there is
   * lag before /healthz fails (an orchestrator restarts the job); 0 = never for lack of progress.
   */
  livenessStallMs: z.number().int().min(0).default(DEFAULTS.runtime.livenessStallMs),
});

/** Which evaluation is the episode's system score (passed to processEpisode). */
const EvaluationSelectionSchema = z.strictObject({
  /** Evaluation name to use, e.g. task_success (also the only one whose arrival closes an episode at once); unset = the first name that scored the run (its latest evaluation of that name), so a later tone score does not replace the task verdict. */
  name: z.string().min(1).optional(),
  /** Root-span attribute carrying a system score, e.g. agent_credit.score; unset = none. */
  rootScoreAttribute: z.string().min(1).optional(),
});

/**
 * Version of the configuration file's JSON Schema (schemas/agent-credit-config.schema.json),
 * versioned apart from the events: 1.1.0 added `credit.estimator: svarm`, 1.2.0
 * `sinks.kafka.compression` and `source.kafka.ssl` / `sasl`, 1.3.0 `source.kafka.isolationLevel`,
 * 1.4.0 `source.kafka.sasl.mechanism: oauthbearer` and its token settings, 1.5.0
 * `credit.estimator: tree-msr`, 1.6.0 `credit.criticWeight`, `credit.module.players`, `credit.prefixValues` and `source.kafka.brokers` as one comma-separated string, 1.7.0
 * `episodes.awaitEvaluationMs` and `evaluationsArrivingMs`, 1.8.0 `episodes.correctionWindowMs`
 * (all additive: every 1.0.0 file is still valid); 1.8.1 closes every section of the JSON Schema
 * (`additionalProperties: false`) as the loader always did — no file the loader accepts is refused;
 * 1.8.2 states `credit.labelScores`'s default as the decoding table (passed, failed, successful added);
 * 1.9.0 adds `credit.judge.maxResponseBytes` (a judge URL with user:password@, which fetch never
 * accepted, is now refused when the file is read);
 * 1.10.0 adds `source.kafka.metadataMaxAgeMs`, `runtime.readinessPublishFailureMs` and `runtime.livenessStallMs`.
 * 1.11.0 adds `episodes.maxPendingContentEvents` and `episodes.maxPendingContentBytes` (GenAI content events waiting for their trace's spans).
 * 1.12.0 adds `source.http.tls` / `auth` and `sinks.live.tls` / `auth` (https, mutual TLS, bearer tokens on the receiver and the live page).
 * 1.13.0 adds `telemetry.metricsTls` / `metricsAuth` (the same for the separate status server).
 * 1.14.0 adds `conventions.agentScope` (agent ids scoped by resource attributes, e.g. service.name)
 * and closes the entries of `credit.normalization` (`{min, max}`) as the loader now does: an
 * unknown key there (`clamp: false`) was dropped without a word.
 * 1.15.0 adds `credit.estimator: unbiased-kernel` (Covert & Lee's unbiased KernelSHAP); 1.16.0
 * `credit.treeMsrFit` (`in-sample`, the default, or `cross-fitted`); 1.16.1 states the larger
 * default of `credit.labelScores` (the labels of Phoenix and DeepEval evaluators: factual,
 * hallucinated, toxic, non-toxic, relevant, unrelated, ...); 1.17.0 adds
 * `credit.normalization.<name>.higherIsBetter` (false: a score where lower is better, e.g. DeepEval
 * hallucination — before, such a score could not be stated: a reversed range was refused).
 * 1.18.0 adds `conventions.aiSdkAgentAttributes` (the span attributes that name a Vercel AI SDK call's agent).
 * 1.19.0 adds `source.grpc` (`enabled`, `host`, `port`: the OTLP/gRPC receiver, on by default at 127.0.0.1:4317).
 * 1.20.0 adds `sinks.kafka.transactionTimeoutMs` (the exactly-once producers' transaction timeout,
 * fixed at 60 000 before: a broker whose `transaction.max.timeout.ms` is lower refused them all).
 * 1.21.0 adds `telemetry.maxAgents` (the agents the standings keep: fixed at 1 000 before).
 * 1.22.0 adds `runtime.creditQueueMaxBytes` (the credit queue is full at this many bytes of closed
 * episodes too, not only at `creditQueueMax` of them).
 * 1.22.1 states the maximum of `runtime.creditTimeoutMs` and `runtime.tickIntervalMs`, 2147483647
 * (the longest Node.js timer: a larger value fired after 1 ms; the loader now refuses it).
 * 1.22.2 states the same maximum of `credit.timeoutMs`, `credit.judge.timeoutMs`/`backoffMs`/
 * `maxBackoffMs` and `source.kafka.metadataMaxAgeMs`/`sessionTimeoutMs`/`heartbeatIntervalMs`/
 * `maxWaitMs` (a judge timeout above it aborted every call after 1 ms).
 * 1.22.3 states the default of `credit.judge.timeoutMs`, 4000 (was 10000, as `credit.timeoutMs`:
 * the episode's deadline always fired first, so a judge call that hung was never retried).
 * 1.23.0 adds `telemetry.logFormat` (`json`, the default, or `pretty`: readable lines for a terminal).
 * 1.24.0 adds `runtime.creditWorkerMaxHeapMb` (each credit worker's heap limit, 1024 MB by default:
 * a leaking value function grew the whole process until the OOM killer ended the job).
 * 1.24.1 states the minimum of `runtime.creditWorkerMaxHeapMb`, 64 (0 still means V8's default):
 * 1 to ~20 MB let no credit worker start (each ran out of memory as it loaded, retried every 5 s).
 * 1.25.0 adds `sinks.kafka.replayFilterTopic` (the compacted topic a replay filter that does not fit
 * the offset metadata is written to; before, it was hashed — false positives past ~115 open runs on
 * a partition, "replay everything" past ~9,500: episodes published again after a restart).
 */
export const CONFIG_SCHEMA_VERSION = '1.25.0';

export const AppConfigSchema = z.strictObject({
  source: SourceSchema.default(() => SourceSchema.parse({})),
  // prefault: a missing section is parsed as {} so the stage's own defaults apply.
  episodes: EpisodesOptionsSchema.prefault({}),
  conventions: ConventionsOptionsSchema.prefault({}),
  evaluation: EvaluationSelectionSchema.default(() => ({})),
  credit: CreditOptionsSchema.prefault({}),
  sinks: SinksSchema.default(() => SinksSchema.parse({})),
  telemetry: TelemetrySchema.default(() => TelemetrySchema.parse({})),
  runtime: RuntimeSchema.default(() => RuntimeSchema.parse({})),
}).superRefine((c, ctx) => {
  // An output topic read as input: the job's events failed to decode as OTLP and went to the
  // dead-letter topic — and with the dead-letter topic an input, each undecodable record was
  // written back to the topic it came from, read again and dead-lettered again, for ever.
  const k = c.source.kind === 'kafka' ? c.source.kafka : undefined;
  if (!k) return;
  const inputs = new Map<string, string>();
  for (const [key, topic] of [['evaluationsTopic', k.evaluationsTopic], ['logsTopic', k.logsTopic], ['spansTopic', k.spansTopic]] as const) if (topic !== null) inputs.set(topic, key);
  for (const [name, topic] of Object.entries(c.sinks.kafka.topics)) {
    const input = inputs.get(topic);
    if (input === undefined) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['sinks', 'kafka', 'topics', name],
      message: `"${topic}" is also source.kafka.${input}: the job would read what it writes there${name === 'dlq' ? ' (an undecodable record dead-lettered back into its own topic, read and dead-lettered again without end)' : ' (its events are not OTLP: each would go to the dead-letter topic)'} — give the output a topic of its own`,
    });
  }
});
export type AppConfig = z.infer<typeof AppConfigSchema>;
export type AppConfigInput = z.input<typeof AppConfigSchema>;
