/**
 * The single-process pipeline behind `agent-credit run` (otlp-http source), `demo` and `replay`:
 * decoded spans/log records → EpisodeAssembler → bounded credit queue → `processEpisode` →
 * sinks (stdout, live page). It is the receiver's `OtlpHandler`.
 *
 * Ordering: events are published in the order episodes closed, whatever order their credit
 * finished in (replay output is deterministic; consumers see closes in order).
 *
 * Backpressure: at most `creditQueueMax` closed episodes wait for or run credit; beyond that the
 * receiver is told to answer 503 (retryable) instead of growing memory. Credit that throws or
 * exceeds `creditTimeoutMs` is logged and counted; the episode produces no events (never a stall).
 *
 * Lifecycle: `start()` starts the tick timer (unref'd); `stop()` closes every open episode with
 * reason `shutdown`, waits for their credit and flushes the sinks.
 */
import type { CreditEvent } from '../events/schemas.js';
import type { Evaluation } from '../model/agents.js';
import type { CloseReason, Episode } from '../model/episode.js';
import type { LogRecord, Span } from '../model/telemetry.js';
import type { EpisodeAssemblerStats } from '../episodes/stats.js';
import type { EventSink } from '../sinks/types.js';
import { ReceiverBusyError, type OtlpHandler } from '../sources/otlp-http/receiver.js';
import type { PartialSuccess } from '../sources/otlp-http/responses.js';
import type { Logger } from '../telemetry/logger.js';
import { assemblerObservations, creditStatusOf, type SelfTelemetry } from '../telemetry/self-metrics.js';
import { CREDIT_SLICE_MS, TimeSlicer } from './time-slicer.js';
import { withTimeout } from './with-timeout.js';
import { DEFAULTS } from '../config/defaults.js';
import { contentSpansFromLogs } from '../conventions/content-events.js';
import { correctionReporter } from './episode-log.js';
import { evaluationTimeReporter } from './evaluation-time-warnings.js';
import { evaluationTimeWarning } from '../conventions/evaluation-time.js';
import { expiredEvaluationsReporter, expiredPastTtl, otherNameVerdictsReporter, overLimitEvaluationsReporter, throttledCount, unjoinableEvaluationsReporter } from './expired-evaluations.js';

/** What the pipeline needs from src/episodes `EpisodeAssembler`. */
export interface LocalAssembler {
  addSpans(spans: readonly Span[]): unknown;
  addEvaluations(evaluations: readonly Evaluation[]): unknown;
  tick(): Episode[];
  flush(reason: CloseReason): Episode[];
  /** EpisodeAssembler stats (`src/episodes/stats.ts`); the self-metrics read what is there. */
  stats(): { open: number; lateSpans: number; duplicateSpans: number } & Partial<EpisodeAssemblerStats>;
  /**
   * EpisodeAssembler options this pipeline reads (`responseIdMemory`: 0 = evaluations cannot join
   * by response id; `keyBy: trace`: they cannot join by conversation id).
   */
  readonly options?: { readonly responseIdMemory: number; readonly pendingEvaluationTtlMs?: number; readonly maxPendingEvaluations?: number; readonly keyBy?: 'trace' | 'conversation' };
}

export interface LocalPipelineOptions {
  creditQueueMax: number;
  /** Bytes of the queued episodes (Episode.bytes) at which the queue is full too; default runtime.creditQueueMaxBytes's. */
  creditQueueMaxBytes?: number;
  creditConcurrency: number;
  tickIntervalMs: number;
  creditTimeoutMs: number;
}

export interface LocalPipelineDeps {
  assembler: LocalAssembler;
  /** conventions → credit → events for one closed episode, credit options bound. */
  processEpisode: (episode: Episode) => Promise<CreditEvent[]>;
  /** Why an episode's credit gave no events (LocalStages `skippedReasonOf`): the `reason` label of `episodes_without_credit_total`. */
  skippedReasonOf?: (episode: Episode) => string | undefined;
  /** src/conventions `evaluationsFromLogs`. */
  evaluationsFromLogs: (logs: readonly LogRecord[]) => Evaluation[];
  sinks: readonly EventSink[];
  telemetry?: SelfTelemetry;
  logger?: Logger;
}

