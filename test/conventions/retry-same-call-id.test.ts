/**
 * A tool call retried under the same call id (the SDK re-executes a failed call before the model
 * sees a result): the next LLM call read the successful execution's result, not the failed one's.
 * The genai tool span records no call id: it is recovered from the issuing call (C3). Before, the step that read the result was linked to the failed attempt too and counted as
 * depending on the error (credit-audit pass, derived from genai run 1, fixture spans).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { runSpans } from './fixtures.js';

/** genai run 1 with a failed first execution of its tool call, same call id, ending before the recorded one starts. */
function withFailedFirstAttempt(): { spans: Span[]; ok: Span; failed: Span } {
  const spans = runSpans('genai')[0]!;
  const ok = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool')!;
  const duration = ok.endTimeUnixNano - ok.startTimeUnixNano;
  const failed: Span = {
    ...ok,
    spanId: 'f00dfeedf00dfeed',
    startTimeUnixNano: ok.startTimeUnixNano - duration - 1000n,
    endTimeUnixNano: ok.startTimeUnixNano - 1000n,
    status: { code: 2, message: 'TimeoutError: upstream timeout' },
  };
  return { spans: [...spans, failed], ok, failed };
}

describe('a tool call retried under the same call id', () => {
  it('the step that read the result is linked to the successful execution only; both executions to the issuing call', () => {
    const { spans, ok, failed } = withFailedFirstAttempt();
    const { steps } = stepsFromSpans(spans);
    const readers = steps.filter((s) => s.causalInputs.includes(ok.spanId) && s.kind === 'llm');
    expect(readers.length).toBeGreaterThan(0);
    for (const s of steps) if (s.kind === 'llm') expect(s.causalInputs).not.toContain(failed.spanId);
    const issuerOf = (id: string) => steps.find((s) => s.stepId === id)!.causalInputs.filter((i) => steps.find((x) => x.stepId === i)?.kind === 'llm');
    expect(issuerOf(failed.spanId)).toEqual(issuerOf(ok.spanId));
    expect(issuerOf(ok.spanId)).toHaveLength(1);
  });

  it('a matching call after the failed result was read is not that call retried: it does not take the failed call’s issuer (review finding)', () => {
    const recorded = runSpans('genai')[0]!;
    const tool = recorded.find((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool')!;
    const failed: Span = { ...tool, status: { code: 2, message: 'TimeoutError: upstream timeout' } };
    const spans = recorded.map((s) => (s === tool ? failed : s));
    const before = stepsFromSpans(spans).steps;
    const reader = before.find((s) => s.kind === 'llm' && s.causalInputs.includes(failed.spanId))!;
    expect(reader).toBeDefined();
    const issuer = before.find((s) => s.stepId === failed.spanId)!.causalInputs.find((i) => before.find((x) => x.stepId === i)?.kind === 'llm')!;
    expect(issuer).toBeDefined();
    // the same tool and arguments, started after the reader read the error
    const start = reader.startTimeUnixNano + 1000n;
    const later: Span = { ...tool, spanId: 'beefbeefbeefbeef', startTimeUnixNano: start, endTimeUnixNano: start + (tool.endTimeUnixNano - tool.startTimeUnixNano) };
    const { steps } = stepsFromSpans([...spans, later]);
    expect(steps.find((s) => s.stepId === failed.spanId)!.causalInputs).toContain(issuer);
    expect(steps.find((s) => s.stepId === later.spanId)!.causalInputs).not.toContain(issuer);
  });

  it('without the retry the reader is linked to the one execution, as before', () => {
    const spans = runSpans('genai')[0]!;
    const ok = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool')!;
    const { steps } = stepsFromSpans(spans);
    expect(steps.some((s) => s.kind === 'llm' && s.causalInputs.includes(ok.spanId))).toBe(true);
  });
});
