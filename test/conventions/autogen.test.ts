/**
 * AutoGen AgentChat (microsoft/autogen, autogen-core `_telemetry/_genai.py`): agents write `create_agent <name>`
 * (constructor) and `invoke_agent <name>` (`BaseChatAgent.run`, and a team's `ChatAgentContainer`) with
 * `gen_ai.operation.name`, `gen_ai.system = autogen`, `gen_ai.agent.{name,id,description}`; every tool run
 * through `BaseTool.run_json` is `execute_tool <tool>` with `gen_ai.tool.{name,call.id,description}` (no
 * arguments or result). A Swarm's hand-off is the function tool `transfer_to_<target>`
 * (`agentchat/base/_handoff.py`), run the same way. Model calls are the provider SDK's instrumentation's
 * (opentelemetry-instrumentation-openai-v2 `chat <model>`, here without message content: finish reasons only).
 * The run: AutoGen's Swarm example, a travel agent handing a refund to the flights refunder.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

function swarmRun(): Span[] {
  return recordSpans((r) => {
    const root = r.start('run_team', 0, {});
    const created = (name: string, ms: number) => r.start(`create_agent ${name}`, ms, {
      'gen_ai.operation.name': 'create_agent', 'gen_ai.system': 'autogen', 'gen_ai.agent.name': name, 'gen_ai.agent.description': `${name} agent`,
    }, root).end(at(ms));
    const invoke = (name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.system': 'autogen', 'gen_ai.agent.name': name,
      'gen_ai.agent.id': `${name}_3f2a/3f2a`, 'gen_ai.agent.description': `${name} agent`,
    }, root);
    const chat = (p: Parent, s: number, e: number, finish: string) => r.start('chat gpt-4o', s, {
      'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.finish_reasons': [finish],
      'gen_ai.usage.input_tokens': 80, 'gen_ai.usage.output_tokens': 12,
    }, p).end(at(e));
    const tool = (p: Parent, name: string, id: string, s: number, e: number) => r.start(`execute_tool ${name}`, s, {
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.system': 'autogen', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': id, 'gen_ai.tool.description': name,
    }, p).end(at(e));
    created('travel_agent', 0);
    created('flights_refunder', 0);
    const travel = invoke('travel_agent', 1);
    chat(travel, 2, 10, 'tool_calls');
    tool(travel, 'transfer_to_flights_refunder', 'call_h1', 11, 12);
    travel.end(at(13));
    const refunder = invoke('flights_refunder', 14);
    chat(refunder, 15, 20, 'tool_calls');
    tool(refunder, 'refund_flight', 'call_r1', 21, 22);
    chat(refunder, 23, 30, 'stop');
    refunder.end(at(31));
    root.end(at(32));
  });
}


describe('AutoGen AgentChat Swarm (autogen-core GenAI spans, model calls without content)', () => {
  it('agents, model calls and tool calls are read as they are (this worked before)', () => {
    const { steps, agents } = stepsFromSpans(swarmRun());
    expect(agents.map((a) => a.agentName)).toEqual(['travel_agent', 'flights_refunder']);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual(['travel_agent', 'flights_refunder', 'flights_refunder']);
    const refund = steps.find((s) => s.toolName === 'refund_flight')!;
    expect([refund.kind, refund.agentName, refund.toolCallId]).toEqual(['tool', 'flights_refunder', 'call_r1']);
    expect(steps.filter((s) => s.name.startsWith('create_agent')).every((s) => !s.rewardable)).toBe(true);
  });

  it('the transfer_to_<agent> tool span is a hand-off of the travel agent, read by the refunder\'s first model call (C5)', () => {
    const { steps } = stepsFromSpans(swarmRun());
    const handoff = steps.find((s) => s.name === 'execute_tool transfer_to_flights_refunder')!;
    expect(handoff.kind).toBe('handoff');
    expect(handoff.agentName).toBe('travel_agent');
    const first = steps.find((s) => s.kind === 'llm' && s.agentName === 'flights_refunder')!;
    expect(first.causalInputs).toContain(handoff.stepId);
  });

  it('the agent that handed the run on gets credit (before: 0)', async () => {
    const credit = await creditOf(swarmRun());
    expect(credit.get('travel_agent')).toBeGreaterThan(0);
    expect(credit.get('flights_refunder')).toBeGreaterThan(0);
  });

  it('another framework\'s transfer_to_* tool (no gen_ai.system autogen) stays a tool', () => {
    const spans = recordSpans((r) => {
      const a = r.start('invoke_agent a', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' });
      r.start('execute_tool transfer_to_b', 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'transfer_to_b', 'gen_ai.system': 'openai' }, a).end(at(2));
      a.end(at(3));
    });
    expect(stepsFromSpans(spans).steps.find((s) => s.toolName === 'transfer_to_b')!.kind).toBe('tool');
  });
});
