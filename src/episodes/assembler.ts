/**
 * EpisodeAssembler: groups decoded spans and evaluations into episodes and decides when each
 * closes, like the collector's groupbytrace / tail_sampling `decision_wait`.
 *
 * Close rules (checked by `tick()`, except the immediate ones):
 * - `root-ended`: the root span has ended (see open-episode.ts for the root rule; in conversation
 *   mode every trace of the episode needs its root) and `graceMs` passed with no new span — or
 *   `awaitEvaluationMs` while it waits for its evaluation (see `awaitsEvaluation`);
 * - `evaluation-arrived` (immediate, `closeOnEvaluation`): root ended and a system-level
 *   evaluation (no span id, or the root's span id) is joined — whichever of the two came last;
 *   an episode that holds no agent work yet waits for its agent spans instead (up to
 *   `awaitEvaluationMs`, see `holdsVerdictForAgentWork`) and closes on its verdict then;
 * - `idle`: no new span for `idleMs`; `max-duration`: `maxDurationMs` since the first span;
 * - `max-spans` / `max-bytes` (immediate): the episode reached `maxSpansPerEpisode` spans or
 *   `maxBytesPerEpisode` estimated bytes;
 * - `evicted` (immediate): `maxOpenEpisodes` or `maxBufferedBytes` exceeded: the OLDEST open
 *   episode (first opened) is closed and emitted, never silently dropped;
 * - `shutdown` (or any reason given): `flush()`.
 * Episodes closed inside `addSpans`/`addEvaluations` are queued and returned by the next
 * `tick()`/`flush()`: call `tick()` after every batch (and from a timer for the time rules).
 *
 * Duplicates (same trace id + span id) are dropped and counted on the episode and globally,
 * also after the episode closed (32-bit fingerprints, closed-episodes.ts). A span for a closed
 * episode is late: counted; with `lateSpanPolicy: correct` it reopens the episode as a correction
 * (revision + 1) holding the previous revision's spans and evaluations plus the late records.
 *
 * Not thread-safe and synchronous; all time comes from the injected `Clock`.
 */
import type { Evaluation } from '../model/agents.js';
import type { CloseReason, Episode, SourcePosition } from '../model/episode.js';
import { SELF_TRACER_NAME, type Span } from '../model/telemetry.js';
import { CONTENT_EVENT_SCOPE } from '../conventions/content-events.js';
import { isResponseFetch, responseIdOf } from '../conventions/response-ids.js';
import type { SpanTree } from '../conventions/span-tree.js';
import { conversationIdOf as defaultConversationIdOf } from '../conventions/conversation.js';
import { holdsAgentWork as defaultHoldsAgentWork } from '../conventions/agent-work.js';
import { boundedId } from '../conventions/text.js';
import { systemClock, type Clock } from './clock.js';
import { ClosedEpisodes } from './closed-episodes.js';
import { compareOffsets, lowerOffset, PartitionOffsets, readsPartition, type SourceRange } from './offsets.js';
import { isTopLevel, OpenEpisode } from './open-episode.js';
import { resolveEpisodeAssemblerOptions, type EpisodeAssemblerOptions, type EpisodeAssemblerOptionsInput } from './options.js';
import { PendingByKey } from './pending-by-key.js';
import { ResponseIndex } from './response-index.js';
import { carriesSystemScore } from './span-scores.js';
import { estimateSharedBytes, estimateSpanBytes } from './span-bytes.js';
import type { EpisodeAssemblerStats } from './stats.js';

/** Conversation id of a span, or undefined (conversation mode only). */
export type ConversationIdOf = (span: Span) => string | undefined;

export interface EpisodeAssemblerHooks {
  /** Default: src/conventions `conversationIdOf` (gen_ai.conversation.id, session.id, …). */
  conversationIdOf?: ConversationIdOf;
  /**
   * Which system-level evaluations close an episode at once (`closeOnEvaluation`). Default: any.
   * The job passes the configured `evaluation.name`: with several evaluators on one run (a
   * toxicity check before the task verdict), the first to arrive closed the episode, credit found
   * no evaluation of that name, and the real verdict came as a correction.
   */
  closesOnEvaluation?: (e: Evaluation) => boolean;
  /**
   * Whether a system-level evaluation gives credit a score: a finite one, or a label the label
   * table scores. Default: a finite `score` (labels were scored by the built-in table at decoding;
   * `assemblerHooksFor` passes the configured `credit.labelScores`). Only a revision closed with
   * one emits credit, so only such a close starts the correction window and ends the wait for a
   * verdict: an unknown label or a NaN score (an evaluator that failed) started the window, and
   * the real verdict, an hour later, was dropped although the episode had never been credited.
   */
  scoresRun?: (e: Evaluation) => boolean;
  /**
   * Whether an episode's spans carry its system score already, so it does not wait for an
   * evaluation (`awaitEvaluationMs`). Default: src/episodes `carriesSystemScore` with no
   * evaluation name and no root score attribute (`assemblerHooksFor` passes the configured ones).
   */
  carriesSystemScore?: (spans: readonly Span[]) => boolean;
  /**
   * The evaluations a closed episode's spans carry, as credit reads them (for telling whether a
   * late evaluation changes the verdict). Default: conventions' `evaluationsFromTree` with no
   * root score attribute (`assemblerHooksFor` passes the configured one).
   */
  spanEvaluations?: (tree: SpanTree) => readonly Evaluation[];
  /**
   * Whether spans hold agent work (an agent or LLM convention's span): true when one of them does,
   * in whatever order they are given. Default: src/conventions `holdsAgentWork`. An episode
   * without any — a health check, a static file, a start-up trace — closes at `graceMs` after its
   * root ended instead of waiting `awaitEvaluationMs` for a verdict nobody sends (nothing to
   * credit); one that has its verdict waits up to `awaitEvaluationMs` for agent spans instead of
   * closing on it at once (they may come after it).
   */
  holdsAgentWork?: (spans: readonly Span[]) => boolean;
}

const CONVERSATION_PREFIX = 'conv:';

/**
 * The evaluation with its conversation and response ids as every source bounds them (conventions'
 * `boundedId`; the same object when they are): one handed to the assembler by a caller of its own
 * joins, and is held, as one decoded from a record.
 */
function withBoundedIds(e: Evaluation): Evaluation {
  const conversationId = boundedId(e.conversationId);
  const responseId = boundedId(e.responseId);
  if (conversationId === e.conversationId && responseId === e.responseId) return e;
  return { ...e, ...(conversationId !== undefined ? { conversationId } : {}), ...(responseId !== undefined ? { responseId } : {}) };
}

/**
 * A trace starting up to this long before the conversation's held roots ended still counts as its
 * next turn: the JS SDK stamps starts at ms precision (Date.now anchor), and hosts' clocks differ
 * by a few ms. A sub-agent's trace starting in the orchestrator's last 50 ms reads as a next turn
 * (it then waits for a verdict naming it, up to awaitEvaluationMs).
 */
const TURN_START_SLACK_NS = 50_000_000n;

/** Earliest start (unix ns) of these spans. */
function earliestStart(spans: readonly Span[]): bigint {
  let t: bigint | undefined;
  for (const s of spans) if (t === undefined || s.startTimeUnixNano < t) t = s.startTimeUnixNano;
  return t ?? 0n;
}
/** Pending key of evaluations that wait for the LLM span recording their response id. */
const RESPONSE_PREFIX = 'resp:';
/** Most keys of dropped pending evaluations remembered with why (a trace id key and cause: ~100 bytes each). */
const MAX_REMEMBERED_DROPPED_KEYS = 100_000;

/**
 * Close reasons after which the revision is kept for a correction. Not after `evicted` (memory
 * pressure), `shutdown` or `revoked`: late records of those are only counted. A revision closed by
 * a cap (`max-spans`, `max-bytes`; `CAP_REASONS`) is kept for its late evaluations and late
 * top-level root spans (no parent span id) only: every other span would reopen and re-close a full
 * episode. Without those a capped run was never credited: spans are exported as they end, so the
 * root — which the run's verdict names — is past the cap, and the verdict comes after it.
 */
const RETAINED_REASONS: ReadonlySet<CloseReason> = new Set(['root-ended', 'evaluation-arrived', 'idle', 'max-duration', 'max-spans', 'max-bytes']);
const CAP_REASONS: ReadonlySet<CloseReason> = new Set(['max-spans', 'max-bytes']);

