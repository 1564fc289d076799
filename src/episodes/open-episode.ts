/**
 * Mutable state of one episode still being assembled. Owned by `EpisodeAssembler`; frozen into
 * an `Episode` (model) when it closes.
 *
 * Memory per buffered span: one slot in `spans` and one entry in the trace's span-id set (the
 * id string is the span's own, not a copy). No per-span closures or objects.
 */
import type { Evaluation } from '../model/agents.js';
import type { CloseReason, Episode, EpisodeKeyMode, SourcePosition } from '../model/episode.js';
import type { Span } from '../model/telemetry.js';
import { evaluatesRun, isAppPlumbing } from '../conventions/evaluations.js';
import { SpanTree } from '../conventions/span-tree.js';
import { CONTENT_EVENT_SCOPE } from '../conventions/content-events.js';
import type { EpisodeAssemblerOptions } from './options.js';
import { recordPosition, type PartitionOffsets, type SourceRange } from './offsets.js';

/** OTLP SpanKind SERVER and CONSUMER: entry points whose parent is normally in another process. */
const SERVER = 2;
const CONSUMER = 5;

/**
 * Root rule. A span is a root of its trace when
 *  (a) it has no parent span id, or
 *  (b) it is an entry span (kind SERVER or CONSUMER) whose parent is not in the episode when the
 *      check runs (a remote caller that is not exported to us).
 * Spans are exported when they end, so a received root is an ended root. Non-entry spans with a
 * missing parent are never roots: their parent is usually still running (children end first),
 * and treating them as roots would close long agent runs at the first pause longer than grace.
 * Nested root-level spans (OpenInference's "Agent workflow" AGENT → CHAIN pair) are fine: the
 * inner one has a parent, so only the outer one is a root.
 */
function isRootCandidate(span: Span): boolean {
  return isTopLevel(span) || span.kind === SERVER || span.kind === CONSUMER;
}

/**
 * No parent: no parent span id, or its own span id as its parent (corrupt telemetry, which the
 * credit stage's SpanTree reads as no parent too). Such a root was never one here: its run waited
 * for idleMs instead of closing at its verdict or graceMs after it ended.
 */
export function isTopLevel(span: Pick<Span, 'parentSpanId' | 'spanId'>): boolean {
  return span.parentSpanId === undefined || span.parentSpanId === span.spanId;
}

