/**
 * A fast tool and the model call that reads its result, started in the same millisecond: the
 * OpenTelemetry JS SDK stamps a span's start with `Date.now()` (whole milliseconds) and its end as
 * that start plus the measured duration, so a sub-millisecond tool and the next model call share
 * their start. The episode order broke that tie by span id: in half of such runs the model call
 * came first, its input from the tool pointed forward and was dropped, and the tool reached no
 * output (its reward +0.333 or −0.167 depending on the random ids). Spans from the real OTel SDK
 * with the timestamps the JS SDK gives such a run; the two span ids are then set to each order.
 */
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { MessageReward } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { episodeOf, recordSpans } from './sdk.js';

const T0 = 1_795_575_745;
const us = (n: number): [number, number] => [T0 + Math.floor(n / 1e6), (n % 1e6) * 1000];
const user = { role: 'user', parts: [{ type: 'text', content: 'what is 6*7' }] };
const call = { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'multiply', arguments: { a: 6, b: 7 } }] };

/** Model call → tool (50 µs) → model call reading its result, the last two started in the same ms; `readerFirst`: the reader's span id sorts first. */
function recorded(readerFirst: boolean): { spans: Span[]; tool: Span; reader: Span } {
  const spans = recordSpans((r) => {
    const root = r.tracer.startSpan('invoke_agent calc', { root: true, startTime: us(0), attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'calc' } });
    const child = (name: string, startUs: number, endUs: number, attributes: Record<string, string>) =>
      r.tracer.startSpan(name, { startTime: us(startUs), attributes }, trace.setSpan(context.active(), root)).end(us(endUs));
    child('chat m', 100_000, 399_700, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': JSON.stringify([user]), 'gen_ai.output.messages': JSON.stringify([call]) });
    child('execute_tool multiply', 400_000, 400_050, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'multiply', 'gen_ai.tool.call.id': 'call_1', 'gen_ai.tool.call.result': '42' });
    child('chat m', 400_000, 900_300, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.input.messages': JSON.stringify([user, call, { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '42' }] }]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'It is 42.' }] }]),
    });
    root.end(us(901_000));
  });
  const toolSpan = spans.find((s) => s.name === 'execute_tool multiply')!;
  const readerSpan = spans.find((s) => s.name === 'chat m' && s.startTimeUnixNano === toolSpan.startTimeUnixNano)!;
  const [low, high] = ['0000000000000001', 'fffffffffffffff0'];
  const tool = { ...toolSpan, spanId: readerFirst ? high : low };
  const reader = { ...readerSpan, spanId: readerFirst ? low : high };
  return { spans: spans.map((s) => (s === toolSpan ? tool : s === readerSpan ? reader : s)), tool, reader };
}

describe('a tool and the model call reading its result, started in the same millisecond', () => {
  it.each([true, false])('the call reads the tool whatever their span ids (reader id first: %s)', async (readerFirst) => {
    const { spans, tool, reader } = recorded(readerFirst);
    const { steps, warnings } = stepsFromSpans(spans);
    expect(steps.find((s) => s.stepId === reader.spanId)!.causalInputs).toContain(tool.spanId);
    expect(warnings.join('\n')).not.toMatch(/pointing to later steps/);
    const rewards = (await processEpisode(episodeOf(spans, 1), { now: () => 0 })).filter((e): e is MessageReward => e.event_type === 'message_reward');
    expect(rewards.find((r) => r.step_id === tool.spanId)!.reward).toBeGreaterThan(0);
  });
});
