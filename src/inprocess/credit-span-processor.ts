/**
 * `CreditSpanProcessor`: credit for Node agent apps without Kafka. Register it on the app's
 * TracerProvider (`spanProcessors: [processor]`) and, to receive `gen_ai.evaluation.result`
 * events, its `evaluationLogProcessor` on the app's LoggerProvider (or call `addEvaluations`).
 *
 * Flow: onEnd converts the ReadableSpan to the internal Span (no OTLP round trip) into a bounded
 * buffer; a timer (unref'd: it never keeps the process alive) moves the buffer — and the
 * evaluations logged since (`evaluationLogProcessor`), as one batch — into the episode assembler
 * and closes due episodes; closed episodes go through a bounded credit queue to
 * `processEpisode` (conventions → credit → events) and then to `onCredit(events, episode)`.
 *
 * Lifecycle (OpenTelemetry SpanProcessor contract):
 * - `forceFlush()`: hands every buffered span to the assembler, closes what is due and waits for
 *   all queued credit work and callbacks. It does not close open episodes (their evaluation or
 *   grace period may still be pending) unless `flushClosesEpisodes` is set.
 * - `shutdown()`: stops the timer, closes every open episode (close reason `shutdown`), credits
 *   them and waits for the callbacks; later spans are dropped and counted. Idempotent.
 *
 * Spans are never processed on the caller's thread beyond conversion: onEnd stays cheap.
 * When the span buffer is full the oldest spans are moved into the assembler synchronously;
 * when the credit queue is full the oldest waiting episode is dropped and counted.
 */
import { context, createContextKey, type Context } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { MAX_TIMER_MS } from '../config/defaults.js';
import type { Evaluation } from '../model/agents.js';
import type { CloseReason, Episode } from '../model/episode.js';
import { SELF_TRACER_NAME, type LogRecord, type Span } from '../model/telemetry.js';
import type { CreditEvent } from '../events/schemas.js';
import { contentSpansFromLogs, isContentEvent } from '../conventions/content-events.js';
import { evaluationTimeWarning } from '../conventions/evaluation-time.js';
import { callApp, untraced } from './app-callback.js';
import { SpanConverter } from './convert.js';
import { evaluationsFromInput, type EvaluationInput } from './evaluation-input.js';

/** What the processor needs from the episode assembler (src/episodes `EpisodeAssembler`). */
export interface InProcessAssembler {
  addSpans(spans: readonly Span[]): unknown;
  addEvaluations(evaluations: readonly Evaluation[]): unknown;
  /** Closes and returns the episodes that are due. */
  tick(): Episode[];
  /** Closes and returns every open episode. */
  flush(reason: CloseReason): Episode[];
  /** The assembler's counters, read by `stats()` for the evaluation wait (src/episodes `EpisodeAssembler.stats`). */
  stats?(): {
    readonly awaitingEvaluation?: number;
    readonly evaluationWaitsExpired?: number;
    readonly lateEvaluationsUnused?: number;
    readonly lateEvaluationsOtherName?: number;
    readonly lateUncorrected?: number;
    readonly pendingEvaluations?: number;
    readonly expiredEvaluations?: number;
    readonly unjoinableEvaluations?: number;
    readonly open?: number;
    readonly ownSpans?: number;
    readonly contentEvents?: number;
    readonly pendingContentEvents?: number;
    readonly expiredContentEvents?: number;
    readonly lateContentEvents?: number;
  };
}

