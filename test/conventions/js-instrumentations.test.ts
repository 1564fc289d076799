/**
 * Steps and credit for runs recorded by the two other conventions' real JS instrumentations
 * around the real openai 6.x client (test/support/js-instrumented-run.ts):
 * `@arizeai/openinference-instrumentation-openai` with `@arizeai/openinference-core`'s
 * traceChain/traceAgent/traceTool around the calls, and `@traceloop/instrumentation-openai` with
 * the workflow/agent/tool spans of the Traceloop SDK decorators. Each run: a researcher whose model
 * calls `web_search` and reports findings, which the app hands to a writer; an evaluator's verdict
 * as a log record. Encoded with our OTLP encoders, decoded, then read the way the pipeline reads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import type { MessageReward } from '../../src/events/schemas.js';
import type { AgentStep } from '../../src/model/agents.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { creditEventsOf, creditOfAgent } from './sdk.js';
import { jsRunLogBytes, jsRunTraceBytes, recordJsRun, type JsConvention, type JsInstrumentedRun } from '../support/js-instrumented-run.js';
import { ARTICLE, RESEARCH_FINDINGS, RESEARCH_QUESTION, researchWriteRun, WEB_SEARCH_ARGS, WEB_SEARCH_RESULT, type OpenAIRunPlan } from '../support/openai-instrumented-run.js';

type Encoding = 'otlp_proto' | 'otlp_json';

function decoded(run: JsInstrumentedRun, encoding: Encoding): { spans: Span[]; logs: LogRecord[] } {
  return { spans: decodeTraces(jsRunTraceBytes(run, encoding), encoding), logs: decodeLogs(jsRunLogBytes(run, encoding), encoding) };
}


/** What each instrumentation's LLM spans are read as: OpenLLMetry JS 0.27 writes GenAI semconv 1.40 on them. */
const LLM_CONVENTION: Readonly<Record<JsConvention, string>> = { openinference: 'openinference', openllmetry: 'genai' };

