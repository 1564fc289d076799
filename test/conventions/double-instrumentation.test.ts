/**
 * Double instrumentation: one model call recorded twice. A framework instrumentation writes an LLM
 * span for the call and the provider SDK's instrumentation, running inside it, writes its own span
 * for the same request as its child — what the instrumentations do, read from their source:
 *
 * - OpenInference openai-agents (`_processor.py`): `on_span_start` attaches its `generation` /
 *   `response` LLM span as the current context, so the OpenInference OpenAI instrumentor's span
 *   (`_request.py`: named after the response type, `ChatCompletion` / `Response`, LLM, `input.value`
 *   = the request parameters as JSON, flattened `llm.{input,output}_messages`, `llm.token_count.*`)
 *   is its child (Arize-ai/openinference issue #2101, "Using openai and openai.agents duplicates llm
 *   spans", open).
 * - opentelemetry-instrumentation-openai-v2 under any of them: `chat <model>` with
 *   `gen_ai.response.id`, `gen_ai.response.finish_reasons` and usage; messages only with content
 *   capture (here: without, and with them on the span).
 * - OpenLLMetry's openai instrumentation under its openai-agents one: `openai.chat`,
 *   `llm.request.type = chat`, `gen_ai.response.id`, the messages.
 *
 * The framework spans are the recorded fixture runs (/work/shared/fixtures/agents-sdk: real bytes);
 * the provider spans are made by the real OpenTelemetry JS SDK as children of each fixture LLM span,
 * with the contents that span recorded. Expectation: credit, rewards and pairs as for the run
 * instrumented once.
 */
