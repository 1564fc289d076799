/**
 * Tool results as Anthropic Messages content blocks. A tool's result reaches Claude as a `{type: 'tool_result',
 * tool_use_id, content}` block in a user message — no `tool_call_id` beside it — and OpenLLMetry's Anthropic
 * instrumentation (traceloop/openllmetry opentelemetry-instrumentation-anthropic `span_utils.py`
 * `aset_input_attributes` / `_dump_content`) records such a message's blocks as a JSON list in
 * `gen_ai.prompt.N.content` (the calls of an assistant message also as `gen_ai.prompt.N.tool_calls.M.*`), its
 * response's calls as `gen_ai.completion.0.tool_calls.M.*`, on an `anthropic.chat` span (`llm.request.type`
 * `completion`). Tools decorated with the Traceloop SDK's `@tool` are `<name>.tool` spans without a call id (C3 matches
 * them by name and arguments). Spans from the real OTel JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans } from './sdk.js';

const J = JSON.stringify;
const CALLS = [
  { id: 'toolu_01A', name: 'search_web', input: { query: 'what causes tides' } },
  { id: 'toolu_01B', name: 'tide_table', input: { port: 'Brest' } },
];
const RESULTS = ['Tides are caused by the moon and the sun.', 'Brest: high tide 06:12, 18:40.'];

/** A researcher whose first call asks for two tools at once; they run side by side; its second call reads both results. */
function run(): Span[] {
  return recordSpans((r) => {
    const wf = r.start('research.workflow', 0, { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'research' });
    const agent = r.start('researcher.agent', 1, { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': 'researcher' }, wf);
    const chat = (start: number, end: number, prompts: Record<string, string>, completion: Record<string, string>) =>
      r.start('anthropic.chat', start, { 'gen_ai.system': 'Anthropic', 'llm.request.type': 'completion', 'gen_ai.request.model': 'claude-sonnet-4', ...prompts, ...completion }, agent).end(at(end));
    const user = { 'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': 'Explain the tides in Brest today.' };
    const issued: Record<string, string> = { 'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.finish_reason': 'tool_use' };
    CALLS.forEach((c, i) => {
      issued[`gen_ai.completion.0.tool_calls.${i}.id`] = c.id;
      issued[`gen_ai.completion.0.tool_calls.${i}.name`] = c.name;
      issued[`gen_ai.completion.0.tool_calls.${i}.arguments`] = J(c.input);
    });
    chat(2, 10, user, issued);
    CALLS.forEach((c, i) =>
      r.start(`${c.name}.tool`, 11, {
        'traceloop.span.kind': 'tool', 'traceloop.entity.name': c.name,
        'traceloop.entity.input': J({ args: [], kwargs: c.input }), 'traceloop.entity.output': J(RESULTS[i]),
      }, agent).end(at(13 + 2 * i)),
    );
    const history: Record<string, string> = {
      ...user,
      'gen_ai.prompt.1.role': 'assistant',
      'gen_ai.prompt.1.content': J(CALLS.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.input }))),
      'gen_ai.prompt.2.role': 'user',
      'gen_ai.prompt.2.content': J(CALLS.map((c, i) => ({ type: 'tool_result', tool_use_id: c.id, content: RESULTS[i] }))),
    };
    CALLS.forEach((c, i) => {
      history[`gen_ai.prompt.1.tool_calls.${i}.id`] = c.id;
      history[`gen_ai.prompt.1.tool_calls.${i}.name`] = c.name;
      history[`gen_ai.prompt.1.tool_calls.${i}.arguments`] = J(c.input);
    });
    chat(16, 22, history, { 'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': 'High tide in Brest is at 06:12 and 18:40, pulled by the moon.' });
    agent.end(at(23));
    wf.end(at(24));
  });
}

describe('tool results in Anthropic content blocks (OpenLLMetry)', () => {
  it('the model call that read both results reads both tools run side by side (C3), not only the one that ended last', () => {
    const { steps } = stepsFromSpans(run());
    const [first, second] = steps.filter((s) => s.kind === 'llm');
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(new Map(tools.map((t) => [t.toolName, t.toolCallId]))).toEqual(new Map([['search_web', 'toolu_01A'], ['tide_table', 'toolu_01B']]));
    for (const t of tools) expect(t.causalInputs).toContain(first!.stepId);
    expect(second!.causalInputs).toEqual(expect.arrayContaining(tools.map((t) => t.stepId)));
  });
});

describe('tool results in Anthropic content blocks: rewards', () => {
  it('both tools whose results the answer read get a reward (before: the one that ended first, a dead end, got −0.25)', async () => {
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
