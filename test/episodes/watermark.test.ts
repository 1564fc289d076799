import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { evaluationOf, recordRuns } from './sdk.js';

const pos = (partition: number, offset: number | string, topic = 'otlp_spans') => ({ topic, partition, offset: String(offset) });

describe('source positions and the offset watermark', () => {
  it('records first/last offsets per partition and reports the smallest first offset of open episodes', () => {
    const [a, b, c] = recordRuns([{}, {}, {}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ graceMs: 10, closeOnEvaluation: true }, clock);
    asm.addSpans(a!.slice(0, 2), pos(0, 9));
    asm.addSpans(b!, pos(0, 10));
    asm.addSpans(a!.slice(2), pos(0, 100)); // a: 9..100; numeric, not string, order
    asm.addSpans(c!, pos(1, 5));
    asm.addEvaluations([evaluationOf(a!)], pos(3, 42, 'otlp_logs'));
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9');
    expect(asm.lowWatermark('otlp_spans', 1)).toBe('5');
    expect(asm.lowWatermark('otlp_spans', 2)).toBeUndefined();
    // a closed with its evaluation but is not yet handed out by tick(): still held
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9');
    const [closedA] = asm.tick();
    expect(closedA!.sources).toEqual([
      { topic: 'otlp_spans', partition: 0, firstOffset: '9', lastOffset: '100' },
      { topic: 'otlp_logs', partition: 3, firstOffset: '42', lastOffset: '42' },
    ]);
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('10');
    expect(asm.lowWatermark('otlp_logs', 3)).toBeUndefined();
  });

  it('compares offsets numerically beyond 2^53', () => {
    const [a, b] = recordRuns([{}, {}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(a!, pos(0, '9007199254740993'));
    asm.addSpans(b!, pos(0, '10000000000000000000'));
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9007199254740993');
  });

  it('holds the offset of an evaluation waiting for its spans', () => {
    const [a] = recordRuns([{}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addEvaluations([evaluationOf(a!)], pos(2, 7, 'otlp_logs'));
    expect(asm.lowWatermark('otlp_logs', 2)).toBe('7');
    asm.addSpans(a!, pos(0, 3));
    const [ep] = asm.tick();
    expect(ep!.sources.map((s) => [s.topic, s.firstOffset])).toEqual([
      ['otlp_spans', '3'],
      ['otlp_logs', '7'],
    ]);
    expect(asm.lowWatermark('otlp_logs', 2)).toBeUndefined();
  });

  it('dropPartition removes (does not emit) the episodes fed from that partition and returns how many', () => {
    const [a, b, c] = recordRuns([{}, {}, {}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(a!.slice(0, 1), pos(0, 1));
    asm.addSpans(b!.slice(0, 1), pos(0, 2));
    asm.addSpans(c!.slice(0, 1), pos(1, 1));
    asm.addEvaluations([evaluationOf(c!)], pos(0, 3, 'otlp_logs'));
    expect(asm.dropPartition('otlp_spans', 0)).toBe(2);
    expect(asm.lowWatermark('otlp_spans', 0)).toBeUndefined();
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, bufferedSpans: 1 });
    expect(asm.stats().closed.revoked).toBe(2);
    // replayed records after getting the partition back are not "late": the episodes were never closed
    asm.addSpans(a!, pos(0, 1));
    expect(asm.stats().lateSpans).toBe(0);
    expect(asm.dropPartition('otlp_spans', 7)).toBe(0);
    // closed (evaluation) but not yet handed out by tick(): withdrawn as well, and not remembered
    asm.addSpans(b!, pos(0, 2));
    asm.addEvaluations([evaluationOf(b!)]);
    expect(asm.dropPartition('otlp_spans', 0)).toBe(2);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats().closed['evaluation-arrived']).toBe(0);
    asm.addSpans(a!, pos(0, 1));
    asm.addSpans(b!, pos(0, 2));
    expect(asm.stats()).toMatchObject({ lateSpans: 0, duplicateSpans: 0 });
    const closed = asm.flush();
    expect(closed.map((e) => e.traceIds[0]).sort()).toEqual([a![0]!.traceId, b![0]!.traceId, c![0]!.traceId].sort());
  });
});
