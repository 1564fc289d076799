/**
 * An open run judged span by span (Phoenix / DeepEval scoring every LLM call, several metrics each;
 * or a judge gone wrong): joining its verdicts compares each new one only with those of the same
 * name, trace and span (`holdsEvaluation`'s re-delivery check), not with every verdict held — that
 * made n verdicts cost O(n²) on the assembler's thread (40,000 verdicts on an open run: 5 s during
 * which no span or record of any other run was read).
 */
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';

const TRACE = 'ab'.repeat(16);
const sid = (n: number) => (n + 1).toString(16).padStart(16, '0');
const span = (n: number): Span => ({
  traceId: TRACE,
  spanId: sid(n),
  parentSpanId: sid(0),
  name: 'chat',
  kind: 1,
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  attributes: { 'gen_ai.operation.name': 'chat' },
  events: [],
  links: [],
  status: { code: 0 },
  resource: { attributes: {} },
  scope: { name: 'test' },
});

describe('an open run with thousands of step verdicts', () => {
  it('compares each new verdict only with those of its name, trace and span', () => {
    const N = 10_000; // two metrics on each of 5,000 spans
    const asm = new EpisodeAssembler({});
    asm.addSpans(Array.from({ length: N / 2 }, (_, i) => span(i + 1))); // the root (span 0) has not ended: the run stays open
    let reads = 0;
    const verdict = (i: number, time: bigint): Evaluation => {
      const e = { score: 0.9, traceId: TRACE, spanId: sid((i >> 1) + 1), timeUnixNano: time, source: 'evaluations-stream' } as Evaluation;
      const name = i % 2 ? 'faithfulness' : 'relevance';
      Object.defineProperty(e, 'name', { enumerable: true, get: () => (reads++, name) });
      return e;
    };
    const verdicts = Array.from({ length: N }, (_, i) => verdict(i, 5n));
    for (let i = 0; i < N; i += 100) asm.addEvaluations(verdicts.slice(i, i + 100));
    expect(reads).toBeLessThan(10 * N); // 99,990,000 without the fix (every held verdict read for each new one)
    // re-deliveries are still found, a re-judgment of a span is still kept
    asm.addEvaluations([verdict(7, 5n), verdict(8, 6n)]); // a re-sent verdict, and span 5's relevance judged again
    expect(asm.stats()).toMatchObject({ evaluations: N + 1, duplicateEvaluations: 1 });
    const [episode] = asm.flush('shutdown');
    expect(episode!.evaluations).toHaveLength(N + 1);
  });
});