export class OpenEpisode {
  readonly spans: Span[];
  readonly evaluations: Evaluation[];
  readonly traceIds: string[] = [];
  readonly sources: SourceRange[] = [];
  /** trace id → ids of the spans held (duplicate detection and parent lookups). */
  private readonly spanIds = new Map<string, Set<string>>();
  /**
   * Indices into `evaluations` by name, trace and span — the only ones `holdsEvaluation` compares
   * an evaluation with: scanning every held one made joining n verdicts O(n²) on the assembler's
   * thread (a judge scoring each of an open run's spans, 40,000 verdicts: 5 s with nothing else read).
   */
  private readonly evaluationsByTarget = new Map<string, number[]>();
  /** Spans that may be roots (see `isRootCandidate`); usually one per trace. */
  private readonly rootCandidates: Span[] = [];
  /** Estimated bytes of `spans` (span-bytes.ts). */
  bytes = 0;
  duplicateSpans = 0;
  lateSpans = 0;
  /** Assembler-clock ms of the last accepted span (or of the reopening, for corrections). */
  lastSpanAtMs: number;
  /**
   * The assembler's last answer to whether the spans (all, or the current turn's) carry a system
   * score (awaitEvaluationMs), and for which span count and turn: asked again on every tick while
   * the episode waits.
   */
  spanScore: { spans: number; turnTraces: ReadonlySet<string> | undefined; scored: boolean } | undefined;
  /**
   * The assembler's last answer to whether the spans hold agent work (`holdsAgentWork`): `true`
   * for good once they do, else the span count it was asked at.
   */
  agentWork: true | number | undefined;
  /** A correction of a revision that held no agent work (closed without waiting for a verdict). */
  reopenedAgentFree = false;
  /**
   * Its verdict would have closed it (`evaluation-arrived`) but it held no agent work yet: it waits
   * for its agent spans (`awaitEvaluationMs`), then closes `evaluation-arrived` (the assembler's
   * `holdsVerdictForAgentWork`).
   */
  verdictHeldForAgentWork = false;
  /** The episode has waited past grace for its evaluation (`awaitEvaluationMs`). */
  awaitedEvaluation = false;
  /**
   * Conversation mode: the traces of the conversation's current turn — the trace that began it
   * and traces that joined while it ran (a sub-agent's); undefined while no next turn began. The
   * revision waits for that turn's own verdict as a first revision waits for its run's
   * (`awaitEvaluationMs`).
   */
  turnTraces: Set<string> | undefined;
  /** `evaluations[turnEvaluationsFrom…]` joined since the current turn began (or since `reopen`). */
  turnEvaluationsFrom = 0;
  /** Reopened from a revision closed by a cap (`max-spans`, `max-bytes`), for its late verdict. */
  capped = false;
  /** Why evaluations keyed to it were dropped before it opened (Episode `evaluationDropped`). */
  evaluationDropped: Episode['evaluationDropped'];
  /** Traces the closed revision held when reopened (their new spans are late); undefined on revision 0. */
  inheritedTraces: ReadonlySet<string> | undefined;
  /** Leading `traceIds` whose order an earlier revision published (`reopen`): kept as they are. */
  private publishedTraces = 0;

  constructor(
    public episodeId: string,
    readonly keyMode: EpisodeKeyMode,
    public openedAtMs: number,
    readonly revision = 0,
    spans: Span[] = [],
    evaluations: Evaluation[] = [],
  ) {
    this.lastSpanAtMs = openedAtMs;
    this.spans = spans;
    this.evaluations = [];
    for (const s of spans) this.indexSpan(s);
    for (const e of evaluations) this.addEvaluation(e);
  }

  /** Reopens a closed revision as a correction: copies of its arrays, revision + 1. */
  static reopen(previous: Episode, nowMs: number): OpenEpisode {
    const ep = new OpenEpisode(previous.episodeId, previous.keyMode, nowMs, previous.revision + 1, previous.spans.slice(), previous.evaluations);
    ep.bytes = previous.bytes;
    ep.duplicateSpans = previous.duplicateSpans;
    ep.lateSpans = previous.lateSpans;
    ep.evaluationDropped = previous.evaluationDropped;
    ep.turnEvaluationsFrom = ep.evaluations.length;
    ep.inheritedTraces = new Set(ep.traceIds);
    // indexed from the spans, the traces came in arrival order: the published order stays
    if (previous.traceIds.length === ep.traceIds.length) {
      ep.traceIds.splice(0, ep.traceIds.length, ...previous.traceIds);
      ep.publishedTraces = ep.traceIds.length;
    }
    return ep;
  }

  /** Of `spans`, GenAI content events (content spans; counted in `indexSpan`): not counted against `maxSpansPerEpisode`. */
  contentSpans = 0;

  get spanCount(): number {
    return this.spans.length;
  }

  hasSpan(span: Span): boolean {
    return this.spanIds.get(span.traceId)?.has(span.spanId) === true;
  }

  /** Resource and scope objects already counted in `bytes` (held once however many spans share them). */
  private sharedCounted: WeakSet<object> | undefined;

  /** `estimate(shared)` the first time this episode holds `shared`, else 0. */
  sharedBytesOf<T extends object>(shared: T, estimate: (s: T) => number): number {
    const seen = (this.sharedCounted ??= new WeakSet());
    if (seen.has(shared)) return 0;
    seen.add(shared);
    return estimate(shared);
  }