export interface LocalPipelineStats {
  spansIn: number;
  logRecordsIn: number;
  /** GenAI content events (message contents as log records) added to their episodes (src/conventions/content-events.ts). */
  contentEventsIn: number;
  /** Evaluations taken: from log records, and evaluation records (POST /v1/evaluations) accepted. */
  evaluationsIn: number;
  /**
   * Evaluation log records refused as unjoinable: no trace id, conversation id (conversation mode)
   * or response id (the exporter is told so, partial success). Evaluation records refused at
   * POST /v1/evaluations (400) are not here: `decode_errors_total{signal="evaluations"}` counts them.
   */
  evaluationsRejected: number;
  episodesClosed: number;
  episodesCredited: number;
  /** Closed episodes (revisions) whose credit gave no events: degenerate, e.g. no evaluation (each logged through onSkipped). */
  episodesSkipped: number;
  /** Of `episodesSkipped`, those without any agent or LLM span (reason `no-agents`: health checks, start-up traces). */
  episodesWithoutAgents: number;
  creditFailures: number;
  eventsOut: number;
  /** Episodes waiting for or in credit work. */
  pending: number;
}

interface Work {
  readonly episode: Episode;
  readonly closedAt: number;
  result: Promise<CreditEvent[] | undefined> | undefined;
  /** Its credit has settled (`result` resolves at once). */
  done?: boolean;
}

/** Spans of one request added between two checks of the credit queue (onSpans), whole traces at least. */
const SPANS_PER_SLICE = 2048;

