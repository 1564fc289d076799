/**
 * Message contents written as span events on the span itself (content-events.ts,
 * `SPAN_CONTENT_EVENTS`), not as span attributes or log records. Spans from the real OTel JS SDK
 * (`span.addEvent(name, attributes, time)`, test/conventions/sdk.ts) in the shapes the sources write:
 * - AWS Strands Agents (strands-agents/sdk-python v1.40 `telemetry/tracer.py`): by default one
 *   `gen_ai.{system,user,assistant,tool}.message` event per message (`content`: Bedrock content
 *   blocks as JSON) and `gen_ai.choice` (`message`, `finish_reason`); on a tool span
 *   `gen_ai.tool.message` {role, content: the input as JSON, id} and `gen_ai.choice` {message, id};
 *   with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`
 *   `gen_ai.client.inference.operation.details` events (JSON-string GenAI messages).
 * - Semantic Kernel .NET (dotnet-1.80.0 `InternalUtilities/src/Diagnostics/ModelDiagnostics.cs`) and
 *   the Azure AI SDKs: `gen_ai.*.message` / `gen_ai.choice` with the body as JSON in `gen_ai.event.content`.
 * The same runs recorded with attributes (`gen_ai.{input,output}.messages`, `gen_ai.tool.call.*`) are
 * the reference: texts, causal inputs and credit must not depend on where the contents were written.
 */
import { describe, expect, it } from 'vitest';
import type { Span as OtelSpan } from '@opentelemetry/api';
import { mergeContentSpans } from '../../src/conventions/content-events.js';
import { messagesAt } from '../../src/conventions/genai.js';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans, type Encoding } from './sdk.js';

const SUMMARY = 'Tides are caused mainly by the gravitational pull of the moon on the oceans.';
const J = JSON.stringify;
/** Where the contents are: span events (Strands default), operation.details span events (latest conventions), or span attributes. */
type Mode = 'events' | 'latest' | 'attributes';
const common = { 'gen_ai.system': 'strands-agents' };
type Block = Record<string, any>;

/** Strands' own mapping of Bedrock content blocks to GenAI parts (`Tracer._map_content_blocks_to_otel_parts`). */
const toParts = (blocks: Block[]) =>
  blocks.map((b) =>
    b.text !== undefined ? { type: 'text', content: b.text }
    : b.toolUse ? { type: 'tool_call', name: b.toolUse.name, id: b.toolUse.toolUseId, arguments: b.toolUse.input }
    : { type: 'tool_call_response', id: b.toolResult.toolUseId, response: b.toolResult.content });

/**
 * Two Strands agents chained in application code: the researcher's model asks for two tools at
 * once (web_search, tide_table; ids link LLM → tool → LLM, C3), its second model call answers; the
 * writer is run on that answer (C8).
 */
