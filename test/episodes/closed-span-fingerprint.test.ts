/**
 * Closed episodes remember their spans as 32-bit fingerprints, to tell a re-sent span (a duplicate)
 * from a late one (a correction). The fingerprint was the low halves of trace and span id xor-ed,
 * which assumed random ids: with ids from a counter, trace …03 span …01 was trace …01 span …03, and
 * a conversation's late span was dropped as re-sent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedEpisodes, spanFingerprint } from '../../src/episodes/closed-episodes.js';
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';

const id = (n: number, hex: number) => n.toString(16).padStart(hex, '0');
const span = (trace: number, spanNo: number) => ({ traceId: id(trace, 32), spanId: id(spanNo, 16) }) as Span;

describe('closed-episode span fingerprints', () => {
  it('a late span of a conversation with counter ids is not taken for one it already held', () => {
    const closed = new ClosedEpisodes({ maxEpisodes: 10, retainBytes: 0 });
    const spans = [span(1, 1), span(1, 2), span(1, 3)];
    closed.remember({ episodeId: 'conv:c', revision: 0, traceIds: [id(1, 32)], spans, closedAtMs: 0, bytes: 0 } as unknown as Episode, true, false, true);
    for (const s of spans) expect(closed.held('conv:c', s)).toBe(true);
    // the next turn's trace 3, its span 1: 3 ^ 1 = 1 ^ 3 — held (a duplicate) before
    expect(closed.held('conv:c', span(3, 1))).toBe(false);
    expect(closed.held('conv:c', span(2, 3))).toBe(false);
  });

  it('counter ids give distinct fingerprints (64 traces × 64 spans), and random ids mix every bit', () => {
    const seen = new Set<number>();
    for (let t = 1; t <= 64; t++) for (let s = 1; s <= 64; s++) seen.add(spanFingerprint(span(t, s)));
    expect(seen.size).toBe(64 * 64);
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{16}$/), fc.nat(47), (traceId, spanId, at) => {
        // one hex digit changed anywhere in either id changes the fingerprint
        const both = traceId + spanId;
        const flipped = both.slice(0, at) + (both[at] === '0' ? '1' : '0') + both.slice(at + 1);
        expect(spanFingerprint({ traceId: flipped.slice(0, 32), spanId: flipped.slice(32) })).not.toBe(spanFingerprint({ traceId, spanId }));
      }),
      { numRuns: 500 },
    );
  });

  it('an episode of interleaved traces holds each of its spans, and no span of another trace (the trace part is mixed once per run of a trace)', () => {
    const closed = new ClosedEpisodes({ maxEpisodes: 10, retainBytes: 0 });
    const spans = [span(1, 1), span(2, 2), span(2, 3), span(1, 4), span(3, 5), span(1, 6)];
    closed.remember({ episodeId: 'conv:c', revision: 0, traceIds: [id(1, 32), id(2, 32), id(3, 32)], spans, closedAtMs: 0, bytes: 0 } as unknown as Episode, true, false, true);
    for (const s of spans) expect(closed.held('conv:c', s)).toBe(true);
    // each span id under the other traces: not held
    for (const s of spans) for (const t of [1, 2, 3]) if (s.traceId !== id(t, 32)) expect(closed.held('conv:c', { ...s, traceId: id(t, 32) })).toBe(false);
  });
});