/** `spans` as one slice when small, else in slices of whole traces (in order of first appearance) of about `size` spans. */
function traceSlices(spans: Span[], size: number): Span[][] {
  if (spans.length <= size) return [spans];
  const byTrace = new Map<string, Span[]>();
  for (const s of spans) {
    const list = byTrace.get(s.traceId);
    if (list) list.push(s);
    else byTrace.set(s.traceId, [s]);
  }
  const out: Span[][] = [];
  let cur: Span[] = [];
  for (const list of byTrace.values()) {
    for (const s of list) cur.push(s);
    if (cur.length >= size) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class LocalPipeline implements OtlpHandler {
  private readonly queue: Work[] = [];
  private running = 0;
  private readonly slicer = new TimeSlicer(CREDIT_SLICE_MS);
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  private stopped = false;
  private unobserve: (() => void) | undefined;
  /** Arrival order of log records, for content events with equal timestamps (contentSpansFromLogs). */
  private contentOrder = 0;
  private readonly counters: Omit<LocalPipelineStats, 'pending'> = {
    spansIn: 0,
    logRecordsIn: 0,
    contentEventsIn: 0,
    evaluationsIn: 0,
    evaluationsRejected: 0,
    episodesClosed: 0,
    episodesCredited: 0,
    episodesSkipped: 0,
    episodesWithoutAgents: 0,
    creditFailures: 0,
    eventsOut: 0,
  };
  private reportExpired: ((expiredTotal: number | undefined) => void) | undefined;
  private reportOverLimit: ((total: number | undefined) => void) | undefined;
  private reportOtherNames: ((total: number | undefined) => void) | undefined;
  private reportUnjoinable: ((total: number | undefined) => void) | undefined;
  private readonly reportCorrection: (episode: Episode, events: readonly CreditEvent[]) => void;
  private readonly rejectedDue = throttledCount();
  /** Evaluation times that look like seconds or milliseconds: a warning per source at most once a minute. */
  private readonly reportTimeUnits: (evaluations: readonly Evaluation[], source: string) => void;
  /** Works not yet published, in close order. */
  private readonly inOrder: Work[] = [];
  /** Bytes of their episodes (Episode.bytes). */
  private inOrderBytes = 0;
  private readonly maxBytes: number;

  constructor(
    private readonly options: LocalPipelineOptions,
    private readonly deps: LocalPipelineDeps,
  ) {
    this.reportCorrection = correctionReporter(deps.logger);
    this.reportTimeUnits = evaluationTimeReporter(deps.logger);
    this.maxBytes = options.creditQueueMaxBytes ?? DEFAULTS.runtime.creditQueueMaxBytes;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.tickIntervalMs);
    this.timer.unref();
    this.unobserve = this.deps.telemetry?.observe(() => {
      const s = this.deps.assembler.stats();
      // Evaluations refused at the receiver could not be joined either: one metric to alert on.
      return { ...assemblerObservations(s), evaluationsUnjoinable: (s.unjoinableEvaluations ?? 0) + this.counters.evaluationsRejected, creditQueueDepth: this.inOrder.length };
    });
  }

  stats(): LocalPipelineStats {
    return { ...this.counters, pending: this.inOrder.length };
  }

  onSpans(spans: Span[]): void {
    if (this.stopped) throw new ReceiverBusyError('agent-credit is shutting down', 5);
    this.refuseWhileFull();
    // In slices, checking the queue between them: a request is not bounded in traces, and one
    // with 200k one-span traces evicted 190k episodes into the queue past creditQueueMax, which
    // then starved every exporter for minutes (security review). The rest of such a request gets
    // 503: the exporter retries it whole, and the spans already taken are dropped as duplicates.
    // Slices hold whole traces (a trace's spans are one batch for the assembler, as before).
    let taken = 0;
    for (const slice of traceSlices(spans, SPANS_PER_SLICE)) {
      if (taken > 0 && this.queueFull()) {
        throw new ReceiverBusyError(`credit queue full after ${taken} of this request's ${spans.length} spans (${this.queueState()}); retry later — the spans already taken are dropped as duplicates`);
      }
      taken += slice.length;
      this.takeSlice(slice);
    }
  }

  /**
   * Whether closed episodes not yet published fill the queue: `creditQueueMax` of them, or
   * `creditQueueMaxBytes` of their spans — by count alone, 256 large runs (thousands of spans with
   * their messages, up to episodes.maxBytesPerEpisode each) were held while credit fell behind.
   */
  private queueFull(): boolean {
    return this.inOrder.length >= this.options.creditQueueMax || this.inOrderBytes >= this.maxBytes;
  }

  private queueState(): string {
    return `${this.inOrder.length} episodes waiting, runtime.creditQueueMax = ${this.options.creditQueueMax}; ${(this.inOrderBytes / 1024 / 1024).toFixed(1)} MiB of spans, runtime.creditQueueMaxBytes = ${(this.maxBytes / 1024 / 1024).toFixed(1)} MiB`;
  }

  /**
   * Spans, log records and evaluations alike get a 503 while the queue is full. Log records and evaluations taken while
   * the spans were refused, a verdict waited for spans the exporter was still retrying — past
   * episodes.pendingEvaluationTtlMs (60 s) under sustained backpressure it expired, and the run
   * went without credit —, and a verdict closing an episode added to the full queue. Refused,
   * both are retried by the exporter and come back with the spans.
   */
  private refuseWhileFull(): void {
    if (this.queueFull()) throw new ReceiverBusyError(`credit queue full (${this.queueState()}); retry later`);
  }

  /** `onLogs` for replay, where backpressure is waiting, not refusing (feedSpans). */
  async feedLogs(logs: LogRecord[], source?: string): Promise<PartialSuccess | void> {
    while (this.queueFull() && !this.stopped) await this.drain();
    return this.onLogs(logs, source);
  }

  /** One slice of whole traces into the assembler, and the episodes that closed into the credit queue. */
  private takeSlice(slice: Span[]): void {
    this.counters.spansIn += slice.length;
    this.deps.assembler.addSpans(slice);
    this.enqueue(this.deps.assembler.tick());
  }

  /**
   * `onSpans` for replay, where backpressure is waiting, not refusing: the request goes in the
   * same slices of whole traces, and before each one the credit queue is drained while it is at
   * `creditQueueMax`. A request whose slices evicted or closed more than that many episodes made
   * `onSpans` throw its 503 for the rest mid-request, which ended `replay` with "credit queue
   * full … retry later" (the queue was checked only before each request).
   */
  async feedSpans(spans: Span[]): Promise<void> {
    if (this.stopped) throw new ReceiverBusyError('agent-credit is shutting down', 5);
    for (const slice of traceSlices(spans, SPANS_PER_SLICE)) {
      while (this.queueFull()) await this.drain();
      this.takeSlice(slice);
    }
  }

  /**
   * Standalone evaluation records (`POST /v1/evaluations`, src/conventions/evaluation-records.ts):
   * already validated — `evaluationRefusal` refused those that name nothing the assembler joins on.
   * `source` names where they came from in the warning about times in seconds or milliseconds.
   */
  onEvaluations(evaluations: Evaluation[], source = 'evaluation records (POST /v1/evaluations)'): void {
    if (this.stopped) throw new ReceiverBusyError('agent-credit is shutting down', 5);
    this.refuseWhileFull();
    this.counters.evaluationsIn += evaluations.length;
    this.deps.telemetry?.evaluationsReceived.add(evaluations.length);
    if (evaluations.length === 0) return;
    this.reportTimeUnits(evaluations, source);
    this.deps.assembler.addEvaluations(evaluations);
    this.enqueue(this.deps.assembler.tick());
  }

  /** `onEvaluations` for replay, where backpressure is waiting, not refusing (feedSpans). */
  async feedEvaluations(evaluations: Evaluation[]): Promise<void> {
    while (this.queueFull() && !this.stopped) await this.drain();
    this.onEvaluations(evaluations, 'evaluation records (replayed files)');
  }

  /**
   * Evaluations are read from the log records; other log records are accepted and ignored.
   * Evaluation events with no trace id, no conversation id and no `gen_ai.response.id` (or one
   * while `episodes.responseIdMemory` is 0) cannot be joined to any episode: they are rejected
   * (partial success) so the sender learns about it.
   */
  onLogs(logs: LogRecord[], source?: string): PartialSuccess | void {
    if (this.stopped) throw new ReceiverBusyError('agent-credit is shutting down', 5);
    this.refuseWhileFull();
    this.counters.logRecordsIn += logs.length;
    // Message contents some instrumentations log instead of setting on the span: they travel with
    // the spans (content spans) and are folded into their LLM span when the episode is mapped.
    // `source`: where the records came from when that is known (replay of a Kafka dump), none for
    // an OTLP/HTTP request (contentSpansFromLogs).
    const contents = contentSpansFromLogs(logs, source === undefined ? { firstOrder: this.contentOrder } : { firstOrder: this.contentOrder, source });
    this.contentOrder += logs.length;
    if (contents.length > 0) {
      this.counters.contentEventsIn += contents.length;
      this.deps.assembler.addSpans(contents);
      this.enqueue(this.deps.assembler.tick());
    }
    const evaluations = this.deps.evaluationsFromLogs(logs);
    const joinable = evaluations.filter((e) => this.evaluationRefusal(e) === undefined);
    const rejected = evaluations.length - joinable.length;
    this.counters.evaluationsIn += joinable.length;
    this.counters.evaluationsRejected += rejected;
    this.deps.telemetry?.evaluationsReceived.add(joinable.length);
    if (joinable.length > 0) {
      this.reportTimeUnits(joinable, 'OTLP log records (gen_ai.evaluation.result)');
      this.deps.assembler.addEvaluations(joinable);
      this.enqueue(this.deps.assembler.tick());
    }
    const notes: string[] = [];
    if (rejected > 0) {
      this.noteRejectedEvaluations(rejected);
      notes.push(`${rejected} evaluation event(s) carry no trace id, gen_ai.conversation.id (with episodes.keyBy: conversation) or gen_ai.response.id; emit them inside the evaluated span's context, or name the response they evaluate`);
    }
    // OTLP lets a server warn in partial_success with nothing rejected (rejected 0, a message): the
    // sender's exporter is where a judge's author looks, not this job's log
    const mistimed = joinable.flatMap((e) => evaluationTimeWarning(e) ?? []);
    if (mistimed.length > 0) notes.push(`${mistimed.length} evaluation event(s) taken with a time that is not nanoseconds — ${mistimed[0]!.message}`);
    if (notes.length > 0) return { rejected, errorMessage: notes.join('; ') };
  }

  /**
   * Why an evaluation joins no episode here, or undefined when it can: it names no trace, no
   * conversation unless episodes are keyed by trace, and no response while responses are
   * remembered (the assembler waits for the LLM span that recorded it). Keyed by trace, a verdict
   * naming only its conversation was taken (200, no partial_success) and then only counted as
   * unjoinable: the sender never learnt that its runs went without credit.
   */
  evaluationRefusal(e: Evaluation): string | undefined {
    if (e.traceId !== undefined) return undefined;
    const options = this.deps.assembler.options;
    if (e.conversationId !== undefined && options?.keyBy !== 'trace') return undefined;
    if (e.responseId !== undefined && (options?.responseIdMemory ?? 0) > 0) return undefined;
    if (e.conversationId !== undefined) {
      return 'names only a conversation, which joins episodes only when they are keyed by conversation (episodes.keyBy: conversation): send the run\'s trace_id (or the evaluated response\'s response_id), or key episodes by conversation';
    }
    return 'names no trace, conversation (with episodes.keyBy: conversation) or response (with episodes.responseIdMemory above 0) to join it to an episode';
  }

  /**
   * The sender is told in the response's partial success, which OTel SDK exporters do not show:
   * logged here too — an evaluation emitted outside any span context is the usual instrumentation
   * mistake, and its episode then closes with "no evaluation". At most one line per 30 s.
   */
  private noteRejectedEvaluations(n: number): void {
    const rejected = this.rejectedDue(n);
    if (rejected === undefined) return;
    this.deps.logger?.warn(
      { rejected },
      'evaluation log record(s) without trace id, gen_ai.conversation.id or gen_ai.response.id dropped: emit them inside the evaluated span\'s context (a log record takes the active span\'s trace and span id), or name the response they evaluate',
    );
  }

  /** Closes due episodes (called by the timer; replay calls it after each file). */
  tick(): void {
    if (this.stopped) return;
    try {
      this.enqueue(this.deps.assembler.tick());
      this.reportExpired ??= expiredEvaluationsReporter(this.deps.logger, this.deps.assembler.options?.pendingEvaluationTtlMs ?? 60_000);
      this.reportOverLimit ??= overLimitEvaluationsReporter(this.deps.logger, this.deps.assembler.options?.maxPendingEvaluations ?? 10_000);
      const stats = this.deps.assembler.stats();
      this.reportExpired(expiredPastTtl(stats));
      this.reportOverLimit(stats.evaluationsDroppedOverLimit);
      this.reportOtherNames ??= otherNameVerdictsReporter(this.deps.logger);
      this.reportOtherNames(stats.lateEvaluationsOtherName);
      this.reportUnjoinable ??= unjoinableEvaluationsReporter(this.deps.logger);
      this.reportUnjoinable(stats.unjoinableEvaluations);
      this.noteRejectedEvaluations(0); // held-back counts go out even when no more come
    } catch (err) {
      this.deps.logger?.error({ err }, 'assembler tick failed');
    }
  }

  /** Resolves once every episode closed so far is credited and published. */
  async drain(): Promise<void> {
    while (this.inOrder.length > 0 && !this.abandoned) {
      const p = this.publishing;
      await p;
      // Head still queued behind running work: wait for the chain to move (a macrotask, so the
      // running credit work can make progress) instead of spinning on a settled promise.
      if (p === this.publishing && this.inOrder.length > 0) await new Promise((r) => setTimeout(r, 5));
    }
    await this.publishing;
    await Promise.all(this.deps.sinks.map((s) => s.flush()));
  }

  /**
   * Closes all open episodes (`shutdown`), credits and publishes them, flushes the sinks. With
   * `waitMs` (the `run` job) it waits at most that long for their credit: the episodes still
   * without it are then left uncredited, logged with their count, and nothing more is published.
   * Without a bound a stuck value function held the stop for runtime.creditTimeoutMs per episode
   * in hand — one after the other behind a replaced credit worker, or creditConcurrency at a time
   * in this thread —, minutes past any supervisor's grace period, which then killed the job
   * without a word about the credit it lost (or the sinks flushed). Replay waits for all.
   */
  async stop(reason: CloseReason = 'shutdown', options: { waitMs?: number; setting?: string } = {}): Promise<void> {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.enqueue(this.deps.assembler.flush(reason));
    this.stopped = true;
    if (options.waitMs === undefined) {
      await this.drain();
      this.unobserve?.();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.drain().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), options.waitMs);
        timer.unref?.();
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      this.abandoned = true;
      // the episodes credited behind a stuck one are published (out of close order), not dropped with it
      const finished = this.inOrder.filter((w) => w.done);
      const left = this.inOrder.length - finished.length;
      this.inOrder.length = 0;
      this.inOrderBytes = 0;
      for (const w of finished) await this.publishWork(w, await w.result!);
      this.deps.logger?.error(
        { episodes: left, waitedMs: options.waitMs },
        `stopping: ${left} closed episode(s) still without credit after ${options.waitMs} ms (${options.setting ?? 'the stop bound'}): left uncredited — no events for them — so the stop ends; a value function that is slow or stuck (see the warnings above) holds credit this long`,
      );
      await Promise.all(this.deps.sinks.map((s) => s.flush()));
    }
    this.unobserve?.();
  }

  /** The stop gave up on the credit still in hand (`stop`'s waitMs): nothing more is published. */
  private abandoned = false;

  private enqueue(episodes: readonly Episode[]): void {
    for (const episode of episodes) {
      this.counters.episodesClosed++;
      this.deps.telemetry?.episodesClosed.add(1, { reason: episode.closeReason });
      const w: Work = { episode, closedAt: performance.now(), result: undefined };
      this.queue.push(w);
      this.inOrder.push(w);
      this.inOrderBytes += episode.bytes;
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.creditConcurrency && this.queue.length > 0) {
      const w = this.queue.shift()!;
      this.running++;
      w.result = this.credit(w).finally(() => {
        w.done = true;
        this.running--;
        this.pump();
      });
      this.publishing = this.publishing.then(() => this.publishReady());
    }
  }

  private async credit(w: Work): Promise<CreditEvent[] | undefined> {
    // the receiver and the live page get a turn between episodes (time-slicer.ts)
    await this.slicer.yieldIfDue();
    try {
      const events = await withTimeout(this.deps.processEpisode(w.episode), this.options.creditTimeoutMs, `processEpisode timed out after ${this.options.creditTimeoutMs} ms (runtime.creditTimeoutMs)`);
      if (events.length === 0) {
        this.counters.episodesSkipped++;
        const reason = this.deps.skippedReasonOf?.(w.episode) ?? 'other';
        if (reason === 'no-agents') this.counters.episodesWithoutAgents++;
        this.deps.telemetry?.episodesWithoutCredit.add(1, { reason });
      } else {
        this.counters.episodesCredited++;
        this.deps.telemetry?.episodesCredited.add(1, creditStatusOf(events));
        this.reportCorrection(w.episode, events);
      }
      this.deps.telemetry?.creditLatency.record((performance.now() - w.closedAt) / 1000);
      return events;
    } catch (err) {
      this.counters.creditFailures++;
      this.deps.telemetry?.creditFailures.add(1);
      this.deps.logger?.error({ episodeId: w.episode.episodeId, err: err instanceof Error ? err.message : String(err) }, 'credit failed; episode skipped');
      return undefined;
    }
  }

  /** Publishes finished works from the head of the close order. */
  private async publishReady(): Promise<void> {
    while (!this.abandoned && this.inOrder.length > 0 && this.inOrder[0]!.result) {
      const w = this.inOrder[0]!;
      const events = await w.result!;
      // the stop gave up meanwhile: it publishes what is finished itself
      if (this.abandoned) return;
      this.inOrder.shift();
      this.inOrderBytes -= w.episode.bytes;
      await this.publishWork(w, events);
    }
  }

  private async publishWork(w: Work, events: CreditEvent[] | undefined): Promise<void> {
    if (!events || events.length === 0) return;
    for (const sink of this.deps.sinks) {
      try {
        await sink.publish(events, { episode: w.episode });
        for (const e of events) this.deps.telemetry?.eventsPublished.add(1, { sink: sink.name, event_type: e.event_type });
      } catch (err) {
        this.deps.logger?.error({ sink: sink.name, err: String(err) }, 'sink publish failed');
      }
    }
    this.counters.eventsOut += events.length;
  }
}

