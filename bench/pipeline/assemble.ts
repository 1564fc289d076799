/** Adapter to src/episodes for the assembly benchmark (loaded at run time: see lib/optional.ts). */
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';

/** The part of src/episodes the benchmark uses (docs/contracts.md). */
export interface EpisodesModule {
  EpisodeAssembler: new (options?: unknown, clock?: unknown) => {
    addSpans(spans: readonly Span[], position?: { topic: string; partition: number; offset: string }): unknown;
    flush(reason: 'shutdown'): Episode[];
  };
}

/** One pass: a fresh assembler takes every batch (with a Kafka-like position), then flushes. Returns spans. */
export function assemblePass(mod: EpisodesModule, batches: readonly (readonly Span[])[]): number {
  const asm = new mod.EpisodeAssembler({ maxOpenEpisodes: batches.length + 16 });
  let n = 0;
  batches.forEach((b, i) => {
    asm.addSpans(b, { topic: 'otlp_spans', partition: i % 4, offset: String(i >> 2) });
    n += b.length;
  });
  const closed = asm.flush('shutdown');
  if (closed.length === 0 && batches.length > 0) throw new Error('assembler flushed no episode');
  return n;
}
