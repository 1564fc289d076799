/**
 * `agent-credit run` with `source.kind: kafka`: the Kafka runtime (src/runtime/kafka-pipeline.ts)
 * with the configured assembler and credit, plus the status server and live page. Loaded
 * lazily by the CLI so the otlp-http path never loads kafkajs.
 */
import { explainConnectionError, renewableKafkaTls, resolveKafkaConnection } from '../kafka/connection.js';
import { tlsPreflight } from '../kafka/tls-preflight.js';
import { describeUnreachable, noneAccepts, unreachableBootstrapBrokers, unreachableBrokersLine } from '../kafka/bootstrap-reach.js';
import type { AppConfig } from '../config/schema.js';
import { startJobOutputs } from '../http/server-lifecycle.js';
import { resolveJobListeners } from '../http/listener-security.js';
import { watchJobCredentialFiles } from '../http/job-credential-renewal.js';
import { EpisodeAssembler } from '../episodes/index.js';
import { KafkajsClient } from '../kafka/index.js';
import { kafkajsFastPathsReport } from '../kafka/kafkajs-fast-paths.js';
import { KafkaRefusalError, noRestartAdvice } from '../kafka/refusal-error.js';
import { KafkaPipeline, type KafkaPipelineConfigInput, type KafkaPipelineHealth } from '../runtime/kafka-pipeline.js';
import { HealthServer } from '../runtime/health-server.js';
import { HealthState } from '../runtime/health.js';
import { problemLogger } from '../runtime/problem-logger.js';
import { correctionReporter } from '../runtime/episode-log.js';
import { assemblerHooksOf, buildLocalStages, type ProcessEpisodeFn } from '../runtime/local-stages.js';
import { jobStandings } from '../sinks/standings/index.js';
import { LiveSink } from '../sinks/live/live-sink.js';
import { StdoutSink } from '../sinks/stdout/stdout-sink.js';
import type { EventSink } from '../sinks/types.js';
import type { CreditedEvents } from '../events/credited-events.js';
import type { Episode } from '../model/episode.js';
import type { Logger } from '../telemetry/logger.js';
import { creditStatusOf, ReplacedAssemblerObservations, SelfTelemetry } from '../telemetry/self-metrics.js';

export interface KafkaJob {
  readonly liveUrl: string | undefined;
  /**
   * Settles (never rejects) once the consumer stopped for good on what a restart cannot fix — a
   * setting the brokers refuse, an ACL this principal lacks — with the error naming the fix: `run`
   * then stops the job and exits with code 2. Pending while the job runs.
   */
  readonly failed: Promise<KafkaRefusalError>;
  stop(): Promise<void>;
}

/** The error for a consumer stopped for good on a refusal (health().refused), naming the fix. */
function refusalError(refused: NonNullable<KafkaPipelineHealth['refused']>): KafkaRefusalError {
  const what = refused.what === 'acl' ? 'the brokers refuse this principal the consumer group' : 'the brokers refuse a setting';
  return new KafkaRefusalError(`the Kafka consumer stopped for good: ${what}, and a restart fails the same way until ${refused.what === 'acl' ? 'the ACL is granted' : 'the setting is changed'}: ${refused.reason}`, refused.what);
}

/**
 * The Kafka runtime's settings from the job's configuration. The transactional ids
 * (`<prefix>-<topic>-<partition>`, exactly-once) are prefixed with the consumer group id: they
 * must be unique per group, and two deployments reading the same input topics in different
 * groups (a second job with its own output topics, a blue/green switch to a new group) claimed
 * the same ids under the fixed default and fenced each other's producers at every transaction —
 * each taking it for its own fence and rejoining its group (seen on the broker: 5 rejoins, each
 * a session timeout without publishing, in 80 s of light input). With the default group id
 * (`agent-credit`) the ids are what they were.
 */
