/**
 * Steps and credit for runs of an app built on the Vercel AI SDK (npm `ai` 6.x), traced by the
 * SDK's own telemetry (`experimental_telemetry`) under the real OpenTelemetry JS SDK, with the
 * SDK's mock model (test/support/ai-sdk-run.ts): a `router` agent whose tools run a `researcher`
 * agent (its own `web_search` tool) and a streaming `writer` agent, then answers; and the same
 * run with `web_search` throwing. Encoded with our OTLP encoders, decoded, then read the way the
 * pipeline reads. Before the AI SDK mapper, every one of these spans was `unknown`: no agents, no
 * rewardable step, and the episode was credited to no one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { factsOf, stepsFromSpans } from '../../src/conventions/steps.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { AgentStep } from '../../src/model/agents.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import {
  CALL_ASK_RESEARCHER,
  CALL_ASK_WRITER,
  CALL_WEB_SEARCH,
  FINDINGS,
  ITINERARY,
  RESEARCH_QUESTION,
  SEARCH_ERROR,
  USER_REQUEST,
  WEB_SEARCH_ARGS,
  WEB_SEARCH_RESULT,
  recordAiSdkRun,
  type AiSdkRun,
} from '../support/ai-sdk-run.js';
import { creditEventsOf, creditOfAgent } from './sdk.js';
import { jsRunLogBytes, jsRunTraceBytes } from '../support/js-instrumented-run.js';

type Encoding = 'otlp_proto' | 'otlp_json';

function decoded(run: AiSdkRun, encoding: Encoding = 'otlp_proto'): { spans: Span[]; logs: LogRecord[] } {
  return { spans: decodeTraces(jsRunTraceBytes(run, encoding), encoding), logs: decodeLogs(jsRunLogBytes(run, encoding), encoding) };
}


/** The run's steps by role: model calls in call order, tool executions by tool name. */
function roles(run: AiSdkRun, steps: readonly AgentStep[]) {
  const byId = (id: string) => steps.find((s) => s.stepId === id)!;
  const llm = run.llmSpans.map((l) => byId(l.spanId));
  const tool = (name: string) => byId(run.toolSpans.find((t) => t.name === name)!.spanId);
  return {
    routerAsk: llm[0]!, // → ask_researcher
    researcherSearch: llm[1]!, // → web_search
    researcherFindings: llm[2]!,
    routerBrief: llm[3]!, // → ask_writer
    writer: llm[4]!, // doStream
    routerAnswer: llm[5]!,
    askResearcher: tool('ask_researcher'),
    webSearch: tool('web_search'),
    askWriter: tool('ask_writer'),
  };
}