/** An error thrown by the app's `onCredit`, as `onError` receives it (credit itself succeeded). */
export class OnCreditError extends Error {
  override readonly name = 'OnCreditError';
  /** Set when the call did not settle within `onCreditTimeoutMs` (it was not cancelled). */
  readonly timedOutAfterMs: number | undefined;
  constructor(cause: unknown, timedOutAfterMs?: number) {
    super(
      timedOutAfterMs !== undefined
        ? `onCredit did not settle within ${timedOutAfterMs} ms (option "onCreditTimeoutMs"): its credit slot is freed; the call is not cancelled and may still finish`
        : `onCredit threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.timedOutAfterMs = timedOutAfterMs;
  }
}

/**
 * Telemetry the processor could not take in (a span or log record it could not convert, or the
 * assembler failing on a batch), as `onError` receives it: the app's span pipeline and timer never
 * see the exception — a span processor that throws breaks `span.end()` in the app's code, and one
 * thrown from the tick timer is an uncaught exception that ends the app.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(what: string, cause: unknown) {
    super(`agent-credit could not take in ${what}: ${cause instanceof Error ? cause.message : String(cause)} — their episodes may lack them; please report it with the telemetry that caused it`, { cause });
  }
}

/**
 * Evaluations that joined no episode (the assembler's `unjoinableEvaluations`), as `onError`
 * receives them: credit lost, where the jobs log a warning. Almost always a
 * `gen_ai.evaluation.result` record logged outside any span context — after `startActiveSpan`'s
 * callback has returned, its span is no longer active —, which carries no trace id. Before, only
 * `stats().evaluationsUnjoinable` rose, and the run closed later as 'no evaluation joined it'.
 */
export class UnjoinableEvaluationError extends Error {
  override readonly name = 'UnjoinableEvaluationError';
  /** `noContextManager`: the app registered none (contextManagerWorks), which is then the cause to name first. */
  constructor(
    readonly count: number,
    noContextManager = false,
  ) {
    super(
      `${count} evaluation(s) joined no episode (stats().evaluationsUnjoinable) — their runs get no credit: a gen_ai.evaluation.result log record emitted outside any span context carries no trace id (less often: it names a gen_ai.response.id that another trace than the one it names recorded — contradictory, not joined). ` +
        (noContextManager ? NO_CONTEXT_MANAGER : '') +
        'Emit it in the context of the run\'s root span (logger.emit({ …, context: trace.setSpan(context.active(), rootSpan) }): once startActiveSpan\'s callback has returned its span is no longer active), ' +
        'or call addEvaluations([{ name, score, traceId: rootSpan.spanContext().traceId }]); one that names only a conversation joins only with episodes.keyBy: \'conversation\'',
    );
  }
}

/**
 * Evaluations taken with a time that looks like seconds, milliseconds or microseconds since the
 * epoch rather than nanoseconds (src/conventions/evaluation-time.ts), as `onError` receives them:
 * taken as given — a small time relative to 0 may be meant — but timed in January 1970, before
 * every span of their run, so a later verdict of the same name reads as a correction of them. The
 * jobs log it; here `onError` is where an app hears of it. The first at once, then at most one
 * per 60 s with the count since.
 */
export class EvaluationTimeUnitError extends Error {
  override readonly name = 'EvaluationTimeUnitError';
  constructor(
    readonly count: number,
    detail: string,
  ) {
    super(`${count} evaluation(s) taken with a time that is not nanoseconds — ${detail}`);
  }
}

/** At most one `EvaluationTimeUnitError` per this many ms, as the jobs' warning line. */
const TIME_UNIT_REPORT_EVERY_MS = 60_000;

const NO_CONTEXT_MANAGER =
  'No context manager is registered (BasicTracerProvider registers none), so context.active() is always empty: startActiveSpan parents nothing — each span is a trace, and an episode, of its own — and no log record gets a span context. ' +
  'Register one: NodeTracerProvider (@opentelemetry/sdk-trace-node) and tracerProvider.register(), NodeSDK, or context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()) (@opentelemetry/context-async-hooks). ';

const PROBE = createContextKey('agent-credit context manager probe');

/**
 * Whether the app's context manager carries contexts. The API's default one (no manager
 * registered: a BasicTracerProvider alone) runs `context.with` without making its context active,
 * so nothing an app starts with startActiveSpan has a parent, and a verdict logged "inside" the
 * run carries no trace id — every span closed as an episode of its own, none credited.
 */
function contextManagerWorks(): boolean {
  return context.with(context.active().setValue(PROBE, true), () => context.active().getValue(PROBE) === true);
}

/** At most one `UnjoinableEvaluationError` per this many ms (the count since the last one goes with the next), as the jobs' warning. */
const UNJOINABLE_REPORT_EVERY_MS = 30_000;

const TIMED_OUT = Symbol('onCredit timed out');

/** A span of agent-credit's own self-tracing (scope `agent-credit`; SDK 1.x spans name it `instrumentationLibrary`). */
function isOwnSpan(span: ReadableSpan): boolean {
  const scope = span.instrumentationScope ?? (span as { instrumentationLibrary?: { name: string } }).instrumentationLibrary;
  return scope?.name === SELF_TRACER_NAME;
}

// Strict: a misspelt option (`tickIntervall`) was ignored and the default used without a word.
export const CreditSpanProcessorOptionsSchema = z.strictObject({
  /** How often buffered spans move to the assembler and due episodes close (ms); at most MAX_TIMER_MS (a longer timer fires after 1 ms). */
  tickIntervalMs: z.number().int().min(1).max(MAX_TIMER_MS).default(250),
  /** Max converted spans waiting for the next tick. */
  maxBufferedSpans: z.number().int().min(1).default(8_192),
  /** Max closed episodes waiting for credit; beyond it the oldest waiting one is dropped. */
  maxQueuedEpisodes: z.number().int().min(1).default(1_000),
  /**
   * Max bytes of those episodes (their spans, as the assembler estimates them: Episode.bytes);
   * beyond it the oldest waiting ones are dropped too (the newest always waits). By count alone,
   * 1,000 large runs — thousands of spans with their messages — were held in the app's heap.
   */
  maxQueuedBytes: z.number().int().min(1).default(256 * 1024 * 1024),
  /** Episodes credited at the same time. */
  concurrency: z.number().int().min(1).max(64).default(1),
  /** forceFlush() also closes open episodes (close reason `shutdown`). */
  flushClosesEpisodes: z.boolean().default(false),
  /**
   * Ms an `onCredit` call may take before its credit slot is freed and `onError` gets an
   * `OnCreditError` (the call itself cannot be cancelled and may still finish). Unset: no limit —
   * a callback that never settles holds its slot, and `forceFlush`/`shutdown` wait for it.
   */
  onCreditTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
});
export type CreditSpanProcessorOptions = z.input<typeof CreditSpanProcessorOptionsSchema>;

export interface CreditSpanProcessorDeps {
  assembler: InProcessAssembler;
  /** conventions → credit → events for one closed episode (src/runtime `processEpisode` with options bound). */
  processEpisode: (episode: Episode) => Promise<CreditEvent[]>;
  /** Receives each episode's events. Errors thrown here are reported to `onError`, never to the app. */
  onCredit: (events: CreditEvent[], episode: Episode) => void | Promise<void>;
  /** Failures of credit or of `onCredit`; default: ignored (see `stats().creditErrors`). */
  onError?: (error: unknown, episode: Episode | undefined) => void;
  /** Evaluations carried by log records (src/conventions `evaluationsFromLogs`); needed by `evaluationLogProcessor`. */
  evaluationsFromLogs?: (logs: readonly LogRecord[]) => Evaluation[];
  /** The credit worker threads behind `processEpisode` (option `creditWorkers`), closed after shutdown's last credit. */
  workers?: { stats(): { workers: number; restarts: number }; close(): Promise<void> };
  /**
   * Why an episode's credit gave no events, asked once it settled with none: a
   * `DegenerateEpisodeError` reason (`processEpisode` reports it through `onSkipped` first), for
   * `stats().episodesWithoutCreditByReason`; anything else, or undefined, counts as `other`.
   */
  skippedReasonOf?: (episode: Episode) => string | undefined;
}

/** The reasons `stats().episodesWithoutCreditByReason` counts: the jobs' `episodes_without_credit_total{reason}`. */
export const WITHOUT_CREDIT_REASONS = ['no-evaluation', 'no-agents', 'non-finite-score', 'unknown-label', 'other'] as const;
export type WithoutCreditReason = (typeof WITHOUT_CREDIT_REASONS)[number];

export interface CreditSpanProcessorStats {
  /** The app's spans taken in (agent-credit's own are counted in `ownSpansIgnored` only). */
  spansReceived: number;
  /** The app's spans ended after shutdown. */
  spansDropped: number;
  evaluationsReceived: number;
  /** Evaluations given after shutdown. */
  evaluationsDropped: number;
  /**
   * Evaluations waiting for their episode's spans now, those that gave up waiting
   * (`episodes.pendingEvaluationTtlMs` / `maxPendingEvaluations`) and those naming nothing to join
   * on: an evaluation that never joins is credit lost — watch the last two.
   */
  evaluationsPending: number;
  evaluationsExpired: number;
  evaluationsUnjoinable: number;
  /** Episodes open in the assembler now. */
  openEpisodes: number;
  /** GenAI content events (message contents logged by the app's LLM instrumentation) joined to their LLM span's episode. */
  contentEvents: number;
  /** Content events waiting for the first span of their trace. */
  contentEventsPending: number;
  /** Content events dropped after waiting (their spans never came) or over the pending caps. */
  contentEventsExpired: number;
  /** Content events for an episode already credited: counted, not used. */
  contentEventsLate: number;
  /**
   * agent-credit's own `agent_credit.credit_episode` spans that reached this processor (its
   * provider is the app's global one) and were ignored — never an episode of their own, and not
   * in `spansReceived` or `spansDropped` (those of the episodes shutdown credits end after it).
   */
  ownSpansIgnored: number;
  episodesClosed: number;
  /** Episodes that yielded events. */
  episodesCredited: number;
  /** Episodes that yielded none (no system evaluation, a non-finite score, an unmapped label: see `processOptions.onSkipped`). */
  episodesWithoutCredit: number;
  /**
   * `episodesWithoutCredit` by reason, as the jobs label `episodes_without_credit_total` (the
   * counts add up to it): `no-evaluation` (no verdict joined — credit lost, send one), `no-agents`
   * (no agent or LLM span: a health check, a start-up trace — nothing to credit, no problem),
   * `non-finite-score`, `unknown-label` (not in `credit.labelScores`), `other` (no reason
   * reported: a custom `processEpisode` that returned no events).
   */
  episodesWithoutCreditByReason: Record<WithoutCreditReason, number>;
  /** Episodes dropped because the credit queue was full. */
  episodesDropped: number;
  creditErrors: number;
  /** Telemetry that could not be taken in (`IngestError` to `onError`): spans, evaluations, or a failed close. */
  ingestErrors: number;
  /** Errors thrown by `onCredit` (reported to `onError` as `OnCreditError`, its `cause` the original). */
  onCreditErrors: number;
  eventsEmitted: number;
  bufferedSpans: number;
  queuedEpisodes: number;
  creditInFlight: number;
  /** Episodes waiting past grace for their verdict now, and waits that ended without one (episodes.awaitEvaluationMs). */
  awaitingEvaluation: number;
  evaluationWaitsExpired: number;
  /**
   * Late run-level evaluations that would not change the verdict (no correction), and of those the
   * ones of another name than the verdict's: above 0 with several judges and `evaluationName`
   * unset, the fastest judge decided — set `processOptions.evaluationName`.
   */
  lateEvaluationsUnused: number;
  lateEvaluationsOtherName: number;
  /** Late spans and evaluations that made no correction (not retained, or past `episodes.correctionWindowMs`). */
  lateUncorrected: number;
  /** Credit worker threads (option `creditWorkers`; 0 = credit on the app's thread) and how many were replaced (stuck past `creditTimeoutMs`, or crashed). */
  creditWorkers: number;
  creditWorkerRestarts: number;
}

export class CreditSpanProcessor implements SpanProcessor {
  private readonly options: z.output<typeof CreditSpanProcessorOptionsSchema>;
  private readonly converter = new SpanConverter();
  private buffer: Span[] = [];
  /**
   * Evaluations logged since the last drain (evaluationLogProcessor), added to the assembler as one
   * batch at the next one (before the spans buffered after them). Added one record at a time, a
   * judge that logs the run's verdict before its step verdicts closed the run on the first, and the
   * others made a revision 1 — where the same records exported in one OTLP request make one revision.
   * Nothing waits longer for it: closed episodes are taken at the next tick either way.
   */
  private loggedEvaluations: Evaluation[] = [];
  /** Arrival order of content events (contentSpansFromLogs: ties of equal timestamps). */
  private contentOrder = 0;
  private readonly queue: Episode[] = [];
  /** Bytes of the queued episodes (Episode.bytes). */
  private queuedBytes = 0;
  private readonly running = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private shutDown = false;
  private shutdownPromise: Promise<void> | undefined;
  private readonly counters = { spansReceived: 0, spansDropped: 0, evaluationsReceived: 0, evaluationsDropped: 0, episodesClosed: 0, episodesCredited: 0, episodesWithoutCredit: 0, episodesDropped: 0, creditErrors: 0, ingestErrors: 0, onCreditErrors: 0, eventsEmitted: 0 };
  /** `unjoinableEvaluations` of the assembler already reported, and when the last report went (reportUnjoinable). */
  private unjoinableSeen = 0;
  private unjoinableReportedAt: number | undefined;
  /** Evaluations with a time in another unit than nanoseconds not reported yet, and the last one's words (`reportTimeUnits`). */
  private mistimed = { count: 0, message: '', reportedAt: undefined as number | undefined };
  /** agent-credit's own spans that reached onEnd (`stats().ownSpansIgnored`, with any the assembler met). */
  private ownSpans = 0;
  private readonly withoutCreditBy = Object.fromEntries(WITHOUT_CREDIT_REASONS.map((r) => [r, 0])) as Record<WithoutCreditReason, number>;

  /** Register on the app's LoggerProvider to feed `gen_ai.evaluation.result` events. */
  readonly evaluationLogProcessor: LogRecordProcessor;

  constructor(
    private readonly deps: CreditSpanProcessorDeps,
    options: CreditSpanProcessorOptions = {},
  ) {
    const parsed = CreditSpanProcessorOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.map((k) => `"${k}"`).join(', ')} — accepted: ${Object.keys(CreditSpanProcessorOptionsSchema.shape).join(', ')}` : ` "${issue.path.join('.')}"`;
      throw new Error(`invalid CreditSpanProcessor option${keys}: ${issue.message}`);
    }
    this.options = parsed.data;
    this.timer = setInterval(() => this.tick(), this.options.tickIntervalMs);
    this.timer.unref();
    this.evaluationLogProcessor = this.makeLogProcessor();
  }