import { context, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import type { CreditEvent, EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans, type Instrumentation } from './fixtures.js';
import { at, episodeOf, recordSpans } from './sdk.js';

const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

type Provider = 'openinference-openai' | 'openai-v2' | 'openai-v2-content' | 'openllmetry-openai';

/** `spans` plus, under each of their LLM step spans, the provider instrumentation's span of the same call. */
function withProviderSpans(spans: Span[], provider: Provider): { spans: Span[]; inner: Map<string, string> } {
  const llm = stepsFromSpans(spans).steps.filter((s) => s.kind === 'llm');
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const outerOf: string[] = [];
  let n = 0;
  const extra = recordSpans((r) => {
    for (const step of llm) {
      const outer = byId.get(step.stepId)!;
      const a = outer.attributes;
      const attrs: Record<string, unknown> = {};
      let name: string;
      const id = `chatcmpl-${++n}`;
      if (provider === 'openinference-openai') {
        name = 'ChatCompletion';
        for (const [k, v] of Object.entries(a)) if (/^llm\.(input|output)_messages\.|^llm\.token_count\./.test(k)) attrs[k] = v;
        const output = JSON.parse(String(a['output.value'])) as unknown[];
        Object.assign(attrs, {
          'openinference.span.kind': 'LLM',
          'llm.system': 'openai',
          'llm.provider': 'openai',
          'llm.model_name': 'fake-gpt',
          'input.value': JSON.stringify({ messages: JSON.parse(String(a['input.value'])), model: 'fake-gpt' }),
          'input.mime_type': 'application/json',
          'output.value': JSON.stringify({ id, object: 'chat.completion', model: 'fake-gpt', choices: [{ index: 0, message: output[0] }] }),
          'output.mime_type': 'application/json',
        });
      } else if (provider === 'openllmetry-openai') {
        name = 'openai.chat';
        Object.assign(attrs, { 'llm.request.type': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'fake-gpt', 'gen_ai.response.id': id });
        for (const k of ['gen_ai.input.messages', 'gen_ai.output.messages']) if (a[k] !== undefined) attrs[k] = a[k];
      } else {
        name = 'chat fake-gpt';
        Object.assign(attrs, {
          'gen_ai.operation.name': 'chat',
          'gen_ai.system': 'openai',
          'gen_ai.request.model': 'fake-gpt',
          'gen_ai.response.model': 'fake-gpt',
          'gen_ai.response.id': id,
          'gen_ai.response.finish_reasons': [step.outputText?.includes('search_') || step.outputText?.includes('transfer_to') ? 'tool_calls' : 'stop'],
          'gen_ai.usage.input_tokens': step.usage!.inputTokens!,
          'gen_ai.usage.output_tokens': step.usage!.outputTokens!,
          'server.address': '127.0.0.1',
          'server.port': 18080,
        });
        if (provider === 'openai-v2-content') for (const k of ['gen_ai.input.messages', 'gen_ai.output.messages']) if (a[k] !== undefined) attrs[k] = a[k];
      }
      const parent = trace.setSpanContext(context.active(), { traceId: outer.traceId, spanId: outer.spanId, traceFlags: 1 });
      r.tracer.startSpan(name, { kind: 2, startTime: hr(outer.startTimeUnixNano + 1000n), attributes: attrs as never }, parent).end(hr(outer.endTimeUnixNano - 1000n));
      outerOf.push(outer.spanId);
    }
  });
  const inner = new Map<string, string>();
  // recordSpans returns spans in end order, i.e. in the order they were made here
  extra.forEach((s, i) => inner.set(s.spanId, outerOf[i]!));
  for (const [id, outer] of inner) expect(extra.find((s) => s.spanId === id)!.parentSpanId).toBe(outer);
  return { spans: [...spans, ...extra], inner };
}

function fixtureEpisode(spans: Span[], inst: Instrumentation): Episode {
  const traceId = spans[0]!.traceId;
  const evaluations = evaluationsFromLogs(fixtureLogs(inst)).filter((e) => e.traceId === traceId);
  return { ...episodeOf(spans, 0), evaluations };
}

interface Summary {
  agents: [string, number][];
  rewards: [string, string, number][];
  pairs: number;
  firstError: string | undefined;
}

function summary(events: CreditEvent[]): Summary {
  const ep = events.find((e): e is EpisodeCredit => e.event_type === 'episode_credit')!;
  return {
    agents: ep.agents.map((a) => [a.agent_name, a.credit]),
    rewards: events.filter((e): e is MessageReward => e.event_type === 'message_reward').map((r) => [r.step_id, r.kind, r.reward]),
    pairs: events.filter((e) => e.event_type === 'preference_pair').length,
    firstError: ep.first_error?.step_id,
  };
}

const CASES: [Instrumentation, Provider][] = [
  ['openinference', 'openinference-openai'], // OpenInference openai-agents + OpenInference openai (issue #2101)
  ['openinference', 'openai-v2'], // mixed conventions: OpenInference framework, GenAI provider spans
  ['genai', 'openai-v2'],
  ['genai', 'openai-v2-content'],
  ['openllmetry', 'openllmetry-openai'],
];

describe.each(CASES)('%s fixture runs with %s spans inside their LLM spans', (inst, provider) => {
  it.each([1, 2, 3])('run %i: one step per call, and the credit, rewards, first error and pairs of the run instrumented once', async (run) => {
    const single = runSpans(inst)[run - 1]!;
    const { spans, inner } = withProviderSpans(single, provider);
    const once = stepsFromSpans(single);
    const twice = stepsFromSpans(spans);
    expect(twice.warnings).toEqual(once.warnings);
    // before: every LLM call two rewardable steps (8 instead of 5)
    expect(twice.steps.filter((s) => s.rewardable).map((s) => s.stepId)).toEqual(once.steps.filter((s) => s.rewardable).map((s) => s.stepId));
    for (const id of inner.keys()) expect(twice.steps.find((s) => s.stepId === id)).toMatchObject({ kind: 'other', rewardable: false });
    const a = summary(await processEpisode(fixtureEpisode(single, inst)));
    const b = summary(await processEpisode(fixtureEpisode(spans, inst)));
    // before (run 1): triage 0.2 → 0.214, flights 0.8 → 0.786; the flights answer 0.467 split into
    // 0.529 (framework span) and −0.471 (provider span); 8 reward events for 5 messages
    for (const [i, [name, credit]] of a.agents.entries()) {
      expect(b.agents[i]![0]).toBe(name);
      expect(b.agents[i]![1]).toBeCloseTo(credit, 12);
    }
    expect(b.rewards.map(([id, kind]) => [id, kind])).toEqual(a.rewards.map(([id, kind]) => [id, kind]));
    for (const [i, r] of a.rewards.entries()) expect(b.rewards[i]![2]).toBeCloseTo(r[2], 12);
    expect(b.firstError).toBe(a.firstError);
    expect(b.pairs).toBe(a.pairs);
  });
});

const msgs = (m: unknown[]) => JSON.stringify(m);
const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });
const call = (id: string, name: string, args: object) => ({ role: 'assistant', parts: [{ type: 'tool_call', id, name, arguments: args }] });
const result = (id: string, value: string) => ({ role: 'tool', parts: [{ type: 'tool_call_response', id, result: value }] });

/**
 * The framework records the calls without content (opentelemetry-instrumentation-openai-agents
 * default), the provider instrumentation with it (openai-v2 with content capture on the span).
 */
