/**
 * Tool results as Bedrock Converse content blocks. With the Converse API a tool's result reaches the model as a
 * `{"toolResult": {"toolUseId", "content": [{"text"} | {"json"}], "status"}}` block in a user message, the calls as
 * `{"toolUse": {"toolUseId", "name", "input"}}` blocks in the assistant message before it — no `tool_call_id`, no
 * `tool_calls` beside them. OpenLLMetry's Bedrock instrumentation up to 0.56 (traceloop/openllmetry
 * opentelemetry-instrumentation-bedrock `span_utils.py` `set_converse_input_prompt_span_attributes`, before the
 * GenAI-parts rewrite of 0.57) records each message's blocks as JSON in `gen_ai.prompt.N.content` on a
 * `bedrock.converse` span (`llm.request.type` `chat`), and of the response only its text blocks
 * (`set_converse_response_span_attributes`: `gen_ai.completion.K.content` = the block's `text`), so a response that
 * only asks for tools records no call. Tools decorated with the Traceloop SDK's `@tool` are `<name>.tool` spans
 * without a call id (C3 matches them by name and arguments, here through the next call's history). Spans from the
 * real OTel JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans } from './sdk.js';

const J = JSON.stringify;
const CALLS = [
  { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'search_web', input: { query: 'what causes tides' } },
  { toolUseId: 'tooluse_3bQ0v2QxTWmN0s1fRk9YcA', name: 'tide_table', input: { port: 'Brest' } },
];
const RESULTS = ['Tides are caused by the moon and the sun.', 'Brest: high tide 06:12, 18:40.'];

/** A researcher whose first Converse call asks for two tools at once; they run side by side; its second call reads both results. */
function run(): Span[] {
  return recordSpans((r) => {
    const wf = r.start('research.workflow', 0, { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'research' });
    const agent = r.start('researcher.agent', 1, { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': 'researcher' }, wf);
    const converse = (start: number, end: number, prompts: Record<string, string>, completion: Record<string, string>) =>
      r.start('bedrock.converse', start, { 'gen_ai.system': 'AWS', 'llm.request.type': 'chat', 'gen_ai.request.model': 'anthropic.claude-3-5-sonnet-20240620-v1:0', ...prompts, ...completion }, agent).end(at(end));
    const user = { 'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': J([{ text: 'Explain the tides in Brest today.' }]) };
    // a response of toolUse blocks only: the role, no content (its blocks have no `text`)
    converse(2, 10, user, { 'gen_ai.completion.0.role': 'assistant' });
    CALLS.forEach((c, i) =>
      r.start(`${c.name}.tool`, 11, {
        'traceloop.span.kind': 'tool', 'traceloop.entity.name': c.name,
        'traceloop.entity.input': J({ args: [], kwargs: c.input }), 'traceloop.entity.output': J(RESULTS[i]),
      }, agent).end(at(13 + 2 * i)),
    );
    const history: Record<string, string> = {
      ...user,
      'gen_ai.prompt.1.role': 'assistant',
      'gen_ai.prompt.1.content': J(CALLS.map((c) => ({ toolUse: c }))),
      'gen_ai.prompt.2.role': 'user',
      'gen_ai.prompt.2.content': J(CALLS.map((c, i) => ({ toolResult: { toolUseId: c.toolUseId, content: [{ text: RESULTS[i] }], status: 'success' } }))),
    };
    converse(16, 22, history, { 'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': 'High tide in Brest is at 06:12 and 18:40, pulled by the moon.' });
    agent.end(at(23));
    wf.end(at(24));
  });
}

describe('tool results in Bedrock Converse content blocks (OpenLLMetry ≤ 0.56)', () => {
  it('the tools take the ids of the toolUse blocks, and the model call that read both results reads both tools (C3)', () => {
    const { steps } = stepsFromSpans(run());
    const [, second] = steps.filter((s) => s.kind === 'llm');
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(new Map(tools.map((t) => [t.toolName, t.toolCallId]))).toEqual(new Map(CALLS.map((c) => [c.name, c.toolUseId])));
    expect(second!.causalInputs).toEqual(expect.arrayContaining(tools.map((t) => t.stepId)));
  });

  it('both tools whose results the answer read get a reward, not only the one that ended last', async () => {
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const { episodeOf } = await import('./sdk.js');
    const spans = run();
    const events = await processEpisode(episodeOf(spans, 1));
    const names = new Map(spans.map((s) => [s.spanId, s.name]));
    const rewards = events.filter((e) => e.event_type === 'message_reward') as { step_id: string; reward: number }[];
    const byName = new Map(rewards.map((e) => [names.get(e.step_id), e.reward]));
    expect(byName.get('search_web.tool')).toBeGreaterThan(0);
    expect(byName.get('tide_table.tool')).toBeGreaterThan(0);
  });
});
