/**
 * The parent structure of one episode's spans, safe against what real and hostile input
 * contains: missing parents (orphans become roots), duplicate span ids (first wins), parent
 * cycles (broken at their earliest span, which becomes a root: the run that span started is the
 * most plausible reading of corrupt parent ids, and an episode without any root would yield no
 * credit at all) and very deep chains (bounded walk).
 */
import type { Span } from '../model/telemetry.js';
import { mergeContentSpans } from './content-events.js';

/** Max ancestors visited by any walk; deeper chains are treated as cut there. */
const MAX_DEPTH = 10_000;

export class SpanTree {
  readonly byId: ReadonlyMap<string, Span>;
  /**
   * Spans in a deterministic causal order: start time (skew-adjusted, `clockOffset`), then tree
   * depth, then end time, then span id. Ends break ties before ids: the OTel JS SDK stamps a
   * span's start in whole milliseconds (its end is that plus the measured duration), so a fast
   * tool and the model call that reads its result often start in the same millisecond; by span id
   * alone half of such runs put the model call first, the tool → call edge pointed forward and was
   * dropped, and the tool reached no output. Of two spans started together, the one still running
   * when the other ended cannot have come first.
   */
  readonly ordered: readonly Span[];
  readonly duplicates: number;
  /** Parent cycles found in the input; each was broken at its earliest span (start time, then span id). */
  readonly cyclesBroken: number;
  /** GenAI content events (content spans, content-events.ts) folded into the spans they name. */
  readonly contentEvents: number;
  /** Content spans naming a span this episode does not hold: ignored. */
  readonly contentOrphans: number;
  private readonly depthCache = new Map<string, number>();
  /** `parentOf` for every span that has one, resolved once (the walks ask for it many times). */
  private readonly parents: ReadonlyMap<string, string>;

  constructor(given: readonly Span[]) {
    // Content spans carry an LLM call's messages from log events: folded into that span here,
    // so no walk, order or mapper ever sees them as spans.
    const content = mergeContentSpans(given);
    const spans = content.spans;
    this.contentEvents = content.merged;
    this.contentOrphans = content.orphans;
    const byId = new Map<string, Span>();
    let duplicates = 0;
    for (const s of spans) {
      if (byId.has(s.spanId)) duplicates++;
      else byId.set(s.spanId, s);
    }
    this.byId = byId;
    this.duplicates = duplicates;
    const parents = new Map<string, string>();
    // Whether some child is not on its parent's resource object (clockOffsets' fast path when none).
    let crossing = false;
    for (const s of byId.values()) {
      const p = s.parentSpanId;
      const parent = p === undefined || p === s.spanId ? undefined : byId.get(p);
      if (parent === undefined) continue;
      parents.set(s.spanId, p!);
      if (parent.resource !== s.resource) crossing = true;
    }
    this.parents = parents;
    const list = [...byId.values()];
    this.cyclesBroken = this.depthsBreakingCycles(list, parents, byId);
    const depth = this.depthCache;
    this.offsets = crossing ? clockOffsets(list, parents, byId, depth) : NO_OFFSETS;
    const offsets = this.offsets;
    // Without offsets (one clock: the usual episode) times are compared as recorded, without a
    // bigint sum — a new bigint — per comparison.
    const moved = offsets.size > 0;
    list.sort((a, b) => {
      const sa = moved ? a.startTimeUnixNano + (offsets.get(a.spanId) ?? 0n) : a.startTimeUnixNano;
      const sb = moved ? b.startTimeUnixNano + (offsets.get(b.spanId) ?? 0n) : b.startTimeUnixNano;
      if (sa !== sb) return sa < sb ? -1 : 1;
      const d = depth.get(a.spanId)! - depth.get(b.spanId)!;
      if (d !== 0) return d;
      // ends on the starts' clock (skew-adjusted)
      const ea = moved ? a.endTimeUnixNano + (offsets.get(a.spanId) ?? 0n) : a.endTimeUnixNano;
      const eb = moved ? b.endTimeUnixNano + (offsets.get(b.spanId) ?? 0n) : b.endTimeUnixNano;
      if (ea !== eb) return ea < eb ? -1 : 1;
      return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
    });
    this.ordered = list;
  }