  onStart(_span: SdkSpan, _parentContext: Context): void {
    // Nothing to do until a span ends: only ended spans carry their final attributes and status.
  }

  onEnd(span: ReadableSpan): void {
    // agent-credit's own credit_episode span (the app's provider is global) is not the app's span:
    // never an episode, nor received, nor dropped. Shutdown credits the last episodes, so their
    // spans end after it — each was counted in spansDropped, and a clean run reported a lost span.
    if (isOwnSpan(span)) {
      this.ownSpans++;
      return;
    }
    if (this.shutDown) {
      this.counters.spansDropped++;
      return;
    }
    this.counters.spansReceived++;
    try {
      this.buffer.push(this.converter.span(span));
    } catch (err) {
      this.ingestFailed('a span', err);
      return;
    }
    if (this.buffer.length >= this.options.maxBufferedSpans) this.drainBuffer();
  }

  /**
   * Evaluations from app code (a judge's verdict): `{ name, score | label, traceId | conversationId
   * | responseId, spanId?, … }`; `source` and `timeUnixNano` may be left out. Throws
   * `EvaluationInputError` naming each bad entry, adding none. After shutdown they are dropped
   * and counted (`evaluationsDropped`).
   */
  addEvaluations(evaluations: readonly EvaluationInput[]): void {
    const checked = evaluationsFromInput(evaluations, Date.now());
    this.accept(checked);
  }

