/**
 * A hand-off recorded the way semantic-conventions-genai now specifies it (unreleased, #447:
 * `model/gen-ai/spans.yaml` refinement `gen_ai.execute_tool.transfer.internal`, example in
 * `docs/gen-ai/non-normative/examples-agent-interactions.md`): the source agent's tool call that
 * transfers the run is an `execute_tool transfer_to_weather_agent weather_agent` span with
 * `gen_ai.agent.name` = the source, `gen_ai.transfer.target.name` = the target and
 * `gen_ai.transfer.mode` = `pass_control` (the target takes over) or `return_to_caller` (the source
 * waits for the target's result: an agent used as a tool). No message content (the default), no
 * span links. Spans made by the real OpenTelemetry JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

function chat(r: Recorder, parent: Parent, start: number, end: number, finish: string) {
  r.start('chat gpt-4o-mini', start, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.finish_reasons': [finish],
  }, parent).end(at(end));
}

const agent = (r: Recorder, name: string, start: number, parent: Parent) =>
  r.start(`invoke_agent ${name}`, start, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, parent);

/** triage transfers the run to weather_agent with a tool call; weather_agent answers. */
function transferRun(mode: 'pass_control' | 'return_to_caller'): Span[] {
  return recordSpans((r) => {
    const wf = r.start('invoke_workflow support', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'support' });
    const triage = agent(r, 'triage', 1, wf);
    chat(r, triage, 2, 10, 'tool_calls');
    r.start('execute_tool transfer_to_weather_agent weather_agent', 11, {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'transfer_to_weather_agent',
      'gen_ai.tool.type': 'function',
      'gen_ai.agent.name': 'triage',
      'gen_ai.transfer.mode': mode,
      'gen_ai.transfer.target.name': 'weather_agent',
    }, triage).end(at(12));
    triage.end(at(13));
    const weather = agent(r, 'weather_agent', 14, wf);
    chat(r, weather, 15, 20, 'stop');
    weather.end(at(21));
    wf.end(at(22));
  });
}


describe('agent transfer as a tool call (semantic-conventions-genai gen_ai.execute_tool.transfer.internal)', () => {
  it('pass_control is a hand-off of the source agent to the target: the target reads it (C5)', () => {
    const { steps } = stepsFromSpans(transferRun('pass_control'));
    const handoff = steps.find((s) => s.name.startsWith('execute_tool transfer_to_weather_agent'))!;
    expect(handoff.kind).toBe('handoff');
    expect(handoff.agentName).toBe('triage');
    expect(handoff.handoffTo).toBe('weather_agent');
    const answer = steps.find((s) => s.kind === 'llm' && s.agentName === 'weather_agent')!;
    expect(answer.causalInputs).toContain(handoff.stepId);
  });

  it('the routing agent gets credit (before: read as a plain tool, 0)', async () => {
    const credit = await creditOf(transferRun('pass_control'));
    expect(credit.get('triage')).toBeGreaterThan(0);
    expect(credit.get('weather_agent')).toBeGreaterThan(0);
  });

  it('return_to_caller stays a tool call (an agent used as a tool, read through C7)', () => {
    const { steps } = stepsFromSpans(transferRun('return_to_caller'));
    expect(steps.find((s) => s.name.startsWith('execute_tool transfer_to_weather_agent'))!.kind).toBe('tool');
  });
});
