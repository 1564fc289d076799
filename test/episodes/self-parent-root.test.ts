/**
 * A root span that names its own span id as its parent (corrupt telemetry: an instrumentation that
 * set the parent from the span's own context) is a root: the credit stage's SpanTree reads such a
 * parent as none, but the assembler's root rule took the span for a child of a parent it held —
 * its run never had a root, closed by neither its verdict (evaluation-arrived) nor graceMs, and
 * waited for idleMs (30 s by default), closed 'idle'.
 */
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { evaluationOf, recordRuns, rootOf } from './sdk.js';

describe('a root whose parent span id is its own', () => {
  const selfParented = () => {
    const [run] = recordRuns([{ children: 3 }]);
    const root = rootOf(run!);
    return run!.map((s) => (s === root ? { ...s, parentSpanId: s.spanId } : s));
  };

  it('closes its run at its verdict', () => {
    const run = selfParented();
    const asm = new EpisodeAssembler({}, new ManualClock(1_000));
    asm.addSpans(run);
    asm.addEvaluations([evaluationOf(run, 1, run.find((s) => s.parentSpanId === s.spanId)!.spanId)]);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['evaluation-arrived']); // [] without the fix: open until idleMs
  });

  it('closes its run graceMs after it ended, without a verdict', () => {
    const run = selfParented();
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ awaitEvaluationMs: 0, graceMs: 2_000, idleMs: 30_000 }, clock);
    asm.addSpans(run);
    clock.advance(2_000);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']); // closed 'idle' at 30 s without the fix
  });
});
