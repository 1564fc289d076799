/**
 * Late verdicts of a closed run that would not change its credit (another name than the run's
 * verdict, re-sent by a judge or re-read from the evaluations topic after a rebalance) are each
 * checked against the retained revision — whose span tree was built again for every one of them:
 * 1,000 such verdicts on a closed 9,000-span run held the assembler's thread 5 s. A revision never
 * changes: its tree is built once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';

const TRACE = 'cd'.repeat(16);
const sid = (n: number) => (n + 1).toString(16).padStart(16, '0');
const span = (n: number): Span => ({
  traceId: TRACE,
  spanId: sid(n),
  ...(n > 0 ? { parentSpanId: sid(0) } : {}),
  name: n > 0 ? 'chat' : 'invoke_agent',
  kind: 1,
  startTimeUnixNano: 1_000n + BigInt(n),
  endTimeUnixNano: 2_000n + BigInt(n),
  attributes: { 'gen_ai.operation.name': n > 0 ? 'chat' : 'invoke_agent', 'gen_ai.agent.name': `a${n % 3}` },
  events: [],
  links: [],
  status: { code: 0 },
  resource: { attributes: {} },
  scope: { name: 'test' },
});
const verdict = (name: string, time: bigint): Evaluation => ({ name, score: 1, traceId: TRACE, timeUnixNano: time, source: 'evaluations-stream' });

afterEach(() => vi.restoreAllMocks());

describe('late verdicts of a closed run', () => {
  it('build the retained revision’s span tree once, with the same answers', () => {
    const asm = new EpisodeAssembler({});
    asm.addSpans(Array.from({ length: 3_000 }, (_, i) => span(i)));
    asm.addEvaluations([verdict('task_success', 10n)]);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['evaluation-arrived']);
    const depth = vi.spyOn(SpanTree.prototype, 'depth');
    for (let i = 0; i < 200; i++) asm.addEvaluations([verdict('toxicity', 20n + BigInt(i))]); // another name, later: the verdict stays task_success
    expect(asm.stats()).toMatchObject({ lateEvaluations: 200, lateEvaluationsUnused: 200, lateEvaluationsOtherName: 200, corrections: 0 });
    expect(depth.mock.calls.length).toBeLessThan(2 * 3_000); // 600,000 (a tree per verdict) without the fix
  });
});