  /** Index of each span in `ordered`, made on first use (a tree read only for its evaluations needs none). */
  private positions: Map<string, number> | undefined;

  /**
   * A span's index in `ordered` (undefined when the episode does not hold it): the episode passes
   * keep what they know of each span in arrays by this index, one look-up map for all of them
   * instead of a span id → value map per pass.
   */
  position(spanId: string): number | undefined {
    let positions = this.positions;
    if (positions === undefined) {
      positions = this.positions = new Map();
      for (let i = 0; i < this.ordered.length; i++) positions.set(this.ordered[i]!.spanId, i);
    }
    return positions.get(spanId);
  }

  /** Skew corrections (ns, see `clockOffsets`) of the spans that have one. */
  private readonly offsets: ReadonlyMap<string, bigint>;

  /**
   * How far (ns) a span's timestamps are moved onto its parent's clock: non-zero only for a span
   * recorded on another clock (another resource: process, host) than its parent whose times the
   * tree contradicts (it starts before its parent, or ends after it while fitting inside it), and
   * for the spans below it on the same clock. 0 when the clocks agree.
   */
  clockOffset(spanId: string): bigint {
    return this.offsets.get(spanId) ?? 0n;
  }

  /** The span with its timestamps moved by `clockOffset` (the span itself when not moved). */
  adjusted(span: Span): Span {
    const off = this.offsets.get(span.spanId);
    return off === undefined ? span : { ...span, startTimeUnixNano: span.startTimeUnixNano + off, endTimeUnixNano: span.endTimeUnixNano + off };
  }

  /** Parent span id when the parent is in this episode and is not the span itself. */
  parentOf(spanId: string): string | undefined {
    return this.parents.get(spanId);
  }

  /** Ancestors nearest first; stops at a root, a missing parent, a cycle or MAX_DEPTH. */
  *ancestors(spanId: string): Generator<Span> {
    const seen = new Set<string>([spanId]);
    let cur = this.parentOf(spanId);
    while (cur !== undefined && !seen.has(cur) && seen.size <= MAX_DEPTH) {
      seen.add(cur);
      yield this.byId.get(cur)!;
      cur = this.parentOf(cur);
    }
  }

  /**
   * Whether `ancestorId` is above `spanId` (as `ancestors` finds it). A plain bounded walk: the
   * causal linker asks this per input of every step, and `ancestors` costs a generator and a Set
   * per call. Parent cycles are broken when the tree is built; one that remained would be walked
   * round again, finding nothing it had not found on the first round, until MAX_DEPTH.
   */
  isAncestor(ancestorId: string, spanId: string): boolean {
    if (ancestorId === spanId) return false;
    for (let cur = this.parentOf(spanId), hops = 0; cur !== undefined && hops < MAX_DEPTH; cur = this.parentOf(cur), hops++) if (cur === ancestorId) return true;
    return false;
  }