function strandsRun(mode: Mode, encoding: Encoding = 'otlp_proto'): Span[] {
  return recordSpans((r) => {
    const ev = (s: OtelSpan, name: string, attrs: Record<string, unknown>, ms: number) => s.addEvent(name, attrs as never, at(ms));
    const chat = (parent: OtelSpan, t0: number, t1: number, input: { role: string; blocks: Block[] }[], out: Block[], stop: string) => {
      const attrs: Record<string, unknown> = { ...common, 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'claude' };
      if (mode === 'attributes') {
        attrs['gen_ai.input.messages'] = J([{ role: 'system', parts: [{ type: 'text', content: 'You are helpful.' }] }, ...input.map((m) => ({ role: m.role, parts: toParts(m.blocks) }))]);
        attrs['gen_ai.output.messages'] = J([{ role: 'assistant', parts: toParts(out), finish_reason: stop }]);
      }
      const s = r.start('chat', t0, attrs, parent);
      if (mode === 'events') {
        ev(s, 'gen_ai.system.message', { content: J([{ text: 'You are helpful.' }]) }, t0);
        for (const m of input) ev(s, m.blocks.some((b) => b.toolResult) ? 'gen_ai.tool.message' : `gen_ai.${m.role}.message`, { content: J(m.blocks) }, t0);
        ev(s, 'gen_ai.choice', { finish_reason: stop, message: J(out) }, t1);
      } else if (mode === 'latest') {
        ev(s, 'gen_ai.client.inference.operation.details', { 'gen_ai.system_instructions': J([{ type: 'text', content: 'You are helpful.' }]) }, t0);
        ev(s, 'gen_ai.client.inference.operation.details', { 'gen_ai.input.messages': J(input.map((m) => ({ role: m.role, parts: toParts(m.blocks) }))) }, t0);
        ev(s, 'gen_ai.client.inference.operation.details', { 'gen_ai.output.messages': J([{ role: 'assistant', parts: toParts(out), finish_reason: stop }]) }, t1);
      }
      s.end(at(t1));
    };
    const tool = (parent: OtelSpan, t0: number, t1: number, name: string, id: string, input: unknown, result: Block[]) => {
      const attrs: Record<string, unknown> = { ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': id };
      if (mode === 'attributes') Object.assign(attrs, { 'gen_ai.tool.call.arguments': J(input), 'gen_ai.tool.call.result': J(result) });
      const s = r.start(`execute_tool ${name}`, t0, attrs, parent);
      if (mode === 'events') {
        ev(s, 'gen_ai.tool.message', { role: 'tool', content: J(input), id }, t0);
        ev(s, 'gen_ai.choice', { message: J(result), id }, t1);
      } else if (mode === 'latest') {
        ev(s, 'gen_ai.client.inference.operation.details', { 'gen_ai.input.messages': J([{ role: 'tool', parts: [{ type: 'tool_call', name, id, arguments: input }] }]) }, t0);
        ev(s, 'gen_ai.client.inference.operation.details', { 'gen_ai.output.messages': J([{ role: 'tool', parts: [{ type: 'tool_call_response', id, response: result }] }]) }, t1);
      }
      s.end(at(t1));
    };
    const agent = (name: string, t0: number, parent: OtelSpan, task: string) => {
      const s = r.start(`invoke_agent ${name}`, t0, { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, parent);
      if (mode === 'events') ev(s, 'gen_ai.user.message', { content: J([{ text: task }]) }, t0);
      return s;
    };
    const cycle = (parent: OtelSpan, t0: number) => r.start('execute_event_loop_cycle', t0, { ...common, 'gen_ai.operation.name': 'execute_event_loop_cycle' }, parent);

    const root = r.start('pipeline', 0, {});
    const q = [{ text: 'What causes tides?' }];
    const calls = [
      { toolUse: { toolUseId: 'tooluse_1', name: 'web_search', input: { q: 'tides cause' } } },
      { toolUse: { toolUseId: 'tooluse_2', name: 'tide_table', input: { port: 'Brest' } } },
    ];
    const found = [{ text: 'Encyclopedia: the moon pulls the oceans.' }];
    const table = [{ text: 'Brest: high tide 06:12 and 18:40.' }];
    const researcher = agent('researcher', 1, root, 'What causes tides?');
    const c1 = cycle(researcher, 2);
    chat(c1, 3, 10, [{ role: 'user', blocks: q }], calls, 'tool_use');
    tool(c1, 11, 15, 'web_search', 'tooluse_1', { q: 'tides cause' }, found);
    tool(c1, 12, 14, 'tide_table', 'tooluse_2', { port: 'Brest' }, table);
    c1.end(at(16));
    const c2 = cycle(researcher, 17);
    const results = [{ toolResult: { toolUseId: 'tooluse_1', status: 'success', content: found } }, { toolResult: { toolUseId: 'tooluse_2', status: 'success', content: table } }];
    chat(c2, 18, 25, [{ role: 'user', blocks: q }, { role: 'assistant', blocks: calls }, { role: 'user', blocks: results }], [{ text: SUMMARY }], 'end_turn');
    c2.end(at(26));
    if (mode === 'events') researcher.addEvent('gen_ai.choice', { message: SUMMARY, finish_reason: 'end_turn' }, at(27));
    researcher.end(at(27));
    const task = `Write for children from these notes:\n${SUMMARY}`;
    const writer = agent('writer', 30, root, task);
    const c3 = cycle(writer, 31);
    chat(c3, 32, 40, [{ role: 'user', blocks: [{ text: task }] }], [{ text: 'The moon tugs the sea.' }], 'end_turn');
    c3.end(at(41));
    writer.end(at(42));
    root.end(at(43));
  }, encoding);
}

/** Rewardable steps as `agent/span name` with their causal inputs named the same way. */
function graph(spans: Span[]): [string, string[]][] {
  const { steps } = stepsFromSpans(spans);
  const label = new Map(steps.map((s) => [s.stepId, `${s.agentName}/${s.name}`]));
  return steps.filter((s) => s.rewardable).map((s) => [label.get(s.stepId)!, s.causalInputs.map((i) => label.get(i)!).sort()] as [string, string[]]);
}

async function credit(spans: Span[]): Promise<{ agents: [string, number][]; rewards: number[] }> {
  const events = await processEpisode(episodeOf(spans, 1));
  return {
    agents: (events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]),
    rewards: events.filter((e) => e.event_type === 'message_reward').map((e) => (e as MessageReward).reward),
  };
}

describe.each<Encoding>(['otlp_proto', 'otlp_json'])('Strands Agents contents in span events (%s)', (encoding) => {
  for (const mode of ['events', 'latest'] as const) {
    it(`${mode}: the steps' texts are read from the span events`, () => {
      const { steps } = stepsFromSpans(strandsRun(mode, encoding));
      const chats = steps.filter((s) => s.kind === 'llm');
      expect(chats[0]!.inputText).toContain('user: What causes tides?');
      expect(chats[0]!.outputText).toBe('→ web_search({"q":"tides cause"})\n→ tide_table({"port":"Brest"})');
      expect(chats[1]!.outputText).toBe(SUMMARY);
      expect(chats[2]!.inputText).toContain(SUMMARY);
      const search = steps.find((s) => s.name === 'execute_tool web_search')!;
      expect([search.inputText, search.outputText]).toEqual(['{"q":"tides cause"}', J([{ text: 'Encyclopedia: the moon pulls the oceans.' }])]);
    });

    it(`${mode}: tool-call ids link the model call to both tools and both results to the next call (C3), the writer to the researcher's answer (C8) — as when recorded in attributes`, () => {
      const g = graph(strandsRun(mode, encoding));
      expect(g).toEqual(graph(strandsRun('attributes', encoding)));
      const byName = new Map(g);
      // before: the tide_table result reached nothing (C4 links only the previous step), the writer read no one
      expect(g.filter(([n]) => n === 'researcher/chat')[1]![1]).toEqual(expect.arrayContaining(['researcher/execute_tool tide_table', 'researcher/execute_tool web_search']));
      expect(byName.get('writer/chat')).toContain('researcher/chat');
    });

    it(`${mode}: credit and rewards equal the run recorded in attributes (before: researcher 0, writer 1)`, async () => {
      const got = await credit(strandsRun(mode, encoding));
      const want = await credit(strandsRun('attributes', encoding));
      expect(got).toEqual(want);
      expect(new Map(got.agents).get('researcher')).toBeGreaterThan(0);
    });
  }
});

describe('span content events: precedence and the common path', () => {
  it("the span's own attributes win over its events (messages and a tool's arguments / result)", () => {
    const spans = recordSpans((r) => {
      const chat = r.start('chat', 0, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': J([{ role: 'assistant', parts: [{ type: 'text', content: 'from the attribute' }] }]) });
      chat.addEvent('gen_ai.user.message', { content: J([{ text: 'from the event' }]) }, at(1));
      chat.addEvent('gen_ai.choice', { message: J([{ text: 'from the choice event' }]), finish_reason: 'end_turn' }, at(2));
      chat.end(at(3));
      const tool = r.start('execute_tool t', 4, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 't', 'gen_ai.tool.call.result': 'own result' });
      tool.addEvent('gen_ai.tool.message', { role: 'tool', content: '{"a":1}', id: 'tooluse_9' }, at(4));
      tool.addEvent('gen_ai.choice', { message: J([{ text: 'event result' }]), id: 'tooluse_9' }, at(5));
      tool.end(at(6));
    });
    const merged = mergeContentSpans(spans).spans;
    const chat = merged.find((s) => s.name === 'chat')!;
    expect(messagesAt(chat, 'gen_ai.input.messages').map((m) => m.text)).toEqual(['from the event']);
    expect(messagesAt(chat, 'gen_ai.output.messages').map((m) => m.text)).toEqual(['from the attribute']);
    const tool = merged.find((s) => s.name === 'execute_tool t')!;
    expect([tool.attributes['gen_ai.tool.call.arguments'], tool.attributes['gen_ai.tool.call.result']]).toEqual(['{"a":1}', 'own result']);
  });

  it('spans without content events (other events, e.g. exceptions) come back as given', () => {
    const spans = recordSpans((r) => {
      const s = r.start('chat', 0, { 'gen_ai.operation.name': 'chat' });
      s.recordException(new Error('boom'), at(1));
      s.end(at(2));
    });
    expect(mergeContentSpans(spans).spans).toBe(spans);
  });
});

describe('Semantic Kernel .NET / Azure AI SDK shape: the body as JSON in gen_ai.event.content', () => {
  function skRun(withEvents: boolean): Span[] {
    return recordSpans((r) => {
      const agent = r.start('invoke_agent Planner', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Planner', 'gen_ai.agent.id': 'a1' });
      const sys = { 'gen_ai.system': 'openai' };
      const chat1 = r.start('chat gpt-4o', 1, { ...sys, 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }, agent);
      const call = { id: 'call_a', function: { name: 'Weather-Get', arguments: { city: 'Oslo' } }, type: 'function' };
      const call2 = { id: 'call_b', function: { name: 'Clock-Now', arguments: {} }, type: 'function' };
      if (withEvents) {
        chat1.addEvent('gen_ai.user.message', { 'gen_ai.event.content': J({ role: 'user', name: null, content: 'Weather in Oslo?', tool_calls: [] }), ...sys }, at(1));
        chat1.addEvent('gen_ai.choice', { 'gen_ai.event.content': J({ index: 0, message: { role: 'assistant', name: null, content: null, tool_calls: [call, call2] }, tool_calls: [call, call2], finish_reason: 'ToolCalls' }) }, at(5));
      }
      chat1.end(at(5));
      r.start('execute_tool Weather-Get', 6, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'Weather-Get', 'gen_ai.tool.call.arguments': J({ city: 'Oslo' }), 'gen_ai.tool.call.result': 'rain' }, agent).end(at(9));
      r.start('execute_tool Clock-Now', 7, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'Clock-Now', 'gen_ai.tool.call.arguments': J({}), 'gen_ai.tool.call.result': '12:00' }, agent).end(at(9));
      const chat2 = r.start('chat gpt-4o', 10, { ...sys, 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }, agent);
      if (withEvents) chat2.addEvent('gen_ai.choice', { 'gen_ai.event.content': J({ index: 0, message: { role: 'assistant', name: null, content: 'Rain in Oslo at noon.', tool_calls: [] }, tool_calls: [], finish_reason: 'Stop' }) }, at(14));
      chat2.end(at(14));
      agent.end(at(15));
    });
  }

  it("the model's text and its tool calls are read: calls matched to the tool spans by name + arguments (C3)", () => {
    const { steps } = stepsFromSpans(skRun(true));
    const [first, second] = steps.filter((s) => s.kind === 'llm');
    expect(first!.inputText).toBe('user: Weather in Oslo?');
    expect(first!.outputText).toBe('→ Weather-Get({"city":"Oslo"})\n→ Clock-Now({})');
    expect(second!.outputText).toBe('Rain in Oslo at noon.');
    const tools = steps.filter((s) => s.kind === 'tool');
    for (const t of tools) expect(t.causalInputs).toContain(first!.stepId);
    // before: no text, and Clock-Now, run beside Weather-Get, read only the tool before it (C4)
    const before = stepsFromSpans(skRun(false)).steps;
    expect(before.find((s) => s.name === 'execute_tool Clock-Now')!.causalInputs).not.toContain(first!.stepId);
  });
});