  /** Adds a span that is not a duplicate (check `hasSpan` first). */
  addSpan(span: Span, bytes: number, nowMs: number): void {
    this.indexSpan(span);
    this.spans.push(span);
    this.bytes += bytes;
    this.lastSpanAtMs = nowMs;
  }

  private indexSpan(span: Span): void {
    let ids = this.spanIds.get(span.traceId);
    if (ids === undefined) {
      ids = new Set();
      this.spanIds.set(span.traceId, ids);
      this.traceIds.push(span.traceId);
    }
    ids.add(span.spanId);
    if (span.scope.name === CONTENT_EVENT_SCOPE) this.contentSpans++; // every span held goes through here
    if (isRootCandidate(span)) this.rootCandidates.push(span);
  }

  /** Adds an evaluation unless an identical one (`holdsEvaluation`) is held; returns whether added. */
  addEvaluation(e: Evaluation): boolean {
    // A receipt-timed verdict naming no trace cannot be told from a re-send of an equal one: once
    // a conversation's next turn began it is that turn's verdict (else the turn waited it out).
    const fresh = e.timeFromReceipt === true && e.traceId === undefined && this.turnTraces !== undefined;
    const target = `${e.name}\u0000${e.traceId ?? ''}\u0000${e.spanId ?? ''}`;
    const same = this.evaluationsByTarget.get(target);
    if (same !== undefined) {
      const from = fresh ? this.turnEvaluationsFrom : 0;
      const held: Evaluation[] = [];
      for (const i of same) if (i >= from) held.push(this.evaluations[i]!);
      if (holdsEvaluation(held, e)) return false;
      same.push(this.evaluations.length);
    } else this.evaluationsByTarget.set(target, [this.evaluations.length]);
    this.evaluations.push(e);
    return true;
  }

  /** Widens `sources` to `position`, keeping `firsts` (the assembler's index of first offsets) in step. */
  recordPosition(position: SourcePosition | undefined, firsts: PartitionOffsets): void {
    if (position !== undefined) recordPosition(this.sources, position.topic, position.partition, position.offset, firsts);
  }

  private isRoot(span: Span): boolean {
    if (isTopLevel(span)) return true;
    return this.spanIds.get(span.traceId)?.has(span.parentSpanId!) !== true;
  }

  /** Whether every trace of the episode has an ended root (one trace in `trace` mode). */
  rootEnded(): boolean {
    if (this.rootCandidates.length === 0) return false;
    let rooted = 0;
    for (const t of this.traceIds) {
      for (const s of this.rootCandidates) {
        if (s.traceId === t && this.isRoot(s)) {
          rooted++;
          break;
        }
      }
    }
    return rooted === this.traceIds.length;
  }

  /**
   * A system-level evaluation: one with no span id, or scoring a root span or a wrapper of one
   * (conventions' `evaluatesRun`, which credit applies too). Span-level evaluations are joined
   * but never close the episode. One with neither score nor label (its score attribute held NaN,
   * Infinity or no number: conventions' `unreadableScore`) is no verdict: the episode goes on
   * waiting as if it had not come; credit names it in the reason the run is skipped.
   */
  isSystemEvaluation(e: Evaluation): boolean {
    if (e.score === undefined && e.label === undefined) return false;
    if (e.spanId === undefined) return true;
    for (const s of this.rootCandidates) if (s.spanId === e.spanId && this.isRoot(s)) return true;
    // a wrapper shares its root's name (OpenInference "Agent workflow" AGENT → CHAIN), or its root
    // is the app's (an HTTP server span): only then is the episode's tree built (once per span
    // count), not for every step-level verdict
    const target = this.spans.find((s) => s.spanId === e.spanId);
    if (target === undefined || !this.rootCandidates.some((r) => r.name === target.name || isAppPlumbing(r))) return false;
    if (this.runTree?.spans !== this.spans.length) this.runTree = { spans: this.spans.length, tree: new SpanTree(this.spans) };
    return evaluatesRun(this.runTree.tree, e);
  }

