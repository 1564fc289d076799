import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { recordRuns, spanKeys } from './sdk.js';

const RUNS = recordRuns([{ children: 1 }, { children: 4 }, { children: 2, conversationId: 'c-1' }, { children: 3, conversationId: 'c-1' }, { remoteParent: true }, { children: 6 }]);
const ALL: Span[] = RUNS.flat();

/** Canonical view of closed episodes: id → sorted span keys. */
function canonical(episodes: readonly { episodeId: string; spans: readonly Span[] }[]): [string, string[]][] {
  return episodes.map((e) => [e.episodeId, spanKeys(e.spans)] as [string, string[]]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function assemble(batches: readonly (readonly Span[])[], keyBy: 'trace' | 'conversation', stepsMs: readonly number[]) {
  const clock = new ManualClock(0);
  // grace/idle longer than the whole replay: nothing closes before flush, whatever the order
  const asm = new EpisodeAssembler({ keyBy, graceMs: 1_000_000, idleMs: 1_000_000 }, clock);
  const out = [];
  batches.forEach((b, i) => {
    asm.addSpans(b);
    clock.advance(stepsMs[i % stepsMs.length]!);
    out.push(...asm.tick());
  });
  out.push(...asm.flush());
  return { episodes: out, stats: asm.stats() };
}

/** Any order, any re-deliveries, any batching: spans as indices into ALL. */
const deliveries = fc
  .tuple(
    fc.shuffledSubarray(ALL.map((_, i) => i), { minLength: ALL.length, maxLength: ALL.length }),
    fc.array(fc.nat({ max: ALL.length - 1 }), { maxLength: 20 }),
    fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 40 }),
    fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
  )
  .map(([order, dups, positions, sizes]) => {
    const seq = [...order];
    dups.forEach((d, k) => seq.splice(positions[k % positions.length]! % (seq.length + 1), 0, d));
    const batches: Span[][] = [];
    for (let i = 0, k = 0; i < seq.length; k++) {
      const n = sizes[k % sizes.length]!;
      batches.push(seq.slice(i, i + n).map((j) => ALL[j]!));
      i += n;
    }
    return { batches, duplicates: dups.length };
  });

describe('property: interleaving and duplication do not change the episodes', () => {
  for (const keyBy of ['trace', 'conversation'] as const) {
    it(`${keyBy} keying: same episode ids and span sets as feeding each trace in order`, () => {
      const reference = canonical(assemble(RUNS, keyBy, [0]).episodes);
      expect(reference.length).toBe(keyBy === 'trace' ? RUNS.length : RUNS.length - 1);
      fc.assert(
        fc.property(deliveries, fc.array(fc.nat({ max: 500 }), { minLength: 1, maxLength: 5 }), ({ batches, duplicates }, steps) => {
          const { episodes, stats } = assemble(batches, keyBy, steps);
          expect(canonical(episodes)).toEqual(reference);
          expect(stats.duplicateSpans).toBe(duplicates);
          expect(stats.spans).toBe(ALL.length);
          expect(stats).toMatchObject({ open: 0, bufferedSpans: 0, bufferedBytes: 0, lateSpans: 0 });
        }),
        { numRuns: 100 },
      );
    });
  }
});
