// The recorder of test/support/openai-instrumented-run.ts: the real openai client, patched by the real
// @opentelemetry/instrumentation-openai, against a scripted fake OpenAI server. These tests pin what
// the instrumentation actually emits (chat spans + content log events) and what the project's OTLP
// decoder makes of it, since readers of those events are tested on this data.
import { inspect } from 'node:util';
import { hrTimeToNanoseconds } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import {
  ARTICLE,
  OPENAI_INSTRUMENTATION_SCOPE,
  recordOpenAIRun,
  RESEARCH_FINDINGS,
  RESEARCH_QUESTION,
  researchWriteRun,
  runLogBytes,
  runTraceBytes,
  WEB_SEARCH_ARGS,
  WEB_SEARCH_RESULT,
  type InstrumentedRun,
} from './openai-instrumented-run.js';

const eventName = (r: ReadableLogRecord): unknown => r.attributes['event.name'];
const spanById = (run: InstrumentedRun, id: string): ReadableSpan => {
  const s = run.spans.find((x) => x.spanContext().spanId === id);
  if (!s) throw new Error(`no span ${id}`);
  return s;
};
const recordsOf = (run: InstrumentedRun, chatSpanId: string): ReadableLogRecord[] =>
  run.contentLogRecords.filter((r) => r.spanContext?.spanId === chatSpanId);
const ns = (s: ReadableSpan, which: 'startTime' | 'endTime'): number => hrTimeToNanoseconds(s[which]);