  private accept(evaluations: readonly Evaluation[]): void {
    if (this.shutDown) {
      this.counters.evaluationsDropped += evaluations.length;
      return;
    }
    this.drainBuffer(); // keep spans before evaluations that refer to them
    this.counters.evaluationsReceived += evaluations.length;
    this.reportTimeUnits(evaluations);
    this.addToAssembler(evaluations);
    this.reportUnjoinable();
  }

  /** Logged evaluations wait for the next drain, after the spans buffered before them (`loggedEvaluations`). */
  private acceptLogged(evaluations: readonly Evaluation[]): void {
    if (this.shutDown) {
      this.counters.evaluationsDropped += evaluations.length;
      return;
    }
    if (this.buffer.length > 0) this.drainBuffer(); // keep spans before evaluations that refer to them
    this.counters.evaluationsReceived += evaluations.length;
    this.reportTimeUnits(evaluations);
    for (const e of evaluations) this.loggedEvaluations.push(e);
    if (this.loggedEvaluations.length >= this.options.maxBufferedSpans) this.drainBuffer();
  }

  private addToAssembler(evaluations: readonly Evaluation[]): void {
    try {
      this.deps.assembler.addEvaluations(evaluations);
    } catch (err) {
      this.ingestFailed(`${evaluations.length} evaluations`, err);
    }
  }