function zeroCloseCounts(): Record<CloseReason, number> {
  return { 'root-ended': 0, 'evaluation-arrived': 0, idle: 0, 'max-duration': 0, 'max-spans': 0, 'max-bytes': 0, evicted: 0, shutdown: 0, revoked: 0 };
}

export class EpisodeAssembler {
  readonly options: EpisodeAssemblerOptions;
  /** Open episodes by id; Map insertion order = opening order, so the first entry is the oldest. */
  private readonly open = new Map<string, OpenEpisode>();
  /** Conversation mode: trace id → the open episode holding that trace. */
  private readonly traceIndex = new Map<string, OpenEpisode>();
  /** Closed, not yet returned by tick()/flush(). */
  private ready: Episode[] = [];
  /** How many episodes in `ready` name each trace (holdsTrace in O(1): it runs for every record's traces). */
  private readyTraces = new Map<string, number>();
  /**
   * First offsets of the sources of every episode in `open` and `ready`, per partition: the part
   * of `lowWatermark` they hold, at once — a scan of every open episode per partition and commit
   * cost O(open episodes) (thousands under load). Kept in step where sources change (each
   * `recordPosition` and merge) and where an episode leaves (handed out by `drain`, or dropped).
   */
  private readonly firsts = new PartitionOffsets();
  /**
   * Trace-keyed corrections (revision > 0) open now: what `correctionsOn` reports. A correction's
   * own records are held like any open episode's (`firsts`); the records of the revisions before it
   * were committed with those — a crash before the correction is published must replay them too.
   */
  private readonly corrections = new Set<OpenEpisode>();
  /**
   * Of a trace-keyed correction (open, or closed) that a crash must not lose: the sources of the
   * revisions before it (`correctionBase`; empty for one rebuilt by a replay, which read them all).
   * None for a correction of a revision closed longer than `correctionWindowMs` ago (held as before).
   */
  private readonly bases = new WeakMap<OpenEpisode | Episode, readonly SourceRange[]>();
  /** Trace id → the revision a replay rebuilds its episode at (`expectRevision`). */
  private readonly expected = new Map<string, number>();
  private readonly closed: ClosedEpisodes;
  private readonly pending: PendingByKey<Evaluation>;
  /** GenAI content events (content spans) of traces no open episode holds yet. */
  private readonly pendingContent: PendingByKey<Span>;
  private readonly conversationIdOf: ConversationIdOf;
  private readonly closesOnEvaluation: (e: Evaluation) => boolean;
  /** `closesOnEvaluation` and `scoresRun`: a verdict credit is computed from. */
  private readonly givesCredit: (e: Evaluation) => boolean;
  private readonly carriesSystemScore: (spans: readonly Span[]) => boolean;
  private readonly spanEvaluations: ((tree: SpanTree) => readonly Evaluation[]) | undefined;
  private readonly holdsAgentWork: (spans: readonly Span[]) => boolean;
  /** Assembler-clock ms of the last evaluation `closesOnEvaluation` accepts: evaluations are arriving (`awaitEvaluationMs`). */
  private lastEvaluationAtMs: number;
  private readonly clock: Clock;
  private readonly byConversation: boolean;
  /** Lower bound of the earliest time rule deadline of any open episode (tick skips the scan before). */
  private nextDueAtMs = Number.POSITIVE_INFINITY;
  private bufferedBytes = 0;
  private bufferedSpans = 0;
  /** Open episodes that have waited past grace for their evaluation (`awaitingEvaluation`). */
  private awaiting = 0;
  private readonly counts = {
    spans: 0,
    duplicateSpans: 0,
    ownSpans: 0,
    lateSpans: 0,
    lateEvaluations: 0,
    lateEvaluationsUnused: 0,
    lateEvaluationsOtherName: 0,
    lateUncorrected: 0,
    corrections: 0,
    evaluations: 0,
    duplicateEvaluations: 0,
    expiredEvaluations: 0,
    evaluationsDroppedOverLimit: 0,
    unjoinableEvaluations: 0,
    evaluationsJoinedByResponseId: 0,
    contentEvents: 0,
    duplicateContentEvents: 0,
    lateContentEvents: 0,
    expiredContentEvents: 0,
    evaluationWaitsExpired: 0,
  };
  /** `gen_ai.response.id` → the LLM span that recorded it, the latest `responseIdMemory` (noted on every LLM span, read rarely). */
  private readonly responses: ResponseIndex;
  /** Some evaluation has waited in `pending` for the span recording its response id (`RESPONSE_PREFIX` keys). */
  private responseWaitsSeen = false;
  /** Evaluations `resolveEvaluation` produced: counted as joined by response id when they join. */
  private readonly resolvedByResponse = new WeakSet<Evaluation>();
  private readonly closedCounts = zeroCloseCounts();

  /**
   * @param options partial options; defaults applied and validated (throws `EpisodeOptionsError` naming the key)
   * @param clock time source in ms (default: `Date.now`)
   */
  constructor(options: EpisodeAssemblerOptionsInput = {}, clock: Clock = systemClock, hooks: EpisodeAssemblerHooks = {}) {
    this.options = resolveEpisodeAssemblerOptions(options);
    this.clock = clock;
    this.byConversation = this.options.keyBy === 'conversation';
    // ids held as the conventions hold them (boundedId): a hook of the caller's may return any length
    const conversationIdOf = hooks.conversationIdOf;
    this.conversationIdOf = conversationIdOf === undefined ? defaultConversationIdOf : (span) => boundedId(conversationIdOf(span));
    this.closesOnEvaluation = hooks.closesOnEvaluation ?? (() => true);
    const scoresRun = hooks.scoresRun ?? ((e: Evaluation) => Number.isFinite(e.score));
    this.givesCredit = (e) => this.closesOnEvaluation(e) && scoresRun(e);
    this.carriesSystemScore = hooks.carriesSystemScore ?? ((spans) => carriesSystemScore(spans));
    this.spanEvaluations = hooks.spanEvaluations;
    this.holdsAgentWork = hooks.holdsAgentWork ?? defaultHoldsAgentWork;
    // A (re)start counts as evaluations arriving: after a crash the replayed runs wait for the
    // verdicts that were on their way, instead of closing at grace before the first one is read.
    this.lastEvaluationAtMs = clock.now();
    this.responses = new ResponseIndex(Math.max(1, this.options.responseIdMemory)); // 0: never used
    this.closed = new ClosedEpisodes({
      maxEpisodes: this.options.closedEpisodeMemory,
      retainBytes: this.options.lateSpanPolicy === 'correct' ? this.options.retainClosedBytes : 0,
    });
    // the keys of the latest 100,000 dropped evaluations (~10 MB, held only once some are
    // dropped): a run opened after its verdict was dropped says so when skipped (Episode
    // `evaluationDropped`). Not as many as maxPendingEvaluations: a backlog read far ahead drops
    // more than that, oldest first, and the runs of the first dropped come first
    this.pending = new PendingByKey<Evaluation>({
      max: this.options.maxPendingEvaluations,
      ttlMs: this.options.pendingEvaluationTtlMs,
      keepDropped: true,
      rememberDropped: MAX_REMEMBERED_DROPPED_KEYS,
    });
    // Content comes before its spans by design (prompt events are logged when an LLM call starts,
    // its span arrives when it ends): it waits as long as an episode may last, from its trace's
    // latest event, bounded in count and bytes.
    this.pendingContent = new PendingByKey<Span>({
      max: this.options.maxPendingContentEvents,
      maxBytes: this.options.maxPendingContentBytes,
      bytesOf: estimateSpanBytes,
      ttlMs: this.options.maxDurationMs,
      refreshOnAdd: true,
      keepDropped: true,
    });
  }