describe('GenAI semconv v1.26–v1.27 span events: gen_ai.content.prompt / gen_ai.content.completion', () => {
  /** Two agents chained in code; each model call records its whole prompt / completion in one span event each. */
  function run(prompt2: string, jsonCompletion = true): Span[] {
    return recordSpans((r) => {
      const root = r.start('pipeline', 0, {});
      const call = (agentName: string, t: number, prompt: string, completion: string) => {
        const agent = r.start(`invoke_agent ${agentName}`, t, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agentName }, root);
        const chat = r.start('chat gpt-4o', t + 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o' }, agent);
        chat.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': prompt }, at(t + 1));
        chat.addEvent('gen_ai.content.completion', { 'gen_ai.completion': completion }, at(t + 5));
        chat.end(at(t + 5));
        agent.end(at(t + 6));
      };
      call('researcher', 1, J([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What causes tides?' }]), jsonCompletion ? J([{ role: 'assistant', content: SUMMARY }]) : SUMMARY);
      call('writer', 10, prompt2, J([{ role: 'assistant', content: 'The moon tugs the sea.' }]));
      root.end(at(20));
    });
  }

  it('the JSON messages are the call\'s input and output: the writer reads the researcher\'s answer (C8), the researcher gets credit (before: 0)', async () => {
    const spans = run(J([{ role: 'user', content: `Notes: ${SUMMARY}` }]));
    const { steps } = stepsFromSpans(spans);
    const [researcher, writer] = steps.filter((s) => s.kind === 'llm');
    expect(researcher!.inputText).toBe('system: Be brief.\nuser: What causes tides?');
    expect(researcher!.outputText).toBe(SUMMARY);
    expect(writer!.causalInputs).toContain(researcher!.stepId);
    const got = new Map((await credit(spans)).agents);
    expect(got.get('researcher')).toBeGreaterThan(0);
  });

  it('a value that is not JSON (the spec\'s own example is Python-style) is read as one message\'s text', () => {
    const { steps } = stepsFromSpans(run(`[{'role': 'user', 'content': 'Notes: ${SUMMARY}'}]`, false));
    const [researcher, writer] = steps.filter((s) => s.kind === 'llm');
    expect(researcher!.outputText).toBe(SUMMARY);
    expect(writer!.inputText).toContain(SUMMARY);
    expect(writer!.causalInputs).toContain(researcher!.stepId);
  });
});
