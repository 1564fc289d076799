/**
 * Mastra (mastra-ai/mastra) multi-agent runs as `@mastra/otel-exporter` writes them.
 *
 * Shapes taken from a real run: `@mastra/core` 1.71.0 + `@mastra/observability` 1.17.9 + `@mastra/otel-exporter`
 * 1.4.0 (its `exporter` option given an in-memory SpanExporter), a `router` Agent with `agents: { researcher }` (the
 * sub-agent becomes the tool `agent-researcher`) and a `researcher` Agent with a `webSearch` tool, both on a
 * scripted LanguageModelV2. The exporter maps Mastra's spans to GenAI semconv (`gen-ai-semantics.ts`), no AI SDK
 * `ai.*` spans:
 *   invoke_agent router            gen_ai.operation.name invoke_agent, gen_ai.agent.{id,name}
 *     model_generation gpt-4o      model_generation (mastra.model_generation.{input,output})
 *       agent_step router          agent_step, mastra.span.type model_step, mastra.model_step.{input,output}
 *         chat gpt-4o              chat (MODEL_INFERENCE), gen_ai.agent.name, gen_ai.output.messages (text only),
 *                                  finish reason tool-calls; ends with the step, after the tools
 *           model_chunk router     model_chunk (the tool-call chunk)
 *         execute_tool agent-researcher   execute_tool, gen_ai.tool.{name,call.id,call.arguments,call.result}
 *           invoke_agent researcher → model_generation → agent_step → chat, execute_tool webSearch; agent_step → chat
 *       mapping agent-researcher
 *       agent_step router → chat gpt-4o (the answer)
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
type OtelSpan = ReturnType<Recorder['start']>;

const FOUND = 'Headcounts in 2024: Meta 67,317 employees; Apple 164,000 employees.';
const ANSWER = 'Meta and Apple together had 231,317 employees in 2024.';

interface Call { id: string; name: string; args: Record<string, unknown> }

function agentRun(r: Recorder, parent: Parent, agent: string, t: number, input: unknown, tools: string[]): OtelSpan {
  return r.start(`invoke_agent ${agent}`, t, {
    'gen_ai.operation.name': 'invoke_agent', 'mastra.span.type': 'agent_run',
    'mastra.agent_run.input': typeof input === 'string' ? input : JSON.stringify(input),
    'gen_ai.agent.id': agent, 'gen_ai.agent.name': agent, 'gen_ai.tool.definitions': JSON.stringify(tools),
    'gen_ai.system_instructions': `You are the ${agent}.`, 'mastra.metadata.runId': `run-${agent}`,
  }, parent);
}

/** One model step: `agent_step` → `chat` (ends with the step) → `model_chunk`; `tools` run beside the chat. */
function modelStep(r: Recorder, gen: OtelSpan, agent: string, model: string, index: number, t: number, messages: unknown[], out: { text: string; calls: Call[] }, tools: (step: OtelSpan, t: number) => number): void {
  const step = r.start(`agent_step ${agent}`, t, {
    'gen_ai.operation.name': 'agent_step', 'mastra.span.type': 'model_step',
    'mastra.model_step.input': JSON.stringify(messages),
    'mastra.model_step.output': JSON.stringify({ text: out.text, toolCalls: out.calls.map((c) => ({ toolCallId: c.id, toolName: c.name, args: c.args })) }),
    'mastra.model_step.step_index': index, 'mastra.model_step.is_continued': out.calls.length > 0,
    'mastra.metadata.runId': `run-${agent}`,
  }, gen);
  const chat = r.start(`chat ${model}`, t + 1, {
    'gen_ai.operation.name': 'chat', 'mastra.span.type': 'model_inference',
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: out.text }] }]),
    'gen_ai.request.model': model, 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 30,
    'gen_ai.agent.id': agent, 'gen_ai.agent.name': agent,
    'gen_ai.response.finish_reasons': JSON.stringify([out.calls.length > 0 ? 'tool-calls' : 'stop']), 'gen_ai.response.model': model,
    'mastra.metadata.runId': `run-${agent}`,
  }, step);
  for (const c of out.calls) {
    r.start(`model_chunk ${agent}`, t + 5, { 'gen_ai.operation.name': 'model_chunk', 'mastra.span.type': 'model_chunk', 'mastra.model_chunk.output': JSON.stringify({ toolName: c.name, toolCallId: c.id, toolInput: c.args }) }, chat).end(at(t + 6));
  }
  const end = tools(step, t + 8);
  chat.end(at(end));
  step.end(at(end));
}

function toolCall(r: Recorder, step: OtelSpan, c: Call, t: number, end: number, result: unknown, description: string): OtelSpan {
  return r.start(`execute_tool ${c.name}`, t, {
    'gen_ai.operation.name': 'execute_tool', 'mastra.span.type': 'tool_call',
    'gen_ai.tool.call.arguments': JSON.stringify(c.args), 'gen_ai.tool.call.result': JSON.stringify(result),
    'gen_ai.tool.name': c.name, 'gen_ai.tool.call.id': c.id, 'gen_ai.tool.description': description, 'gen_ai.tool.type': 'tool',
  }, step);
}