  /**
   * Adds decoded spans (any traces, any order). `position` is the source record they came
   * from (Kafka), recorded as first/last offset per partition on each episode they feed.
   */
  addSpans(spans: readonly Span[], position?: SourcePosition): void {
    const now = this.clock.now();
    const touched = new Set<OpenEpisode>();
    for (const span of spans) {
      if (span.scope.name === SELF_TRACER_NAME) this.counts.ownSpans++;
      else if (span.scope.name === CONTENT_EVENT_SCOPE) this.addContentSpan(span, position, now, touched);
      else this.addSpan(span, position, now, touched);
    }
    // Closing on an evaluation waits for the end of the batch: one request can hold a whole trace
    // root first (spans sorted by start time), and an evaluation that arrived before it closed the
    // episode on its root span alone — revision 0 with no steps, the rest as late spans.
    for (const ep of touched) if (this.open.get(ep.episodeId) === ep && this.closesOnArrivedEvaluation(ep)) this.close(ep, 'evaluation-arrived', now);
  }

  /**
   * `evaluation-arrived` holds: a first revision — or a conversation's next turn — whose root ended
   * and that holds a system-level evaluation that closes it (the turn's own). A next turn is a
   * revision > 0, but its verdict is no inherited one: sent before the turn's spans (it waits for
   * them, then joins), it closed the turn only at graceMs, `root-ended`, where the same verdict sent
   * after them closed it at once — the event's close_reason depended on the order.
   */
  private closesOnArrivedEvaluation(ep: OpenEpisode): boolean {
    if (!(this.options.closeOnEvaluation && (ep.revision === 0 || ep.turnTraces !== undefined) && ep.evaluations.length > 0 && ep.rootEnded() && ep.hasSystemEvaluation(this.closesOnEvaluation, ep.turnTraces !== undefined))) return false;
    return !this.holdsVerdictForAgentWork(ep);
  }

  private addSpan(span: Span, position: SourcePosition | undefined, now: number, touched: Set<OpenEpisode>): void {
    let ep = this.episodeForSpan(span, now);
    let joinKey = ep?.episodeId;
    if (ep === undefined) {
      const key = this.keyOfSpan(span);
      const splitTurn = this.splitTurnOf(key, span.traceId);
      // the split turn reopened (else, not retained or policy `count`, the span goes as before)
      const split = splitTurn === undefined ? undefined : this.reopen(splitTurn, now, span.traceId, false);
      // a trace kept by its closed episode (closedOwnerOf): its late spans are that episode's correction
      const closedId = split !== undefined ? undefined : (this.closedOwnerOf(key, span.traceId) ?? this.closed.find(key, this.byConversation ? span.traceId : undefined));
      if (split !== undefined) {
        split.inheritedTraces = new Set(); // its spans closed early, on their own: none of them is late
        // it joins the conversation this span names, as an open trace-keyed turn does (`episodeForSpan`),
        // and waits for its verdict as a turn (else it closed at grace and the verdict found no revision)
        ep = this.episodeForSpan(span, now) ?? split;
        if (ep.turnTraces === undefined) this.beginTurn(ep, span.traceId, ep.evaluations.length);
        joinKey = ep.episodeId;
      } else if (closedId !== undefined) {
        const reopened = this.reopenForLateSpan(closedId, span, now);
        if (reopened === undefined) return;
        if (reopened === 'own-episode') {
          // a conversation's next turn whose closed revision is no longer retained (or policy
          // `count`) is not late: it is an episode of its own, keyed by its trace, not lost
          ep = this.openEpisode(span.traceId, now);
          joinKey = span.traceId;
        } else {
          // a next turn's verdict may have come first, held for its trace: the span that
          // reopens the conversation must take it (a one-span turn has no second chance)
          ep = reopened;
          joinKey = ep.episodeId;
        }
      } else {
        ep = this.openEpisode(key, now);
        joinKey = key;
      }
    }
    if (ep.hasSpan(span)) {
      ep.duplicateSpans++;
      this.counts.duplicateSpans++;
      return;
    }
    if (ep.revision > 0 && ep.inheritedTraces?.has(span.traceId) !== false) {
      // every new span of a correction arrived after the episode first closed — except the
      // spans of a conversation's next turns, which are not late (they made `late_spans_total`
      // count every turn of every conversation)
      ep.lateSpans++;
      this.counts.lateSpans++;
    }
    if (this.byConversation && ep.traceIds.length > 0 && !ep.holdsTrace(span.traceId)) this.joinTrace(ep, span.traceId, span.startTimeUnixNano);
    this.hold(ep, span, position, now);
    if (this.byConversation) this.traceIndex.set(span.traceId, ep);
    this.counts.spans++;
    if (joinKey !== undefined) this.joinPending(ep, joinKey, span.traceId);
    if (this.pendingContent.size > 0) this.joinPendingContent(ep, span.traceId, now);
    if (this.options.responseIdMemory > 0) {
      const responseId = responseIdOf(span);
      if (responseId !== undefined) this.noteResponse(ep, responseId, span);
    }

    const o = this.options;
    // content spans are capped by bytes only: their number grows with the square of the calls
    // (each call logs the whole history again), not with the run's own spans
    if (ep.spanCount - ep.contentSpans >= o.maxSpansPerEpisode) this.close(ep, 'max-spans', now);
    else if (ep.bytes >= o.maxBytesPerEpisode) this.close(ep, 'max-bytes', now);
    else {
      // Closing on an evaluation is checked at the end of the batch (addSpans). Corrections wait
      // for grace instead: a burst of late spans then makes one revision, not one each.
      touched.add(ep);
      this.nextDueAtMs = Math.min(this.nextDueAtMs, ep.nextDeadline(o));
    }

    this.evictForBytes(ep, now);
  }

  /**
   * Conversation mode, a span naming a conversation: the closed trace-keyed episode of its trace, if
   * that closed before emitting anything (no verdict) — a turn whose first spans named no
   * conversation and closed on their own (`idle`: its last step outlasted `idleMs`) before this
   * span came. Its spans belong to the conversation's turn; one that emitted credit keeps it.
   */
  private splitTurnOf(key: string, traceId: string): string | undefined {
    if (!this.byConversation || key === traceId) return undefined;
    const own = this.closed.ownerOfTrace(traceId);
    if (own === undefined || own.startsWith(CONVERSATION_PREFIX)) return undefined;
    return this.closed.creditedAt(own) === undefined ? own : undefined;
  }

  /**
   * Conversation mode, a span naming conversation `key` whose trace no open episode holds: the
   * closed episode that keeps the trace — another conversation (a trace already in one stays
   * there), or the trace's own episode once it was credited (its first spans named none) — so its
   * late spans are that episode's correction. Sent to the conversation named, a credited run's
   * spans were credited again under the conversation's id (its correction re-keyed to `conv:<id>`,
   * or absorbed into the conversation's revision), or joined another conversation without their root.
   */
  private closedOwnerOf(key: string, traceId: string): string | undefined {
    if (!this.byConversation || key === traceId) return undefined;
    const own = this.closed.ownerOfTrace(traceId);
    if (own === undefined || own === key) return undefined;
    // a trace-keyed episode that emitted nothing is a split turn: it joins the conversation (splitTurnOf)
    return own.startsWith(CONVERSATION_PREFIX) || this.closed.creditedAt(own) !== undefined ? own : undefined;
  }

  /**
   * A GenAI content event (content span, src/conventions/content-events.ts): joins the open
   * episode that holds its trace. It never opens one — its logs may come before the trace's spans
   * (then it waits in `pendingContent`, like an early evaluation, until a span of the trace
   * arrives) or without them (sampled out at the collector: it expires, counted). After the
   * trace's episode was credited it is only counted (`lateContentEvents`): a correction for it
   * would mostly change nothing (the span recorded its messages itself, or capture was off) and a
   * lagging logs partition would make one revision per run. After a close without verdict it
   * waits: the late verdict's revision (`reopen`) takes it.
   */
  private addContentSpan(span: Span, position: SourcePosition | undefined, now: number, touched: Set<OpenEpisode>): void {
    const ep = this.byConversation ? (this.traceIndex.get(span.traceId) ?? this.open.get(span.traceId)) : this.open.get(span.traceId);
    if (ep === undefined) {
      const closedId = this.closed.find(span.traceId, span.traceId);
      if (closedId !== undefined && this.closed.held(closedId, span)) {
        this.counts.duplicateContentEvents++;
        return;
      }
      // late only once credited: an episode that closed without its verdict emitted nothing, and
      // its late verdict (reopen) takes the content waiting for its traces
      if (closedId !== undefined && this.closed.creditedAt(closedId, this.byConversation ? { traceId: span.traceId } : undefined) !== undefined) {
        this.counts.lateContentEvents++;
        return;
      }
      this.counts.expiredContentEvents += this.pendingContent.add(span.traceId, span, position, now);
      return;
    }
    if (!this.attachContent(ep, span, position, now)) return;
    const o = this.options;
    if (ep.bytes >= o.maxBytesPerEpisode) this.close(ep, 'max-bytes', now);
    else {
      touched.add(ep);
      this.nextDueAtMs = Math.min(this.nextDueAtMs, ep.nextDeadline(o));
    }
    this.evictForBytes(ep, now);
  }