  private runTree: { spans: number; tree: SpanTree } | undefined;

  /**
   * Whether a system-level evaluation `accept`s is held; `turn`: only the current turn's own — one
   * naming the turn's trace, or naming no trace and joined since the turn began (conversation mode).
   */
  hasSystemEvaluation(accept: (e: Evaluation) => boolean = () => true, turn = false): boolean {
    for (let i = 0; i < this.evaluations.length; i++) {
      const e = this.evaluations[i]!;
      // the turn's own: naming one of its traces, or naming none (a conversation-level verdict) and joined since it began
      if (turn && !(e.traceId === undefined ? i >= this.turnEvaluationsFrom : this.turnTraces?.has(e.traceId) === true)) continue;
      if (this.isSystemEvaluation(e) && accept(e)) return true;
    }
    return false;
  }

  /**
   * Whether an evaluation `accept`s names a span of a trace held here that is not held (yet): a
   * verdict on a span still on its way (the agents' service exports after the front end's root).
   */
  evaluatesSpanNotHeld(accept: (e: Evaluation) => boolean): boolean {
    for (const e of this.evaluations) {
      if (e.traceId === undefined || e.spanId === undefined) continue;
      const ids = this.spanIds.get(e.traceId);
      if (ids !== undefined && !ids.has(e.spanId) && accept(e)) return true;
    }
    return false;
  }

  /**
   * Latest end time of the ended roots held (unix ns), or undefined when none ended: a trace
   * starting after it is a conversation's next turn; one starting before joins the running turn.
   */
  rootsEndedAt(): bigint | undefined {
    let end: bigint | undefined;
    for (const s of this.rootCandidates) if (this.isRoot(s) && (end === undefined || s.endTimeUnixNano > end)) end = s.endTimeUnixNano;
    return end;
  }

  /** Whether a span of this trace is held. */
  holdsTrace(traceId: string): boolean {
    return this.spanIds.has(traceId);
  }

  /**
   * Why the episode should close at `nowMs` by the time rules, or undefined. `rootQuietMs`: quiet
   * time after which an ended root closes it (`graceMs`, or longer while it awaits its evaluation).
   */
  dueReason(nowMs: number, o: EpisodeAssemblerOptions, rootQuietMs = o.graceMs): CloseReason | undefined {
    const quiet = nowMs - this.lastSpanAtMs;
    if (quiet >= rootQuietMs && this.rootEnded()) return 'root-ended';
    if (nowMs - this.openedAtMs >= o.maxDurationMs) return 'max-duration';
    if (quiet >= o.idleMs) return 'idle';
    return undefined;
  }

  /**
   * Earliest ms at which `dueReason` may return a reason (a lower bound; re-checked then).
   * `exact` evaluates the root rule (cost O(root candidates)); otherwise any root candidate
   * counts, which is cheaper on every added span but may wake `tick()` early.
   */
  nextDeadline(o: EpisodeAssemblerOptions, exact = false, rootQuietMs = o.graceMs): number {
    const rooted = exact ? this.rootEnded() : this.rootCandidates.length > 0;
    const quietFor = rooted ? Math.min(rootQuietMs, o.idleMs) : o.idleMs;
    return Math.min(this.openedAtMs + o.maxDurationMs, this.lastSpanAtMs + quietFor);
  }

  /**
   * Moves everything of `other` (another episode of the same conversation) into this one. `firsts`
   * holds the first offsets of this episode's sources (not of `other`'s) and is kept in step.
   */
  absorb(other: OpenEpisode, firsts: PartitionOffsets): void {
    for (const s of other.spans) {
      if (this.hasSpan(s)) {
        this.duplicateSpans++;
        continue;
      }
      this.indexSpan(s);
      this.spans.push(s);
    }
    for (const e of other.evaluations) this.addEvaluation(e);
    for (const r of other.sources) {
      recordPosition(this.sources, r.topic, r.partition, r.firstOffset, firsts);
      recordPosition(this.sources, r.topic, r.partition, r.lastOffset, firsts);
    }
    this.bytes += other.bytes;
    this.duplicateSpans += other.duplicateSpans;
    this.lateSpans += other.lateSpans;
    this.evaluationDropped ??= other.evaluationDropped;
    this.openedAtMs = Math.min(this.openedAtMs, other.openedAtMs);
    this.lastSpanAtMs = Math.max(this.lastSpanAtMs, other.lastSpanAtMs);
  }