describe('recordOpenAIRun(researchWriteRun()) with captureContent', () => {
  let run: InstrumentedRun;
  beforeAll(async () => {
    run = await recordOpenAIRun(researchWriteRun());
  });

  it('records three chat spans from the instrumentation, in call order, with gen_ai attributes', () => {
    expect(run.chatSpanIds).toHaveLength(3);
    const chats = run.chatSpanIds.map((id) => spanById(run, id));
    expect(chats.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini', 'chat gpt-4o']);
    expect(run.spans.filter((s) => s.instrumentationScope.name === OPENAI_INSTRUMENTATION_SCOPE)).toHaveLength(3);
    chats.forEach((s, i) => {
      expect(s.instrumentationScope.name).toBe(OPENAI_INSTRUMENTATION_SCOPE);
      expect(s.attributes['gen_ai.operation.name']).toBe('chat');
      expect(s.attributes['gen_ai.system']).toBe('openai');
      expect(s.attributes['gen_ai.response.id']).toBe(run.responseIds[i]);
      expect(String(s.attributes['gen_ai.response.id'])).toMatch(/^chatcmpl-/);
      expect(s.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    });
    expect(chats.map((s) => s.attributes['gen_ai.response.finish_reasons'])).toEqual([['tool_calls'], ['stop'], ['stop']]);
    expect(chats[2]!.attributes['gen_ai.response.model']).toBe('gpt-4o-2024-08-06');
  });

  it('nests root → invoke_agent <name> → chat / execute_tool, all in one trace', () => {
    const root = spanById(run, run.rootSpanId);
    expect(root.name).toBe('invoke_agent');
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toEqual({ 'gen_ai.operation.name': 'invoke_agent' });
    for (const s of run.spans) expect(s.spanContext().traceId).toBe(run.traceId);
    expect(run.spans).toHaveLength(7);

    const researcher = spanById(run, run.agentSpanIds['researcher']!);
    const writer = spanById(run, run.agentSpanIds['writer']!);
    expect(researcher.name).toBe('invoke_agent researcher');
    expect(researcher.attributes).toEqual({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' });
    expect(writer.name).toBe('invoke_agent writer');
    for (const agent of [researcher, writer]) expect(agent.parentSpanContext?.spanId).toBe(run.rootSpanId);

    const [c1, c2, c3] = run.chatSpanIds.map((id) => spanById(run, id));
    expect(c1!.parentSpanContext?.spanId).toBe(researcher.spanContext().spanId);
    expect(c2!.parentSpanContext?.spanId).toBe(researcher.spanContext().spanId);
    expect(c3!.parentSpanContext?.spanId).toBe(writer.spanContext().spanId);

    expect(run.toolSpanIds).toHaveLength(1);
    const tool = spanById(run, run.toolSpanIds[0]!);
    expect(tool.name).toBe('execute_tool web_search');
    expect(tool.parentSpanContext?.spanId).toBe(researcher.spanContext().spanId);
    // No call id on purpose, and no arguments/result unless toolCallContent.
    expect(tool.attributes).toEqual({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search' });

    // Time moves forward: chat 1 < tool < chat 2; researcher ends before writer starts.
    expect(ns(c1!, 'endTime')).toBeLessThanOrEqual(ns(tool, 'startTime'));
    expect(ns(tool, 'endTime')).toBeLessThanOrEqual(ns(c2!, 'startTime'));
    expect(ns(researcher, 'endTime')).toBeLessThan(ns(writer, 'startTime'));
    expect(ns(c2!, 'endTime')).toBeLessThanOrEqual(ns(researcher, 'endTime'));
    expect(ns(writer, 'endTime')).toBeLessThanOrEqual(ns(root, 'endTime'));
  });

  it('emits content log events on the chat span contexts, named by the event.name attribute', () => {
    for (const r of run.contentLogRecords) {
      expect(r.instrumentationScope.name).toBe(OPENAI_INSTRUMENTATION_SCOPE);
      expect(r.spanContext?.traceId).toBe(run.traceId);
      expect(run.chatSpanIds).toContain(r.spanContext?.spanId);
      // The instrumentation names events by attribute only; the LogRecord eventName field stays empty.
      expect(r.eventName).toBeUndefined();
      expect(r.attributes['gen_ai.system']).toBe('openai');
    }
    const [c1, c2, c3] = run.chatSpanIds;
    expect(recordsOf(run, c1!).map(eventName)).toEqual(['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.choice']);
    expect(recordsOf(run, c2!).map(eventName)).toEqual([
      'gen_ai.system.message',
      'gen_ai.user.message',
      'gen_ai.assistant.message',
      'gen_ai.tool.message',
      'gen_ai.choice',
    ]);
    expect(recordsOf(run, c3!).map(eventName)).toEqual(['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.choice']);
    expect(run.contentLogRecords).toHaveLength(11);
    // Prompt events of one call share one millisecond timestamp (Date.now() taken once per call).
    const prompt2 = recordsOf(run, c2!).slice(0, 4);
    expect(new Set(prompt2.map((r) => hrTimeToNanoseconds(r.hrTime))).size).toBe(1);
  });

  it('carries the scripted contents in the bodies', () => {
    const [c1, c2, c3] = run.chatSpanIds.map((id) => recordsOf(run, id));
    const toolCall = { id: 'call_web_search_1', type: 'function', function: { name: 'web_search', arguments: JSON.stringify(WEB_SEARCH_ARGS) } };
    expect(c1![1]!.body).toEqual({ content: RESEARCH_QUESTION });
    expect(c1![2]!.body).toEqual({ finish_reason: 'tool_calls', index: 0, message: { tool_calls: [toolCall] } });
    expect(c2![2]!.body).toEqual({ tool_calls: [toolCall] });
    expect(c2![3]!.body).toEqual({ id: 'call_web_search_1', content: WEB_SEARCH_RESULT });
    expect(c2![4]!.body).toEqual({ finish_reason: 'stop', index: 0, message: { content: RESEARCH_FINDINGS } });
    expect(RESEARCH_FINDINGS.length).toBeGreaterThanOrEqual(200);
    // The writer's prompt contains the researcher's findings verbatim.
    const writerUser = (c3![1]!.body as { content: string }).content;
    expect(writerUser).toContain(RESEARCH_FINDINGS);
    expect(c3![2]!.body).toEqual({ finish_reason: 'stop', index: 0, message: { content: ARTICLE } });
    expect(run.agentOutputs).toEqual({ researcher: RESEARCH_FINDINGS, writer: ARTICLE });
    expect(run.requests).toHaveLength(3);
  });

  it('adds the evaluator verdict on the root span from service task-evaluator', () => {
    const ev = run.evaluation;
    expect(run.logRecords.at(-1)).toBe(ev);
    expect(ev.resource.attributes['service.name']).toBe('task-evaluator');
    expect(ev.eventName).toBe('gen_ai.evaluation.result');
    expect(ev.attributes).toEqual({
      'event.name': 'gen_ai.evaluation.result',
      'gen_ai.evaluation.name': 'task_success',
      'gen_ai.evaluation.score.value': 1,
      'gen_ai.evaluation.score.label': 'pass',
    });
    expect(ev.spanContext?.traceId).toBe(run.traceId);
    expect(ev.spanContext?.spanId).toBe(run.rootSpanId);
  });

  it.each(['otlp_proto', 'otlp_json'] as const)('survives OTLP %s and the project decoder', (encoding) => {
    const spans = decodeTraces(runTraceBytes(run, encoding), encoding);
    expect(spans).toHaveLength(7);
    for (const id of run.chatSpanIds) {
      const s = spans.find((x) => x.spanId === id)!;
      expect(s.name).toMatch(/^chat gpt-4o/);
      expect(s.parentSpanId).toBe(spanById(run, id).parentSpanContext?.spanId);
      expect(s.attributes['gen_ai.operation.name']).toBe('chat');
    }

    const logs = decodeLogs(runLogBytes(run, encoding), encoding);
    expect(logs).toHaveLength(run.logRecords.length);
    // Records of one resource+scope stay in emit order; the content events come first.
    logs.slice(0, run.contentLogRecords.length).forEach((d, i) => {
      const r = run.contentLogRecords[i]!;
      expect(d.attributes['event.name']).toBe(eventName(r));
      expect(d.eventName).toBeUndefined();
      expect(d.traceId).toBe(run.traceId);
      expect(d.spanId).toBe(r.spanContext?.spanId);
      // The AnyValue kvlist body decodes to a plain object (arrays to arrays), equal to what was emitted.
      expect(d.body).toEqual(r.body);
      expect(Object.getPrototypeOf(d.body)).toBe(Object.prototype);
      expect(d.scope.name).toBe(OPENAI_INSTRUMENTATION_SCOPE);
      expect(d.timeUnixNano).toBe(BigInt(r.hrTime[0]) * 1_000_000_000n + BigInt(r.hrTime[1]));
    });
    const ev = logs.at(-1)!;
    expect(ev.eventName).toBe('gen_ai.evaluation.result');
    expect(ev.attributes['event.name']).toBe('gen_ai.evaluation.result');
    expect(ev.spanId).toBe(run.rootSpanId);
    expect(ev.resource.attributes['service.name']).toBe('task-evaluator');

    if (process.env['PRINT_OPENAI_RECORDS']) {
      const user = logs.find((d) => d.attributes['event.name'] === 'gen_ai.user.message');
      const choice = logs.find((d) => d.attributes['event.name'] === 'gen_ai.choice');
      console.log(encoding, inspect({ user, choice }, { depth: 8 }));
    }
  });
});

describe('recordOpenAIRun options', () => {
  it('captureContent: false leaves no content in the bodies (ids and tool names only)', async () => {
    const run = await recordOpenAIRun(researchWriteRun(), { captureContent: false });
    expect(run.chatSpanIds).toHaveLength(3);
    const [c1, c2, c3] = run.chatSpanIds.map((id) => recordsOf(run, id));
    expect(c1!.map((r) => r.body)).toEqual([
      {},
      {},
      { finish_reason: 'tool_calls', index: 0, message: { tool_calls: [{ id: 'call_web_search_1', type: 'function', function: { name: 'web_search' } }] } },
    ]);
    expect(c2!.map((r) => r.body)).toEqual([
      {},
      {},
      { tool_calls: [{ id: 'call_web_search_1', type: 'function', function: { name: 'web_search' } }] },
      { id: 'call_web_search_1' },
      { finish_reason: 'stop', index: 0, message: {} },
    ]);
    expect(c3!.map((r) => r.body)).toEqual([{}, {}, { finish_reason: 'stop', index: 0, message: {} }]);
    const json = JSON.stringify(run.contentLogRecords.map((r) => r.body));
    for (const text of [RESEARCH_QUESTION, RESEARCH_FINDINGS, ARTICLE, WEB_SEARCH_RESULT, '2021 Texas']) expect(json).not.toContain(text);

    // An empty body survives the decoder as an empty object.
    const decoded = decodeLogs(runLogBytes(run, 'otlp_proto'), 'otlp_proto');
    expect(decoded[0]!.body).toEqual({});
  });

  it('toolCallContent puts arguments and result on execute_tool; score < 0.5 is a fail; root may be plain', async () => {
    const run = await recordOpenAIRun(researchWriteRun({ score: 0.2, root: 'plain' }), { toolCallContent: true });
    const tool = spanById(run, run.toolSpanIds[0]!);
    expect(tool.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'web_search',
      'gen_ai.tool.call.arguments': JSON.stringify(WEB_SEARCH_ARGS),
      'gen_ai.tool.call.result': WEB_SEARCH_RESULT,
    });
    expect(run.label).toBe('fail');
    expect(run.evaluation.attributes['gen_ai.evaluation.score.value']).toBe(0.2);
    expect(run.evaluation.attributes['gen_ai.evaluation.score.label']).toBe('fail');
    const root = spanById(run, run.rootSpanId);
    expect(root.name).toBe('run');
    expect(root.attributes).toEqual({});
  });

  it('runs started together are serialized and each fully instrumented', async () => {
    const [a, b] = await Promise.all([recordOpenAIRun(researchWriteRun()), recordOpenAIRun(researchWriteRun())]);
    expect(a.traceId).not.toBe(b.traceId);
    for (const run of [a, b]) {
      expect(run.chatSpanIds).toHaveLength(3);
      expect(run.contentLogRecords).toHaveLength(11);
      for (const r of run.contentLogRecords) expect(r.spanContext?.traceId).toBe(run.traceId);
    }
  });
});