describe.each<Encoding>(['otlp_proto', 'otlp_json'])('a router → researcher → writer run traced by the AI SDK (%s)', (encoding) => {
  let run: AiSdkRun;
  let spans: Span[];
  let logs: LogRecord[];
  let steps: AgentStep[];
  beforeAll(async () => {
    run = await recordAiSdkRun();
    ({ spans, logs } = decoded(run, encoding));
    const r = stepsFromSpans(spans);
    expect(r.warnings).toEqual([]);
    steps = r.steps;
  });

  it('records what the SDK emits: the outer calls, one span per provider call and per tool execution', () => {
    expect(run.finalText).toBe(ITINERARY);
    const names = spans.map((s) => s.name).sort();
    expect(names.filter((n) => n === 'ai.generateText')).toHaveLength(2);
    expect(names.filter((n) => n === 'ai.streamText')).toHaveLength(1);
    expect(names.filter((n) => n === 'ai.generateText.doGenerate')).toHaveLength(5);
    expect(names.filter((n) => n === 'ai.streamText.doStream')).toHaveLength(1);
    expect(names.filter((n) => n === 'ai.toolCall')).toHaveLength(3);
    // GenAI attributes beside the SDK's own, but no gen_ai.operation.name
    const call = spans.find((s) => s.name === 'ai.generateText.doGenerate')!;
    expect(call.attributes['gen_ai.system']).toBe('mock-provider');
    expect(call.attributes['gen_ai.operation.name']).toBeUndefined();
  });

  it('every span is read as the AI SDK convention: outer calls named by their functionId are agents', () => {
    expect(steps.every((s) => s.convention === 'ai-sdk')).toBe(true);
    const r = stepsFromSpans(spans);
    expect(r.agents.map((a) => a.agentName)).toEqual(['router', 'researcher', 'writer']);
    const agentSteps = steps.filter((s) => s.kind === 'agent');
    expect(agentSteps.map((s) => [s.stepId, s.agentName])).toEqual([
      [run.agentSpanIds['router'], 'router'],
      [run.agentSpanIds['researcher'], 'researcher'],
      [run.agentSpanIds['writer'], 'writer'],
    ]);
    const router = agentSteps[0]!;
    expect(router.stepId).toBe(run.rootSpanId);
    expect(router.inputText).toContain(`user: ${USER_REQUEST}`);
    expect(router.outputText).toBe(ITINERARY);
  });

  it('each provider call (doGenerate, doStream) is an LLM step of its agent with prompt, response, tool calls and usage', () => {
    const llm = steps.filter((s) => s.kind === 'llm');
    expect(llm.map((s) => s.stepId)).toEqual(run.llmSpans.map((l) => l.spanId));
    expect(llm.map((s) => s.agentName)).toEqual(['router', 'researcher', 'researcher', 'router', 'writer', 'router']);
    const r = roles(run, steps);
    expect(r.routerAsk.inputText).toContain(`user: ${USER_REQUEST}`);
    expect(r.routerAsk.outputText).toBe(`→ ask_researcher(${JSON.stringify({ question: RESEARCH_QUESTION })})`);
    expect(r.researcherFindings.inputText).toContain(`tool: ${WEB_SEARCH_RESULT}`); // the tool result in its history
    expect(r.researcherFindings.outputText).toBe(FINDINGS);
    expect(r.writer.name).toBe('ai.streamText.doStream');
    expect(r.writer.inputText).toContain(FINDINGS);
    expect(r.writer.outputText).toBe(ITINERARY);
    expect(r.routerAnswer.outputText).toBe(ITINERARY);
    for (const s of llm) {
      expect(s.usage?.inputTokens).toBeGreaterThan(0);
      expect(s.usage?.outputTokens).toBeGreaterThan(0);
    }
  });

  it('each tool execution is a tool step of the agent that ran it, with the call id, arguments and result', () => {
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(tools.map((s) => [s.toolName, s.agentName, s.toolCallId])).toEqual([
      ['ask_researcher', 'router', CALL_ASK_RESEARCHER],
      ['web_search', 'researcher', CALL_WEB_SEARCH],
      ['ask_writer', 'router', CALL_ASK_WRITER],
    ]);
    const { webSearch, askResearcher } = roles(run, steps);
    expect(JSON.parse(webSearch.inputText!)).toEqual(WEB_SEARCH_ARGS);
    expect(webSearch.outputText).toBe(WEB_SEARCH_RESULT); // the SDK's JSON-encoded string result, decoded
    expect(askResearcher.outputText).toBe(FINDINGS);
  });

  it('causal links: call → tool → the call that read its result (C3), sub-agent results into the router (C7), findings → writer (C8)', () => {
    const r = roles(run, steps);
    expect(r.askResearcher.causalInputs).toContain(r.routerAsk.stepId);
    expect(r.webSearch.causalInputs).toContain(r.researcherSearch.stepId);
    expect(r.researcherFindings.causalInputs).toContain(r.webSearch.stepId);
    expect(r.routerBrief.causalInputs).toContain(r.askResearcher.stepId);
    expect(r.routerBrief.causalInputs).toContain(r.researcherFindings.stepId); // the agent used as a tool
    expect(r.askWriter.causalInputs).toContain(r.routerBrief.stepId);
    expect(r.writer.causalInputs).toContain(r.researcherFindings.stepId);
    expect(r.routerAnswer.causalInputs).toContain(r.askWriter.stepId);
    expect(r.routerAnswer.causalInputs).toContain(r.writer.stepId);
  });

  it('credit: the verdict is joined, all three agents contributed, Σ credit = R − b, one reward per model call and tool execution', async () => {
    const { credit, rewards } = await creditEventsOf(spans, logs);
    expect(credit.system_value).toBe(1);
    expect(credit.outcome).toBe('success');
    expect(credit.agents.map((a) => a.agent_name).sort()).toEqual(['researcher', 'router', 'writer']);
    for (const name of ['router', 'researcher', 'writer']) expect(creditOfAgent(credit, name)).toBeGreaterThan(0.1);
    expect(credit.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(credit.system_value - credit.baseline, 9);
    expect(rewards.map((r) => r.step_id).sort()).toEqual([...run.llmSpans.map((l) => l.spanId), ...run.toolSpans.map((t) => t.spanId)].sort());
    for (const name of ['router', 'researcher', 'writer']) {
      const sum = rewards.filter((r) => r.agent_name === name).reduce((s, r) => s + r.reward, 0);
      expect(sum).toBeCloseTo(creditOfAgent(credit, name), 9);
    }
    // the researcher's work is on the path to the verdict, the search more than the call that asked for it
    const reward = (id: string) => rewards.find((r) => r.step_id === id)!;
    const r = roles(run, steps);
    expect(reward(r.webSearch.stepId).marginal_effect).toBeGreaterThan(0);
    expect(reward(r.researcherFindings.stepId).marginal_effect).toBeGreaterThan(reward(r.researcherSearch.stepId).marginal_effect);
    expect(credit.first_error).toBeUndefined();
  });
});

describe('a run whose web_search tool throws, traced by the AI SDK', () => {
  let run: AiSdkRun;
  let spans: Span[];
  let logs: LogRecord[];
  beforeAll(async () => {
    run = await recordAiSdkRun({ failingSearch: true });
    ({ spans, logs } = decoded(run));
  });

  it('the throwing tool is a failed tool step; the model read the error as the tool result', () => {
    const { steps } = stepsFromSpans(spans);
    const r = roles(run, steps);
    expect(r.webSearch.status).toEqual({ ok: false, message: SEARCH_ERROR });
    expect(r.webSearch.outputText).toBeUndefined();
    expect(r.researcherFindings.inputText).toContain(`tool: ${SEARCH_ERROR}`);
    expect(r.researcherFindings.causalInputs).toContain(r.webSearch.stepId);
    expect(steps.filter((s) => s.stepId !== r.webSearch.stepId).every((s) => s.status.ok)).toBe(true);
  });

  it('credit: the failing tool is the first error, the agent that ran it takes the blame, Σ credit = R − b', async () => {
    const { credit, rewards } = await creditEventsOf(spans, logs);
    const webSearch = run.toolSpans.find((t) => t.name === 'web_search')!.spanId;
    expect(credit.outcome).toBe('failure');
    expect(credit.system_value).toBe(0);
    expect(credit.first_error?.step_id).toBe(webSearch);
    expect(credit.first_error?.agent_id).toBe('researcher');
    expect(credit.first_error?.evidence.join(' ')).toContain('status=error');
    expect(credit.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(credit.system_value - credit.baseline, 9);
    expect(creditOfAgent(credit, 'researcher')).toBeLessThan(0);
    expect(creditOfAgent(credit, 'researcher')).toBe(Math.min(...credit.agents.map((a) => a.credit)));
    const worst = rewards.reduce((w, r) => (r.reward < w.reward ? r : w));
    expect(worst.step_id).toBe(webSearch);
  });
});

describe('variants', () => {
  it('calls without a functionId name no agent: structure, their steps go to the service (fallback agent)', async () => {
    const run = await recordAiSdkRun({ noFunctionId: true });
    const { spans } = decoded(run);
    const { steps, agents, warnings } = stepsFromSpans(spans);
    expect(steps.filter((s) => s.name === 'ai.generateText' || s.name === 'ai.streamText').every((s) => s.kind === 'chain')).toBe(true);
    expect(agents.map((a) => a.agentName)).toEqual(['travel-desk']);
    expect(steps.filter((s) => s.rewardable)).toHaveLength(9);
    expect(warnings.join('\n')).toContain('fallback agent');
  });

  it('agents named in the telemetry metadata: conventions.aiSdkAgentAttributes reads them, through processEpisode too', async () => {
    const run = await recordAiSdkRun({ noFunctionId: true }); // metadata: { agentRole: router | researcher | writer }
    const { spans, logs } = decoded(run);
    const aiSdkAgentAttributes = ['ai.telemetry.metadata.agentRole', 'ai.telemetry.functionId'];
    const { steps, agents, warnings } = stepsFromSpans(spans, { aiSdkAgentAttributes });
    expect(warnings).toEqual([]);
    expect(agents.map((a) => a.agentName)).toEqual(['router', 'researcher', 'writer']);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual(['router', 'researcher', 'researcher', 'router', 'writer', 'router']);
    // the default reads the functionId only: the same spans name no agent
    expect(stepsFromSpans(spans).agents.map((a) => a.agentName)).toEqual(['travel-desk']);
    const asm = new EpisodeAssembler();
    asm.addSpans(spans);
    asm.addEvaluations(evaluationsFromLogs(logs));
    const [episode] = asm.flush('shutdown');
    const events = await processEpisode(episode!, { conventions: { aiSdkAgentAttributes } });
    const credit = events.find((e): e is EpisodeCredit => e.event_type === 'episode_credit')!;
    for (const name of ['router', 'researcher', 'writer']) expect(creditOfAgent(credit, name)).toBeGreaterThan(0);
    expect(() => stepsFromSpans(spans, { aiSdkAgentAttributes: [] })).toThrow(/conventions\.aiSdkAgentAttributes/);
  });

  it('recordOutputs off: no responses, tool arguments or results; the call ids and the prompts still link the run', async () => {
    const run = await recordAiSdkRun({ recordOutputs: false });
    const { spans, logs } = decoded(run);
    expect(spans.some((s) => s.attributes['ai.response.toolCalls'] !== undefined || s.attributes['ai.toolCall.args'] !== undefined)).toBe(false);
    const { steps } = stepsFromSpans(spans);
    const r = roles(run, steps);
    expect(r.webSearch.toolCallId).toBe(CALL_WEB_SEARCH); // the SDK records the id always
    expect(r.researcherSearch.outputText).toBeUndefined();
    expect(r.researcherFindings.causalInputs).toContain(r.webSearch.stepId); // its prompt holds the result's id
    // (the issuing call → tool edge is then only C4's, which needs the tool recorded as starting after the call ended: see APP_GAP in ai-sdk-run.ts)
    expect(r.routerBrief.causalInputs).toContain(r.researcherFindings.stepId);
    const { credit } = await creditEventsOf(spans, logs);
    for (const name of ['router', 'researcher', 'writer']) expect(creditOfAgent(credit, name)).toBeGreaterThan(0);
  });
});

describe('mapper order and older SDK lines', () => {
  const span = (attributes: Span['attributes'], name = String(attributes['ai.operationId'])): Span =>
    ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name,
      kind: 1,
      startTimeUnixNano: 1n,
      endTimeUnixNano: 2n,
      attributes,
      events: [],
      links: [],
      status: { code: 0 },
      resource: { attributes: {} },
      scope: { name: 'ai' },
    }) as unknown as Span;

  it('an AI SDK span a span processor gave OpenInference attributes is read as OpenInference, as before', () => {
    const f = factsOf(span({ 'ai.operationId': 'ai.generateText.doGenerate', 'openinference.span.kind': 'LLM', 'input.value': 'hi' }));
    expect(f.convention).toBe('openinference');
  });

  it('an AI SDK model call with gen_ai.operation.name is still read by the AI SDK mapper (its prompt and calls are in ai.*)', () => {
    const f = factsOf(span({ 'ai.operationId': 'ai.generateText.doGenerate', 'gen_ai.operation.name': 'chat', 'ai.response.text': 'ok' }));
    expect(f.convention).toBe('ai-sdk');
    expect(f.kind).toBe('llm');
    expect(f.outputText).toBe('ok');
  });

  it('4.x names: tool-call `args`, tool-result `result`, usage promptTokens/completionTokens', () => {
    const f = factsOf(
      span({
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.telemetry.functionId': 'planner',
        'ai.prompt.messages': JSON.stringify([
          { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
          { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } }] },
          { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'weather', result: { temp: 3 } }] },
        ]),
        'ai.response.toolCalls': JSON.stringify([{ toolCallType: 'function', toolCallId: 'c2', toolName: 'weather', args: '{"city":"Bergen"}' }]),
        'ai.response.finishReason': 'tool-calls',
        'ai.usage.promptTokens': 12,
        'ai.usage.completionTokens': 5,
      }),
    );
    expect(f).toMatchObject({ convention: 'ai-sdk', kind: 'llm', agentName: 'planner', usage: { inputTokens: 12, outputTokens: 5 }, endedOnToolCall: true });
    expect(f.consumedCallIds).toEqual(['c1']);
    expect(f.historyCalls).toEqual([{ id: 'c1', name: 'weather', args: '{"city":"Oslo"}' }]);
    expect(f.issuedCalls).toEqual([{ id: 'c2', name: 'weather', args: '{"city":"Bergen"}' }]);
    expect(f.inputText).toBe('user: weather?\nassistant: → weather({"city":"Oslo"})\ntool: {"temp":3}');
  });

  it('a call whose ai.prompt holds millions of entries (6 MB of JSON) is read, not a RangeError out of the mapping (its list was spread into push)', () => {
    const messages: unknown[] = [{ role: 'user', content: 'first' }, ...Array.from({ length: 3_000_000 }, () => 0)];
    const f = factsOf(span({ 'ai.operationId': 'ai.generateText', 'ai.telemetry.functionId': 'planner', 'ai.prompt': JSON.stringify({ messages }) }));
    expect(f).toMatchObject({ convention: 'ai-sdk', agentName: 'planner' });
    expect(f.inputText?.startsWith('user: first')).toBe(true);
  });

  it('generateObject: the generated object is the output text', () => {
    const f = factsOf(span({ 'ai.operationId': 'ai.generateObject.doGenerate', 'ai.response.object': '{"city":"Oslo"}' }));
    expect(f).toMatchObject({ convention: 'ai-sdk', kind: 'llm', outputText: '{"city":"Oslo"}' });
  });

  it('embeddings are no step of an agent: other', () => {
    expect(factsOf(span({ 'ai.operationId': 'ai.embed.doEmbed', 'ai.telemetry.functionId': 'x' })).kind).toBe('other');
    expect(factsOf(span({ 'ai.operationId': 'ai.embedMany', 'ai.telemetry.functionId': 'x' })).kind).toBe('other');
  });
});
