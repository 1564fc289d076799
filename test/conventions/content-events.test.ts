/**
 * GenAI message contents carried by log events (src/conventions/content-events.ts), recorded with
 * the real OTel SDK (test/conventions/sdk.ts): the newer `gen_ai.client.inference.operation.details`
 * event, ties of equal timestamps, duplicates, a span's own attributes, events of spans the
 * episode lacks. The per-message events written by the real @opentelemetry/instrumentation-openai
 * are in test/conventions/openai-instrumentation.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { contentSpanHasText, contentSpansFromLogs, isContentSpan, mergeContentSpans } from '../../src/conventions/content-events.js';
import { messagesAt } from '../../src/conventions/genai.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, contextOf, recordLogs, recordSpans, type Encoding } from './sdk.js';

/** One chat span under an agent span (GenAI semconv attributes, no message attributes). */
function chatRun(encoding: Encoding, own: Record<string, unknown> = {}): { spans: Span[]; chat: Span } {
  const spans = recordSpans((r) => {
    const agent = r.start('invoke_agent researcher', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' });
    const chat = r.start('chat gpt-4o', 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai', ...own }, agent);
    chat.end(at(50));
    agent.end(at(60));
  }, encoding);
  return { spans, chat: spans.find((s) => s.name === 'chat gpt-4o')! };
}

describe.each<Encoding>(['otlp_proto', 'otlp_json'])('GenAI content events (%s)', (encoding) => {
  it('reads gen_ai.client.inference.operation.details: system instructions, input and output messages become the LLM span\'s messages', () => {
    const { spans, chat } = chatRun(encoding);
    const logs = recordLogs((logger) => {
      const ctx = contextOf(chat.traceId, chat.spanId);
      logger.emit({
        eventName: 'gen_ai.client.inference.operation.details', context: ctx, timestamp: at(11), severityNumber: SeverityNumber.INFO,
        attributes: {
          'gen_ai.system_instructions': [{ type: 'text', content: 'You research.' }] as never,
          'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'Find the capital of France.' }] }] as never,
        },
      });
      logger.emit({
        eventName: 'gen_ai.client.inference.operation.details', context: ctx, timestamp: at(49), severityNumber: SeverityNumber.INFO,
        attributes: { 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'web_search', arguments: { q: 'capital of France' } }], finish_reason: 'tool_call' }]) },
      });
    }, encoding);
    const contents = contentSpansFromLogs(logs);
    expect(contents.map((c) => [c.parentSpanId, c.traceId, isContentSpan(c)])).toEqual([[chat.spanId, chat.traceId, true], [chat.spanId, chat.traceId, true]]);

    const tree = new SpanTree([...spans, ...contents]);
    expect(tree.contentEvents).toBe(2);
    expect(tree.byId.size).toBe(spans.length); // content spans are no spans of the run
    const merged = tree.byId.get(chat.spanId)!;
    expect(messagesAt(merged, 'gen_ai.input.messages').map((m) => [m.role, m.text])).toEqual([['system', 'You research.'], ['user', 'Find the capital of France.']]);
    expect(messagesAt(merged, 'gen_ai.output.messages')[0]!.toolCalls).toEqual([{ id: 'call_1', name: 'web_search', args: '{"q":"capital of France"}' }]);

    const { steps, warnings } = stepsFromSpans([...spans, ...contents]);
    const llm = steps.find((s) => s.stepId === chat.spanId)!;
    expect(llm.kind).toBe('llm');
    expect(llm.inputText).toContain('Find the capital of France.');
    expect(warnings.join('\n')).not.toMatch(/content event/);
  });

  it('orders events of equal timestamps by arrival (the JS instrumentation stamps all prompt events with one Date.now())', () => {
    const { spans, chat } = chatRun(encoding);
    const emitAll = (order: string[]) =>
      recordLogs((logger) => {
        for (const role of order) {
          logger.emit({ context: contextOf(chat.traceId, chat.spanId), timestamp: at(11), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': `gen_ai.${role}.message` }, body: { content: `${role} text` } });
        }
      }, encoding);
    const logs = emitAll(['system', 'user', 'assistant', 'user']);
    // one record per Kafka record (the collector's exporter): arrival order is the caller's count,
    // the record's position its source — the two equal user messages stay two
    const oneByOne = logs.flatMap((l, i) => contentSpansFromLogs([l], { firstOrder: i, source: `otlp_logs/0/${i}` }));
    for (const contents of [contentSpansFromLogs(logs), oneByOne, [...oneByOne].reverse()]) {
      const merged = new SpanTree([...spans, ...contents]).byId.get(chat.spanId)!;
      expect(messagesAt(merged, 'gen_ai.input.messages').map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    }
  });

  it('a record read twice is one message; the span\'s own attribute wins; an event for a span the episode lacks is ignored and warned about', () => {
    const { spans, chat } = chatRun(encoding, { 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'from the span' }] }]) });
    const logs = recordLogs((logger) => {
      const ctx = contextOf(chat.traceId, chat.spanId);
      logger.emit({ context: ctx, timestamp: at(11), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.user.message' }, body: { content: 'hello' } });
      logger.emit({ context: ctx, timestamp: at(49), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.choice' }, body: { index: 0, finish_reason: 'stop', message: { content: 'from the event' } } });
      logger.emit({ context: contextOf(chat.traceId, 'aaaaaaaaaaaaaaaa'), timestamp: at(12), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.user.message' }, body: { content: 'elsewhere' } });
      logger.emit({ timestamp: at(13), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.user.message' }, body: { content: 'no span context' } });
    }, encoding);
    const once = contentSpansFromLogs(logs);
    expect(once).toHaveLength(3); // the record without span context names no span
    const again = contentSpansFromLogs(logs, { firstOrder: 100 }); // re-read later: same ids
    expect(again.map((s) => s.spanId)).toEqual(once.map((s) => s.spanId));
    const result = mergeContentSpans([...spans, ...once, ...again]);
    expect(result.merged).toBe(2);
    expect(result.orphans).toBe(1);
    const merged = result.spans.find((s) => s.spanId === chat.spanId)!;
    expect(messagesAt(merged, 'gen_ai.input.messages').map((m) => m.text)).toEqual(['hello']);
    expect(messagesAt(merged, 'gen_ai.output.messages').map((m) => m.text)).toEqual(['from the span']);
    expect(stepsFromSpans([...spans, ...once]).warnings).toContain('1 GenAI content event(s) (log records with message contents) name a span this episode does not hold: ignored');
  });
});

it('a record emitted in an unsampled span\'s context is not read: that span is never exported (head sampling drops spans, not logs)', () => {
  for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
    const logs = recordLogs((logger) => {
      for (const traceFlags of [0, 1]) {
        const ctx = trace.setSpanContext(context.active(), { traceId: 'ab'.repeat(16), spanId: traceFlags ? 'cd'.repeat(8) : 'ef'.repeat(8), traceFlags });
        logger.emit({ context: ctx, timestamp: at(1), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.user.message' }, body: { content: 'hi' } });
      }
    }, encoding);
    expect(logs.map((l) => l.flags ?? 0)).toEqual([0, 1]);
    expect(contentSpansFromLogs(logs).map((s) => s.parentSpanId)).toEqual(['cd'.repeat(8)]);
  }
});

it('reading a record does not change it: an operation.details record read twice gives the same content spans', () => {
  const logs = recordLogs((logger) => {
    logger.emit({
      eventName: 'gen_ai.client.inference.operation.details', context: contextOf('ab'.repeat(16), 'cd'.repeat(8)), timestamp: at(1), severityNumber: SeverityNumber.INFO,
      attributes: { 'gen_ai.system_instructions': [{ type: 'text', content: 'Be brief.' }] as never, 'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }] as never },
    });
  });
  const first = contentSpansFromLogs(logs);
  const second = contentSpansFromLogs(logs);
  expect(second.map((s) => s.spanId)).toEqual(first.map((s) => s.spanId)); // before: the system message was inserted into the record's own array
  expect((logs[0]!.attributes['gen_ai.input.messages'] as unknown[]).length).toBe(1);
});

it('capture off: operation.details parts without text or ids are dropped; contentSpanHasText tells text from bare tool calls (agent-credit check)', () => {
  const logs = recordLogs((logger) => {
    const ctx = contextOf('ab'.repeat(16), 'cd'.repeat(8));
    // what instrumentation-openai's Responses path logs with capture off
    logger.emit({ eventName: 'gen_ai.client.inference.operation.details', context: ctx, timestamp: at(1), severityNumber: SeverityNumber.INFO, attributes: { 'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text' }] }] as never } });
    logger.emit({ eventName: 'gen_ai.client.inference.operation.details', context: ctx, timestamp: at(2), severityNumber: SeverityNumber.INFO, attributes: { 'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'search' }] }] as never } });
    logger.emit({ context: ctx, timestamp: at(3), severityNumber: SeverityNumber.INFO, attributes: { 'event.name': 'gen_ai.user.message' }, body: { content: 'hello' } });
  });
  const spans = contentSpansFromLogs(logs);
  expect(spans.map((s) => s.name)).toEqual(['gen_ai.client.inference.operation.details', 'gen_ai.user.message']); // before: the empty text part was kept too
  expect(spans.map(contentSpanHasText)).toEqual([false, true]);
});

it('without content spans, SpanTree gets the span array as given (no copy on the common path)', () => {
  const { spans } = chatRun('otlp_proto');
  expect(mergeContentSpans(spans).spans).toBe(spans);
  const tree = new SpanTree(spans);
  expect([tree.contentEvents, tree.contentOrphans]).toEqual([0, 0]);
});