  async forceFlush(): Promise<void> {
    if (this.shutDown) return this.shutdownPromise;
    this.tick();
    if (this.options.flushClosesEpisodes) this.closeEpisodes(() => this.deps.assembler.flush('shutdown'));
    await this.idle();
  }

  shutdown(): Promise<void> {
    if (!this.shutdownPromise) {
      this.shutdownPromise = (async () => {
        this.drainBuffer();
        this.reportUnjoinable(true); // the last count, also within the report interval
        this.reportTimeUnits([], true);
        this.shutDown = true;
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        this.closeEpisodes(() => this.deps.assembler.tick());
        this.closeEpisodes(() => this.deps.assembler.flush('shutdown'));
        await this.idle();
        await this.deps.workers?.close();
      })();
    }
    return this.shutdownPromise;
  }

  stats(): CreditSpanProcessorStats {
    const a = this.deps.assembler.stats?.();
    return {
      ...this.counters,
      episodesWithoutCreditByReason: { ...this.withoutCreditBy },
      bufferedSpans: this.buffer.length,
      queuedEpisodes: this.queue.length,
      creditInFlight: this.running.size,
      awaitingEvaluation: a?.awaitingEvaluation ?? 0,
      evaluationWaitsExpired: a?.evaluationWaitsExpired ?? 0,
      lateEvaluationsUnused: a?.lateEvaluationsUnused ?? 0,
      lateEvaluationsOtherName: a?.lateEvaluationsOtherName ?? 0,
      lateUncorrected: a?.lateUncorrected ?? 0,
      evaluationsPending: a?.pendingEvaluations ?? 0,
      evaluationsExpired: a?.expiredEvaluations ?? 0,
      evaluationsUnjoinable: a?.unjoinableEvaluations ?? 0,
      openEpisodes: a?.open ?? 0,
      ownSpansIgnored: this.ownSpans + (a?.ownSpans ?? 0),
      contentEvents: a?.contentEvents ?? 0,
      contentEventsPending: a?.pendingContentEvents ?? 0,
      contentEventsExpired: a?.expiredContentEvents ?? 0,
      contentEventsLate: a?.lateContentEvents ?? 0,
      creditWorkers: this.deps.workers?.stats().workers ?? 0,
      creditWorkerRestarts: this.deps.workers?.stats().restarts ?? 0,
    };
  }

