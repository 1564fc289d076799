/**
 * Strands Agents swarm (strands-agents/sdk-python v1.40, `telemetry/tracer.py`, `multiagent/swarm.py`):
 * `invoke_swarm` (`gen_ai.operation.name = invoke_swarm`, `gen_ai.agent.name = swarm`) holds one
 * `invoke_agent <node>` per node that ran; each agent's `execute_event_loop_cycle` spans hold its `chat`
 * and `execute_tool <tool>` spans (`gen_ai.tool.{name,call.id}`); every span carries `gen_ai.system`
 * (`gen_ai.provider.name` with the latest conventions) `strands-agents`; message contents and tool arguments
 * are span events only. A node passes the run on with the swarm's `handoff_to_agent` tool.
 * Spans from the real OTel JS SDK (test/conventions/sdk.ts).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans, type Recorder } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
const common = { 'gen_ai.system': 'strands-agents' };

/** One node's agent: a cycle per tool call (chat + execute_tool), then a final chat. Returns its end time. */
function agentRun(r: Recorder, name: string, t: number, parent: Parent, tools: [string, string][]): number {
  const agent = r.start(`invoke_agent ${name}`, t, { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.request.model': 'claude' }, parent);
  let k = t + 1;
  const cycle = () => r.start('execute_event_loop_cycle', k, { ...common, 'gen_ai.operation.name': 'execute_event_loop_cycle', 'event_loop.cycle_id': `c${k}` }, agent);
  const chat = (c: Parent) => r.start('chat', k + 1, { ...common, 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'claude', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 }, c).end(at(k + 5));
  for (const [tool, id] of tools) {
    const c = cycle();
    chat(c);
    r.start(`execute_tool ${tool}`, k + 6, { ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'gen_ai.tool.call.id': id }, c).end(at(k + 7));
    c.end(at(k + 8));
    k += 10;
  }
  const c = cycle();
  chat(c);
  c.end(at(k + 6));
  agent.end(at(k + 7));
  return k + 8;
}

function swarmRun(): Span[] {
  return recordSpans((r) => {
    const swarm = r.start('invoke_swarm', 0, { ...common, 'gen_ai.operation.name': 'invoke_swarm', 'gen_ai.agent.name': 'swarm' });
    const t = agentRun(r, 'researcher', 1, swarm, [['web_search', 'tooluse_1'], ['handoff_to_agent', 'tooluse_2']]);
    swarm.end(at(agentRun(r, 'writer', t + 1, swarm, []) + 1));
  });
}

describe('Strands Agents swarm', () => {
  it('agents and steps: each node an agent, chat and tool spans its rewardable steps', () => {
    const { steps, agents } = stepsFromSpans(swarmRun());
    expect(agents.map((a) => a.agentName)).toEqual(['researcher', 'writer']);
    expect(steps.filter((s) => s.rewardable).map((s) => [s.name, s.agentName])).toEqual([
      ['chat', 'researcher'], ['execute_tool web_search', 'researcher'], ['chat', 'researcher'],
      ['execute_tool handoff_to_agent', 'researcher'], ['chat', 'researcher'], ['chat', 'writer'],
    ]);
  });

  it("handoff_to_agent is the node's hand-off, read by the next agent the swarm runs (C5)", () => {
    const { steps } = stepsFromSpans(swarmRun());
    const handoff = steps.find((s) => s.name === 'execute_tool handoff_to_agent')!;
    expect(handoff.kind).toBe('handoff');
    expect(handoff.agentName).toBe('researcher');
    const first = steps.find((s) => s.rewardable && s.agentName === 'writer')!;
    expect(first.causalInputs).toContain(handoff.stepId);
  });

  it('the node that handed off gets credit (before: 0)', async () => {
    const events = await processEpisode(episodeOf(swarmRun(), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
    expect(credit.get('writer')).toBeGreaterThan(0);
  });
});