  /**
   * Fills the depth of every span of `list` and breaks the parent cycles of `parents` on the way
   * (each at its earliest span, start time then span id, as `breakCycles` does), in one walk up
   * from each span not reached yet; returns the number of cycles broken. The spans of the walk
   * under way are marked ON_WALK: meeting one closes a cycle, which is broken, and the walk starts
   * again on the tree as it is now. Breaking the cycles first (`breakCycles`, a span → walk map)
   * and then counting depths (`depth`, a path array and a visited Set per walk that met no known
   * depth) walked the spans twice and built a map and a few sets per episode. A chain deeper than
   * MAX_DEPTH goes to those two passes instead: where `depth` cuts such a chain depends on the
   * order of its walks, which they keep.
   */
  private depthsBreakingCycles(list: readonly Span[], parents: Map<string, string>, byId: ReadonlyMap<string, Span>): number {
    const depths = this.depthCache;
    // one path array for every walk, filled from its start and never cut (see nearestWhere)
    const path: string[] = [];
    let broken = 0;
    for (const s of list) {
      if (depths.has(s.spanId)) continue;
      let cur = s.spanId;
      let n = 0; // the walk under way is path[0..n)
      let next = 0; // depth of the last span of the path
      for (;;) {
        const known = depths.get(cur);
        if (known === ON_WALK) {
          // cur → … → cur: a cycle of this walk
          let earliest = cur;
          for (let c = parents.get(cur)!; c !== cur; c = parents.get(c)!) if (earlier(byId.get(c)!, byId.get(earliest)!)) earliest = c;
          parents.delete(earliest);
          broken++;
          for (let i = 0; i < n; i++) depths.delete(path[i]!);
          n = 0;
          cur = s.spanId;
          continue;
        }
        if (known !== undefined) {
          next = known + 1;
          break;
        }
        if (n > MAX_DEPTH) {
          depths.clear();
          broken += breakCycles(parents, byId);
          for (const x of list) this.depth(x.spanId);
          return broken;
        }
        depths.set(cur, ON_WALK);
        path[n++] = cur;
        const p = parents.get(cur);
        if (p === undefined) break; // a root: depth 0
        cur = p;
      }
      for (let i = n - 1; i >= 0; i--) depths.set(path[i]!, next++);
    }
    return broken;
  }

  /**
   * Number of ancestors, cycle-safe and memoised (linear over the episode). Inside a parent
   * cycle the depth counts from the point where the walk entered the cycle.
   */
  depth(spanId: string): number {
    const cached = this.depthCache.get(spanId);
    if (cached !== undefined) return cached;
    // Common case without a walk: a root, or a span whose parent's depth is known.
    const parent = this.parentOf(spanId);
    const parentDepth = parent === undefined ? -1 : this.depthCache.get(parent);
    if (parentDepth !== undefined) {
      this.depthCache.set(spanId, parentDepth + 1);
      return parentDepth + 1;
    }
    const path: string[] = [];
    const seen = new Set<string>();
    let cur: string | undefined = spanId;
    while (cur !== undefined && !this.depthCache.has(cur) && !seen.has(cur) && path.length <= MAX_DEPTH) {
      seen.add(cur);
      path.push(cur);
      cur = this.parentOf(cur);
    }
    let d = cur !== undefined && this.depthCache.has(cur) ? this.depthCache.get(cur)! + 1 : 0;
    for (let i = path.length - 1; i >= 0; i--) this.depthCache.set(path[i]!, d++);
    return this.depthCache.get(spanId)!;
  }