  private tick(): void {
    this.drainBuffer();
    this.reportUnjoinable();
    this.closeEpisodes(() => this.deps.assembler.tick());
  }

  /**
   * Tells `onError` of evaluations the assembler could not join since the last report (logged ones
   * join at the tick after their emit; a response id can turn out contradictory later): at once the
   * first time, then at most once per UNJOINABLE_REPORT_EVERY_MS with the count since (and at
   * shutdown, `force`).
   */
  private reportUnjoinable(force = false): void {
    const total = this.deps.assembler.stats?.().unjoinableEvaluations ?? 0;
    if (total <= this.unjoinableSeen) return;
    const now = Date.now();
    if (!force && this.unjoinableReportedAt !== undefined && now - this.unjoinableReportedAt < UNJOINABLE_REPORT_EVERY_MS) return;
    const count = total - this.unjoinableSeen;
    this.unjoinableSeen = total;
    this.unjoinableReportedAt = now;
    this.report(new UnjoinableEvaluationError(count, !contextManagerWorks()), undefined);
  }

  /** Tells `onError` of evaluations timed in another unit than nanoseconds (EvaluationTimeUnitError): the first at once, then at most once per TIME_UNIT_REPORT_EVERY_MS with the count since (and at shutdown, `force`). */
  private reportTimeUnits(evaluations: readonly Evaluation[], force = false): void {
    for (const e of evaluations) {
      const w = evaluationTimeWarning(e);
      if (w === undefined) continue;
      this.mistimed.count++;
      this.mistimed.message = w.message;
    }
    const m = this.mistimed;
    if (m.count === 0) return;
    const now = Date.now();
    if (!force && m.reportedAt !== undefined && now - m.reportedAt < TIME_UNIT_REPORT_EVERY_MS) return;
    this.report(new EvaluationTimeUnitError(m.count, m.message), undefined);
    this.mistimed = { count: 0, message: '', reportedAt: now };
  }

