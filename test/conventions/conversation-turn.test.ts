/**
 * The GenAI shape of an OpenAI Agents run as the current instrumentation reports it
 * (opentelemetry-instrumentation-genai-openai-agents 1.x, semantic-conventions-genai
 * `gen_ai.invocation.internal`): the `Runner.run` turn is `handle_conversation_turn` carrying the
 * entry-point agent's name, one `invoke_agent` per agent, `execute_tool` with the call id, chat
 * spans from the OpenAI instrumentation, and no hand-off span any more (removed in 1.0b0: "not yet
 * defined in semantic convention"). Shape of its `multi_agent` conformance scenario; spans made by
 * the real OTel JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import { at, recordSpans } from './sdk.js';

const json = (v: unknown) => JSON.stringify(v);
const user = { role: 'user', parts: [{ type: 'text', content: "I'm visiting Barcelona this weekend. Should I pack a jacket?" }] };
const transfer = { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_h1', name: 'transfer_to_weather_specialist', arguments: {} }] };
const transferred = { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_h1', result: '{"assistant": "weather_specialist"}' }] };
const weather = { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_w1', name: 'get_weather', arguments: { city: 'Barcelona' } }] };
const forecast = { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_w1', result: 'The forecast for Barcelona is sunny with a high of 24C.' }] };

function run() {
  return recordSpans((r) => {
    const turn = r.start('handle_conversation_turn triage', 0, { 'gen_ai.operation.name': 'handle_conversation_turn', 'gen_ai.agent.name': 'triage' });
    const triage = r.start('invoke_agent triage', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' }, turn);
    r.start('chat gpt-4o-mini', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': json([user]), 'gen_ai.output.messages': json([transfer]) }, triage).end(at(3));
    triage.end(at(4));
    const specialist = r.start('invoke_agent weather_specialist', 5, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather_specialist' }, turn);
    r.start('chat gpt-4o-mini', 6, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': json([user, transfer, transferred]), 'gen_ai.output.messages': json([weather]) }, specialist).end(at(7));
    r.start('execute_tool get_weather', 8, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.id': 'call_w1', 'gen_ai.tool.call.arguments': '{"city":"Barcelona"}' }, specialist).end(at(9));
    r.start('chat gpt-4o-mini', 10, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.input.messages': json([user, transfer, transferred, weather, forecast]),
      'gen_ai.output.messages': json([{ role: 'assistant', parts: [{ type: 'text', content: 'Sunny, 24C: a light jacket for the evening.' }] }]),
    }, specialist).end(at(11));
    specialist.end(at(12));
    turn.end(at(13));
  });
}

describe('GenAI handle_conversation_turn runs (no hand-off span)', () => {
  it('the turn is structure, not an agent step; its entry-point agent name claims no other agent\'s steps', () => {
    const { steps, agents } = stepsFromSpans(run());
    const turn = steps.find((s) => s.name.startsWith('handle_conversation_turn'))!;
    expect(turn).toMatchObject({ kind: 'chain', rewardable: false });
    expect(agents.map((a) => a.agentName)).toEqual(['triage', 'weather_specialist']);
    const specialistSteps = steps.filter((s) => s.rewardable && s.startTimeUnixNano > turn.startTimeUnixNano + 4_000_000n);
    expect(specialistSteps.map((s) => s.agentName)).toEqual(['weather_specialist', 'weather_specialist', 'weather_specialist']);
  });

  it('the hand-off is still a causal link: the triage call the specialist\'s first prompt answers (C3, issuer → consumer)', () => {
    const { steps } = stepsFromSpans(run());
    const llms = steps.filter((s) => s.kind === 'llm');
    expect(llms.map((s) => s.agentName)).toEqual(['triage', 'weather_specialist', 'weather_specialist']);
    expect(llms[1]!.causalInputs).toContain(llms[0]!.stepId);
    const tool = steps.find((s) => s.kind === 'tool')!;
    expect(tool.causalInputs).toContain(llms[1]!.stepId);
    expect(llms[2]!.causalInputs).toContain(tool.stepId);
  });
});
