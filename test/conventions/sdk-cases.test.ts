/**
 * Cases the recorded fixtures lack, with spans and logs made by the real OTel JS SDK and decoded
 * by src/otlp: conversation ids, span links, explicit tool-call ids, EVALUATOR spans, the root
 * score attribute, errors and exception events, label-only evaluations, legacy span events.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AgentStepSchema, EvaluationSchema } from '../../src/model/agents.js';
import {
  conversationIdOf,
  conversationIdOfSpans,
  evaluationsFromLogs,
  evaluationsFromSpans,
  parseEvaluationRecords,
  stepsFromSpans,
} from '../../src/conventions/index.js';
import { at, contextOf, creditOf, recordLogs, recordSpans } from './sdk.js';
import { MAX_NAME_BYTES } from '../../src/conventions/text.js';

const genaiMessages = (messages: unknown[]) => JSON.stringify(messages);

describe('conversation ids', () => {
  it('reads gen_ai.conversation.id, OpenInference session.id and OpenLLMetry association properties', () => {
    const spans = recordSpans((r) => {
      r.start('invoke_agent a', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a', 'gen_ai.conversation.id': 'conv-1' }).end(at(1));
      r.start('agent', 2, { 'openinference.span.kind': 'AGENT', 'agent.name': 'b', 'session.id': 'sess-9' }).end(at(3));
      r.start('c.agent', 4, { 'traceloop.span.kind': 'agent', 'traceloop.association.properties.session_id': 'tl-4' }).end(at(5));
      r.start('plain', 6, { 'http.method': 'GET' }).end(at(7));
    });
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect(conversationIdOf(byName.get('invoke_agent a')!)).toBe('conv-1');
    expect(conversationIdOf(byName.get('agent')!)).toBe('sess-9');
    expect(conversationIdOf(byName.get('c.agent')!)).toBe('tl-4');
    expect(conversationIdOf(byName.get('plain')!)).toBeUndefined();
    expect(conversationIdOfSpans([byName.get('plain')!, byName.get('agent')!])).toBe('sess-9');
  });

  it('maps a conversation of two traces as one episode, keeping the agent across traces and linking turn 2 to turn 1', () => {
    const spans = recordSpans((r) => {
      const conv = { 'gen_ai.conversation.id': 'conv-7' };
      const t1 = r.start('invoke_agent planner', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', ...conv });
      const c1 = r.start('chat m', 1, { 'gen_ai.operation.name': 'chat', ...conv }, t1);
      c1.end(at(2));
      t1.end(at(3));
      // Second trace of the same conversation, linked to the first turn's answer.
      const t2 = r.start('invoke_agent planner', 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', ...conv }, undefined, [c1]);
      const c2 = r.start('chat m', 11, { 'gen_ai.operation.name': 'chat', ...conv }, t2, [c1]);
      c2.end(at(12));
      t2.end(at(13));
    });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
    const { steps, agents } = stepsFromSpans(spans);
    expect(agents).toEqual([{ agentId: 'planner', agentName: 'planner' }]);
    const chats = steps.filter((s) => s.kind === 'llm');
    expect(chats).toHaveLength(2);
    expect(chats.every((s) => s.agentName === 'planner')).toBe(true);
    expect(chats[1]!.causalInputs).toContain(chats[0]!.stepId); // the span link
    expect(chats[1]!.traceId).not.toBe(chats[0]!.traceId);
  });
});

describe('span links', () => {
  it('become causal inputs when they point to an earlier span of the episode, and are dropped otherwise', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent w', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'w' });
      const a = r.start('execute_tool fetch', 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch' }, root);
      a.end(at(2));
      const b = r.start('chat m', 3, { 'gen_ai.operation.name': 'chat' }, root, [a]);
      b.end(at(4));
      root.end(at(5));
    });
    const { steps } = stepsFromSpans(spans);
    const tool = steps.find((s) => s.kind === 'tool')!;
    const chat = steps.find((s) => s.kind === 'llm')!;
    expect(chat.causalInputs).toContain(tool.stepId);
    // a link to a span that is not in the episode contributes nothing
    const chatAlone = stepsFromSpans(spans.filter((s) => s.name !== 'execute_tool fetch')).steps.find((s) => s.kind === 'llm')!;
    expect(chatAlone.causalInputs).not.toContain(tool.stepId);
  });

  it('never creates a cycle: a link to a later span is dropped with a warning', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent w', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'w' });
      const late = r.start('chat late', 5, { 'gen_ai.operation.name': 'chat' }, root);
      const early = r.start('chat early', 1, { 'gen_ai.operation.name': 'chat' }, root, [late]);
      early.end(at(2));
      late.end(at(6));
      root.end(at(7));
    });
    const { steps, warnings } = stepsFromSpans(spans);
    const early = steps.find((s) => s.name === 'chat early')!;
    const late = steps.find((s) => s.name === 'chat late')!;
    expect(early.causalInputs).not.toContain(late.stepId);
    expect(late.causalInputs).toContain(early.stepId); // turn order (C4)
    expect(warnings.some((w) => /pointing to later steps/.test(w))).toBe(true);
  });
});

describe('tool calls with explicit ids (GenAI semconv)', () => {
  it('links issuing LLM → tool with gen_ai.tool.call.id → the LLM that consumed that result, across parallel calls', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent researcher', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' });
      r.start('chat m', 1, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.output.messages': genaiMessages([
          { role: 'assistant', parts: [
            { type: 'tool_call', id: 'call_a', name: 'search', arguments: { q: 'x' } },
            { type: 'tool_call', id: 'call_b', name: 'search', arguments: { q: 'y' } },
          ] },
        ]),
      }, root).end(at(2));
      // Executed in the opposite order, so only the ids tell them apart.
      r.start('execute_tool search', 3, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.id': 'call_b', 'gen_ai.tool.call.result': 'Y!' }, root).end(at(4));
      r.start('execute_tool search', 5, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.id': 'call_a', 'gen_ai.tool.call.result': 'X!' }, root).end(at(6));
      r.start('chat m', 7, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': genaiMessages([
          { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_a', result: 'X!' }, { type: 'tool_call_response', id: 'call_b', result: 'Y!' }] },
        ]),
        'gen_ai.output.messages': genaiMessages([{ role: 'assistant', parts: [{ type: 'text', content: 'X and Y' }] }]),
      }, root).end(at(8));
      root.end(at(9));
    });
    const { steps } = stepsFromSpans(spans);
    const [first, second] = steps.filter((s) => s.kind === 'llm');
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(tools.map((t) => t.toolCallId)).toEqual(['call_b', 'call_a']);
    for (const t of tools) {
      expect(t.causalInputs).toContain(first!.stepId);
      expect(second!.causalInputs).toContain(t.stepId);
    }
    expect(second!.outputText).toBe('X and Y');
  });

  it('reads OpenLLMetry legacy flattened prompts/completions with tool calls', () => {
    const spans = recordSpans((r) => {
      const root = r.start('writer.agent', 0, { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': 'writer' });
      r.start('openai.chat', 1, {
        'llm.request.type': 'chat',
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': 'weather?',
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.tool_calls.0.id': 'call_w',
        'gen_ai.completion.0.tool_calls.0.name': 'weather',
        'gen_ai.completion.0.tool_calls.0.arguments': '{"city": "Oslo"}',
        'gen_ai.usage.prompt_tokens': 12,
        'gen_ai.usage.completion_tokens': 3,
      }, root).end(at(2));
      r.start('weather.tool', 3, { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'weather', 'traceloop.entity.input': '{"city":"Oslo"}', 'traceloop.entity.output': 'rain' }, root).end(at(4));
      root.end(at(5));
    });
    const { steps, agents } = stepsFromSpans(spans);
    expect(agents).toEqual([{ agentId: 'writer', agentName: 'writer' }]);
    const llm = steps.find((s) => s.kind === 'llm')!;
    const tool = steps.find((s) => s.kind === 'tool')!;
    expect(llm).toMatchObject({ convention: 'openllmetry', agentName: 'writer', usage: { inputTokens: 12, outputTokens: 3 } });
    expect(llm.inputText).toContain('user: weather?');
    expect(tool).toMatchObject({ toolName: 'weather', toolCallId: 'call_w', outputText: 'rain' });
    expect(tool.causalInputs).toContain(llm.stepId);
  });

  it('reads the Traceloop SDK decorators\' {"args", "kwargs"} entity input and JSON-encoded output as the call\'s arguments and result', () => {
    // what withAgent / withTool (node-server-sdk) and @agent / @tool (Python) write
    const spans = recordSpans((r) => {
      const agent = r.start('writer.agent', 0, {
        'traceloop.span.kind': 'agent',
        'traceloop.entity.name': 'writer',
        'traceloop.entity.input': JSON.stringify({ args: ['Write about Oslo weather.'], kwargs: {} }),
        'traceloop.entity.output': JSON.stringify('Oslo: rain all week.'),
      });
      r.start('chat gpt-4o', 1, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.output.messages': genaiMessages([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_w', name: 'weather', arguments: { city: 'Oslo', days: 7 } }] }]),
      }, agent).end(at(2));
      r.start('weather.tool', 3, {
        'traceloop.span.kind': 'tool',
        'traceloop.entity.name': 'weather',
        'traceloop.entity.input': JSON.stringify({ args: [], kwargs: { days: 7, city: 'Oslo' } }),
        'traceloop.entity.output': JSON.stringify('rain'),
      }, agent).end(at(4));
      r.start('forecast.tool', 5, {
        'traceloop.span.kind': 'tool',
        'traceloop.entity.name': 'forecast',
        'traceloop.entity.input': JSON.stringify({ args: ['Oslo', 7], kwargs: {} }),
        'traceloop.entity.output': JSON.stringify({ rain: true }),
      }, agent).end(at(6));
      agent.end(at(7));
    });
    const { steps } = stepsFromSpans(spans);
    const byName = new Map(steps.map((s) => [s.name, s]));
    expect(byName.get('writer.agent')).toMatchObject({ inputText: 'Write about Oslo weather.', outputText: 'Oslo: rain all week.' });
    // keyword arguments: the call the model issued, matched by name + arguments (call id recovered)
    expect(byName.get('weather.tool')).toMatchObject({ toolCallId: 'call_w', inputText: '{"days":7,"city":"Oslo"}', outputText: 'rain' });
    expect(byName.get('weather.tool')!.causalInputs).toContain(byName.get('chat gpt-4o')!.stepId);
    // several positional arguments have no names to match: kept as recorded; a JSON result stays JSON
    expect(byName.get('forecast.tool')).toMatchObject({ inputText: '{"args":["Oslo",7],"kwargs":{}}', outputText: '{"rain":true}' });
    expect(byName.get('forecast.tool')!.toolCallId).toBeUndefined();
  });
});

describe('OpenInference agent graph', () => {
  it('links an agent to its graph.node.parent_id agent when no hand-off span records the transfer', () => {
    const spans = recordSpans((r) => {
      const root = r.start('run', 0, { 'openinference.span.kind': 'CHAIN' });
      const planner = r.start('planner', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'planner', 'graph.node.id': 'planner' }, root);
      r.start('generation', 2, { 'openinference.span.kind': 'LLM', 'output.value': 'plan: 1) search', 'output.mime_type': 'text/plain' }, planner).end(at(3));
      planner.end(at(4));
      const worker = r.start('worker', 5, { 'openinference.span.kind': 'AGENT', 'agent.name': 'worker', 'graph.node.id': 'worker', 'graph.node.parent_id': 'planner' }, root);
      r.start('generation', 6, { 'openinference.span.kind': 'LLM' }, worker).end(at(7));
      worker.end(at(8));
      root.end(at(9));
    });
    const { steps, agents } = stepsFromSpans(spans);
    expect(agents.map((a) => a.agentName)).toEqual(['planner', 'worker']);
    const [plannerLlm, workerLlm] = steps.filter((s) => s.kind === 'llm');
    expect(plannerLlm!.agentName).toBe('planner');
    expect(workerLlm!.agentName).toBe('worker');
    expect(workerLlm!.causalInputs).toContain(plannerLlm!.stepId);
  });
});

describe('errors', () => {
  it('an error status with an exception event gives status.ok false with the status message', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent booker', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'booker' });
      const tool = r.start('execute_tool book', 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'book' }, root);
      tool.recordException(new TypeError('seat map unavailable'), at(2));
      tool.setStatus({ code: SpanStatusCode.ERROR, message: 'booking API 503' });
      tool.end(at(3));
      // An exception event without an error status still marks the step failed, with the exception as message.
      const chat = r.start('chat m', 4, { 'gen_ai.operation.name': 'chat' }, root);
      chat.recordException(new RangeError('context window exceeded'), at(5));
      chat.end(at(6));
      r.start('chat m', 7, { 'gen_ai.operation.name': 'chat' }, root).end(at(8));
      root.end(at(9));
    });
    const { steps } = stepsFromSpans(spans);
    expect(steps.find((s) => s.kind === 'tool')!.status).toEqual({ ok: false, message: 'booking API 503' });
    const [failed, fine] = steps.filter((s) => s.kind === 'llm');
    expect(failed!.status).toEqual({ ok: false, message: 'RangeError: context window exceeded' });
    expect(fine!.status).toEqual({ ok: true });
  });
});

describe('evaluations in spans', () => {
  const build = (rootAttrs: Record<string, unknown> = {}) =>
    recordSpans((r) => {
      const root = r.start('support run', 0, { 'openinference.span.kind': 'CHAIN', ...rootAttrs });
      const agent = r.start('support', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'support' }, root);
      const llm = r.start('generation', 2, { 'openinference.span.kind': 'LLM', 'output.value': 'Refunds take 90 days.', 'output.mime_type': 'text/plain' }, agent);
      llm.end(at(3));
      // Step-level evaluator on the LLM step: it failed.
      r.start('faithfulness', 4, { 'openinference.span.kind': 'EVALUATOR', 'evaluation.name': 'faithfulness', 'evaluation.label': 'fail', 'evaluation.explanation': 'policy says 14 days' }, llm).end(at(5));
      agent.end(at(6));
      // System-level evaluator on the root.
      r.start('judge', 7, { 'openinference.span.kind': 'EVALUATOR', 'evaluation.name': 'task_success', 'evaluation.score': 0.25 }, root).end(at(8));
      root.addEvent('gen_ai.evaluation.result', { 'gen_ai.evaluation.name': 'helpfulness', 'gen_ai.evaluation.score.label': 'pass', 'gen_ai.evaluation.explanation': 'legacy span event' }, at(9));
      root.end(at(10));
    });

  it('reads EVALUATOR spans (targeting their parent) and legacy span events; label-only pass → 1', () => {
    const spans = build();
    const root = spans.find((s) => s.name === 'support run')!;
    const llm = spans.find((s) => s.name === 'generation')!;
    const evals = evaluationsFromSpans(spans);
    for (const e of evals) expect(EvaluationSchema.safeParse(e).success).toBe(true);
    expect(evals.find((e) => e.name === 'task_success')).toMatchObject({ source: 'evaluator-span', score: 0.25, spanId: root.spanId, traceId: root.traceId });
    expect(evals.find((e) => e.name === 'faithfulness')).toMatchObject({ source: 'evaluator-span', score: 0, label: 'fail', spanId: llm.spanId, explanation: 'policy says 14 days' });
    expect(evals.find((e) => e.name === 'helpfulness')).toMatchObject({ source: 'span-event', score: 1, label: 'pass', spanId: root.spanId });
    expect(evals).toHaveLength(3);
  });

  it('flags the step a span-level evaluation failed; EVALUATOR spans are unrewarded steps', () => {
    const { steps } = stepsFromSpans(build());
    const llm = steps.find((s) => s.kind === 'llm')!;
    expect(llm.flaggedErroneous).toBe(true);
    expect(llm.outputText).toBe('Refunds take 90 days.');
    const evaluators = steps.filter((s) => s.kind === 'evaluator');
    expect(evaluators).toHaveLength(2);
    expect(evaluators.every((s) => !s.rewardable)).toBe(true);
    // The root-level evaluation is system-level and flags nothing.
    expect(steps.filter((s) => s.flaggedErroneous)).toEqual([llm]);
  });

  it('reads a configured root-span score attribute (number or label), only on root spans', () => {
    const numeric = evaluationsFromSpans(build({ 'agent_credit.score': 0.75 }), { rootScoreAttribute: 'agent_credit.score' });
    expect(numeric.find((e) => e.source === 'root-attribute')).toMatchObject({ name: 'agent_credit.score', score: 0.75 });
    const label = evaluationsFromSpans(build({ 'agent_credit.score': 'PASS' }), { rootScoreAttribute: 'agent_credit.score', rootScoreName: 'task_success' });
    expect(label.find((e) => e.source === 'root-attribute')).toMatchObject({ name: 'task_success', score: 1, label: 'PASS' });
    const notRoot = recordSpans((r) => {
      const root = r.start('run', 0);
      r.start('child', 1, { 'agent_credit.score': 1 }, root).end(at(2));
      root.end(at(3));
    });
    expect(evaluationsFromSpans(notRoot, { rootScoreAttribute: 'agent_credit.score' })).toEqual([]);
    expect(evaluationsFromSpans(build({ 'agent_credit.score': 0.75 })).filter((e) => e.source === 'root-attribute')).toEqual([]);
  });
});

describe('evaluations in logs', () => {
  it.each(['otlp_proto', 'otlp_json'] as const)('reads event_name and event.name forms, label-only scores, and ignores other logs (%s)', (encoding) => {
    const traceId = '5e70f3aedc9010befd756efad7e6fd13';
    const logs = recordLogs((logger) => {
      logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceId, '328e64432b54aef3'), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.label': 'fail' } });
      logger.emit({ context: contextOf(traceId, '328e64432b54aef3'), attributes: { 'event.name': 'gen_ai.evaluation.result', 'gen_ai.evaluation.name': 'tone', 'gen_ai.evaluation.score.value': 4, 'gen_ai.conversation.id': 'conv-3' } });
      logger.emit({ eventName: 'gen_ai.evaluation.result', attributes: { 'gen_ai.evaluation.name': 'vibes', 'gen_ai.evaluation.score.label': 'meh' } });
      logger.emit({ eventName: 'gen_ai.evaluation.result', attributes: { 'gen_ai.evaluation.name': 'nothing' } });
      logger.emit({ eventName: 'gen_ai.evaluation.result', attributes: { 'gen_ai.evaluation.name': 'judge_down', 'gen_ai.evaluation.score.value': 0, 'error.type': 'timeout' } });
      logger.emit({ eventName: 'gen_ai.client.inference.operation.details', attributes: { 'gen_ai.evaluation.score.value': 1 } });
      logger.emit({ body: 'hello' });
    }, encoding);
    const evals = evaluationsFromLogs(logs);
    for (const e of evals) expect(EvaluationSchema.safeParse(e).success).toBe(true);
    expect(evals.map((e) => [e.name, e.score, e.label])).toEqual([
      ['task_success', 0, 'fail'],
      ['tone', 4, undefined],
      ['vibes', undefined, 'meh'], // unknown label: kept, unscored
    ]);
    expect(evals[0]).toMatchObject({ traceId, spanId: '328e64432b54aef3', source: 'log-event' });
    expect(evals[1]!.conversationId).toBe('conv-3');
    expect(evals[2]!.traceId).toBeUndefined();
  });

  it.each(['otlp_proto', 'otlp_json'] as const)('a boolean score (a Python judge\'s score=True) is 1, False is 0 — before, the verdict was dropped (%s)', (encoding) => {
    const traceId = '5e70f3aedc9010befd756efad7e6fd13';
    const logs = recordLogs((logger) => {
      logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceId, '328e64432b54aef3'), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': true } });
      logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceId, '328e64432b54aef3'), attributes: { 'gen_ai.evaluation.name': 'safety', 'gen_ai.evaluation.score.value': false } });
    }, encoding);
    expect(evaluationsFromLogs(logs).map((e) => [e.name, e.score])).toEqual([
      ['task_success', 1],
      ['safety', 0],
    ]);
  });

  it('flags a step targeted by a failing span-level evaluation passed in from the logs', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent a', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' });
      r.start('chat m', 1, { 'gen_ai.operation.name': 'chat' }, root).end(at(2));
      root.end(at(3));
    });
    const chat = spans.find((s) => s.name === 'chat m')!;
    const logs = recordLogs((logger) =>
      logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(chat.traceId, chat.spanId), attributes: { 'gen_ai.evaluation.name': 'groundedness', 'gen_ai.evaluation.score.label': 'incorrect' } }),
    );
    const { steps } = stepsFromSpans(spans, { evaluations: evaluationsFromLogs(logs) });
    expect(steps.find((s) => s.stepId === chat.spanId)!.flaggedErroneous).toBe(true);
    expect(steps.filter((s) => s.flaggedErroneous)).toHaveLength(1);
  });
});

describe('agent attribution', () => {
  it('sees through a placeholder agent name by the data alone (no configured placeholders)', () => {
    const spans = recordSpans((r) => {
      for (const [i, name] of ['alpha', 'beta'].entries()) {
        const inv = r.start(`invoke_agent ${name}`, i * 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `asst_${name}` });
        r.start('chat m', i * 10 + 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'Generic Agent' }, inv).end(at(i * 10 + 2));
        inv.end(at(i * 10 + 3));
      }
    });
    const { steps, agents } = stepsFromSpans(spans, { placeholderAgentNames: [], placeholderAgentIds: [] });
    expect(agents).toEqual([
      { agentId: 'asst_alpha', agentName: 'alpha' },
      { agentId: 'asst_beta', agentName: 'beta' },
    ]);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentId)).toEqual(['asst_alpha', 'asst_beta']);
  });

  it('attributes steps under an agent span with a placeholder name to the real agent around it', () => {
    const spans = recordSpans((r) => {
      const real = r.start('invoke_agent triage', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' });
      const generic = r.start('invoke_agent', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'OpenAI Agent' }, real);
      r.start('chat m', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'OpenAI Agent' }, generic).end(at(3));
      generic.end(at(4));
      real.end(at(5));
    });
    const { steps, agents } = stepsFromSpans(spans);
    expect(agents).toEqual([{ agentId: 'triage', agentName: 'triage' }]);
    expect(steps.map((s) => s.agentName)).toEqual(['triage', 'triage', 'triage']);
  });

  it('attributes agent-less steps to the service as a fallback agent, with a warning', () => {
    const spans = recordSpans((r) => r.start('chat m', 0, { 'gen_ai.operation.name': 'chat' }).end(at(1)), 'otlp_json', 'lonely-bot');
    const { steps, agents, warnings } = stepsFromSpans(spans);
    expect(agents).toEqual([{ agentId: 'lonely-bot', agentName: 'lonely-bot' }]);
    expect(steps[0]!.rewardable).toBe(true);
    expect(warnings.some((w) => /fallback agent/.test(w))).toBe(true);
    expect(stepsFromSpans(spans, { fallbackAgentName: 'solo' }).agents).toEqual([{ agentId: 'solo', agentName: 'solo' }]);
  });

  it('keeps unknown spans as unrewarded structure that still carries causality', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent a', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' });
      const http = r.start('GET /inventory', 1, { 'http.request.method': 'GET' }, root);
      r.start('chat m', 2, { 'gen_ai.operation.name': 'chat' }, http).end(at(3));
      http.end(at(4));
      root.end(at(5));
    });
    const { steps, warnings } = stepsFromSpans(spans);
    const http = steps.find((s) => s.name === 'GET /inventory')!;
    expect(http).toMatchObject({ kind: 'other', rewardable: false, convention: 'unknown', agentName: 'a' });
    expect(steps.find((s) => s.kind === 'llm')!).toMatchObject({ agentName: 'a', parentStepId: http.stepId });
    // it holds a recognised span: the application's own structure, no warning
    expect(warnings.some((w) => /no known convention/.test(w))).toBe(false);
  });

  it('warns about unknown spans that hold no recognised span (a step an instrumentation may have missed), not about wrappers such as a workflow root', () => {
    const spans = recordSpans((r) => {
      const workflow = r.start('workflow dev-team', 0, {});
      const agent = r.start('invoke_agent a', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' }, workflow);
      r.start('chat m', 2, { 'gen_ai.operation.name': 'chat' }, agent).end(at(3));
      r.start('lookup_inventory', 4, { 'code.function': 'lookup' }, agent).end(at(5));
      agent.end(at(6));
      workflow.end(at(7));
    });
    const { warnings } = stepsFromSpans(spans);
    expect(warnings.filter((w) => /no known convention/.test(w))).toEqual(['1 span(s) match no known convention and hold no recognised span: kept as structure (kind other)']);
  });
});

describe('names from the sender are bounded (security review: 1.5 MB step names filled every event)', () => {
  it('cuts span, agent and tool names and ids to MAX_NAME_BYTES, error messages to maxTextBytes, the same agent everywhere', () => {
    const huge = 'n'.repeat(1_500_000);
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent a', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': `agent-${huge}` });
      const tool = r.start(`execute_tool ${huge}`, 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': huge, 'gen_ai.tool.call.id': huge }, root);
      tool.setStatus({ code: SpanStatusCode.ERROR, message: huge });
      tool.end(at(2));
      r.start(huge, 3, { 'gen_ai.operation.name': 'chat' }, root).end(at(4));
      root.end(at(5));
    });
    const { steps, agents } = stepsFromSpans(spans);
    const bytes = (v: string | undefined) => Buffer.byteLength(v ?? '');
    for (const s of steps) {
      for (const v of [s.name, s.agentId, s.agentName, s.toolName, s.toolCallId]) expect(bytes(v)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(bytes(s.status.message)).toBeLessThanOrEqual(2048);
    }
    expect(agents).toHaveLength(1);
    expect(new Set(steps.map((s) => s.agentId))).toEqual(new Set([agents[0]!.agentId]));
    expect(agents[0]!.agentName.startsWith('agent-nnn')).toBe(true);
  });
});

describe('long names stay distinct', () => {
  it('two agents named after their tasks, alike in their first 256 bytes, are two agents (they were one player, credit summed)', async () => {
    const task = `Research sub-agent for the task: ${'compare the quarterly revenue of the three largest vendors '.repeat(4)}`;
    const [europe, asia] = [`${task}in Europe`, `${task}in Asia`];
    const spans = recordSpans((r) => {
      const wf = r.start('invoke_workflow research', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'research' });
      [europe, asia].forEach((name, i) => {
        const agent = r.start('invoke_agent researcher', 1 + i * 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, wf);
        r.start('chat m', 2 + i * 10, { 'gen_ai.operation.name': 'chat' }, agent).end(at(5 + i * 10));
        agent.end(at(6 + i * 10));
      });
      wf.end(at(30));
    });
    expect(Buffer.byteLength(task)).toBeGreaterThan(MAX_NAME_BYTES);
    const { agents } = stepsFromSpans(spans);
    expect(agents).toHaveLength(2);
    for (const a of agents) expect(Buffer.byteLength(a.agentId)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect((await creditOf(spans)).size).toBe(2);
  });
});

describe('content', () => {
  it('truncates long texts to maxTextBytes but digests the full text', () => {
    const long = 'é'.repeat(6000);
    const make = (content: string) =>
      recordSpans((r) =>
        r.start('chat m', 0, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': genaiMessages([{ role: 'assistant', parts: [{ type: 'text', content }] }]) }).end(at(1)),
      );
    const a = stepsFromSpans(make(long)).steps[0]!;
    const b = stepsFromSpans(make(long + 'x')).steps[0]!;
    expect(Buffer.byteLength(a.outputText!, 'utf8')).toBeLessThanOrEqual(2048);
    expect(a.outputText).toBe(b.outputText); // same head
    expect(a.outputDigest).not.toBe(b.outputDigest); // different content
    expect(AgentStepSchema.safeParse(a).success).toBe(true);
    const small = stepsFromSpans(make(long), { maxTextBytes: 100 }).steps[0]!;
    expect(Buffer.byteLength(small.outputText!, 'utf8')).toBeLessThanOrEqual(100);
  });

  it('rejects invalid options naming the key', () => {
    expect(() => stepsFromSpans([], { maxTextBytes: -1 })).toThrow(/conventions\.maxTextBytes/);
  });
});

describe('evaluation text from the sender is bounded when decoded (security review: 60 waiting verdicts held 853 MB)', () => {
  it('cuts a huge explanation to 2048 bytes and the name and label to 256, in log records and JSON records', () => {
    const huge = 'e'.repeat(3_000_000);
    const [fromLog] = evaluationsFromLogs(recordLogs((logger) => logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf('5e70f3aedc9010befd756efad7e6fd13', '328e64432b54aef3'), attributes: { 'gen_ai.evaluation.name': huge, 'gen_ai.evaluation.score.value': 1, 'gen_ai.evaluation.score.label': huge, 'gen_ai.evaluation.explanation': huge } })));
    const { evaluations: [fromRecord] } = parseEvaluationRecords(JSON.stringify({ trace_id: '5e70f3aedc9010befd756efad7e6fd13', name: huge, label: huge, score: 1, explanation: huge }), { receivedAtUnixNano: 1n });
    for (const e of [fromLog!, fromRecord!]) {
      expect(Buffer.byteLength(e.explanation!)).toBeLessThanOrEqual(2048);
      expect(Buffer.byteLength(e.name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(Buffer.byteLength(e.label!)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(e.explanation!.startsWith('eee')).toBe(true);
    }
  });
});