  /** Adds a content span to `ep` (no cap checks); false for a duplicate. */
  private attachContent(ep: OpenEpisode, span: Span, position: SourcePosition | undefined, now: number): boolean {
    if (ep.hasSpan(span)) {
      this.counts.duplicateContentEvents++;
      return false;
    }
    this.hold(ep, span, position, now);
    this.counts.contentEvents++;
    return true;
  }

  /** Adds a span (or content span) to `ep` with its estimated bytes, position and buffer totals. */
  private hold(ep: OpenEpisode, span: Span, position: SourcePosition | undefined, now: number): void {
    // a resource or scope shared by several spans of the episode is held once
    const bytes = estimateSpanBytes(span) + ep.sharedBytesOf(span.resource, estimateSharedBytes) + ep.sharedBytesOf(span.scope, estimateSharedBytes);
    ep.addSpan(span, bytes, now);
    ep.recordPosition(position, this.firsts);
    this.bufferedBytes += bytes;
    this.bufferedSpans++;
  }

  /** Moves the content events waiting for `traceId` into `ep` (a span of that trace just joined it). */
  private joinPendingContent(ep: OpenEpisode, traceId: string, now: number): void {
    const waiting = this.pendingContent.take(traceId);
    if (waiting === undefined) return;
    for (const p of waiting) this.attachContent(ep, p.item, p.position, now);
  }

  /** The open episode a span belongs to (conversation mode: may merge/re-key episodes). */
  private episodeForSpan(span: Span, now: number): OpenEpisode | undefined {
    if (!this.byConversation) return this.open.get(span.traceId);
    const byTrace = this.traceIndex.get(span.traceId);
    const conversation = this.conversationIdOf(span);
    if (conversation === undefined) return byTrace ?? this.open.get(span.traceId);
    const key = CONVERSATION_PREFIX + conversation;
    // a trace kept by the closed episode that holds it (closedOwnerOf) goes to its correction, not
    // into this conversation: a credited trace-keyed run's correction stays keyed by its trace
    if (byTrace === undefined ? this.closedOwnerOf(key, span.traceId) !== undefined : byTrace.revision > 0 && byTrace.episodeId === span.traceId && this.closed.creditedAt(byTrace.episodeId) !== undefined) return byTrace;
    let byConversation = this.open.get(key);
    // A capped conversation reopened for a late verdict or root takes no other trace (RETAINED_REASONS):
    // joined, a next turn's first span re-closed it at the cap and the rest of the turn was only
    // counted. The turn goes on as when the capped revision is closed: an episode of its own.
    if (byConversation?.capped === true && !byConversation.holdsTrace(span.traceId)) return byTrace;
    // A trace that first showed no conversation id is keyed by its trace id; once one of its
    // spans names the conversation, the trace joins the conversation's episode. A trace already
    // in a conversation stays there (a second conversation id on the same trace is ignored).
    if (byTrace === undefined || byTrace === byConversation) return byConversation;
    if (byTrace.episodeId.startsWith(CONVERSATION_PREFIX)) return byTrace;
    if (byConversation === undefined) {
      const closedId = this.closed.find(key, undefined);
      if (closedId === undefined) {
        this.open.delete(byTrace.episodeId);
        byTrace.episodeId = key;
        this.open.set(key, byTrace);
        return byTrace;
      }
      // The conversation closed before: this trace is its next turn, whose first spans named no
      // conversation (tool spans often carry none, and children are exported first). Re-keyed, it
      // became a second revision 0 under the closed conversation's id — event ids colliding with
      // the first turn's. It joins a correction of the conversation instead; if that revision is
      // gone, the turn stays an episode of its own, keyed by its trace.
      byConversation = this.reopen(closedId, now, span.traceId, false, false, byTrace);
      if (byConversation === undefined) return byTrace;
    }
    const spansBefore = byConversation.spanCount + byTrace.spanCount;
    // a trace joining the conversation: its next turn, or part of the running one (its verdict,
    // joined by trace id, counts as the turn's) — decided on the conversation's own roots, before
    // the trace's are absorbed (its own root always ends after it starts)
    if (byTrace.traceIds[0] !== undefined) this.joinTrace(byConversation, byTrace.traceIds[0], earliestStart(byTrace.spans), byConversation.evaluations.length);
    this.firsts.removeFirsts(byTrace.sources); // its ranges become the conversation's (held there)
    byConversation.absorb(byTrace, this.firsts);
    if (byTrace.awaitedEvaluation) this.awaiting--; // its wait ends in the conversation's episode
    this.open.delete(byTrace.episodeId);
    for (const t of byTrace.traceIds) this.traceIndex.set(t, byConversation);
    this.bufferedSpans -= spansBefore - byConversation.spanCount;
    this.joinPending(byConversation, byTrace.episodeId, undefined);
    return byConversation;
  }

  private keyOfSpan(span: Span): string {
    if (!this.byConversation) return span.traceId;
    const conversation = this.conversationIdOf(span);
    return conversation === undefined ? span.traceId : CONVERSATION_PREFIX + conversation;
  }

  private openEpisode(key: string, now: number): OpenEpisode {
    const revision = this.expected.size === 0 ? undefined : this.expected.get(key);
    const ep = new OpenEpisode(key, this.options.keyBy, now, revision);
    if (revision !== undefined) {
      // the correction rebuilt from the replay: every record it needs is replayed, its spans all at once
      // (none late here), and it closes, publishes and is held as the correction it was
      this.expected.delete(key);
      ep.inheritedTraces = new Set();
      this.bases.set(ep, []); // its own records are all it needs
      this.corrections.add(ep);
    }
    this.open.set(key, ep);
    while (this.open.size > this.options.maxOpenEpisodes) this.evictOldest(ep, now);
    return ep;
  }

  /** Span for a closed episode: a duplicate, or late (counted; reopened as a correction when retained). */
  private reopenForLateSpan(closedId: string, span: Span, now: number): OpenEpisode | 'own-episode' | undefined {
    if (this.closed.held(closedId, span) || this.heldByTraceOwner(closedId, span)) {
      this.counts.duplicateSpans++;
      return undefined;
    }
    const newTurn = this.isNewTurn(closedId, span.traceId);
    // a top-level root may reopen a capped revision: its verdict names it (see RETAINED_REASONS)
    const ep = this.reopen(closedId, now, span.traceId, !newTurn, !newTurn && isTopLevel(span));
    if (ep !== undefined) {
      // a trace the conversation did not hold: its next turn if it started after the held roots
      // ended, else a late part of the last turn (a sub-agent's trace exported late) — a correction
      if (newTurn) this.joinTrace(ep, span.traceId, span.startTimeUnixNano);
      return ep;
    }
    if (newTurn) return 'own-episode';
    this.counts.lateSpans++; // a reopened episode counts it when the span is added
    return undefined;
  }

  /**
   * Conversation mode: whether the closed episode that last held the span's trace, another than
   * `closedId`, held the span — a turn that went out as an episode of its own (its conversation's
   * revision not retained), re-sent: else, not held by the conversation, it passed for the next
   * turn and opened that episode again, revision 0 of re-sent spans.
   */
  private heldByTraceOwner(closedId: string, span: Span): boolean {
    if (!this.byConversation) return false;
    const owner = this.closed.ownerOfTrace(span.traceId);
    return owner !== undefined && owner !== closedId && this.closed.held(owner, span);
  }

  /**
   * Conversation mode: a record of a trace the closed conversation did not hold is its next turn —
   * the conversation goes on, which the correction window must not cut (a user may come back
   * the next day).
   */
  private isNewTurn(closedId: string, traceId: string | undefined): boolean {
    return this.byConversation && traceId !== undefined && !this.closed.heldTrace(closedId, traceId);
  }