  /**
   * A memoised lookup of the nearest span at or above a span (inclusive) that satisfies `pred`.
   * Linear over the episode in total; cycle-safe (a cycle without a match yields undefined).
   * `pred` must not change while the lookup is in use, nor call the lookup it was given to.
   * The answers are kept by position (`position`) and one path array serves every walk, filled
   * from its start and never cut (setting an array's length to 0 drops its storage, and the next
   * push allocates 16 slots again): a path array per call and a span id → answer Map per lookup
   * were ~10 MB a pass of the bench fleet's conventions allocations (resolveAgents makes three
   * lookups per episode and asks each for every span).
   */
  nearestWhere(pred: (s: Span) => boolean): (spanId: string | undefined) => Span | undefined {
    // by position: undefined = not known yet, null = no span above satisfies pred
    const memo: (Span | null | undefined)[] = new Array(this.ordered.length);
    const path: number[] = [];
    return (spanId) => {
      let cur = spanId === undefined ? undefined : this.position(spanId);
      if (cur === undefined) return undefined;
      let n = 0; // the walk under way is path[0..n)
      // Walks usually stop after a step or two at a memoised span: a short path is searched for
      // the cycle check directly, a Set is built only for long walks.
      let seen: Set<number> | undefined;
      let found: Span | null = null;
      while (cur !== undefined && !(seen !== undefined ? seen.has(cur) : onPath(path, n, cur)) && n <= MAX_DEPTH) {
        const cached = memo[cur];
        if (cached !== undefined) {
          found = cached;
          break;
        }
        const span = this.ordered[cur]!;
        if (pred(span)) {
          found = span;
          memo[cur] = span;
          break;
        }
        path[n++] = cur;
        if (seen !== undefined) seen.add(cur);
        else if (n > 32) seen = new Set(path.slice(0, n));
        const parent = this.parentOf(span.spanId);
        cur = parent === undefined ? undefined : this.position(parent);
      }
      for (let i = 0; i < n; i++) memo[path[i]!] = found;
      return found ?? undefined;
    };
  }

  /** True when the span has no parent in the episode (or was where a parent cycle was broken). */
  isRoot(spanId: string): boolean {
    return this.parentOf(spanId) === undefined;
  }

  /** Number of children in the episode (counted once, on first use). */
  childCount(spanId: string): number {
    if (this.childCounts === undefined) {
      const counts = new Map<string, number>();
      for (const p of this.parents.values()) counts.set(p, (counts.get(p) ?? 0) + 1);
      this.childCounts = counts;
    }
    return this.childCounts.get(spanId) ?? 0;
  }

  private childCounts: Map<string, number> | undefined;
}

/** Whether `path[0..n)` holds `x`. */
function onPath<T>(path: readonly T[], n: number, x: T): boolean {
  for (let i = 0; i < n; i++) if (path[i] === x) return true;
  return false;
}

/** A span on the walk under way (SpanTree.depthsBreakingCycles): no depth is negative. */
const ON_WALK = -1;

/** The offsets of an episode whose spans all share their parents' clock: none. */
const NO_OFFSETS: ReadonlyMap<string, bigint> = new Map();

/** OTLP span kinds of asynchronous messaging: a consumer may run after its producer ended. */
const PRODUCER = 4;
const CONSUMER = 5;

/**
 * Clock-skew corrections along the tree, as Jaeger's clock-skew adjuster makes them: the spans of
 * one host share a clock, spans of another host or process may not (`sameClockAttributes`). Parents
 * first, a span on its parent's clock takes its parent's offset; a
 * span on another clock is moved only as far as its parent contradicts it: forward to the
 * parent's start when it starts before it (no span starts before its parent), else back to the
 * parent's end when it ends after it but fits inside it (a synchronous call returns before its
 * caller ends; not for messaging spans, whose consumers may run later). Spans of one resource,
 * and spans whose times agree with their parents', are never moved: the map is empty when the
 * clocks agree. Zero or reversed timestamps are taken as they are (a span that ends before it
 * starts fits nowhere and is only moved forward). Not called when every child shares its parent's
 * resource object (one process, one decoded block): no span is moved then.
 */