const ASK: Call = { id: 'call_s1', name: 'agent-researcher', args: { prompt: 'Meta and Apple headcount 2024' } };
const SEARCH: Call = { id: 'call_r1', name: 'webSearch', args: { query: 'Meta Apple headcount 2024' } };
const SEARCHED = { result: 'Meta: 67,317 employees (2024). Apple: 164,000 employees (2024).' };

/** The router asks its sub-agent `researcher` (tool `agent-researcher`), which searches, then answers. */
export function mastraRun(): Span[] {
  return recordSpans((r) => {
    const question = 'What was the combined headcount of Meta and Apple in 2024?';
    const router = agentRun(r, undefined, 'router', 0, question, ['agent-researcher']);
    const gen = r.start('model_generation gpt-4o', 2, { 'gen_ai.operation.name': 'model_generation', 'mastra.span.type': 'model_generation' }, router);
    const sys = { role: 'system', content: 'You are the router.' };
    modelStep(r, gen, 'router', 'gpt-4o', 0, 3, [sys, { role: 'user', content: question }], { text: '', calls: [ASK] }, (step, t) => {
      const tool = toolCall(r, step, ASK, t, t + 60, { text: FOUND, subAgentThreadId: 'thread-1', subAgentResourceId: 'resource-1' }, 'Researches facts');
      const sub = agentRun(r, tool, 'researcher', t + 1, [{ role: 'user', content: ASK.args['prompt'] }], ['webSearch']);
      const subGen = r.start('model_generation gpt-4o-mini', t + 2, { 'gen_ai.operation.name': 'model_generation', 'mastra.span.type': 'model_generation' }, sub);
      const rIn = [{ role: 'system', content: 'You are the researcher.' }, { role: 'user', content: ASK.args['prompt'] }];
      modelStep(r, subGen, 'researcher', 'gpt-4o-mini', 0, t + 3, rIn, { text: '', calls: [SEARCH] }, (s2, t2) => {
        toolCall(r, s2, SEARCH, t2, t2 + 2, SEARCHED, 'Searches the web').end(at(t2 + 2));
        return t2 + 4;
      });
      modelStep(r, subGen, 'researcher', 'gpt-4o-mini', 1, t + 20, [...rIn, { role: 'assistant', content: '[tool: webSearch]' }, { role: 'tool', content: '[tool-result: webSearch]' }], { text: FOUND, calls: [] }, (_s, t2) => t2 + 10);
      subGen.end(at(t + 40));
      sub.setAttribute('mastra.agent_run.output', JSON.stringify({ text: FOUND, files: [] }));
      sub.end(at(t + 41));
      tool.end(at(t + 60));
      return t + 62;
    });
    r.start('mapping agent-researcher', 75, { 'gen_ai.operation.name': 'mapping', 'mastra.span.type': 'mapping', 'mastra.mapping.output': JSON.stringify({ type: 'text', value: FOUND }) }, gen).end(at(75));
    modelStep(r, gen, 'router', 'gpt-4o', 1, 76, [sys, { role: 'user', content: question }, { role: 'assistant', content: '[tool: agent-researcher]' }, { role: 'tool', content: FOUND }], { text: ANSWER, calls: [] }, (_s, t) => t + 10);
    gen.end(at(90));
    router.setAttribute('mastra.agent_run.output', JSON.stringify({ text: ANSWER, files: [] }));
    router.end(at(91));
  }, 'otlp_proto', 'mastra-service');
}


describe('Mastra under @mastra/otel-exporter (GenAI spans)', () => {
  it('agents, model calls and tool calls are read as GenAI (already before M1)', () => {
    const { steps, agents, warnings } = stepsFromSpans(mastraRun());
    expect(agents.map((a) => a.agentName)).toEqual(['router', 'researcher']);
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.kind}:${s.agentName}:${s.toolCallId ?? ''}`)).toEqual([
      'llm:router:', 'tool:router:call_s1', 'llm:researcher:', 'tool:researcher:call_r1', 'llm:researcher:', 'llm:router:',
    ]);
    expect(warnings).toEqual([]);
  });

  it('M1: a chat span issued its step\'s tool calls and the next step\'s chat read their results (C3)', () => {
    const { steps } = stepsFromSpans(mastraRun());
    const byKind = (k: string, a: string) => steps.filter((s) => s.kind === k && s.agentName === a);
    const [ask] = byKind('tool', 'router');
    const [search] = byKind('tool', 'researcher');
    expect(ask!.causalInputs).toContain(byKind('llm', 'router')[0]!.stepId);
    expect(search!.causalInputs).toContain(byKind('llm', 'researcher')[0]!.stepId);
    expect(byKind('llm', 'researcher')[1]!.causalInputs).toContain(search!.stepId);
    const answer = byKind('llm', 'router')[1]!;
    expect(answer.causalInputs).toContain(ask!.stepId);
    // the sub-agent run inside the tool: its last step feeds the router's answer (C7)
    expect(answer.causalInputs).toContain(byKind('llm', 'researcher')[1]!.stepId);
  });

  it('the sub-agent that found the facts gets credit (before: router 1, researcher 0)', async () => {
    const credit = await creditOf(mastraRun());
    expect(credit.get('router')).toBeGreaterThan(0);
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });
});