  /**
   * A revision at a cap (closed by one, or a correction of one that was): reopened only past the cap
   * (`RETAINED_REASONS`). Asked for every late span of a retained revision that does not reopen it —
   * in conversation mode, every span of each later turn of a capped conversation (`reopen` from
   * `episodeForSpan`) —, so the span count of a correction is taken once per revision (`capCounts`),
   * not once per span: that was a scan of up to `maxSpansPerEpisode` spans on the assemble path.
   */
  private atCap(e: Episode): boolean {
    if (CAP_REASONS.has(e.closeReason) || e.bytes >= this.options.maxBytesPerEpisode) return true;
    if (e.spans.length < this.options.maxSpansPerEpisode) return false;
    let own = this.capCounts.get(e);
    if (own === undefined) {
      own = 0;
      for (const s of e.spans) if (s.scope.name !== CONTENT_EVENT_SCOPE) own++;
      this.capCounts.set(e, own);
    }
    return own >= this.options.maxSpansPerEpisode;
  }

  /** Own (non-content) spans of closed revisions `atCap` counted (a closed revision never changes). */
  private readonly capCounts = new WeakMap<Episode, number>();

  private reopen(closedId: string, now: number, traceId: string | undefined, countUncorrected = true, pastCap = false, absorbing?: OpenEpisode): OpenEpisode | undefined {
    const window = this.options.correctionWindowMs;
    const newTurn = this.isNewTurn(closedId, traceId);
    const credited = this.closed.creditedAt(closedId, this.byConversation ? { traceId } : undefined);
    // past the correction window a credited episode's events are final (a trainer may rely on
    // it); one that closed without its verdict emitted nothing, so its late verdict is its first
    // credit, and a conversation's next turn is no correction
    const inWindow = newTurn || window === 0 || credited === undefined || now - credited <= window;
    // a capped revision reopens for its verdict and its root, never for another span (see RETAINED_REASONS)
    const kept = pastCap ? undefined : this.closed.peekRetained(closedId);
    const reopenable = kept === undefined || !this.atCap(kept);
    const previous = this.options.lateSpanPolicy === 'correct' && inWindow && reopenable ? this.closed.takeRetained(closedId) : undefined;
    if (previous === undefined) {
      if (countUncorrected) this.counts.lateUncorrected++;
      return undefined;
    }
    const ep = OpenEpisode.reopen(previous, now);
    // trace-keyed only: a conversation's next turn reopens it too, and holding a conversation's
    // first records for its whole life would hold its partitions' offsets for hours. And only a
    // revision closed within the window: one closed without its verdict reopens for it at any time,
    // and holding records of days ago would replay days of a partition
    if (!this.byConversation && (window === 0 || now - previous.closedAtMs <= window)) {
      this.bases.set(ep, mergeRanges(this.bases.get(previous), previous.sources));
      this.corrections.add(ep);
    }
    ep.capped = this.atCap(previous);
    // it closed early for holding no agent work (`awaitsEvaluation`): if agent spans come late
    // (another service's exporter), this revision is the run's first with something to credit
    ep.reopenedAgentFree = !this.holdsAgentWork(previous.spans);
    this.counts.corrections++;
    this.open.set(ep.episodeId, ep);
    if (this.byConversation) for (const t of ep.traceIds) this.traceIndex.set(t, ep);
    this.bufferedBytes += ep.bytes;
    this.bufferedSpans += ep.spanCount;
    if (this.pendingContent.size > 0) for (const t of ep.traceIds) this.joinPendingContent(ep, t, now);
    // An open episode the reopened one absorbs next leaves `open`: the count does not grow, and
    // evicting it here (the oldest, at maxOpenEpisodes) emitted its spans as an episode of their own
    // while the conversation absorbed them too — credited twice.
    if (absorbing === undefined) while (this.open.size > this.options.maxOpenEpisodes) this.evictOldest(ep, now);
    return ep;
  }

  /** Remembers an LLM span's response id; evaluations that waited for it join `ep` now. */
  private noteResponse(ep: OpenEpisode, responseId: string, span: Span): void {
    // A `fetch_response` span re-reads a response another span generated (conventions/response-ids.ts):
    // it names the response only while no generating span is known, and never replaces one.
    if (!this.responses.note(responseId, span.traceId, span.spanId, isResponseFetch(span))) return;
    // no evaluation ever waited for a response (most fleets): nothing to take, and no key to build
    // and hash per LLM span (3–4 ms per bench run)
    if (!this.responseWaitsSeen || this.pending.size === 0) return;
    const waiting = this.pending.take(RESPONSE_PREFIX + responseId);
    if (waiting === undefined) return;
    for (const p of waiting) {
      const e = this.resolveEvaluation(p.item);
      if (e.spanId === undefined) {
        // names a trace other than the one that recorded the response: contradictory, not joined
        this.counts.unjoinableEvaluations++;
        continue;
      }
      this.joined(ep, e);
      ep.recordPosition(p.position, this.firsts);
    }
  }

  /** Adds a routed evaluation to its episode, counting it. */
  private joined(ep: OpenEpisode, e: Evaluation): boolean {
    if (!ep.addEvaluation(e)) {
      this.counts.duplicateEvaluations++;
      return false;
    }
    this.counts.evaluations++;
    if (this.resolvedByResponse.has(e)) this.counts.evaluationsJoinedByResponseId++;
    return true;
  }

  /**
   * The evaluation as if it carried the span context of the LLM span that recorded its
   * `gen_ai.response.id`, when that span has been seen (still remembered, `responseIdMemory`) and
   * the evaluation names no span, or names a span of another trace (a traced judge's own span);
   * else unchanged. One naming a trace but no span, another than that span's, is left as it is
   * (contradictory: not joined). The result names a span, so resolving it again (the
   * Kafka pipeline resolves before its replay filter, then adds it here) changes nothing; it is
   * counted in `evaluationsJoinedByResponseId` when it joins an episode.
   */
  resolveEvaluation(given: Evaluation): Evaluation {
    const e = withBoundedIds(given);
    if (e.responseId === undefined || this.options.responseIdMemory === 0) return e;
    const at = this.responses.get(e.responseId);
    if (at === undefined) return e;
    if (e.spanId !== undefined) {
      // Span context and a response id of another trace: the context is not the evaluated span's
      // but the judge's own — an OTel logger stamps a record with the span active where it is
      // emitted (a traced judge service's request span). Joined by it, the verdict scored the
      // judge's trace as a run of its own and the evaluated run never got it.
      if (e.traceId === at.traceId) return e;
    } else if (e.traceId !== undefined && e.traceId !== at.traceId) return e;
    const resolved = { ...e, traceId: at.traceId, spanId: at.spanId };
    this.resolvedByResponse.add(resolved);
    return resolved;
  }

  /** Holds an evaluation for its spans; the ones that dropped out over `maxPendingEvaluations` are counted. */
  private holdPending(key: string, e: Evaluation, position: SourcePosition | undefined, now: number): void {
    const dropped = this.pending.add(key, e, position, now);
    this.counts.expiredEvaluations += dropped;
    this.counts.evaluationsDroppedOverLimit += dropped;
  }

  /** Moves evaluations waiting under the episode key (and, conversation mode, the trace id) into the episode. */
  private joinPending(ep: OpenEpisode, key: string, traceId: string | undefined): void {
    const other = traceId !== undefined && traceId !== key ? traceId : undefined;
    // a map look-up per span while dropped keys are remembered, only for runs without a verdict yet
    if (ep.evaluationDropped === undefined && ep.evaluations.length === 0 && this.pending.remembersDropped) {
      const why = this.pending.takeWhyDropped(key) ?? (other !== undefined ? this.pending.takeWhyDropped(other) : undefined);
      if (why !== undefined) ep.evaluationDropped = why;
    }
    if (this.pending.size === 0) return;
    const lists = [this.pending.take(key), other !== undefined ? this.pending.take(other) : undefined];
    for (const list of lists) {
      if (list === undefined) continue;
      for (const p of list) {
        this.joined(ep, p.item);
        ep.recordPosition(p.position, this.firsts);
      }
    }
  }