describe.each<[JsConvention, Encoding]>([
  ['openinference', 'otlp_proto'],
  ['openinference', 'otlp_json'],
  ['openllmetry', 'otlp_proto'],
  ['openllmetry', 'otlp_json'],
])('a research → write run instrumented by %s JS (%s)', (convention, encoding) => {
  let run: JsInstrumentedRun;
  let spans: Span[];
  let logs: LogRecord[];
  let steps: AgentStep[];
  beforeAll(async () => {
    run = await recordJsRun(convention, researchWriteRun({ score: 1 }));
    ({ spans, logs } = decoded(run, encoding));
    const r = stepsFromSpans(spans);
    expect(r.warnings).toEqual([]);
    steps = r.steps;
  });

  it('finds the two agents by name, each invocation an agent step, the workflow root structure', () => {
    const r = stepsFromSpans(spans);
    expect(r.agents.map((a) => a.agentName).sort()).toEqual(['researcher', 'writer']);
    const agentSteps = steps.filter((s) => s.kind === 'agent');
    expect(agentSteps.map((s) => [s.stepId, s.agentName])).toEqual([
      [run.agentSpanIds['researcher'], 'researcher'],
      [run.agentSpanIds['writer'], 'writer'],
    ]);
    expect(steps.find((s) => s.stepId === run.rootSpanId)!.kind).toBe('chain');
  });

  it('the instrumentation\'s LLM spans are LLM steps of the agent they ran under, with their prompts, completions and usage', () => {
    const llm = steps.filter((s) => s.kind === 'llm');
    expect(llm.map((s) => s.stepId)).toEqual(run.chatSpanIds);
    expect(llm.map((s) => s.agentName)).toEqual(['researcher', 'researcher', 'writer']);
    expect(llm.every((s) => s.convention === LLM_CONVENTION[convention])).toBe(true);
    const [search, findings, article] = llm;
    expect(search!.inputText).toContain(RESEARCH_QUESTION);
    expect(search!.outputText).toContain('web_search');
    expect(findings!.inputText).toContain(WEB_SEARCH_RESULT); // the tool result in its history
    expect(findings!.outputText).toBe(RESEARCH_FINDINGS);
    expect(article!.inputText).toContain(RESEARCH_FINDINGS);
    expect(article!.outputText).toBe(ARTICLE);
    for (const s of llm) {
      expect(s.usage?.inputTokens).toBeGreaterThan(0);
      expect(s.usage?.outputTokens).toBeGreaterThan(0);
    }
  });

  it('the tool execution is a tool step of the researcher with the call id, arguments and result the model saw', () => {
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(tools.map((s) => s.stepId)).toEqual(run.toolSpanIds);
    const tool = tools[0]!;
    expect(tool.agentName).toBe('researcher');
    expect(tool.toolName).toBe('web_search');
    // neither app helper records the call id: recovered from the issuing call by name + arguments
    expect(tool.toolCallId).toBe(run.toolCalls[0]!.id);
    expect(tool.toolCallId).toBe('call_web_search_1');
    expect(JSON.parse(tool.inputText!)).toEqual(WEB_SEARCH_ARGS);
    expect(tool.outputText).toBe(WEB_SEARCH_RESULT);
  });

  it('causal links: call → tool → the call that read its result (C3), researcher findings → writer (C8)', () => {
    const [search, findings, article] = steps.filter((s) => s.kind === 'llm');
    const tool = steps.find((s) => s.kind === 'tool')!;
    expect(tool.causalInputs).toContain(search!.stepId);
    expect(findings!.causalInputs).toContain(tool.stepId);
    expect(article!.causalInputs).toContain(findings!.stepId);
    // the writer reads nothing else of the researcher's
    expect(article!.causalInputs).not.toContain(search!.stepId);
    expect(article!.causalInputs).not.toContain(tool.stepId);
  });

  it('the agent steps carry the text the app passed in and got back', () => {
    const researcher = steps.find((s) => s.stepId === run.agentSpanIds['researcher'])!;
    const writer = steps.find((s) => s.stepId === run.agentSpanIds['writer'])!;
    expect(researcher.inputText).toBe(RESEARCH_QUESTION);
    expect(researcher.outputText).toBe(RESEARCH_FINDINGS);
    expect(writer.inputText).toContain(RESEARCH_FINDINGS);
    expect(writer.outputText).toBe(ARTICLE);
  });

  it('credit: the verdict is joined, both agents share it, Σ credit = system value − baseline, rewards follow each step\'s effect', async () => {
    const { credit, rewards } = await creditEventsOf(spans, logs);
    expect(credit.system_value).toBe(1);
    expect(credit.outcome).toBe('success');
    expect(creditOfAgent(credit, 'researcher')).toBeGreaterThan(0.1);
    expect(creditOfAgent(credit, 'writer')).toBeGreaterThan(0.1);
    expect(credit.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(credit.system_value - credit.baseline, 9);
    // one reward per LLM call and tool execution, summing to the agent's credit
    expect(rewards.map((r) => r.step_id).sort()).toEqual([...run.chatSpanIds, ...run.toolSpanIds].sort());
    for (const name of ['researcher', 'writer']) {
      const sum = rewards.filter((r) => r.agent_name === name).reduce((s, r) => s + r.reward, 0);
      expect(sum).toBeCloseTo(creditOfAgent(credit, name), 9);
    }
    // every step is on the path to the verdict (δ > 0), later ones more so; rewards follow δ
    // within the researcher (centred: its first call, least decisive, gets less than its share)
    expect(rewards.every((r) => r.marginal_effect > 0)).toBe(true);
    const reward = (id: string): MessageReward => rewards.find((r) => r.step_id === id)!;
    const [search, findings, article] = run.chatSpanIds.map(reward);
    const tool = reward(run.toolSpanIds[0]!);
    expect(search!.marginal_effect).toBeLessThan(tool.marginal_effect);
    expect(tool.marginal_effect).toBeLessThan(findings!.marginal_effect);
    expect(search!.reward).toBeLessThan(tool.reward);
    expect(tool.reward).toBeLessThan(findings!.reward);
    expect(tool.reward).toBeGreaterThan(0);
    expect(article!.reward).toBeCloseTo(creditOfAgent(credit, 'writer'), 9);
  });
});

describe.each<JsConvention>(['openinference', 'openllmetry'])('a failed research → write run instrumented by %s JS', (convention) => {
  it('the failing verdict is shared as non-positive credit that still sums to R − b', async () => {
    const run = await recordJsRun(convention, researchWriteRun({ score: 0 }));
    const { spans, logs } = decoded(run, 'otlp_proto');
    const { credit } = await creditEventsOf(spans, logs);
    expect(credit.system_value).toBe(0);
    expect(credit.outcome).toBe('failure');
    expect(credit.agents.map((a) => a.agent_name).sort()).toEqual(['researcher', 'writer']);
    expect(credit.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(credit.system_value - credit.baseline, 9);
    for (const a of credit.agents) expect(a.credit).toBeLessThanOrEqual(1e-9);
  });
});

describe('variants', () => {
  it('OpenInference traceAgent without agent.name: the agents are named by their spans', async () => {
    const run = await recordJsRun('openinference', researchWriteRun({ score: 1 }), { agentNameAttribute: false });
    const { spans } = decoded(run, 'otlp_proto');
    expect(spans.every((s) => s.attributes['agent.name'] === undefined)).toBe(true);
    const { steps, agents, warnings } = stepsFromSpans(spans);
    expect(warnings).toEqual([]);
    expect(agents.map((a) => a.agentName).sort()).toEqual(['researcher', 'writer']);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual(['researcher', 'researcher', 'writer']);
    expect(steps.find((s) => s.kind === 'tool')!.agentName).toBe('researcher');
  });

  it('OpenLLMetry with traceContent off: no texts, no call ids; the hand-over in code is invisible and the writer takes all the credit', async () => {
    const run = await recordJsRun('openllmetry', researchWriteRun({ score: 1 }), { captureContent: false });
    const { spans, logs } = decoded(run, 'otlp_proto');
    const { steps } = stepsFromSpans(spans);
    const rewardable = steps.filter((s) => s.kind === 'llm' || s.kind === 'tool');
    expect(rewardable).toHaveLength(4);
    expect(rewardable.every((s) => s.inputText === undefined && s.outputText === undefined)).toBe(true);
    expect(steps.find((s) => s.kind === 'tool')!.toolCallId).toBeUndefined();
    // agents and their steps are still found from the span structure
    expect(rewardable.map((s) => s.agentName)).toEqual(['researcher', 'researcher', 'researcher', 'writer']);
    const { credit } = await creditEventsOf(spans, logs);
    expect(creditOfAgent(credit, 'researcher')).toBe(0);
    expect(creditOfAgent(credit, 'writer')).toBeCloseTo(1, 9);
  });
});

/** Two calls in one reply, then the first call again with the same arguments (a re-check). */
function parallelAndRepeatedCalls(): OpenAIRunPlan {
  return {
    agents: [
      {
        name: 'researcher',
        input: 'Compare the weather in Oslo and Bergen.',
        tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        steps: [
          { kind: 'chat', reply: { toolCalls: [{ id: 'call_a', name: 'weather', arguments: { city: 'Oslo' } }, { id: 'call_b', name: 'weather', arguments: { city: 'Bergen' } }] } },
          { kind: 'tool', result: (c) => (c.id === 'call_a' ? 'Oslo: rain' : 'Bergen: rain') },
          { kind: 'chat', reply: { toolCalls: [{ id: 'call_c', name: 'weather', arguments: { city: 'Oslo' } }] } },
          { kind: 'tool', result: 'Oslo: sun' },
          { kind: 'chat', reply: { text: 'Both cities had rain; Oslo has cleared up since and is sunny now.' } },
        ],
      },
    ],
    score: 1,
  };
}

describe.each<JsConvention>(['openinference', 'openllmetry'])('parallel and repeated tool calls instrumented by %s JS', (convention) => {
  it('each execution gets its own call id (the repeated call its new one) and is read by the call after it', async () => {
    const run = await recordJsRun(convention, parallelAndRepeatedCalls());
    const { steps } = stepsFromSpans(decoded(run, 'otlp_proto').spans);
    // Each execution by its span (the two of one reply run back to back and may start in the same
    // millisecond, so their order among the steps is not theirs to keep: a CI run saw them swapped).
    const callOfSpan = new Map(run.toolSpanIds.map((id, i) => [id, run.toolCalls[i]!.id]));
    expect([...callOfSpan.values()]).toEqual(['call_a', 'call_b', 'call_c']);
    const all = steps.filter((s) => s.kind === 'tool');
    expect(new Set(all.map((s) => s.stepId))).toEqual(new Set(run.toolSpanIds));
    for (const t of all) expect(t.toolCallId).toBe(callOfSpan.get(t.stepId));
    const tools = ['call_a', 'call_b', 'call_c'].map((id) => all.find((s) => s.toolCallId === id)!);
    const [first, second, third] = steps.filter((s) => s.kind === 'llm');
    expect(tools[0]!.causalInputs).toContain(first!.stepId);
    expect(tools[1]!.causalInputs).toContain(first!.stepId);
    expect(tools[2]!.causalInputs).toContain(second!.stepId);
    expect(tools[2]!.causalInputs).not.toContain(first!.stepId);
    expect(second!.causalInputs).toEqual(expect.arrayContaining([tools[0]!.stepId, tools[1]!.stepId]));
    expect(third!.causalInputs).toContain(tools[2]!.stepId);
    expect(third!.causalInputs).not.toContain(tools[0]!.stepId);
  });
});
