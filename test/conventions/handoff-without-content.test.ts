/**
 * An OpenAI Agents hand-off recorded without message content (the default in production) by the
 * current GenAI instrumentation, opentelemetry-instrumentation-genai-openai-agents 1.x
 * (open-telemetry/opentelemetry-python-genai), with opentelemetry-instrumentation-genai-openai
 * for the model calls. What it emits, read from its source and tests:
 *
 * - `instrumentation/opentelemetry-instrumentation-genai-openai-agents/src/opentelemetry/
 *   instrumentation/genai/openai_agents/processor.py`: the agents-library `Trace` becomes
 *   `invoke_workflow <workflow name>` (`gen_ai.workflow.name`), each `AgentSpanData` an
 *   `invoke_agent <name>` (`invoke_local_agent(agent_name=…)`, INTERNAL), each `FunctionSpanData`
 *   an `execute_tool <name>` (`gen_ai.tool.name`, `gen_ai.tool.type = function`; arguments and
 *   result only with content capture, no `gen_ai.tool.call.id`: the library does not expose it,
 *   issue #86); `HandoffSpanData` is ignored ("no semconv yet"; CHANGELOG 1.0b0: "Remove handoff
 *   and guardrail spans"). The OpenAI Agents SDK runs a hand-off (`execute_handoffs`,
 *   `handoff_span(from_agent=…)`) without a function span, so `transfer_to_<agent>` is no
 *   `execute_tool` span either: `tests/conformance/conformance.yaml` scenario `multi_agent`
 *   (triage → weather_specialist with `get_weather`) expects 1 `invoke_workflow`, 2 `invoke_agent`
 *   with distinct `gen_ai.agent.name`, and 1 `execute_tool`. No span links, no hand-off attribute.
 * - `instrumentation/opentelemetry-instrumentation-genai-openai/src/opentelemetry/instrumentation/
 *   genai/openai/response_extractors.py`: the model call is `chat <model>` with
 *   `gen_ai.response.id`, usage and `gen_ai.response.finish_reasons` (`tool_calls` for a function
 *   call, `stop` for an answer) always; messages and tool definitions only with content capture
 *   (`apply_request_attributes` / `set_invocation_response_attributes`, `if capture_content`).
 *
 * The agents' spans are siblings under the workflow span: the runner ends the triage invocation
 * and starts the target's. Spans made by the real OpenTelemetry JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

/** A model call as opentelemetry-instrumentation-genai-openai records it without content (Responses API). */
function chat(r: Recorder, parent: Parent, start: number, end: number, id: string, finish: string) {
  r.start('chat gpt-4o-mini', start, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.id': id,
    'gen_ai.response.finish_reasons': [finish],
    'gen_ai.usage.input_tokens': 120,
    'gen_ai.usage.output_tokens': 18,
    'openai.api.type': 'responses',
    'server.address': 'api.openai.com',
  }, parent).end(at(end));
}

const agent = (r: Recorder, name: string, start: number, parent: Parent) =>
  r.start(`invoke_agent ${name}`, start, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, parent);

const tool = (r: Recorder, name: string, start: number, end: number, parent: Parent) =>
  r.start(`execute_tool ${name}`, start, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.type': 'function' }, parent).end(at(end));

/** The conformance `multi_agent` run: triage hands off to weather_specialist, which calls get_weather and answers. */
function handoffRun(opts: { triageFails?: boolean } = {}): Span[] {
  return recordSpans((r) => {
    const wf = r.start('invoke_workflow Agent workflow', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'Agent workflow' });
    const triage = agent(r, 'triage', 1, wf);
    chat(r, triage, 2, 10, 'resp_triage', 'tool_calls'); // transfer_to_weather_specialist: no span of its own
    if (opts.triageFails) triage.setStatus({ code: 2, message: 'MaxTurnsExceeded' });
    triage.end(at(11));
    const specialist = agent(r, 'weather_specialist', 12, wf);
    chat(r, specialist, 13, 20, 'resp_w1', 'tool_calls');
    tool(r, 'get_weather', 21, 22, specialist);
    chat(r, specialist, 23, 30, 'resp_w2', 'stop');
    specialist.end(at(31));
    wf.end(at(32));
  });
}