  /**
   * Adds evaluations (from logs, span events, an evaluations stream). Joined by trace id (trace
   * mode) or conversation id, else trace id (conversation mode). One that names no span but a
   * `gen_ai.response.id` first takes the trace and span id of the LLM span that recorded that
   * response (`resolveEvaluation`), waiting for it (held, like the next case) if it has not been
   * seen. Before any span of the episode: held (bounded, TTL). After the episode closed: late
   * (counted; correction with policy `correct`).
   */
  addEvaluations(evaluations: readonly Evaluation[], position?: SourcePosition): void {
    const now = this.clock.now();
    const closing = new Set<OpenEpisode>();
    for (const e of evaluations) this.addEvaluation(e, position, now, closing);
    // Closing on a verdict waits for the end of the batch, as in addSpans: a judge that sends the
    // run's verdict before its step verdicts in one request closed the run on the first, and the
    // others, a moment later, made a revision + 1 — revision 0 credited without the flagged step.
    for (const ep of closing) if (this.open.get(ep.episodeId) === ep) this.close(ep, 'evaluation-arrived', now);
  }

  private addEvaluation(given: Evaluation, position: SourcePosition | undefined, now: number, closing: Set<OpenEpisode>): void {
    const e = this.resolveEvaluation(given);
    if (this.closesOnEvaluation(e)) this.lastEvaluationAtMs = now;
    let key: string | undefined;
    let ep: OpenEpisode | undefined;
    if (!this.byConversation) {
      key = e.traceId;
      ep = key === undefined ? undefined : this.open.get(key);
    } else if (e.conversationId !== undefined) {
      key = CONVERSATION_PREFIX + e.conversationId;
      // the episode holding its trace first: a turn whose spans name no conversation is keyed by its trace
      ep = (e.traceId === undefined ? undefined : this.traceIndex.get(e.traceId)) ?? this.open.get(key);
      // (a response id not resolved yet names no trace of its own: it waits for its span below)
      if (ep !== undefined && e.traceId !== undefined && !ep.holdsTrace(e.traceId) && !(e.responseId !== undefined && e.spanId === undefined)) {
        // names the open conversation and a trace it does not hold: a trace a closed episode holds
        // (a turn that closed on its own, keyed by its trace) is that episode's late verdict — its
        // first credit when it closed without one; joined here it judged nothing (a response id's
        // span is no span of this episode) and the turn was never credited
        const owner = this.closed.ownerOfTrace(e.traceId);
        if (owner !== undefined && owner !== ep.episodeId) ep = undefined;
        else {
          // else the next turn, judged before its spans came — joined now it would close and
          // credit the current turns with it
          this.holdPending(e.traceId, e, position, now);
          return;
        }
      }
    } else if (e.traceId !== undefined) {
      key = e.traceId;
      ep = this.traceIndex.get(key) ?? this.open.get(key);
    }
    if (e.responseId !== undefined && e.spanId === undefined && this.options.responseIdMemory > 0) {
      // Names a model response not seen yet: wait for the LLM span that records it — also when it
      // carries a trace or conversation id, else (no span id) it would pass for a system verdict.
      // A response id already recorded in another trace than the one it names: contradictory.
      if (this.responses.get(e.responseId) !== undefined) this.counts.unjoinableEvaluations++;
      else {
        this.responseWaitsSeen = true;
        this.holdPending(RESPONSE_PREFIX + e.responseId, e, position, now);
      }
      return;
    }
    if (key === undefined) {
      this.counts.unjoinableEvaluations++;
      return;
    }
    if (ep === undefined) {
      // conversation mode: the closed episode that last held the named trace first — a turn that
      // became an episode of its own, or one that later joined its conversation (whose own
      // record is then stale)
      const owner = this.byConversation && e.traceId !== undefined ? this.closed.ownerOfTrace(e.traceId) : undefined;
      const closedId = owner ?? this.closed.find(key, this.byConversation ? e.traceId : undefined);
      if (closedId === undefined) {
        this.holdPending(key, e, position, now);
        return;
      }
      if (owner === undefined && e.traceId !== undefined && this.isNewTurn(closedId, e.traceId)) {
        // A verdict naming a trace the closed conversation never held: its next turn, judged
        // before the turn's spans arrived. Reopening now credited the earlier turns' messages with
        // it (a revision without the turn); it waits for the turn's spans, which reopen the
        // conversation and take it (`joinPending` by trace id).
        this.holdPending(e.traceId, e, position, now);
        return;
      }
      if (this.closed.heldEvaluation(closedId, e) === true) {
        this.counts.duplicateEvaluations++;
        return;
      }
      this.counts.lateEvaluations++;
      const unchanged = this.closed.verdictUnchangedBy(closedId, e, this.closesOnEvaluation, this.spanEvaluations);
      if (unchanged !== false) {
        this.counts.lateEvaluationsUnused++;
        if (unchanged === 'other-name') this.counts.lateEvaluationsOtherName++;
        return;
      }
      ep = this.reopen(closedId, now, e.traceId, true, true);
      if (ep === undefined) return;
      this.nextDueAtMs = Math.min(this.nextDueAtMs, ep.nextDeadline(this.options));
    }
    if (!this.joined(ep, e)) return;
    ep.recordPosition(position, this.firsts);
    // a conversation's revision closes on its latest turn's verdict, not on an earlier turn's
    const ofTurn = ep.turnTraces === undefined || e.traceId === undefined || ep.turnTraces.has(e.traceId);
    // a capped revision takes no more spans (but its root): its verdict closes it, root or not
    if (this.options.closeOnEvaluation && ofTurn && (ep.rootEnded() || ep.capped) && ep.isSystemEvaluation(e) && this.closesOnEvaluation(e) && !this.holdsVerdictForAgentWork(ep)) closing.add(ep);
    else this.nextDueAtMs = Math.min(this.nextDueAtMs, ep.nextDeadline(this.options));
  }

  /**
   * Closes episodes whose time rules are due and returns them with those closed since the last
   * call by immediate rules (caps, evaluations, eviction), in closing order. Also expires
   * pending evaluations. Cost: O(open episodes) when some deadline may have passed, else O(1).
   */
  tick(): Episode[] {
    const now = this.clock.now();
    this.counts.expiredEvaluations += this.pending.expire(now);
    this.counts.expiredContentEvents += this.pendingContent.expire(now);
    if (now >= this.nextDueAtMs) {
      let next = Number.POSITIVE_INFINITY;
      for (const ep of [...this.open.values()]) {
        let rootQuietMs = this.options.graceMs;
        let reason = ep.dueReason(now, this.options);
        const awaitsVerdict = reason === 'root-ended' && this.awaitsEvaluation(ep, now);
        if (awaitsVerdict) {
          if (!ep.awaitedEvaluation) this.awaiting++;
          ep.awaitedEvaluation = true;
        }
        if (awaitsVerdict || (reason === 'root-ended' && this.awaitsAgentWork(ep))) {
          rootQuietMs = this.options.awaitEvaluationMs;
          reason = ep.dueReason(now, this.options, rootQuietMs);
        }
        // held back from closing on its verdict for its agent spans (`holdsVerdictForAgentWork`):
        // it closes on that verdict, as it would have at once, whether they came or not
        if (reason === 'root-ended' && ep.verdictHeldForAgentWork && !ep.awaitedEvaluation) reason = 'evaluation-arrived';
        // a wait that ends without the verdict — at awaitEvaluationMs, at idleMs or maxDurationMs
        // when those come first, or when evaluations stopped arriving meanwhile — is counted
        // (closeOnEvaluation false: a verdict that joined during the wait ends it at grace, not counted)
        if (reason !== undefined && ep.awaitedEvaluation && !ep.hasSystemEvaluation(this.closesOnEvaluation, ep.turnTraces !== undefined)) this.counts.evaluationWaitsExpired++;
        if (reason !== undefined) this.close(ep, reason, now);
        else {
          next = Math.min(next, ep.nextDeadline(this.options, true, rootQuietMs)); // exact: else an unrooted entry span re-wakes every tick
          // a waiting episode closes at grace once evaluations stop arriving: wake up then too
          if (awaitsVerdict) next = Math.min(next, this.lastEvaluationAtMs + this.options.evaluationsArrivingMs + 1);
        }
      }
      this.nextDueAtMs = next;
    }
    return this.drain();
  }

