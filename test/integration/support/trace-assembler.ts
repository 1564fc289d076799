/**
 * A deliberately small trace-keyed episode assembler for the Kafka integration tests, used
 * while src/episodes is not available (see load-stages.ts). It implements the runtime's
 * `EpisodeAssemblerPort` with the semantics the runtime relies on: dedup by span id, per-partition
 * first offsets (`lowWatermark`), `dropPartition`. Close policy: root span seen and an evaluation
 * present → close at the next tick; otherwise close after `idleMs` without news.
 */
import type { Evaluation } from '../../../src/model/agents.js';
import type { CloseReason, Episode, SourcePosition } from '../../../src/model/episode.js';
import type { Span } from '../../../src/model/telemetry.js';
import type { EpisodeAssemblerPort } from '../../../src/runtime/kafka-pipeline.js';

interface Open {
  traceId: string;
  spans: Map<string, Span>;
  evaluations: Evaluation[];
  rootSeen: boolean;
  openedAtMs: number;
  lastMs: number;
  duplicates: number;
  sources: Map<string, { topic: string; partition: number; firstOffset: string; lastOffset: string }>;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class TraceEpisodeAssembler implements EpisodeAssemblerPort {
  private readonly open = new Map<string, Open>();

  constructor(private readonly opts: { idleMs: number; now?: () => number }) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private get(traceId: string): Open {
    let e = this.open.get(traceId);
    if (!e) {
      const t = this.now();
      e = { traceId, spans: new Map(), evaluations: [], rootSeen: false, openedAtMs: t, lastMs: t, duplicates: 0, sources: new Map() };
      this.open.set(traceId, e);
    }
    return e;
  }

  private note(e: Open, position: SourcePosition | undefined): void {
    e.lastMs = this.now();
    if (!position) return;
    const k = key(position.topic, position.partition);
    const s = e.sources.get(k);
    if (!s) e.sources.set(k, { topic: position.topic, partition: position.partition, firstOffset: position.offset, lastOffset: position.offset });
    else {
      if (BigInt(position.offset) < BigInt(s.firstOffset)) s.firstOffset = position.offset;
      if (BigInt(position.offset) > BigInt(s.lastOffset)) s.lastOffset = position.offset;
    }
  }

  addSpans(spans: readonly Span[], position?: SourcePosition): void {
    for (const span of spans) {
      const e = this.get(span.traceId);
      if (e.spans.has(span.spanId)) e.duplicates++;
      else e.spans.set(span.spanId, span);
      if (span.parentSpanId === undefined) e.rootSeen = true;
      this.note(e, position);
    }
  }

  addEvaluations(evaluations: readonly Evaluation[], position?: SourcePosition): void {
    for (const ev of evaluations) {
      if (!ev.traceId) continue;
      const e = this.get(ev.traceId);
      e.evaluations.push(ev);
      this.note(e, position);
    }
  }

  private close(e: Open, reason: CloseReason): Episode | undefined {
    this.open.delete(e.traceId);
    if (e.spans.size === 0) return undefined; // evaluation without spans: nothing to credit
    return {
      episodeId: e.traceId,
      keyMode: 'trace',
      traceIds: [e.traceId],
      spans: [...e.spans.values()].sort((a, b) => (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0)),
      evaluations: e.evaluations,
      closeReason: reason,
      openedAtMs: e.openedAtMs,
      closedAtMs: this.now(),
      correction: false,
      revision: 0,
      duplicateSpans: e.duplicates,
      lateSpans: 0,
      bytes: 0,
      sources: [...e.sources.values()],
    };
  }

  tick(): Episode[] {
    const out: Episode[] = [];
    const t = this.now();
    for (const e of [...this.open.values()]) {
      let reason: CloseReason | undefined;
      if (e.rootSeen && e.evaluations.length > 0) reason = 'evaluation-arrived';
      else if (t - e.lastMs >= this.opts.idleMs) reason = 'idle';
      if (reason) {
        const ep = this.close(e, reason);
        if (ep) out.push(ep);
      }
    }
    return out;
  }

  flush(reason: CloseReason): Episode[] {
    return [...this.open.values()].flatMap((e) => this.close(e, reason) ?? []);
  }

  dropPartition(topic: string, partition: number): number {
    const k = key(topic, partition);
    let n = 0;
    for (const e of [...this.open.values()]) {
      if (e.sources.has(k)) {
        this.open.delete(e.traceId);
        n++;
      }
    }
    return n;
  }

  lowWatermark(topic: string, partition: number): string | undefined {
    const k = key(topic, partition);
    let min: bigint | undefined;
    for (const e of this.open.values()) {
      const s = e.sources.get(k);
      if (s && (min === undefined || BigInt(s.firstOffset) < min)) min = BigInt(s.firstOffset);
    }
    return min?.toString();
  }
}