  private drainBuffer(): void {
    if (this.loggedEvaluations.length > 0) {
      const evaluations = this.loggedEvaluations;
      this.loggedEvaluations = [];
      this.addToAssembler(evaluations);
    }
    if (this.buffer.length === 0) return;
    const spans = this.buffer;
    this.buffer = [];
    try {
      this.deps.assembler.addSpans(spans);
    } catch (err) {
      this.ingestFailed(`${spans.length} spans`, err);
    }
  }

  /** The assembler's closed episodes, queued for credit; a failure to close is reported, not thrown (IngestError). */
  private closeEpisodes(take: () => Episode[]): void {
    let episodes: Episode[];
    try {
      episodes = take();
    } catch (err) {
      this.ingestFailed('the episodes due to close', err);
      return;
    }
    this.enqueue(episodes);
  }

  private ingestFailed(what: string, err: unknown): void {
    this.counters.ingestErrors++;
    this.report(new IngestError(what, err), undefined);
  }

  private enqueue(episodes: Episode[]): void {
    for (const episode of episodes) {
      this.counters.episodesClosed++;
      if (episode.closeReason === 'revoked') continue; // never emitted (Kafka-only reason)
      if (this.queue.length >= this.options.maxQueuedEpisodes) {
        const dropped = this.queue.shift()!;
        this.queuedBytes -= dropped.bytes;
        this.counters.episodesDropped++;
        this.report(new Error(`credit queue full (option "maxQueuedEpisodes" = ${this.options.maxQueuedEpisodes}): dropped episode ${dropped.episodeId}`), dropped);
      }
      this.queue.push(episode);
      this.queuedBytes += episode.bytes;
      while (this.queue.length > 1 && this.queuedBytes > this.options.maxQueuedBytes) {
        const dropped = this.queue.shift()!;
        this.queuedBytes -= dropped.bytes;
        this.counters.episodesDropped++;
        this.report(new Error(`credit queue full (option "maxQueuedBytes" = ${this.options.maxQueuedBytes}: the waiting episodes' spans hold more): dropped episode ${dropped.episodeId} (${dropped.bytes} bytes)`), dropped);
      }
      // Let free workers take episodes before the next one can overflow the queue.
      this.pump();
    }
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.queue.length > 0) {
      const episode = this.queue.shift()!;
      this.queuedBytes -= episode.bytes;
      const job: Promise<void> = this.credit(episode).finally(() => {
        this.running.delete(job);
        this.pump();
        if (this.running.size === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
      this.running.add(job);
    }
  }

  private async credit(episode: Episode): Promise<void> {
    try {
      const events = await this.deps.processEpisode(episode);
      // No events: a degenerate episode (no system evaluation, a bad score; processOptions.onSkipped
      // says why). Counted apart: "credited" with nothing emitted misled users.
      if (events.length === 0) {
        this.counters.episodesWithoutCredit++;
        const reason = this.deps.skippedReasonOf?.(episode);
        this.withoutCreditBy[(WITHOUT_CREDIT_REASONS as readonly string[]).includes(reason ?? '') ? (reason as WithoutCreditReason) : 'other']++;
      } else this.counters.episodesCredited++;
      this.counters.eventsEmitted += events.length;
      try {
        const call = Promise.resolve().then(() => untraced(() => this.deps.onCredit(events, episode)));
        const limit = this.options.onCreditTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = (ms: number) => new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)).unref());
        if (limit === undefined) await call;
        else if ((await Promise.race([call, timedOut(limit)]).finally(() => clearTimeout(timer))) === TIMED_OUT) {
          this.counters.onCreditErrors++;
          this.report(new OnCreditError(undefined, limit), episode);
          // a late failure of the abandoned call is still the app's to see
          call.catch((err: unknown) => this.report(new OnCreditError(err), episode));
        }
      } catch (err) {
        this.counters.onCreditErrors++;
        this.report(new OnCreditError(err), episode);
      }
    } catch (err) {
      this.counters.creditErrors++;
      this.report(err, episode);
    }
  }

  private report(err: unknown, episode: Episode | undefined): void {
    // A failing error handler (a throw, or an async one's rejection) must not break the app.
    callApp(() => this.deps.onError?.(err, episode));
  }

  private idle(): Promise<void> {
    if (this.running.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private makeLogProcessor(): LogRecordProcessor {
    return {
      onEmit: (record: ReadableLogRecord) => {
        let log: LogRecord;
        try {
          log = this.converter.logRecord(record);
        } catch (err) {
          this.ingestFailed('a log record', err);
          return;
        }
        // Message contents logged inside an LLM span (instrumentation-openai and others): content
        // spans, buffered with the spans so they reach the episode before it closes. Each emit is
        // its own source: nothing is delivered twice here, and equal messages stay two.
        if (isContentEvent(log)) {
          if (this.shutDown) return;
          for (const s of contentSpansFromLogs([log], { firstOrder: this.contentOrder, source: String(this.contentOrder) })) this.buffer.push(s);
          this.contentOrder++;
          // the buffer's bound holds for content spans too (they grew it past maxBufferedSpans until the next tick)
          if (this.buffer.length >= this.options.maxBufferedSpans) this.drainBuffer();
          return;
        }
        const toEvaluations = this.deps.evaluationsFromLogs;
        if (!toEvaluations) {
          this.report(new Error('CreditSpanProcessor: pass deps.evaluationsFromLogs to use evaluationLogProcessor'), undefined);
          return;
        }
        // after shutdown, acceptLogged() counts them as dropped (evaluationsDropped), as addEvaluations' are:
        // returning here first left an evaluation logged after shutdown uncounted
        let evaluations: Evaluation[];
        try {
          evaluations = toEvaluations([log]);
        } catch (err) {
          this.ingestFailed('a log record', err);
          return;
        }
        if (evaluations.length > 0) this.acceptLogged(evaluations);
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
}
