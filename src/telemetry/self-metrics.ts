/**
 * agent-credit's own metrics, with the OpenTelemetry metrics SDK. The Prometheus exporter runs
 * in no-server mode: its reader collects on demand and `metricsText()` renders the Prometheus
 * text exposition format, served as `/metrics` by the live page (or health) server.
 *
 * Counters are pushed by the stages that see the events (receiver, runtime, sinks); values that
 * live in other components' state (open episodes, late/duplicate spans, judge calls, Kafka lag)
 * are read at collection time from registered `StatsProvider`s, so nothing polls.
 */
import { metrics as otelMetrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { EpisodeAssemblerStats } from '../episodes/stats.js';
import type { AgentBoardSnapshot, AgentStanding } from '../events/agent-board.js';
import { agentsDroppedText, agentMetricsText } from './agent-metrics.js';
import { AGENT_CREDIT_VERSION } from '../version.js';

/** Point-in-time values read from a component when metrics are collected. All optional. */
export interface ObservedStats {
  /** Episodes currently open in the assembler. */
  episodesOpen?: number;
  /** Cumulative spans that arrived after their episode closed. */
  lateSpans?: number;
  /** Cumulative spans seen twice (same span id in an open episode). */
  duplicateSpans?: number;
  /** Cumulative spans of agent-credit's own self-tracing that came back as input (ignored). */
  ownSpans?: number;
  /** Evaluations joined to an episode (cumulative), waiting for their first span (now), and not joined (cumulative). */
  evaluationsJoined?: number;
  evaluationsPending?: number;
  evaluationsExpired?: number;
  contentEvents?: number;
  contentEventsPending?: number;
  contentEventsExpired?: number;
  contentEventsLate?: number;
  contentEventsDuplicate?: number;
  evaluationsUnjoinable?: number;
  evaluationsLate?: number;
  /** Cumulative episodes that waited `episodes.awaitEvaluationMs` for their verdict and closed without it. */
  evaluationWaitsExpired?: number;
  /** Open episodes waiting past grace for their verdict now. */
  episodesAwaitingEvaluation?: number;
  /** Cumulative late spans/evaluations that made no revision (not retained, lateSpanPolicy, or past episodes.correctionWindowMs). */
  lateUncorrected?: number;
  /** Cumulative late run-level evaluations that would not change the episode's verdict (no revision). */
  evaluationsLateUnused?: number;
  /** Cumulative evaluations that named only a `gen_ai.response.id`, resolved to their LLM span. */
  evaluationsJoinedByResponseId?: number;
  /** Cumulative value-function (judge or module) evaluations that missed the cache, failed ones included. */
  valueFunctionCalls?: number;
  /** Cumulative value-function cache hits. */
  valueFunctionCacheHits?: number;
  /** Cumulative value-function evaluations that failed for good (after the judge's retries). */
  valueFunctionFailures?: number;
  /** Cumulative judge attempts that hit credit.judge.timeoutMs (each retried or failed), and calls cut by their episode's credit.timeoutMs. */
  valueFunctionTimeouts?: number;
  /** Cumulative judge attempts retried (credit.judge.retries). */
  valueFunctionRetries?: number;
  /** Cumulative coalition values the value function answered off the scale R is on (a 0–100 judge while R is in [0, 1]). */
  valueFunctionOutOfScale?: number;
  /** Cumulative credit workers replaced (runtime.creditWorkers), by why: runtime.creditTimeoutMs ran out, a crash, out of memory at runtime.creditWorkerMaxHeapMb. */
  creditWorkerRestartsTimeout?: number;
  creditWorkerRestartsCrash?: number;
  creditWorkerRestartsOutOfMemory?: number;
  /** Kafka consumer lag in records, summed over assigned partitions. */
  consumerLag?: number;
  /** Closed episodes waiting for credit work. */
  creditQueueDepth?: number;
  /** Cumulative totals of the Kafka runtime (it counts them itself). */
  kafkaRecordsIn?: number;
  kafkaSpansIn?: number;
  kafkaLogRecordsIn?: number;
  kafkaDecodeErrors?: number;
  kafkaEventsPublished?: number;
  kafkaEpisodesClosed?: number;
  /** What an operator alerts on: the Kafka runtime's failures and recoveries (cumulative, but pausedPartitions/inFlight). */
  kafkaDlqRecords?: number;
  kafkaCreditFailures?: number;
  kafkaCommitFailures?: number;
  kafkaTransactions?: number;
  kafkaCommits?: number;
  kafkaRebalances?: number;
  kafkaEpisodesDropped?: number;
  kafkaProducerReplacements?: number;
  kafkaFenceRejoins?: number;
  /** Settings whose changed TLS/token files could not be used: the earlier ones still in use (now). */
  credentialFilesUnusable?: number;
  kafkaCommitOutcomesUnknown?: number;
  kafkaEventsTooLarge?: number;
  kafkaPauses?: number;
  kafkaVerdictRewinds?: number;
  kafkaPartitionsHeldRecordTime?: number;
  kafkaPartitionsHeldVerdictsWaiting?: number;
  kafkaPartitionsHeldRunsWaiting?: number;
  kafkaPaused?: number;
  kafkaAssignedPartitions?: number;
  kafkaInFlight?: number;
  kafkaCreditOverdue?: number;
  kafkaConsecutiveCommitFailures?: number;
  /** Replay filters written to the side topic (sinks.kafka.replayFilterTopic), cumulative. */
  kafkaReplayFiltersSpilled?: number;
  /** Commits whose filter was hashed although the side topic was there, by why (src/runtime/kafka-counters.ts), and side topics dropped after a lasting refusal. */
  kafkaReplayFilterFallbacksTooLarge?: number;
  kafkaReplayFilterFallbacksPointerTooLong?: number;
  kafkaReplayFilterFallbacksUnwritableIds?: number;
  kafkaReplayFilterFallbacksNoRecordSend?: number;
  kafkaReplayFilterFallbacksTopicRefused?: number;
  /** Spilled filters read back at assignment: read, or not had (the partition replayed without a filter). */
  kafkaSpilledFilterReadsOk?: number;
  kafkaSpilledFilterReadsFailed?: number;
}
export type StatsProvider = () => ObservedStats;

export interface SelfTelemetryOptions {
  serviceName?: string;
  serviceVersion?: string;
  /** Metric name prefix; default `agent_credit`. */
  prefix?: string;
  /**
   * The `standings` label of the per-agent gauges and counters: `job` (default) — one job instance's episodes
   * since its start, to be summed over instances — or `view` (`agent-credit view`: the whole fleet
   * from the output topics). Where Prometheus scrapes both, a sum over all series would count every
   * episode twice: queries pick one.
   */
  standings?: 'job' | 'view';
}

export class SelfTelemetry {
  readonly meter: Meter;
  readonly spansReceived: Counter;
  readonly logRecordsReceived: Counter;
  readonly evaluationsReceived: Counter;
  readonly decodeErrors: Counter;
  readonly requestsRejected: Counter;
  readonly episodesClosed: Counter;
  /** Add one per credited episode with `creditStatusOf(events)` as attributes. */
  readonly episodesCredited: Counter;
  readonly episodesWithoutCredit: Counter;
  readonly creditFailures: Counter;
  readonly eventsPublished: Counter;
  /** Credential (TLS, token) files read again after a change, by `settings` and `outcome` (src/http/credential-renewal.ts). */
  readonly credentialFileRenewals: Counter;
  /** Seconds from episode close to events ready. */
  readonly creditLatency: Histogram;
  private readonly provider: MeterProvider;
  private readonly reader: PrometheusExporter;
  private readonly serializer: PrometheusSerializer;
  private readonly providers = new Set<StatsProvider>();
  private readonly agentReaders = new Set<() => AgentBoardSnapshot>();
  private readonly prefix: string;
  private readonly standings: 'job' | 'view';

  constructor(options: SelfTelemetryOptions = {}) {
    const prefix = (this.prefix = options.prefix ?? 'agent_credit');
    this.standings = options.standings ?? 'job';
    this.reader = new PrometheusExporter({ preventServerStart: true });
    this.serializer = new PrometheusSerializer(undefined, false);
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'agent-credit', 'service.version': options.serviceVersion ?? AGENT_CREDIT_VERSION }),
      readers: [this.reader],
    });
    const m = (this.meter = this.provider.getMeter('agent-credit'));
    const n = (s: string) => `${prefix}_${s}`;
    this.spansReceived = m.createCounter(n('spans_received'), { description: 'Spans decoded from sources' });
    this.logRecordsReceived = m.createCounter(n('log_records_received'), { description: 'Log records decoded from sources' });
    this.evaluationsReceived = m.createCounter(n('evaluations_received'), { description: 'Evaluations received: from gen_ai.evaluation.result log records and from evaluation records (POST /v1/evaluations)' });
    this.decodeErrors = m.createCounter(n('decode_errors'), { description: 'Undecodable requests or records, by signal (evaluations: each evaluation record POST /v1/evaluations refused)' });
    this.requestsRejected = m.createCounter(n('receiver_requests_rejected'), { description: 'OTLP exports refused or answered with an error, by the OTLP/HTTP status code (a gRPC status counts as its HTTP equivalent) and signal; transport=grpc on the OTLP/gRPC receiver\'s (OTLP/HTTP\'s have no transport label)' });
    this.episodesClosed = m.createCounter(n('episodes_closed'), { description: 'Episodes closed, by close reason' });
    this.episodesCredited = m.createCounter(n('episodes_credited'), {
      description: 'Episodes whose credit events were produced, by estimator status (`exact`, `approximate`, `partial`: the budget or time ran out or the value function failed — watch its share)',
    });
    this.episodesWithoutCredit = m.createCounter(n('episodes_without_credit'), { description: 'Episodes closed without credit events, by reason: no-evaluation (no system evaluation joined), no-agents (no agent or LLM span: a health check, a start-up trace — nothing to credit), non-finite-score, unknown-label (not in credit.labelScores)' });
    this.creditFailures = m.createCounter(n('credit_failures'), { description: 'Episodes whose credit failed or timed out' });
    // exported at 0 from the start: an alert on increase() sees the first failure (deploy/prometheus-rules.yaml).
    // Not by a view: it credits nothing, and a failure counter there at 0 read as "no failures" of the job it watches.
    if (this.standings === 'job') this.creditFailures.add(0);
    this.eventsPublished = m.createCounter(n('events_published'), { description: 'Credit events handed to a sink, by sink and event type (stdout, live page, standings; at credit time). Records published to Kafka output topics: kafka_events_published_total' });
    this.credentialFileRenewals = m.createCounter(n('credential_file_renewals'), {
      description: 'TLS and token files (of the listeners, of the Kafka client) read again after they changed, by settings (source.http, sinks.live, telemetry, source.kafka) and outcome (renewed; failed: unusable, the ones read before stay in use)',
    });
    this.creditLatency = m.createHistogram(n('credit_latency_seconds'), {
      description: 'Time from episode close to its credit events',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
    });
    const gauge = (name: string, description: string, pick: (s: ObservedStats) => number | undefined) =>
      m.createObservableGauge(n(name), { description }).addCallback((r) => {
        const v = this.sum(pick);
        if (v !== undefined) r.observe(v);
      });
    const counter = (name: string, description: string, pick: (s: ObservedStats) => number | undefined) =>
      m.createObservableCounter(n(name), { description }).addCallback((r) => {
        const v = this.sum(pick);
        if (v !== undefined) r.observe(v);
      });
    gauge('episodes_open', 'Episodes open in the assembler', (s) => s.episodesOpen);
    gauge('episodes_awaiting_evaluation', 'Open episodes whose run ended and that wait past graceMs for their system evaluation (episodes.awaitEvaluationMs)', (s) => s.episodesAwaitingEvaluation);
    gauge('consumer_lag', 'Kafka consumer lag (records) over assigned partitions: end offset (read every 10 s apart from fetching) minus the next offset to process', (s) => s.consumerLag);
    gauge('credit_queue_depth', 'Closed episodes waiting for credit', (s) => s.creditQueueDepth);
    counter('late_spans', 'Spans that arrived after their episode closed', (s) => s.lateSpans);
    counter('duplicate_spans', 'Spans received twice', (s) => s.duplicateSpans);
    counter('own_spans_ignored', "agent-credit's own self-tracing spans that came back as input (a collector forwarding them into the input topic, or an in-process app's global provider): ignored, never credited", (s) => s.ownSpans);
    // Evaluations that never reach an episode are silent credit loss: these say where they went.
    counter('evaluations_joined', 'Evaluations joined to an episode', (s) => s.evaluationsJoined);
    gauge('evaluations_pending', 'Evaluations waiting for the first span of their episode (or the LLM span of their response id)', (s) => s.evaluationsPending);
    counter('evaluations_expired', 'Evaluations dropped after waiting for spans that never came (episodes.pendingEvaluationTtlMs, maxPendingEvaluations)', (s) => s.evaluationsExpired);
    counter('content_events', 'GenAI content events (message contents logged as events) joined to the LLM span of their episode', (s) => s.contentEvents);
    gauge('content_events_pending', 'GenAI content events waiting for the first span of their trace (they never open an episode)', (s) => s.contentEventsPending);
    counter('content_events_expired', 'GenAI content events dropped after waiting for spans that never came — sampled out at the collector, or another consumer reads them (episodes.maxDurationMs from their trace\'s latest event) — or over episodes.maxPendingContentEvents / maxPendingContentBytes', (s) => s.contentEventsExpired);
    counter('content_events_duplicate', 'GenAI content events read again (an exporter retry, a Kafka re-read after a restart): ignored', (s) => s.contentEventsDuplicate);
    counter('content_events_late', 'GenAI content events for an episode already credited: counted, not used', (s) => s.contentEventsLate);
    counter('evaluations_unjoinable', 'Evaluations without a trace id, conversation id or response id usable for the key mode', (s) => s.evaluationsUnjoinable);
    counter('evaluations_late', 'Evaluations for an episode that had already closed', (s) => s.evaluationsLate);
    counter('late_uncorrected', 'Late spans and evaluations that made no correction: the closed revision was not retained (lateSpanPolicy, episodes.retainClosedBytes, how it closed) or was credited longer than episodes.correctionWindowMs ago', (s) => s.lateUncorrected);
    counter('evaluations_late_unused', 'Late run-level evaluations that would not change the verdict (another name than the first that scored the run, or not evaluation.name): no correction', (s) => s.evaluationsLateUnused);
    counter('episodes_evaluation_wait_expired', 'Episodes that waited episodes.awaitEvaluationMs for their system evaluation and closed without it (a slower verdict comes as a correction)', (s) => s.evaluationWaitsExpired);
    counter('evaluations_joined_by_response_id', 'Evaluations that named only gen_ai.response.id, joined to the LLM span that recorded it', (s) => s.evaluationsJoinedByResponseId);
    counter('value_function_calls', 'Value-function (judge or module) evaluations, cache misses, failed ones included', (s) => s.valueFunctionCalls);
    counter('value_function_cache_hits', 'Value-function cache hits', (s) => s.valueFunctionCacheHits);
    counter('value_function_failures', "Value-function evaluations that failed for good (after the judge's retries): the episode's credit falls back (an equal split, or the samples so far) and is marked partial", (s) => s.valueFunctionFailures);
    counter('value_function_timeouts', "Value-function calls that did not answer in time: judge attempts past credit.judge.timeoutMs (retried or failed), and judge or module calls still unanswered when their episode's credit stopped waiting at credit.timeoutMs (also counted as failures)", (s) => s.valueFunctionTimeouts);
    counter('value_function_retries', 'Judge attempts retried after a timeout, a network error, HTTP 408, 429 or 5xx (credit.judge.retries)', (s) => s.valueFunctionRetries);
    counter('value_function_out_of_scale', "Coalition values the value function answered off the scale R is on ([0, 1], or the evaluation's range with credit.normalize false), e.g. a judge answering 0–100: those episodes' credits mix two scales (their warnings say \"outside the score's scale\")", (s) => s.valueFunctionOutOfScale);
    // one series per `reason`, each observed when its stat is known: the instrument's own `reason` label
    const byReason = (instrument: ReturnType<typeof m.createObservableGauge> | ReturnType<typeof m.createObservableCounter>, series: readonly [string, (s: ObservedStats) => number | undefined][]) =>
      instrument.addCallback((r) => {
        for (const [reason, pick] of series) {
          const v = this.sum(pick);
          if (v !== undefined) r.observe(v, { reason });
        }
      });
    // observed (at 0 from the pool's start) while credit workers run: an alert on increase() sees
    // the first restart; without workers there is no series
    byReason(
      m.createObservableCounter(n('credit_worker_restarts'), {
        description:
          'Credit worker threads replaced (runtime.creditWorkers), by reason: timeout (an episode ran past runtime.creditTimeoutMs: a stuck value function), crash (the worker threw or exited), out-of-memory (it reached runtime.creditWorkerMaxHeapMb: a leaking value function or an episode too large). The episodes it held are re-run on the replacement, the one that caused a timeout or out-of-memory fails',
      }),
      [
        ['timeout', (s) => s.creditWorkerRestartsTimeout],
        ['crash', (s) => s.creditWorkerRestartsCrash],
        ['out-of-memory', (s) => s.creditWorkerRestartsOutOfMemory],
      ],
    );
    // observed while a Kafka job runs (0 when none is held): a backlog's holds are seen as they come and go
    byReason(
      m.createObservableGauge(n('kafka_partitions_held'), {
        description:
          'Input partitions not fetched while the others are read, by reason: record-time (read more than 1 s of record time past a partition with records left), verdicts-waiting (logs/evaluations partitions while verdicts waiting for their spans fill half of episodes.maxPendingEvaluations), runs-waiting (spans partitions while open runs fill half of maxOpenEpisodes/maxBufferedBytes and verdicts are left to read). Not the backpressure pause (kafka_paused)',
      }),
      [
        ['record-time', (s) => s.kafkaPartitionsHeldRecordTime],
        ['verdicts-waiting', (s) => s.kafkaPartitionsHeldVerdictsWaiting],
        ['runs-waiting', (s) => s.kafkaPartitionsHeldRunsWaiting],
      ],
    );
    counter('kafka_records_received', 'Kafka records consumed (spans and logs topics)', (s) => s.kafkaRecordsIn);
    counter('kafka_spans_received', 'Spans decoded from Kafka records', (s) => s.kafkaSpansIn);
    counter('kafka_log_records_received', 'Log records decoded from Kafka records', (s) => s.kafkaLogRecordsIn);
    counter('kafka_decode_errors', 'Undecodable Kafka records (sent to the DLQ)', (s) => s.kafkaDecodeErrors);
    counter('kafka_events_published', 'Records published to the output topics (events and DLQ)', (s) => s.kafkaEventsPublished);
    counter('kafka_episodes_closed', 'Episodes closed by the Kafka runtime', (s) => s.kafkaEpisodesClosed);
    counter('kafka_dlq_records', 'Input records sent to the dead-letter topic (undecodable, or evaluation records partly invalid); failed credit and oversize events are counted by kafka_credit_failures and kafka_events_too_large', (s) => s.kafkaDlqRecords);
    counter('kafka_credit_failures', 'Episodes whose credit failed or timed out (each sent to the DLQ)', (s) => s.kafkaCreditFailures);
    counter('kafka_commit_failures', 'Failed publishes/commits (transactions or at-least-once sends), retried', (s) => s.kafkaCommitFailures);
    counter('kafka_transactions', 'Transactions committed (exactly-once)', (s) => s.kafkaTransactions);
    counter('kafka_commits', 'Offset commits (at-least-once)', (s) => s.kafkaCommits);
    counter('kafka_rebalances', 'Consumer group assignments received', (s) => s.kafkaRebalances);
    counter('kafka_episodes_dropped', 'Open or unpublished episodes dropped on a rebalance (rebuilt by replay)', (s) => s.kafkaEpisodesDropped);
    counter('kafka_producer_replacements', 'Producers replaced while running: at-least-once after the broker rejected their sequence numbers, exactly-once after a failed abort, an unknown transaction outcome or a transactional producer stuck or unknown to the broker', (s) => s.kafkaProducerReplacements);
    gauge('credential_files_unusable', 'Settings (a listener, the Kafka client) whose TLS/token files changed into something unusable (a key that does not match the certificate, an empty token file): the earlier ones stay in use until the files are fixed — a certificate that then expires is refused', (s) => s.credentialFilesUnusable);
    counter('kafka_fence_rejoins', 'Group rejoins after a transactional producer was fenced by this instance itself', (s) => s.kafkaFenceRejoins);
    counter('kafka_commit_outcomes_unknown', 'Exactly-once transactions whose end could not be confirmed (commit answer lost, abort failed), resolved by reading the committed offset back', (s) => s.kafkaCommitOutcomesUnknown);
    counter('kafka_events_too_large', 'Events over sinks.kafka.maxRecordBytes (described in the DLQ instead)', (s) => s.kafkaEventsTooLarge);
    counter('kafka_pauses', 'Times ingestion paused because closed episodes waited too long for credit or publishing (backpressure)', (s) => s.kafkaPauses);
    counter('kafka_verdict_rewinds', 'Logs or evaluations records read again later because the verdicts waiting for their spans were full (episodes.maxPendingEvaluations) while spans were left to read', (s) => s.kafkaVerdictRewinds);
    gauge('kafka_paused', '1 while ingestion is paused for backpressure (credit or publishing behind)', (s) => s.kafkaPaused);
    gauge('kafka_assigned_partitions', 'Input partitions assigned to this instance', (s) => s.kafkaAssignedPartitions);
    gauge('kafka_in_flight', 'Closed episodes whose events are not committed yet', (s) => s.kafkaInFlight);
    gauge('kafka_credit_overdue', 'Credit computations past runtime.creditTimeoutMs still running (their slots stay held)', (s) => s.kafkaCreditOverdue);
    counter('kafka_replay_filters_spilled', 'Replay filters too long for the offset metadata written whole to the side topic (sinks.kafka.replayFilterTopic) and acknowledged — in exactly-once within the commit\'s transaction, which may still abort', (s) => s.kafkaReplayFiltersSpilled);
    // one series per reason (and outcome), observed at 0 while the Kafka job runs: an alert on increase() sees the first
    const labelled = (name: string, description: string, label: string, series: readonly [string, (s: ObservedStats) => number | undefined][]) =>
      m.createObservableCounter(n(name), { description }).addCallback((r) => {
        for (const [value, pick] of series) {
          const v = this.sum(pick);
          if (v !== undefined) r.observe(v, { [label]: value });
        }
      });
    labelled(
      'kafka_replay_filter_spill_fallbacks',
      'Commits whose replay filter was hashed into the offset metadata although the side topic (sinks.kafka.replayFilterTopic) was there — a restart or rebalance may publish episodes again —, by reason: too-large (over what the topic takes), pointer-too-long (brokers\' offset.metadata.max.bytes below even a pointer), unwritable-ids (keys carried over from a hashed filter, an id not well-formed UTF-16), no-record-send (a producer that cannot say where a record went); topic-refused: the topic refused a filter for good and spilling stopped for the rest of the run (once per stop)',
      'reason',
      [
        ['too-large', (s) => s.kafkaReplayFilterFallbacksTooLarge],
        ['pointer-too-long', (s) => s.kafkaReplayFilterFallbacksPointerTooLong],
        ['unwritable-ids', (s) => s.kafkaReplayFilterFallbacksUnwritableIds],
        ['no-record-send', (s) => s.kafkaReplayFilterFallbacksNoRecordSend],
        ['topic-refused', (s) => s.kafkaReplayFilterFallbacksTopicRefused],
      ],
    );
    labelled(
      'kafka_spilled_filter_reads',
      'Spilled replay filters read back at a partition\'s assignment, by outcome: ok, or failed (missing, compacted away, not the one committed, the read failed or timed out: the partition is replayed without a filter and its episodes above the committed offset published again — warned with the reason)',
      'outcome',
      [
        ['ok', (s) => s.kafkaSpilledFilterReadsOk],
        ['failed', (s) => s.kafkaSpilledFilterReadsFailed],
      ],
    );
    gauge('kafka_consecutive_commit_failures', 'Longest current run of failed publishes/commits; alert when it keeps growing (nothing is published meanwhile)', (s) => s.kafkaConsecutiveCommitFailures);
  }

  /**
   * Per-agent series from the fleet's standings (src/events/agent-board.ts), read once per
   * collection: `agent_credit_agent_*{agent_id, agent_name, standings}` gauges — episodes,
   * failures, credit sum, first errors, harmful and redundant steps, repairs, as they stand (a
   * correction takes an episode's earlier revision back) — and, for rows read with their totals
   * (`board.snapshot({ totals: true })`), `agent_credit_agent_*_total` counters that only go up
   * (credit gained and lost, and the counts), for increase() across restarts. One series per agent
   * the board lists now (its `maxAgents` bounds the cardinality). Returns an unregister function.
   *
   * Written by `metricsText` itself (src/telemetry/agent-metrics.ts), not through OpenTelemetry
   * instruments, so that an agent the board no longer lists leaves /metrics.
   */
  observeAgents(read: () => AgentBoardSnapshot): () => void {
    this.agentReaders.add(read);
    return () => this.agentReaders.delete(read);
  }

  /** The per-agent series as Prometheus text: the agents the readers list at this collection only. */
  private agentsText(): string {
    if (this.agentReaders.size === 0) return '';
    const rows: AgentStanding[] = [];
    let dropped = 0;
    for (const read of this.agentReaders) {
      try {
        const snapshot = read();
        for (const a of snapshot.agents) rows.push(a); // not push(...): a RangeError past ~125k agents (telemetry.maxAgents)
        dropped += snapshot.agents_dropped;
      } catch {
        // a failing provider must not break /metrics
      }
    }
    return agentMetricsText(rows, this.prefix, this.standings) + agentsDroppedText(dropped, this.prefix, this.standings);
  }

  /** Registers a component whose state is read at collection time; returns an unregister function. */
  observe(provider: StatsProvider): () => void {
    this.providers.add(provider);
    return () => this.providers.delete(provider);
  }

  private sum(pick: (s: ObservedStats) => number | undefined): number | undefined {
    let total: number | undefined;
    for (const p of this.providers) {
      let v: number | undefined;
      try {
        v = pick(p());
      } catch {
        v = undefined; // a failing provider must not break /metrics
      }
      if (v !== undefined && Number.isFinite(v)) total = (total ?? 0) + v;
    }
    return total;
  }

  /** Collects now and returns everything as Prometheus text exposition format (0.0.4). */
  async metricsText(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    const text = this.serializer.serialize(resourceMetrics as ResourceMetrics);
    const agents = this.agentsText();
    return agents === '' ? text : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${agents}`;
  }

  /** Makes the meter the global one too, for libraries instrumented with @opentelemetry/api. */
  setGlobal(): void {
    otelMetrics.setGlobalMeterProvider(this.provider);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** Attribute helper: keeps metric attribute sets small and typed. */
export const attrs = (a: Record<string, string | number | boolean>): Attributes => a;

/**
 * What the self-metrics read from an EpisodeAssembler's stats (one mapping for every runtime);
 * fields an assembler port does not report stay unobserved.
 */
export function assemblerObservations(a: Partial<EpisodeAssemblerStats>): ObservedStats {
  return {
    episodesOpen: a.open,
    lateSpans: a.lateSpans,
    duplicateSpans: a.duplicateSpans,
    ownSpans: a.ownSpans,
    evaluationsJoined: a.evaluations,
    evaluationsPending: a.pendingEvaluations,
    evaluationsExpired: a.expiredEvaluations,
    contentEvents: a.contentEvents,
    contentEventsPending: a.pendingContentEvents,
    contentEventsExpired: a.expiredContentEvents,
    contentEventsLate: a.lateContentEvents,
    contentEventsDuplicate: a.duplicateContentEvents,
    evaluationsUnjoinable: a.unjoinableEvaluations,
    evaluationsLate: a.lateEvaluations,
    lateUncorrected: a.lateUncorrected,
    evaluationsLateUnused: a.lateEvaluationsUnused,
    evaluationsJoinedByResponseId: a.evaluationsJoinedByResponseId,
    evaluationWaitsExpired: a.evaluationWaitsExpired,
    episodesAwaitingEvaluation: a.awaitingEvaluation,
  };
}

/** Assembler observations that are a state now (gauges); the others are totals since the assembler was made. */
const ASSEMBLER_GAUGES: ReadonlySet<keyof ObservedStats> = new Set<keyof ObservedStats>(['episodesOpen', 'evaluationsPending', 'contentEventsPending', 'episodesAwaitingEvaluation']);

/**
 * The observations of an assembler a runtime replaces — the Kafka runtime makes a fresh one at
 * every group join: the totals of the replaced ones are carried over, so the counters on /metrics
 * (`late_spans_total`, `evaluations_expired_total`, `late_uncorrected_total`…) keep counting
 * rather than falling to 0 at every rebalance of a running process; the gauges read the current one.
 */
export class ReplacedAssemblerObservations {
  private readonly carried: ObservedStats = {};

  constructor(private current: { stats(): Partial<EpisodeAssemblerStats> }) {}

  /** Makes `next` the current assembler, keeping the totals the one it replaces counted. */
  replace<A extends { stats(): Partial<EpisodeAssemblerStats> }>(next: A): A {
    const old = assemblerObservations(this.current.stats());
    for (const [k, v] of Object.entries(old) as [keyof ObservedStats, number | undefined][]) {
      if (v !== undefined && !ASSEMBLER_GAUGES.has(k)) this.carried[k] = (this.carried[k] ?? 0) + v;
    }
    this.current = next;
    return next;
  }

  read(): ObservedStats {
    const now = assemblerObservations(this.current.stats());
    for (const [k, v] of Object.entries(this.carried) as [keyof ObservedStats, number][]) now[k] = (now[k] ?? 0) + v;
    return now;
  }
}

/** The `status` attribute of `episodes_credited`: the episode_credit event's estimator status. */
export function creditStatusOf(events: readonly { event_type: string; estimator?: { status: string } }[]): { status: string } {
  for (const e of events) if (e.event_type === 'episode_credit' && e.estimator) return { status: e.estimator.status };
  return { status: 'unknown' };
}
