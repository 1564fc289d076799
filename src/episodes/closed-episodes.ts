/**
 * Memory of recently closed episodes (bounded LRUs, lru-cache): recognises late spans and
 * late evaluations, tells a retried (duplicate) span from a late one, and, for
 * `lateSpanPolicy: correct`, keeps the last emitted revision so a correction can hold old + new.
 *
 * Per closed episode: its revision and a sorted `Uint32Array` of 32-bit span fingerprints (4 bytes
 * a span; a false "duplicate" needs a 32-bit collision within one episode). Retained revisions
 * are the emitted `Episode` objects themselves (immutable by contract), bounded by their bytes.
 */
import { LRUCache } from 'lru-cache';
import type { Episode } from '../model/episode.js';
import type { Evaluation } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { holdsEvaluation } from './open-episode.js';
import { evaluatesRun, evaluationsFromTree, systemEvaluation } from '../conventions/evaluations.js';
import { spanEvaluationOfEpisode } from '../conventions/evaluation-records.js';
import { SpanTree } from '../conventions/span-tree.js';

const HEX = (() => {
  const t = new Int8Array(128).fill(0);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) t[97 + i] = 10 + i;
  return t;
})();

function hex32(s: string, from: number): number {
  let h = 0;
  for (let i = from; i < from + 8; i++) h = (h << 4) | HEX[s.charCodeAt(i) & 127]!;
  return h >>> 0;
}

