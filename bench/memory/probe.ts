/**
 * Memory probe, run in its own process with `node --expose-gc --import tsx` (bench/memory/section.ts
 * starts it) so that heap deltas are not polluted by the rest of the benchmark. Prints one JSON
 * object on stdout.
 *
 * - per buffered span / per open episode: heap after gc() with N spans held, minus before. Two
 *   shapes (many small episodes, few large ones) give a·spans + b·episodes; baseline = the same
 *   decoded Span objects held in a plain array (what any buffer must at least keep).
 * - flood: traces that never close (root span removed) stream in with the assembler's caps far
 *   below the flood size; heap after gc() is sampled over time. Baseline: an uncapped
 *   Map<traceId, Span[]> fed the same flood (grows without bound).
 */
import type { Span } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { loadOptional } from '../lib/optional.js';
import type { EpisodesModule } from '../pipeline/assemble.js';

declare const gc: () => void;

interface Args {
  seed: number;
  templates: number;
  /** Episodes held for the per-span measurement. */
  held: number;
  /** Traces in the flood. */
  flood: number;
  /** Heap samples in the flood. */
  samples: number;
  /** Assembler cap on open episodes during the flood. */
  maxOpen: number;
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let idCounter = 0;
/** Copies of a template trace under fresh trace ids (the same objects a decoder would build). */
function cloneTrace(spans: readonly Span[]): Span[] {
  const traceId = (++idCounter).toString(16).padStart(32, 'a');
  return spans.map((s) => ({ ...s, traceId, attributes: { ...s.attributes } }));
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const runs = await generateFleet({ episodes: args.templates, seed: args.seed });
  const templates = kafkaRecordsFor(runs, 'otlp_proto').spans.map((r) => decodeTraces(r.value, 'otlp_proto'));
  const out: Record<string, unknown> = { args };

  // baseline: spans held in an array
  {
    const before = heap();
    const hold: Span[][] = [];
    let spans = 0;
    for (let i = 0; i < args.held; i++) {
      const t = cloneTrace(templates[i % templates.length] as Span[]);
      spans += t.length;
      hold.push(t);
    }
    const after = heap();
    out.baseline = { spans, episodes: hold.length, bytes: after - before, bytesPerSpan: (after - before) / spans };
    hold.length = 0;
  }

  const mod = await loadOptional<EpisodesModule>('../src/episodes/index.js');
  if ('missing' in mod) {
    out.missing = mod.missing;
  } else {
    // ours: open episodes in the assembler (no flush); two shapes to separate per-span and per-episode cost
    const measure = (episodes: number, spansPerEpisode: number | undefined) => {
      const traces: Span[][] = [];
      for (let i = 0; i < episodes; i++) {
        const t = cloneTrace(templates[i % templates.length] as Span[]);
        traces.push(spansPerEpisode === undefined ? t : t.slice(0, spansPerEpisode));
      }
      const spans = traces.reduce((s, t) => s + t.length, 0);
      const base = heap();
      const asm = new mod.mod.EpisodeAssembler({ maxOpenEpisodes: episodes + 16, maxSpansPerEpisode: 100_000 });
      traces.forEach((t, i) => asm.addSpans(t, { topic: 'otlp_spans', partition: i % 4, offset: String(i) }));
      const after = heap();
      // the spans themselves were allocated before `base`: the delta is the assembler's own overhead
      const overhead = after - base;
      asm.flush('shutdown');
      return { episodes, spans, overheadBytes: overhead };
    };
    const wide = measure(args.held, undefined);
    const narrow = measure(args.held, 2);
    // overhead = a·spans + b·episodes, same episode count in both shapes
    const a = (wide.overheadBytes - narrow.overheadBytes) / (wide.spans - narrow.spans);
    const b = (narrow.overheadBytes - a * narrow.spans) / narrow.episodes;
    const baselinePerSpan = (out.baseline as { bytesPerSpan: number }).bytesPerSpan;
    out.ours = { wide, narrow, overheadPerSpan: a, perOpenEpisode: b, bufferedSpanTotal: baselinePerSpan + a };
  }

  // flood
  const floodSeries: { traces: number; ours?: number; baseline: number }[] = [];
  {
    const every = Math.max(1, Math.floor(args.flood / args.samples));
    const noRoot = templates.map((t) => t.filter((s) => s.parentSpanId !== undefined));
    const asm = 'mod' in mod ? new mod.mod.EpisodeAssembler({ maxOpenEpisodes: args.maxOpen }) : undefined;
    const start = heap();
    let closedByCaps = 0;
    for (let i = 0; i < args.flood; i++) {
      const t = cloneTrace(noRoot[i % noRoot.length] as Span[]);
      const r = asm?.addSpans(t, { topic: 'otlp_spans', partition: i % 4, offset: String(i) });
      if (Array.isArray(r)) closedByCaps += r.length;
      const tick = (asm as { tick?: () => unknown[] } | undefined)?.tick?.();
      if (Array.isArray(tick)) closedByCaps += tick.length;
      if ((i + 1) % every === 0) floodSeries.push({ traces: i + 1, ours: asm ? heap() - start : undefined, baseline: Number.NaN });
    }
    out.floodClosedByCaps = closedByCaps;
    asm?.flush('shutdown');
    // baseline flood: uncapped grouping
    const map = new Map<string, Span[]>();
    const start2 = heap();
    let k = 0;
    for (let i = 0; i < args.flood; i++) {
      const t = cloneTrace(noRoot[i % noRoot.length] as Span[]);
      map.set(t[0]?.traceId ?? String(i), t);
      if ((i + 1) % every === 0) (floodSeries[k++] as { baseline: number }).baseline = heap() - start2;
    }
    out.flood = floodSeries;
    out.floodMapSize = map.size;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
