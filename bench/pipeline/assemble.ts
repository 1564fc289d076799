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

/**
 * One pass: a fresh assembler takes every batch (with a Kafka-like position) and, every
 * `flushEvery` batches, hands out what is open — the collector writes one complete trace per
 * record, so episodes close shortly after their record (as with root-ended + grace) and their spans
 * die young instead of piling up for the whole pass. Returns the spans added.
 */
export function assemblePass(mod: EpisodesModule, batches: readonly (readonly Span[])[], flushEvery = 64): number {
  const asm = new mod.EpisodeAssembler({ maxOpenEpisodes: Math.max(flushEvery, 1) + 16 });
  let n = 0;
  let closed = 0;
  batches.forEach((b, i) => {
    asm.addSpans(b, { topic: 'otlp_spans', partition: i % 4, offset: String(i >> 2) });
    n += b.length;
    if ((i + 1) % flushEvery === 0) closed += asm.flush('shutdown').length;
  });
  closed += asm.flush('shutdown').length;
  if (closed === 0 && batches.length > 0) throw new Error('assembler flushed no episode');
  return n;
}

/** Decode (proto) + assemble, record by record, closing every `flushEvery` records (see assemblePass). */
export function decodeAssemblePass(mod: EpisodesModule, records: readonly Uint8Array[], decode: (b: Uint8Array) => Span[], flushEvery = 64): number {
  const asm = new mod.EpisodeAssembler({ maxOpenEpisodes: Math.max(flushEvery, 1) + 16 });
  let n = 0;
  records.forEach((r, i) => {
    const spans = decode(r);
    asm.addSpans(spans, { topic: 'otlp_spans', partition: i % 4, offset: String(i >> 2) });
    n += spans.length;
    if ((i + 1) % flushEvery === 0) asm.flush('shutdown');
  });
  asm.flush('shutdown');
  return n;
}