describe('hand-off without message content (genai-openai-agents 1.x: no hand-off span, no transfer tool span)', () => {
  it("the specialist's first model call reads the triage call that ended on the hand-off call (C9)", () => {
    const { steps } = stepsFromSpans(handoffRun());
    const llms = steps.filter((s) => s.kind === 'llm');
    expect(llms.map((s) => s.agentName)).toEqual(['triage', 'weather_specialist', 'weather_specialist']);
    expect(steps.filter((s) => s.kind === 'tool' || s.kind === 'handoff').map((s) => s.name)).toEqual(['execute_tool get_weather']);
    expect(llms[1]!.causalInputs).toContain(llms[0]!.stepId);
  });

  it('the triage agent that routed the request gets credit (before: 0, the specialist all of it)', async () => {
    const credit = await creditOf(handoffRun());
    expect(credit.get('triage')).toBeGreaterThan(0);
    expect(credit.get('weather_specialist')).toBeGreaterThan(0);
  });

  it('no link from an agent that finished (its last answer is `stop`): agents one after another in a workflow are not a hand-off', async () => {
    const spans = recordSpans((r) => {
      // `with trace("wf"): Runner.run(summarizer, …); Runner.run(translator, …)` on inputs of their own
      const wf = r.start('invoke_workflow wf', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'wf' });
      const a = agent(r, 'summarizer', 1, wf);
      chat(r, a, 2, 10, 'resp_a', 'stop');
      a.end(at(11));
      const b = agent(r, 'translator', 12, wf);
      chat(r, b, 13, 20, 'resp_b', 'stop');
      b.end(at(21));
      wf.end(at(22));
    });
    const { steps } = stepsFromSpans(spans);
    const [first, second] = steps.filter((s) => s.kind === 'llm');
    expect(second!.causalInputs).not.toContain(first!.stepId);
    expect((await creditOf(spans)).get('summarizer')).toBe(0);
  });

  it('no link when a tool ran after the call (the call was a tool, not a hand-off), nor from a failed invocation', () => {
    const toolRan = recordSpans((r) => {
      // `tool_use_behavior="stop_on_first_tool"`: the tool's result is the agent's output
      const wf = r.start('invoke_workflow wf', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'wf' });
      const a = agent(r, 'lookup', 1, wf);
      chat(r, a, 2, 10, 'resp_a', 'tool_calls');
      tool(r, 'fetch_record', 11, 12, a);
      a.end(at(13));
      const b = agent(r, 'reporter', 14, wf);
      chat(r, b, 15, 20, 'resp_b', 'stop');
      b.end(at(21));
      wf.end(at(22));
    });
    const s1 = stepsFromSpans(toolRan).steps.filter((s) => s.kind === 'llm');
    expect(s1[1]!.causalInputs).not.toContain(s1[0]!.stepId);

    const s2 = stepsFromSpans(handoffRun({ triageFails: true })).steps.filter((s) => s.kind === 'llm');
    expect(s2[1]!.causalInputs).not.toContain(s2[0]!.stepId);
  });

  it('the target is the invocation started after the triage one ended, not an agent running beside it', () => {
    const spans = recordSpans((r) => {
      // `asyncio.gather(Runner.run(triage, …), Runner.run(auditor, …))` inside one trace
      const wf = r.start('invoke_workflow wf', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'wf' });
      const triage = agent(r, 'triage', 1, wf);
      const auditor = agent(r, 'auditor', 2, wf);
      chat(r, triage, 3, 10, 'resp_t', 'tool_calls');
      chat(r, auditor, 4, 12, 'resp_a', 'stop');
      triage.end(at(11));
      auditor.end(at(13));
      const specialist = agent(r, 'weather_specialist', 14, wf);
      chat(r, specialist, 15, 20, 'resp_w', 'stop');
      specialist.end(at(21));
      wf.end(at(22));
    });
    const { steps } = stepsFromSpans(spans);
    const llm = (name: string) => steps.find((s) => s.kind === 'llm' && s.agentName === name)!;
    expect(llm('weather_specialist').causalInputs).toContain(llm('triage').stepId);
    expect(llm('auditor').causalInputs).not.toContain(llm('triage').stepId);
    expect(llm('weather_specialist').causalInputs).not.toContain(llm('auditor').stepId);
  });
});