  /**
   * Whether an episode whose root ended and whose grace passed stays open for its evaluation
   * (`awaitEvaluationMs`): a first revision with no system-level evaluation joined and no score
   * in its spans — or, in conversation mode, a revision opened by the conversation's next turn
   * with no verdict of its own yet (else each turn went out first with the previous turn's
   * verdict, then as a correction) — while evaluations are arriving at all (one in the last
   * `evaluationsArrivingMs`; the start counts as one; a fleet that sends none closes at `graceMs`
   * after that window). A correction (late spans or verdict of a known turn) never waits — but
   * one of a revision that held no agent work (it waited for nothing): then it is the run's first.
   * An episode that holds no agent work (`holdsAgentWork`: no span an agent or LLM convention
   * reads — a health check, a start-up trace) does not wait: there is nothing to credit.
   */
  private awaitsEvaluation(ep: OpenEpisode, now: number): boolean {
    const o = this.options;
    if (o.awaitEvaluationMs <= o.graceMs || (ep.revision > 0 && ep.turnTraces === undefined && !ep.reopenedAgentFree)) return false;
    if (now - this.lastEvaluationAtMs > o.evaluationsArrivingMs) return false;
    // no agent work, nothing to credit: no verdict is coming for a health check (its root ended and
    // grace passed with no new span — agent spans still on their way would have been new spans)
    if (!this.holdsAgent(ep)) return false;
    return !this.hasVerdict(ep, ep.turnTraces !== undefined);
  }

  /**
   * Whether an episode that holds its verdict but no agent work yet (`holdsAgent`) may wait for
   * its agent spans: a first revision — or a correction of a revision that held no agent work
   * (none with agents went out: this one is the run's first) — not at a cap (a capped revision
   * takes no more spans but its root), while `awaitEvaluationMs` is on (above `graceMs`). A
   * verdict can come before the agents' spans: a multi-service trace whose front end exports its
   * SERVER root before the agents' service exports (BatchSpanProcessor waits up to 5 s), or a
   * collector that batches logs faster than traces. Closed on that verdict at once, the run went
   * out as an `episode_credit` with no agents, then as a correction with them.
   */
  private mayWaitForAgentWork(ep: OpenEpisode): boolean {
    const o = this.options;
    return o.awaitEvaluationMs > o.graceMs && !ep.capped && (ep.revision === 0 || ep.reopenedAgentFree);
  }

  /**
   * Whether the verdict that would close the episode now (`evaluation-arrived`) waits instead for
   * the agent spans it scores (`mayWaitForAgentWork`). Noted on the episode, which then closes on
   * it when they come (at the end of their batch; a correction at grace), or `awaitEvaluationMs`
   * after its last span if they do not (`tick`) — `evaluation-arrived` either way, the latter with
   * no agents, as it would have closed at once.
   */
  private holdsVerdictForAgentWork(ep: OpenEpisode): boolean {
    if (!this.mayWaitForAgentWork(ep) || this.holdsAgent(ep)) return false;
    ep.verdictHeldForAgentWork = true;
    return true;
  }

  /**
   * Whether an episode whose root ended and whose grace passed stays open for its agent spans
   * (`mayWaitForAgentWork`; up to `awaitEvaluationMs` after its last span): it has its verdict —
   * held back from closing on it at once, or (`closeOnEvaluation` off) a system-level evaluation
   * or a score in its spans, or one naming a span of its trace it does not hold (the top agent
   * span, judged before it came) — but nothing it could credit. Without any such an episode is a
   * web app's own trace (a health check) and closes at grace (`awaitsEvaluation`).
   */
  private awaitsAgentWork(ep: OpenEpisode): boolean {
    if (!this.mayWaitForAgentWork(ep)) return false;
    // the verdict first: asked of every episode closing at grace, and kept per span count for its close
    const judged = ep.verdictHeldForAgentWork || this.hasVerdict(ep) || ep.hasSystemEvaluation(this.closesOnEvaluation) || ep.evaluatesSpanNotHeld(this.closesOnEvaluation);
    return judged && !this.holdsAgent(ep);
  }

  /**
   * Whether the episode holds agent work (the `holdsAgentWork` hook; in conversation mode any of
   * its traces). Kept once true (spans are only added), else per span count: asked at grace, and
   * of an episode a verdict would close (`holdsVerdictForAgentWork`), not per span.
   */
  private holdsAgent(ep: OpenEpisode): boolean {
    const known = ep.agentWork;
    if (known === true || known === ep.spanCount) return known === true;
    // Asked of the spans last received first. Spans are exported as they end, so the first received
    // is mostly a model call, and the mappers parsed its input and output messages for this yes/no
    // (the credit stage parses them again); the last are the spans around them — the root, the
    // agent invocations —, which a convention reads without messages.
    const held = this.holdsAgentWork([...ep.spans].reverse());
    ep.agentWork = held ? true : ep.spanCount;
    return held;
  }

  /**
   * Conversation mode: `traceId` is the conversation's latest turn in this revision; it waits for
   * that turn's own verdict (`awaitsEvaluation`) — a turn that arrives while the previous turn's
   * revision is still open takes over the wait.
   */
  private beginTurn(ep: OpenEpisode, traceId: string, evaluationsFrom: number): void {
    ep.turnTraces = new Set([traceId]);
    ep.turnEvaluationsFrom = evaluationsFrom;
  }

  /**
   * A trace joins a conversation's episode that holds others: the conversation's next turn when it
   * starts after every held root ended (a user's next message), else part of the running turn (a
   * sub-agent's trace, or a turn exported in pieces) — a verdict naming any of the turn's traces is
   * the turn's. Before, every joining trace was a turn: a verdict naming the orchestrator's trace
   * of a two-trace turn then closed nothing and the turn waited out awaitEvaluationMs.
   */
  private joinTrace(ep: OpenEpisode, traceId: string, startUnixNano: bigint, evaluationsFrom = ep.evaluations.length): void {
    const ended = ep.rootsEndedAt();
    if (ended !== undefined && startUnixNano + TURN_START_SLACK_NS >= ended && ep.rootEnded()) this.beginTurn(ep, traceId, evaluationsFrom);
    else ep.turnTraces?.add(traceId);
  }

  /**
   * Whether the episode closes with a system verdict (joined, or a score in its spans): its credit
   * is emitted. `ofTurn`: the conversation's current turn's own verdict (joined since the turn
   * began or naming one of its traces, or a score in the turn's spans). The spans' answer is kept
   * per span count and turn: a waiting episode is asked on every tick.
   */
  private hasVerdict(ep: OpenEpisode, ofTurn = false): boolean {
    if (ep.hasSystemEvaluation(this.givesCredit, ofTurn)) return true;
    const turnTraces = ofTurn ? ep.turnTraces : undefined;
    const known = ep.spanScore;
    if (known !== undefined && known.spans === ep.spanCount && known.turnTraces === turnTraces) return known.scored;
    const spans = turnTraces === undefined ? ep.spans : ep.spans.filter((s) => turnTraces.has(s.traceId));
    ep.spanScore = { spans: ep.spanCount, turnTraces, scored: this.carriesSystemScore(spans) };
    return ep.spanScore.scored;
  }

  /** Closes every open episode with `reason` (default `shutdown`) and returns all closed, not yet returned. */
  flush(reason: CloseReason = 'shutdown'): Episode[] {
    const now = this.clock.now();
    for (const ep of [...this.open.values()]) this.close(ep, reason, now);
    this.nextDueAtMs = Number.POSITIVE_INFINITY;
    return this.drain();
  }

  private drain(): Episode[] {
    const out = this.ready;
    this.ready = [];
    if (this.readyTraces.size > 0) this.readyTraces = new Map();
    for (const ep of out) this.firsts.removeFirsts(ep.sources);
    return out;
  }

  private close(ep: OpenEpisode, reason: CloseReason, now: number): void {
    this.forgetOpen(ep);
    const episode = ep.toEpisode(reason, now);
    const base = this.bases.get(ep);
    if (base !== undefined) this.bases.set(episode, base);
    this.ready.push(episode);
    for (const t of episode.traceIds) this.readyTraces.set(t, (this.readyTraces.get(t) ?? 0) + 1);
    this.closedCounts[reason]++;
    this.closed.remember(episode, this.byConversation, RETAINED_REASONS.has(reason), this.hasVerdict(ep));
  }