function contentOnlyInside(opts: { retry?: boolean; otherResponse?: boolean } = {}): Span[] {
  return recordSpans((r) => {
    const chat = (parent: Parameters<typeof r.start>[3], start: number, end: number, attrs: Record<string, unknown>) => {
      const s = r.start('chat gpt-4o-mini', start, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', ...attrs }, parent);
      s.end(at(end));
      return s;
    };
    const root = r.start('invoke_agent weather', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather' });
    const first = chat(root, 1, 10, {
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 9,
      'gen_ai.response.finish_reasons': ['tool_calls'],
      ...(opts.otherResponse ? { 'gen_ai.response.id': 'chatcmpl-1' } : {}),
    });
    if (opts.retry) {
      const failed = r.start('chat gpt-4o-mini', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' }, first);
      failed.setStatus({ code: SpanStatusCode.ERROR, message: 'RateLimitError' });
      failed.end(at(4));
    }
    chat(first, 5, 9, {
      'gen_ai.response.id': opts.otherResponse ? 'chatcmpl-other' : 'chatcmpl-1',
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 9,
      'gen_ai.input.messages': msgs([text('user', 'Weather in Oslo?')]),
      'gen_ai.output.messages': msgs([call('call_1', 'get_weather', { city: 'Oslo' })]),
    });
    r.start('execute_tool get_weather', 11, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.arguments': '{"city":"Oslo"}', 'gen_ai.tool.call.result': 'rain, 8°C' }, root).end(at(12));
    const answer = chat(root, 13, 20, { 'gen_ai.usage.input_tokens': 60, 'gen_ai.usage.output_tokens': 7 });
    chat(answer, 14, 19, {
      'gen_ai.response.id': 'chatcmpl-2',
      'gen_ai.usage.input_tokens': 60,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.input.messages': msgs([text('user', 'Weather in Oslo?'), call('call_1', 'get_weather', { city: 'Oslo' }), result('call_1', 'rain, 8°C')]),
      'gen_ai.output.messages': msgs([text('assistant', 'Rain in Oslo, 8°C.')]),
    });
    root.end(at(21));
  });
}

describe('a call recorded twice: the outer span keeps the step, with what only the inner one recorded', () => {
  it('texts, tool calls and usage come from the provider span; the tool reads the call that issued it (C3)', () => {
    const spans = contentOnlyInside();
    const { steps } = stepsFromSpans(spans);
    const rewardable = steps.filter((s) => s.rewardable);
    expect(rewardable.map((s) => s.kind)).toEqual(['llm', 'tool', 'llm']);
    const [ask, tool, answer] = rewardable;
    // the framework spans (parents of the provider spans) keep the steps
    for (const s of [ask!, answer!]) expect(spans.find((x) => x.spanId === s.stepId)!.parentSpanId).toBe(steps[0]!.stepId);
    expect(ask!.outputText).toContain('get_weather');
    expect(ask!.inputText).toContain('Weather in Oslo?');
    expect(answer!.outputText).toBe('Rain in Oslo, 8°C.');
    expect(tool!.toolCallId).toBe('call_1');
    expect(tool!.causalInputs).toContain(ask!.stepId);
    expect(answer!.causalInputs).toContain(tool!.stepId);
    expect(steps.filter((s) => s.name === 'chat gpt-4o-mini' && !s.rewardable).map((s) => s.kind)).toEqual(['other', 'other']);
  });

  it('a verdict joined to the provider span by its response id flags the call', () => {
    const spans = contentOnlyInside();
    const inner = spans.find((s) => s.attributes['gen_ai.response.id'] === 'chatcmpl-2')!;
    const { steps } = stepsFromSpans(spans, {
      evaluations: [{ name: 'helpful', score: 0, label: 'fail', traceId: inner.traceId, spanId: inner.spanId, responseId: 'chatcmpl-2', source: 'log-event', timeUnixNano: 1n }],
    });
    expect(steps.find((s) => s.stepId === inner.parentSpanId)!.flaggedErroneous).toBe(true);
  });

  it('not collapsed: two calls below one LLM span (a retry), or a different response id', async () => {
    for (const spans of [contentOnlyInside({ retry: true }), contentOnlyInside({ otherResponse: true })]) {
      const { steps } = stepsFromSpans(spans);
      // the first framework span holds two calls / a call of another response: all stay steps
      expect(steps.filter((s) => s.rewardable && s.kind === 'llm').length).toBe(spans.find((s) => s.attributes['gen_ai.response.id'] === 'chatcmpl-other') ? 3 : 4);
    }
    const events = await processEpisode(episodeOf(contentOnlyInside({ retry: true }), 1));
    expect(events.filter((e) => e.event_type === 'message_reward')).toHaveLength(5);
  });
});

/**
 * Another call inside a framework LLM span: the app's model wrapper asks a second model something
 * (a summariser of the same prompt, a judge) while the framework records its call, and the second
 * model's client is instrumented. One LLM span below, but it answered something else.
 */
function otherCallInside(match: 'input' | 'usage'): Span[] {
  return recordSpans((r) => {
    const root = r.start('invoke_agent writer', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' });
    const outer = r.start('chat gpt-4o', 1, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 9,
      'gen_ai.input.messages': msgs([text('user', 'Write two lines about tides.')]),
      'gen_ai.output.messages': msgs([text('assistant', 'The moon pulls the sea. The sea comes back.')]),
    }, root);
    r.start('chat gpt-4o-mini', 2, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-summary',
      ...(match === 'usage' ? { 'gen_ai.usage.input_tokens': 40, 'gen_ai.usage.output_tokens': 9 } : { 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3 }),
      'gen_ai.input.messages': msgs([text('user', match === 'input' ? 'Write two lines about tides.' : 'Topic of: Write two lines about tides.')]),
      'gen_ai.output.messages': msgs([text('assistant', 'topic: tides')]),
    }, outer).end(at(3));
    outer.end(at(10));
    root.end(at(11));
  });
}

describe('not collapsed: another call inside a framework LLM span', () => {
  it.each(['input', 'usage'] as const)('different output texts are two calls, whatever the equal %s says', (match) => {
    const { steps } = stepsFromSpans(otherCallInside(match));
    // before: the summariser's call was taken for a copy of the outer call and was no step
    expect(steps.filter((s) => s.rewardable).map((s) => [s.kind, s.outputText])).toEqual([
      ['llm', 'The moon pulls the sea. The sea comes back.'],
      ['llm', 'topic: tides'],
    ]);
  });
});

/**
 * A tool call recorded twice: the framework's tool span and, inside it, the MCP client span of the
 * same call (GenAI MCP conventions: `tools/call <tool>`, CLIENT, `mcp.method.name = tools/call`,
 * `gen_ai.operation.name = execute_tool`, `gen_ai.tool.name`; arguments and result opt-in, here
 * not recorded), made by the real OTel JS SDK under each tool span of the fixture runs.
 */
function withMcpClientSpans(spans: Span[], opts: { otherTool?: boolean } = {}): { spans: Span[]; inner: string[] } {
  const tools = stepsFromSpans(spans).steps.filter((s) => s.kind === 'tool');
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const extra = recordSpans((r) => {
    for (const step of tools) {
      const outer = byId.get(step.stepId)!;
      const tool = opts.otherTool ? 'lookup_airport' : step.toolName!;
      const parent = trace.setSpanContext(context.active(), { traceId: outer.traceId, spanId: outer.spanId, traceFlags: 1 });
      r.tracer
        .startSpan(`tools/call ${tool}`, {
          kind: 2,
          startTime: hr(outer.startTimeUnixNano + 1000n),
          attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'jsonrpc.request.id': '3', 'mcp.protocol.version': '2025-06-18', 'network.transport': 'pipe' },
        }, parent)
        .end(hr(outer.endTimeUnixNano - 1000n));
    }
  });
  return { spans: [...spans, ...extra], inner: extra.map((s) => s.spanId) };
}

describe.each<Instrumentation>(['genai', 'openinference', 'openllmetry'])('%s fixture runs with MCP client spans inside their tool spans', (inst) => {
  it.each([1, 2, 3])('run %i: one step per tool call, and the credit and rewards of the run instrumented once', async (run) => {
    const single = runSpans(inst)[run - 1]!;
    const { spans, inner } = withMcpClientSpans(single);
    const once = stepsFromSpans(single);
    const twice = stepsFromSpans(spans);
    expect(twice.steps.filter((s) => s.rewardable).map((s) => s.stepId)).toEqual(once.steps.filter((s) => s.rewardable).map((s) => s.stepId));
    for (const id of inner) expect(twice.steps.find((s) => s.stepId === id)).toMatchObject({ kind: 'other', rewardable: false });
    const a = summary(await processEpisode(fixtureEpisode(single, inst)));
    const b = summary(await processEpisode(fixtureEpisode(spans, inst)));
    // before (run 1): triage 0.2 → 0.167; the call that issued the tool 0.067 → −0.042, the tool's
    // reward split in 0.125 and 0.292
    for (const [i, [, credit]] of a.agents.entries()) expect(b.agents[i]![1]).toBeCloseTo(credit, 12);
    expect(b.rewards.map(([id]) => id)).toEqual(a.rewards.map(([id]) => id));
    for (const [i, r] of a.rewards.entries()) expect(b.rewards[i]![2]).toBeCloseTo(r[2], 12);
    expect(b.firstError).toBe(a.firstError);
    expect(b.pairs).toBe(a.pairs);
  });

  it('a tool that runs another tool (another name) keeps both steps', () => {
    const single = runSpans(inst)[0]!;
    const { spans, inner } = withMcpClientSpans(single, { otherTool: true });
    const { steps } = stepsFromSpans(spans);
    for (const id of inner) expect(steps.find((s) => s.stepId === id)).toMatchObject({ kind: 'tool', rewardable: true });
  });
});