/** One murmur3 32-bit block step: `h` with the word `w` mixed in. */
function mix(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/** The fingerprint's state after the trace id's four words: the same for every span of the trace. */
function traceState(traceId: string): number {
  let h = 0x9747b28c;
  for (let i = 0; i < 32; i += 8) h = mix(h, hex32(traceId, i));
  return h;
}

/** The fingerprint of a span id in a trace whose `traceState` is `h`. */
function spanFingerprintIn(h: number, spanId: string): number {
  h = mix(h, hex32(spanId, 0));
  h = mix(h, hex32(spanId, 8));
  h ^= 24;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * 32-bit fingerprint of (trace id, span id): every bit of both ids, mixed (murmur3's 32-bit steps).
 * It was the low halves xor-ed, which assumed random ids: ids from a counter (a deterministic id
 * generator, a test harness) collide across the traces of one conversation — trace …03 span …01
 * is trace …01 span …03 —, so a late span of a conversation's turn was dropped as a re-sent one.
 */
export function spanFingerprint(span: Pick<Span, 'traceId' | 'spanId'>): number {
  return spanFingerprintIn(traceState(span.traceId), span.spanId);
}

/**
 * The spans' fingerprints, sorted. The trace id's part is mixed once per run of spans of one trace
 * (an episode's spans are of one trace, or a few), not once per span: two thirds of the hex digits
 * read and of the mixing, for every span of every closed episode.
 */
function sortedFingerprints(spans: readonly Span[]): Uint32Array {
  const a = new Uint32Array(spans.length);
  let traceId: string | undefined;
  let h = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.traceId !== traceId) {
      traceId = s.traceId;
      h = traceState(traceId);
    }
    a[i] = spanFingerprintIn(h, s.spanId);
  }
  return a.sort();
}

function contains(sorted: Uint32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

interface ClosedRecord {
  revision: number;
  fingerprints: Uint32Array;
  /**
   * Assembler-clock ms of the first close that carried a system verdict (kept by later revisions):
   * the correction window's start. Undefined while no revision had one — those emitted nothing,
   * so a verdict that comes later is the first credit, not a correction, and no window applies.
   */
  creditedAtMs: number | undefined;
  /** Conversation mode: the latest turn's window start (for records that name no trace). */
  lastTurnCreditedAtMs: number | undefined;
}

/** Conversation mode: a closed trace's conversation and its own window start (its turn's first credited close). */
interface ClosedTrace {
  episodeId: string;
  creditedAtMs: number | undefined;
}

export interface ClosedEpisodesOptions {
  /** Closed episode ids remembered. */
  maxEpisodes: number;
  /** Bytes of emitted revisions retained for corrections; 0 retains none. */
  retainBytes: number;
}

/** The evaluations a revision's spans carry, as credit reads them by default (no root score attribute). */
const spanEvaluationsOf = (tree: SpanTree): readonly Evaluation[] => evaluationsFromTree(tree);

export class ClosedEpisodes {
  private readonly records: LRUCache<string, ClosedRecord>;
  /** trace id → episode id (conversation mode: a late span may carry no conversation id). */
  private readonly traces: LRUCache<string, ClosedTrace>;
  private readonly retained: LRUCache<string, Episode> | undefined;

  constructor(o: ClosedEpisodesOptions) {
    // Bounded by maxSize with unit sizes rather than `max`: `max` preallocates its arrays, which
    // costs ~10 ms per 100k entries at construction; this grows as episodes close.
    this.records = new LRUCache({ maxSize: o.maxEpisodes, sizeCalculation: () => 1 });
    this.traces = new LRUCache({ maxSize: o.maxEpisodes, sizeCalculation: () => 1 });
    this.retained = o.retainBytes > 0 ? new LRUCache({ maxSize: o.retainBytes, sizeCalculation: (e) => Math.max(1, e.bytes) }) : undefined;
  }

  /** Remembers a closed revision (replacing older revisions of the same id); `retain` keeps it for corrections. */
  remember(episode: Episode, mapTraces: boolean, retain: boolean, hasVerdict: boolean): void {
    const previous = this.records.peek(episode.episodeId);
    const now = hasVerdict ? episode.closedAtMs : undefined;
    const creditedAtMs = previous?.creditedAtMs ?? now;
    let lastTurnCreditedAtMs = previous?.lastTurnCreditedAtMs ?? now;
    if (mapTraces) {
      // each turn (trace) gets its own window from the first credited close that held it: a
      // conversation's next turn, a day later, is corrected by its own late verdict
      for (const t of episode.traceIds) {
        const known = this.traces.peek(t);
        const turnCreditedAtMs = known?.episodeId === episode.episodeId && known.creditedAtMs !== undefined ? known.creditedAtMs : now;
        this.traces.set(t, { episodeId: episode.episodeId, creditedAtMs: turnCreditedAtMs });
        if (turnCreditedAtMs !== undefined && (lastTurnCreditedAtMs === undefined || turnCreditedAtMs > lastTurnCreditedAtMs)) lastTurnCreditedAtMs = turnCreditedAtMs;
      }
    }
    this.records.set(episode.episodeId, { revision: episode.revision, fingerprints: sortedFingerprints(episode.spans), creditedAtMs, lastTurnCreditedAtMs });
    if (this.retained !== undefined) {
      if (retain && episode.bytes <= this.retained.maxSize) this.retained.set(episode.episodeId, episode);
      else this.retained.delete(episode.episodeId);
    }
  }

  /**
   * Closed episode id for a key (episode id) or, failing that, for a trace id. A key that is the
   * trace id (conversation mode: a record naming no conversation) asks for the closed episode that
   * last held the trace first: the trace's own record is stale once the trace joined its
   * conversation (a split turn), and a late span found it — its next turn to nothing, so it opened
   * the trace's episode again at revision 0, without the conversation's spans or verdict.
   */
  find(key: string, traceId: string | undefined): string | undefined {
    if (traceId !== undefined && key === traceId) {
      const owner = this.ownerOfTrace(traceId);
      if (owner !== undefined) return owner;
    }
    if (this.records.has(key)) return key;
    return traceId === undefined ? undefined : this.ownerOfTrace(traceId);
  }

  /**
   * Assembler-clock ms at which the correction window for a late record starts: the episode's
   * first close with a system verdict, if any. Conversation mode (`byTrace`): the first credited
   * close that held the record's trace — its turn —, or for a record naming no trace the latest
   * turn's.
   */
  creditedAt(episodeId: string, byTrace?: { traceId: string | undefined }): number | undefined {
    const r = this.records.peek(episodeId);
    if (byTrace === undefined || r === undefined) return r?.creditedAtMs;
    const t = byTrace.traceId !== undefined ? this.traces.peek(byTrace.traceId) : undefined;
    return t?.episodeId === episodeId ? t.creditedAtMs : r.lastTurnCreditedAtMs;
  }

  /** The closed episode that last held this trace (conversation mode maps traces), if still remembered. */
  ownerOfTrace(traceId: string): string | undefined {
    const id = this.traces.get(traceId)?.episodeId;
    return id !== undefined && this.records.has(id) ? id : undefined;
  }

  /** Whether a closed episode held this trace (conversation mode: a new trace is a new turn, not a correction). */
  heldTrace(episodeId: string, traceId: string): boolean {
    return this.traces.peek(traceId)?.episodeId === episodeId;
  }

  /** Whether the closed episode already held this span (so a re-delivery is a duplicate, not late). */
  held(episodeId: string, span: Span): boolean {
    const r = this.records.get(episodeId);
    return r !== undefined && contains(r.fingerprints, spanFingerprint(span));
  }

  /**
   * Whether the closed episode's retained last revision already holds this evaluation (so a
   * re-delivery — an exporter's retry, Kafka's at-least-once — is a duplicate, not a correction).
   * Undefined when the revision is not retained: then it cannot be corrected either.
   */
  heldEvaluation(episodeId: string, e: Evaluation): boolean | undefined {
    const kept = this.retained?.peek(episodeId);
    return kept === undefined ? undefined : holdsEvaluation(kept.evaluations, e);
  }

  /**
   * Whether a late evaluation scores the run but would not become its system evaluation — another
   * name than the verdict the retained revision has (conventions' `systemEvaluation`: the first
   * name's latest; `accepts` is the `evaluation.name` filter) — so a correction would repeat the
   * same credit under new event ids. Step-level evaluations may flag a step: never "unchanged".
   * False when the revision is not retained (the caller counts it uncorrectable); else why it is
   * unchanged: not the configured name, another name than the verdict's, or older than it.
   */
  verdictUnchangedBy(
    episodeId: string,
    e: Evaluation,
    accepts: (e: Evaluation) => boolean,
    spanEvaluations: (tree: SpanTree) => readonly Evaluation[] = spanEvaluationsOf,
  ): false | 'not-accepted' | 'other-name' | 'superseded' {
    const kept = this.retained?.peek(episodeId);
    if (kept === undefined) return false;
    const read = this.readOf(kept, spanEvaluations);
    const tree = read.tree;
    if (!evaluatesRun(tree, e)) return false;
    if (!accepts(e)) return 'not-accepted';
    // as credit reads them (runtime creditInputOf): joined records, then what the spans carry —
    // a span-borne verdict can be the first name that a later re-judgment supersedes
    const fromSpans = read.fromSpans.filter((s) => accepts(s) && spanEvaluationOfEpisode(s, kept));
    const joined = kept.evaluations.filter(accepts);
    const current = systemEvaluation(tree, [...joined, ...fromSpans]);
    if (current === undefined) return false;
    if (systemEvaluation(tree, [...joined, e, ...fromSpans]) !== current) return false;
    return e.name === current.name ? 'superseded' : 'other-name';
  }

  /**
   * The span tree of a retained revision and the evaluations its spans carry, for the last revision
   * asked about: a revision never changes, and a run's late verdicts come together — each built
   * the whole tree again (a judge re-sending an unused verdict, or a replay of the evaluations
   * topic, 1,000 late verdicts on a closed 9,000-span run: 5 s of the assembler's thread).
   */
  private readOf(kept: Episode, spanEvaluations: (tree: SpanTree) => readonly Evaluation[]): { tree: SpanTree; fromSpans: readonly Evaluation[] } {
    const last = this.lastRead;
    if (last !== undefined && last.episode === kept && last.spanEvaluations === spanEvaluations) return last;
    const tree = new SpanTree(kept.spans);
    this.lastRead = { episode: kept, spanEvaluations, tree, fromSpans: spanEvaluations(tree) };
    return this.lastRead;
  }

  private lastRead: { episode: Episode; spanEvaluations: (tree: SpanTree) => readonly Evaluation[]; tree: SpanTree; fromSpans: readonly Evaluation[] } | undefined;

  /** The retained last revision, left in the memory; undefined when it is not retained. */
  peekRetained(episodeId: string): Episode | undefined {
    return this.retained?.peek(episodeId);
  }

  /** Takes the retained last revision out of the memory (it is being reopened), if still there. */
  takeRetained(episodeId: string): Episode | undefined {
    const e = this.retained?.get(episodeId);
    if (e !== undefined) this.retained!.delete(episodeId);
    return e;
  }

  /** Forgets a closed episode (its close was withdrawn before it was handed out). */
  forget(episodeId: string): void {
    this.records.delete(episodeId);
    this.retained?.delete(episodeId);
  }

  get retainedBytes(): number {
    return this.retained?.calculatedSize ?? 0;
  }
}