export function kafkaPipelineConfigOf(
  config: AppConfig,
  sourceConfig: KafkaPipelineConfigInput['source'] & { groupId: string },
  stages: { readonly creditConcurrency: number; readonly creditTimeoutMs: number },
): KafkaPipelineConfigInput {
  return {
    source: sourceConfig,
    sink: { topics: config.sinks.kafka.topics, partitions: config.sinks.kafka.partitions, createTopics: config.sinks.kafka.createTopics, maxRecordBytes: config.sinks.kafka.maxRecordBytes, compression: config.sinks.kafka.compression, transactionTimeoutMs: config.sinks.kafka.transactionTimeoutMs, replayFilterTopic: config.sinks.kafka.replayFilterTopic },
    delivery: config.sinks.kafka.delivery,
    transactionalIdPrefix: sourceConfig.groupId,
    creditQueueMax: config.runtime.creditQueueMax,
    creditQueueMaxBytes: config.runtime.creditQueueMaxBytes,
    creditConcurrency: stages.creditConcurrency,
    creditTimeoutMs: stages.creditTimeoutMs,
    tickIntervalMs: config.runtime.tickIntervalMs,
    readinessPublishFailureMs: config.runtime.readinessPublishFailureMs,
    livenessStallMs: config.runtime.livenessStallMs,
  };
}

/** The job's sinks (stdout, standings, live page) all take the events as facts and JSON. */
type CreditedSink = EventSink & Required<Pick<EventSink, 'publishCredited'>>;

/**
 * What the Kafka runtime calls per closed episode (its `processEpisode`): credit, the job's metrics,
 * the correction log, then the local sinks (stdout, standings, live page), which see the events
 * before the commit. The events as facts and JSON (src/events/credited-events.ts): with credit
 * workers the event objects never reach this thread; the sinks, metrics and correction log read
 * only those.
 *
 * A computation that ends after `stages.creditTimeoutMs` has already failed for the runtime (it
 * sent the episode to the DLQ at the timeout, src/runtime/kafka-pipeline.ts, and cannot cancel it):
 * it is counted as a credit failure and its events go to no local sink — published there, the
 * standings, the live page and stdout showed credit the output topics never got, and
 * `episodes_credited_total` counted an episode `credit_failures_total` did not.
 */
export function jobProcessEpisode(
  stages: { readonly creditTimeoutMs: number; creditEpisode(episode: Episode): Promise<CreditedEvents>; skippedReasonOf?(episode: Episode): string | undefined },
  sinks: readonly CreditedSink[],
  telemetry: SelfTelemetry,
  logger: Logger,
  closedAtWallMs: (episode: Episode) => number | undefined = () => undefined,
): (episode: Episode) => Promise<CreditedEvents> {
  const reportCorrection = correctionReporter(logger);
  return async (episode: Episode): Promise<CreditedEvents> => {
    telemetry.episodesClosed.add(1, { reason: episode.closeReason });
    const t0 = performance.now();
    let credited: CreditedEvents;
    try {
      credited = await stages.creditEpisode(episode);
      const ms = performance.now() - t0;
      if (ms > stages.creditTimeoutMs) throw new Error(`processEpisode ended after ${Math.round(ms)} ms, past runtime.creditTimeoutMs (${stages.creditTimeoutMs} ms): the episode went to the DLQ at the timeout`);
    } catch (err) {
      telemetry.creditFailures.add(1);
      throw err; // the runtime sends the episode to the DLQ
    }
    const events = credited.facts;
    // From close, as the description and the local runtime have it, on the wall clock: the
    // pipeline's (closedAtWallMs) — the job's assembler stamps closedAtMs on a clock that leaves
    // out the time ingestion was held for backpressure. Measured from t0 it left out the wait in
    // the credit queue (runtime.creditConcurrency), so a credit backlog never showed in the latency.
    telemetry.creditLatency.record(Math.max(0, Date.now() - (closedAtWallMs(episode) ?? episode.closedAtMs)) / 1000);
    if (events.length === 0) telemetry.episodesWithoutCredit.add(1, { reason: stages.skippedReasonOf?.(episode) ?? 'other' });
    else telemetry.episodesCredited.add(1, creditStatusOf(events));
    reportCorrection(episode, events);
    for (const s of sinks) {
      await s.publishCredited(credited, { episode });
      for (const e of events) telemetry.eventsPublished.add(1, { sink: s.name, event_type: e.event_type });
    }
    return credited;
  };
}

