/**
 * GenAI `fetch_response` spans (semantic-conventions-genai `gen_ai.fetch_response.client`, emitted by
 * opentelemetry-util-genai) record the `gen_ai.response.id` of an earlier response they re-read. They
 * are not the span that generated it: a verdict naming that response id joins the generating LLM
 * span, and a fetch that ends later does not make the run's final response look like an earlier one.
 * Spans made by the real OTel JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { SpanTree, systemEvaluation } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import { at, recordSpans } from './sdk.js';

/** agent → chat (R1, calls a tool) → tool → chat (R2, the answer); then the app fetches `fetched` again. */
function run(fetched: 'resp_1' | 'resp_2') {
  return recordSpans((r) => {
    const agent = r.start('invoke_agent support', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support' });
    r.start('chat m', 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.id': 'resp_1' }, agent).end(at(2));
    r.start('execute_tool lookup', 3, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' }, agent).end(at(4));
    r.start('chat m', 5, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.id': 'resp_2' }, agent).end(at(6));
    agent.end(at(7));
    // e.g. an OpenAI background response polled, or a stored response re-read for display
    r.start('fetch_response', 8, { 'gen_ai.operation.name': 'fetch_response', 'gen_ai.provider.name': 'openai', 'gen_ai.response.id': fetched }).end(at(9));
  });
}

const llmOf = (spans: ReturnType<typeof run>, responseId: string) => spans.find((s) => s.name === 'chat m' && s.attributes['gen_ai.response.id'] === responseId)!;

describe('gen_ai.response.id on fetch_response spans', () => {
  it('a verdict of the final response (by response id) scores the run though a fetch of an earlier response ends later', () => {
    const spans = run('resp_1');
    const answer = llmOf(spans, 'resp_2');
    const verdict: Evaluation = { name: 'task_success', score: 0, responseId: 'resp_2', traceId: answer.traceId, spanId: answer.spanId, source: 'log-event', timeUnixNano: 10n };
    expect(systemEvaluation(new SpanTree(spans), [verdict], 'task_success')).toEqual(verdict);
  });

  it('a verdict naming a response id joins the LLM span that generated it, not a later fetch of it', () => {
    const spans = run('resp_1');
    const generated = llmOf(spans, 'resp_1');
    const asm = new EpisodeAssembler({ closeOnEvaluation: false }, new ManualClock(0));
    asm.addSpans(spans); // the fetch span comes last
    const verdict: Evaluation = { name: 'faithfulness', score: 0, responseId: 'resp_1', source: 'evaluations-stream', timeUnixNano: 10n };
    expect(asm.resolveEvaluation(verdict)).toMatchObject({ spanId: generated.spanId, traceId: generated.traceId });
  });

  it('a response only a fetch recorded is still joined to the fetch (the generating call was not instrumented)', () => {
    const spans = run('resp_1').filter((s) => s.attributes['gen_ai.response.id'] !== 'resp_1' || s.name === 'fetch_response');
    const fetch = spans.find((s) => s.name === 'fetch_response')!;
    const asm = new EpisodeAssembler({ closeOnEvaluation: false }, new ManualClock(0));
    asm.addSpans(spans);
    expect(asm.resolveEvaluation({ name: 'x', score: 1, responseId: 'resp_1', source: 'evaluations-stream', timeUnixNano: 1n })).toMatchObject({ spanId: fetch.spanId });
  });
});