function clockOffsets(list: readonly Span[], parents: ReadonlyMap<string, string>, byId: ReadonlyMap<string, Span>, depth: ReadonlyMap<string, number>): Map<string, bigint> {
  const offsets = new Map<string, bigint>();
  const clocks = new Map<object, Map<object, boolean>>();
  const sameClock = (a: Span, b: Span): boolean => {
    let row = clocks.get(a.resource);
    if (row === undefined) clocks.set(a.resource, (row = new Map()));
    let v = row.get(b.resource);
    if (v === undefined) row.set(b.resource, (v = sameClockAttributes(a.resource.attributes, b.resource.attributes)));
    return v;
  };
  // Parents before children: by depth (a parent is one above its child, cycles are broken).
  const byDepth = [...list].sort((a, b) => depth.get(a.spanId)! - depth.get(b.spanId)!);
  for (const s of byDepth) {
    const pid = parents.get(s.spanId);
    if (pid === undefined) continue;
    const p = byId.get(pid)!;
    const pOff = offsets.get(pid) ?? 0n;
    if (p.resource === s.resource || sameClock(p, s)) {
      if (pOff !== 0n) offsets.set(s.spanId, pOff);
      continue;
    }
    const ps = p.startTimeUnixNano + pOff;
    const pe = p.endTimeUnixNano + pOff;
    let off = 0n;
    if (s.startTimeUnixNano < ps) off = ps - s.startTimeUnixNano;
    else if (s.endTimeUnixNano > pe && s.endTimeUnixNano >= s.startTimeUnixNano && s.endTimeUnixNano - s.startTimeUnixNano <= pe - ps && s.kind !== CONSUMER && p.kind !== PRODUCER) {
      off = pe - s.endTimeUnixNano; // negative: back onto the parent's clock
    }
    if (off !== 0n) offsets.set(s.spanId, off);
  }
  return offsets;
}

/** Resource attributes that name a host: spans of one host share its clock. */
const HOST_ATTRIBUTES = ['host.id', 'host.name'] as const;
/** Resource attributes that name a process (and its runtime): other attributes say nothing about the clock. */
const PROCESS_ATTRIBUTES = ['service.name', 'service.namespace', 'service.instance.id', 'process.pid', 'telemetry.sdk.language', 'container.id', 'k8s.pod.uid', 'k8s.pod.name'] as const;

/**
 * Whether two resources are on one clock: the host both name (`host.id`, else `host.name`) when
 * both name one; else no process attribute both record differs. Attributes that describe no host
 * or process — the SDK's version (one process exporting through two providers), a per-batch or
 * per-pipeline attribute — and one a collector added to some records only do not make another
 * clock: read as one, the spans of one process that ended after their parent (a stream consumed
 * later) were moved as if skewed, and gained or lost edges.
 */
function sameClockAttributes(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  for (const k of HOST_ATTRIBUTES) if (a[k] !== undefined && b[k] !== undefined) return JSON.stringify(a[k]) === JSON.stringify(b[k]);
  for (const k of PROCESS_ATTRIBUTES) if (a[k] !== undefined && b[k] !== undefined && JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

/**
 * Removes one parent link from every cycle of `parents` (each span has at most one parent, so
 * every cycle is a simple loop): the link of the cycle's earliest span (start time, then span
 * id), which thereby becomes a root. Linear: every span is walked once. Returns the cycle count.
 */
function breakCycles(parents: Map<string, string>, byId: ReadonlyMap<string, Span>): number {
  // walkOf: span → the walk that first reached it. Meeting a span of the current walk closes a
  // cycle; meeting one of an earlier walk ends the walk (that part was already checked).
  const walkOf = new Map<string, number>();
  let broken = 0;
  let walk = 0;
  for (const start of parents.keys()) {
    if (walkOf.has(start)) continue;
    walk++;
    let cur: string | undefined = start;
    while (cur !== undefined && !walkOf.has(cur)) {
      walkOf.set(cur, walk);
      cur = parents.get(cur);
    }
    if (cur === undefined || walkOf.get(cur) !== walk) continue;
    // cur is on this walk's path and its parent chain leads back to it: the cycle
    let earliest = cur;
    for (let c = parents.get(cur)!; c !== cur; c = parents.get(c)!) if (earlier(byId.get(c)!, byId.get(earliest)!)) earliest = c;
    parents.delete(earliest);
    broken++;
  }
  return broken;
}

function earlier(a: Span, b: Span): boolean {
  return a.startTimeUnixNano !== b.startTimeUnixNano ? a.startTimeUnixNano < b.startTimeUnixNano : a.spanId < b.spanId;
}