export async function startKafkaJob(config: AppConfig, logger: Logger, processEpisodeOverride?: ProcessEpisodeFn): Promise<KafkaJob> {
  const kafka = config.source.kafka;
  if (!kafka) throw new Error('source.kafka: required when source.kind is kafka (set source.kafka.brokers)');
  const { clientId, ssl, sasl, ...sourceConfig } = kafka;
  // PEM files are read now: a wrong path fails here, naming its key.
  const connection = resolveKafkaConnection({ ssl, sasl });
  const security = resolveJobListeners(config);
  // SASL without ssl is warned of with the other advice (src/config/advice.ts: run logs it, check shows it)

  const telemetry = new SelfTelemetry();
  const health = new HealthState();
  health.register('kafka', 'joining the consumer group');
  const stages = await buildLocalStages(config, undefined, processEpisodeOverride, logger);

  // Local sinks see the same events the Kafka sink publishes (before the commit).
  const sinks: CreditedSink[] = [];
  if (config.sinks.stdout.enabled) sinks.push(new StdoutSink({ eventTypes: config.sinks.stdout.eventTypes }));
  // the fleet's standings: the live page's agent table and the per-agent gauges and counters on /metrics
  const standings = jobStandings(config.telemetry.maxAgents, telemetry);
  sinks.push(standings);
  let live: LiveSink | undefined;
  // telemetry posted to the live page is logged as the receiver job logs it: the exporter's own log
  // is often off, and a Kafka job said nothing of an exporter sending it to its page
  const sendTo = `the collector that writes this job's input topics (source.kafka.spansTopic "${kafka.spansTopic}"${kafka.logsTopic ? `, logsTopic "${kafka.logsTopic}"` : ''}${kafka.evaluationsTopic ? `; evaluation records to evaluationsTopic "${kafka.evaluationsTopic}"` : ''}): a Kafka job has no OTLP receiver`;
  if (config.sinks.live.enabled) sinks.push((live = new LiveSink({ ...config.sinks.live, health, telemetry, board: standings.board, security: security.live, sendTo, onProblem: problemLogger(logger) })));
  const statusServer = config.telemetry.metricsPort !== null ? new HealthServer({ host: config.telemetry.metricsHost, port: config.telemetry.metricsPort, security: security.status }, health, telemetry) : undefined;
  try {
    await startJobOutputs(sinks, statusServer);
  } catch (err) {
    // a taken port (the error names the setting; what started is closed again): free the rest
    await stages.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    throw err;
  }

  // where Prometheus and the probes find /metrics, as the OTLP/HTTP job and `view` say it: with
  // telemetry.metricsPort the status server's (its own port — 0 picks a free one no other line named)
  const liveUrl = live?.address().url;
  const metrics = statusServer ? `${statusServer.scheme()}://${config.telemetry.metricsHost}:${statusServer.port()}/metrics` : liveUrl ? `${liveUrl}/metrics` : undefined;

  const processEpisode = jobProcessEpisode(stages, sinks, telemetry, logger, (episode) => pipeline.closedAtWallMs(episode));
  // The runtime makes a fresh assembler after every group join: metrics read the current one's
  // gauges, and its totals with those of the ones it replaced (no counter falls at a rebalance).
  const assembler = new ReplacedAssemblerObservations(stages.assembler);
  const client = new KafkajsClient({ brokers: kafka.brokers, clientId, logger, ...connection });
  const pipeline = new KafkaPipeline(
    kafkaPipelineConfigOf(config, sourceConfig, stages),
    {
      client,
      createAssembler: (clock) => assembler.replace(new EpisodeAssembler(config.episodes, clock, assemblerHooksOf(config))),
      processEpisode,
      evaluationsFromLogs: stages.evaluationsFromLogs,
      logger,
      // the page and the probes answer from here on (/readyz 503 "joining the consumer group"), and
      // the join can take a session timeout after an unclean stop: with port 0 nothing else named
      // their ports until the start line that follows the join
      joiningLineFields: { live: liveUrl, metrics },
    },
  );
  if (stages.gameStats) telemetry.observe(stages.gameStats);
  if (stages.workerStats) telemetry.observe(stages.workerStats);
  telemetry.observe(() => {
    const k = pipeline.stats();
    return {
      consumerLag: k.lag,
      creditQueueDepth: k.queueDepth,
      ...assembler.read(),
      kafkaRecordsIn: k.recordsIn,
      kafkaSpansIn: k.spansIn,
      kafkaLogRecordsIn: k.logsIn,
      kafkaDecodeErrors: k.decodeErrors,
      kafkaEventsPublished: k.recordsPublished,
      kafkaEpisodesClosed: k.episodesClosed,
      kafkaDlqRecords: k.dlqOut,
      kafkaCreditFailures: k.creditFailures,
      kafkaCommitFailures: k.commitFailures,
      kafkaTransactions: k.transactions,
      kafkaCommits: k.commits,
      kafkaRebalances: k.rebalances,
      kafkaEpisodesDropped: k.episodesDropped,
      kafkaProducerReplacements: k.producerReplacements,
      kafkaFenceRejoins: k.fenceRejoins,
      kafkaCommitOutcomesUnknown: k.commitOutcomesUnknown,
      kafkaEventsTooLarge: k.eventsTooLarge,
      kafkaPauses: k.pauses,
      kafkaVerdictRewinds: k.verdictRewinds,
      kafkaPartitionsHeldRecordTime: k.partitionsHeld.recordTime,
      kafkaPartitionsHeldVerdictsWaiting: k.partitionsHeld.verdictsWaiting,
      kafkaPartitionsHeldRunsWaiting: k.partitionsHeld.runsWaiting,
      kafkaPaused: k.paused ? 1 : 0,
      kafkaAssignedPartitions: k.assignedPartitions,
      kafkaInFlight: k.inFlight,
      kafkaCreditOverdue: k.creditOverdue,
      kafkaConsecutiveCommitFailures: k.consecutiveCommitFailures,
      kafkaReplayFiltersSpilled: k.replayFiltersSpilled,
      kafkaReplayFilterFallbacksTooLarge: k.replayFilterFallbacksTooLarge,
      kafkaReplayFilterFallbacksPointerTooLong: k.replayFilterFallbacksPointerTooLong,
      kafkaReplayFilterFallbacksUnwritableIds: k.replayFilterFallbacksUnwritableIds,
      kafkaReplayFilterFallbacksNoRecordSend: k.replayFilterFallbacksNoRecordSend,
      kafkaReplayFilterFallbacksTopicRefused: k.replayFilterFallbacksTopicRefused,
      kafkaSpilledFilterReadsOk: k.spilledFilterReadsOk,
      kafkaSpilledFilterReadsFailed: k.spilledFilterReadsFailed,
    };
  });
  // renewed certificates and rotated tokens are taken while running (src/http/credential-renewal.ts)
  const renewal = watchJobCredentialFiles(security, [renewableKafkaTls({ ssl }, connection)], telemetry, logger);
  const shutdown = async (): Promise<void> => {
    renewal.stop();
    await pipeline.stop();
    await stages.close();
    for (const s of sinks) await s.close().catch(() => undefined);
    await statusServer?.close();
    await telemetry.shutdown();
  };
  try {
    // An untrusted or misnamed certificate fails here at once, not after kafkajs's retries.
    if (connection.ssl) await tlsPreflight(kafka.brokers, connection.ssl);
    // said while kafkajs retries (src/kafka/bootstrap-reach.ts), never waited for: a start against no broker was silent for kafkajs's ~10 s of retries
    void reportBootstrapReach(kafka.brokers, logger);
    // the pipeline says when it joins the consumer group, once the topics are checked
    await pipeline.start();
    // kafkajs's first join was refused for good (a session timeout or group the brokers refuse: the
    // consumer crashes before start resolves): a configuration error, as a missing topic is
    const refused = pipeline.health().refused;
    if (refused) throw refusalError(refused);
  } catch (err) {
    // e.g. a missing input topic: release what was started (worker threads, servers) for embedders
    await shutdown().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'cleanup after a failed start failed'));
    throw err instanceof KafkaRefusalError ? err : explainConnectionError(err, 'source.kafka', connection);
  }
  // /readyz and /healthz follow the runtime (KafkaPipeline.health): group membership, publishing,
  // progress. Liveness once lost stays lost: the orchestrator restarts the job — unless a restart
  // cannot help (a refused setting or ACL): then `failed` settles and `run` exits with code 2.
  let failWith!: (err: KafkaRefusalError) => void;
  const failed = new Promise<KafkaRefusalError>((resolve) => (failWith = resolve));
  const reportHealth = (): void => {
    const h = pipeline.health();
    health.set('kafka', h.ready, h.detail);
    if (!h.live && !health.live().reason) {
      // a setting the brokers refuse (the session timeout on joining), or the group to this
      // principal (no Read ACL on it): a restart fails the same way
      const why = h.refused !== undefined || !h.restartHelps ? noRestartAdvice(h.refused?.what ?? 'setting', 'reason') : 'a restart is what helps';
      logger.error({ reason: h.detail }, `agent-credit is not live (/healthz fails): ${why}`);
      health.setFatal(h.detail);
      if (h.refused) failWith(refusalError(h.refused));
    }
  };
  // Started is not running: kafkajs's first join can already have failed for good (a crash a
  // restart may fix; a refused setting or group failed the start above), and "running on Kafka"
  // after that error contradicted it.
  const started = pipeline.health();
  const fastPaths = kafkajsFastPathsReport();
  const startFields = { brokers: kafka.brokers, groupId: kafka.groupId, topics: [kafka.spansTopic, kafka.logsTopic, ...(kafka.evaluationsTopic ? [kafka.evaluationsTopic] : [])], delivery: config.sinks.kafka.delivery, live: liveUrl, metrics, kafkajsFastPaths: fastPaths?.installed ? 'installed' : (fastPaths?.reason ?? 'not installed') };
  if (started.live) logger.info(startFields, 'agent-credit running on Kafka');
  else logger.info(startFields, 'agent-credit started on Kafka, but its consumer has stopped for good and reads nothing (the next line says why)');
  reportHealth();
  const healthTimer = setInterval(reportHealth, 1_000);
  healthTimer.unref();
  let stopping: Promise<void> | undefined;
  return {
    liveUrl: live?.address().url,
    failed,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(healthTimer);
        health.set('kafka', false, 'stopping');
        await shutdown();
        logger.info(pipeline.stats(), 'agent-credit stopped');
      })()),
  };
}

/**
 * One TCP connection to each bootstrap broker as the job starts, as `check` makes: when none
 * accepts one now, a warn line says so at once (kafkajs keeps its retries, ~10 s, for a broker that
 * is starting with the job, then fails the start naming source.kafka.brokers); when some do not
 * while others do, a warn line names them (kafkajs picks one at random and retries past it, so a
 * wrong entry went unnoticed by run). Never rejects, never delays the start.
 */
export async function reportBootstrapReach(brokers: readonly string[], logger: Logger): Promise<void> {
  const away = await unreachableBootstrapBrokers(brokers).catch(() => []);
  if (away.length === 0) return;
  if (noneAccepts(brokers, away)) {
    logger.warn({ brokers, unreachable: away.map((u) => u.broker) }, `source.kafka.brokers: no bootstrap broker accepts a connection now — ${describeUnreachable(away)}; retrying for a broker that is still starting, then the start fails — check source.kafka.brokers (host:port of a listener this client can reach), or start the brokers`);
    return;
  }
  if (away.length < brokers.length) logger.warn({ unreachable: away.map((u) => u.broker) }, unreachableBrokersLine(away, 'the other bootstrap broker(s) accept one'));
}