  private forgetOpen(ep: OpenEpisode): void {
    if (ep.awaitedEvaluation) this.awaiting--;
    if (ep.revision > 0) this.corrections.delete(ep);
    this.open.delete(ep.episodeId);
    if (this.byConversation) for (const t of ep.traceIds) if (this.traceIndex.get(t) === ep) this.traceIndex.delete(t);
    this.bufferedBytes -= ep.bytes;
    this.bufferedSpans -= ep.spanCount;
  }

  /** Closes the oldest open episode other than `keep` with reason `evicted`. */
  private evictOldest(keep: OpenEpisode, now: number): boolean {
    for (const ep of this.open.values()) {
      if (ep === keep) continue;
      this.close(ep, 'evicted', now);
      return true;
    }
    return false;
  }

  private evictForBytes(keep: OpenEpisode, now: number): void {
    while (this.bufferedBytes > this.options.maxBufferedBytes && this.evictOldest(keep, now)) {
      /* evictOldest closed one */
    }
  }

  /**
   * Removes, without emitting, the open episodes fed by records of this partition (rebalance:
   * the new owner rebuilds them from the committed offset), episodes closed from it but not yet
   * returned by tick(), and evaluations waiting from it.
   * An episode also fed by other partitions is removed whole: the caller must rewind those
   * partitions too (the Kafka runtime drops every partition's episodes on a rebalance). Returns
   * how many episodes were removed (counted as closed reason `revoked`).
   */
  dropPartition(topic: string, partition: number): number {
    let dropped = 0;
    for (const ep of [...this.open.values()]) {
      if (!readsPartition(ep.sources, topic, partition)) continue;
      this.forgetOpen(ep);
      this.firsts.removeFirsts(ep.sources);
      dropped++;
    }
    // Closed but not handed out yet: withdrawn too (the new owner emits them), and forgotten, so
    // a replay here after a later re-assignment is neither late nor duplicate.
    const kept: Episode[] = [];
    for (const ep of this.ready) {
      if (!readsPartition(ep.sources, topic, partition)) {
        kept.push(ep);
        continue;
      }
      this.closed.forget(ep.episodeId);
      this.firsts.removeFirsts(ep.sources);
      for (const t of ep.traceIds) {
        const n = (this.readyTraces.get(t) ?? 0) - 1;
        if (n > 0) this.readyTraces.set(t, n);
        else this.readyTraces.delete(t);
      }
      this.closedCounts[ep.closeReason]--;
      dropped++;
    }
    this.ready = kept;
    this.closedCounts.revoked += dropped;
    this.pending.dropPartition(topic, partition);
    this.pendingContent.dropPartition(topic, partition);
    return dropped;
  }

  /**
   * Whether the trace's spans are held here: by an open episode, a closed one not yet returned by
   * tick()/flush(), or content events waiting for its spans. False after a span of it was dropped
   * (a duplicate of a closed episode, a late span only counted): the Kafka runtime names in its
   * replay metadata only the traces a replay must rebuild. O(1): it runs for the traces of every
   * record, and a scan of the closed episodes not yet returned (thousands between two ticks of a
   * busy fleet) made that quadratic.
   */
  holdsTrace(traceId: string): boolean {
    return this.open.has(traceId) || (this.byConversation && this.traceIndex.has(traceId)) || this.pendingContent.has(traceId) || this.readyTraces.has(traceId);
  }

  /**
   * Evaluations and content events read from a source position (Kafka) that expired waiting for
   * their spans or were dropped over their count (or bytes) limit since the last call: the key each
   * waited under and where it was read — only keys nothing here waits under or holds any more. The
   * Kafka runtime stops naming them in its replay metadata: a replay read such an item again,
   * waited out its TTL again and counted it expired again (`expiredEvaluations`,
   * `expiredContentEvents`, at every rebalance while the partition's committed offset stayed below it).
   */
  takeDroppedWaiting(): { key: string; topic: string; partition: number }[] {
    const out: { key: string; topic: string; partition: number }[] = [];
    for (const { key, position } of [...this.pending.takeDropped(), ...this.pendingContent.takeDropped()]) {
      if (this.pending.has(key) || this.holdsTrace(key)) continue;
      out.push({ key, topic: position.topic, partition: position.partition });
    }
    return out;
  }

  /**
   * Trace-keyed corrections not yet handed out (open, or closed and not returned by tick()) that
   * read `topic`/`partition` in any of their revisions: their trace, revision and the first offset
   * of the partition any revision read. What the Kafka runtime holds its commit back to and names
   * in the replay filter while the correction is unpublished (`ReplayFilter.revisions`). `rebuilt`:
   * opened by a replay at that revision (`expectRevision`) — its records replayed without it would
   * make a revision 0 again. Closed ones handed out: `correctionBase`.
   */
  correctionsOn(topic: string, partition: number): { episodeId: string; revision: number; firstOffset: string; rebuilt: boolean }[] {
    const out: { episodeId: string; revision: number; firstOffset: string; rebuilt: boolean }[] = [];
    const add = (episodeId: string, revision: number, own: readonly SourceRange[], base: readonly SourceRange[] | undefined) => {
      const first = firstOn(mergeRanges(base, own), topic, partition);
      if (first !== undefined) out.push({ episodeId, revision, firstOffset: first, rebuilt: base?.length === 0 });
    };
    for (const ep of this.corrections) add(ep.episodeId, ep.revision, ep.sources, this.bases.get(ep));
    for (const ep of this.ready) {
      const base = ep.revision > 0 ? this.bases.get(ep) : undefined;
      if (base !== undefined) add(ep.episodeId, ep.revision, ep.sources, base);
    }
    return out;
  }

  /** The sources of the revisions before a trace-keyed correction this assembler closed; undefined: not one a crash must not lose. */
  correctionBase(episode: Episode): readonly SourceRange[] | undefined {
    return this.bases.get(episode);
  }

  /**
   * A replay brings the records of the trace-keyed episode `episodeId`, whose revision `revision - 1`
   * is published: the episode it opens is that revision (a correction), not a revision 0 published
   * again under the first revision's event ids. Said by the Kafka runtime for the ids a replay
   * filter names with a revision, before their records are read.
   */
  expectRevision(episodeId: string, revision: number): void {
    if (this.byConversation || revision < 1 || this.open.has(episodeId)) return;
    this.expected.set(episodeId, revision);
  }

  /**
   * The smallest source offset on the partition still needed here: first offsets of open
   * episodes, of closed episodes not yet returned by tick()/flush(), and of waiting evaluations
   * and content events. The consumer must not commit past it. Undefined when nothing on the
   * partition is held. Cost: O(1) (three indexed minimums).
   */
  lowWatermark(topic: string, partition: number): string | undefined {
    return lowerOffset(lowerOffset(this.firsts.min(topic, partition), this.pending.lowWatermark(topic, partition)), this.pendingContent.lowWatermark(topic, partition));
  }

  stats(): EpisodeAssemblerStats {
    return {
      open: this.open.size,
      closed: { ...this.closedCounts },
      ...this.counts,
      evicted: this.closedCounts.evicted,
      pendingEvaluations: this.pending.size,
      pendingContentEvents: this.pendingContent.size,
      pendingContentBytes: this.pendingContent.bytes,
      bufferedBytes: this.bufferedBytes,
      bufferedSpans: this.bufferedSpans,
      awaitingEvaluation: this.awaiting,
      retainedClosedBytes: this.closed.retainedBytes,
    };
  }
}

/** The ranges of `a` and `b` merged per partition (first of the firsts, last of the lasts). */
function mergeRanges(a: readonly SourceRange[] | undefined, b: readonly SourceRange[]): SourceRange[] {
  const out: SourceRange[] = (a ?? []).map((r) => ({ ...r }));
  for (const r of b) {
    const had = out.find((o) => o.topic === r.topic && o.partition === r.partition);
    if (had === undefined) out.push({ ...r });
    else {
      if (compareOffsets(r.firstOffset, had.firstOffset) < 0) had.firstOffset = r.firstOffset;
      if (compareOffsets(r.lastOffset, had.lastOffset) > 0) had.lastOffset = r.lastOffset;
    }
  }
  return out;
}

/** The first offset of `topic`/`partition` in `ranges`, if they read it. */
function firstOn(ranges: readonly SourceRange[], topic: string, partition: number): string | undefined {
  for (const r of ranges) if (r.topic === topic && r.partition === partition) return r.firstOffset;
  return undefined;
}