  /**
   * Orders the traces this revision added, after those an earlier revision published, by their
   * earliest span start, then trace id — not by arrival. `trace_ids[0]` is part of every event id
   * of a conversation's episode, and a turn's traces (the run's and a sub-agent's, exported by two
   * services) reach the receiver in either order and replay in event-time order: the same
   * telemetry got other event ids by the order its exports happened to arrive in.
   */
  private orderNewTraces(): void {
    const from = this.publishedTraces;
    if (this.traceIds.length - from < 2) return; // trace mode: one trace
    const start = new Map<string, bigint>();
    for (const s of this.spans) {
      const t = start.get(s.traceId);
      if (t === undefined || s.startTimeUnixNano < t) start.set(s.traceId, s.startTimeUnixNano);
    }
    const added = this.traceIds.slice(from).sort((a, b) => {
      const sa = start.get(a) ?? 0n;
      const sb = start.get(b) ?? 0n;
      return sa !== sb ? (sa < sb ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
    });
    this.traceIds.splice(from, added.length, ...added);
  }

  /** Freezes the state into the model `Episode`. The arrays are handed over, not copied. */
  toEpisode(closeReason: CloseReason, closedAtMs: number): Episode {
    this.orderNewTraces();
    return {
      episodeId: this.episodeId,
      keyMode: this.keyMode,
      traceIds: this.traceIds,
      spans: this.spans,
      evaluations: this.evaluations,
      closeReason,
      openedAtMs: this.openedAtMs,
      closedAtMs,
      correction: this.revision > 0,
      revision: this.revision,
      duplicateSpans: this.duplicateSpans,
      lateSpans: this.lateSpans,
      bytes: this.bytes,
      sources: this.sources,
      ...(this.evaluationDropped !== undefined ? { evaluationDropped: this.evaluationDropped } : {}),
    };
  }
}

/**
 * Whether `held` already has this evaluation (name, trace, span, time, score, label): a re-delivery,
 * not news. A time agent-credit filled in at receipt is no part of the evaluation — a judge
 * retrying its POST /v1/evaluations without time_unix_nano made a correction per retry —, so such
 * a record is compared with the latest held one of its name and target only: a judge that changes
 * its mind back (1, then 0, then 1 again) is a re-judgment, not a copy of the first post.
 */
export function holdsEvaluation(held: readonly Evaluation[], e: Evaluation): boolean {
  let latest: Evaluation | undefined;
  for (const x of held) {
    if (x.name !== e.name || x.spanId !== e.spanId || x.traceId !== e.traceId) continue;
    const timed = x.timeFromReceipt !== true && e.timeFromReceipt !== true;
    if (timed && x.timeUnixNano === e.timeUnixNano && sameScore(x, e) && x.label === e.label) return true;
    if (latest === undefined || x.timeUnixNano >= latest.timeUnixNano) latest = x;
  }
  // a receipt time on either side says nothing: equal to the latest verdict is a re-delivery
  if (latest === undefined || (latest.timeFromReceipt !== true && e.timeFromReceipt !== true)) return false;
  return sameScore(latest, e) && latest.label === e.label;
}

/** Equal scores read the same way: 0.8 and "80%" (a fraction of the name's range, `scoreIsFraction`) differ on a {0, 100} range. */
function sameScore(a: Evaluation, b: Evaluation): boolean {
  return a.score === b.score && (a.scoreIsFraction === true) === (b.scoreIsFraction === true);
}
