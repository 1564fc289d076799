/**
 * Agents chained in application code: the writer is run on the researcher's answer, with no
 * hand-off span, span link or agent-graph attribute (OpenInference's OpenAI instrumentor under two
 * AGENT spans). The only trace of the dependency is the text. Spans from the real OTel JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, recordSpans } from './sdk.js';

const SUMMARY = 'Tides are caused mainly by the gravitational pull of the moon.';

function pipeline(writerInput: string): Span[] {
  return recordSpans((r) => {
    const root = r.start('research-and-write', 0, {});
    const llm = (parent: Parameters<typeof r.start>[3], start: number, end: number, input: string, output: string) =>
      r.start('ChatCompletion', start, {
        'openinference.span.kind': 'LLM', 'llm.model_name': 'm',
        'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': input,
        'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': output,
      }, parent).end(at(end));
    const researcher = r.start('researcher', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'researcher' }, root);
    llm(researcher, 2, 10, 'What causes tides? Answer in one sentence.', SUMMARY);
    researcher.end(at(11));
    const writer = r.start('writer', 12, { 'openinference.span.kind': 'AGENT', 'agent.name': 'writer' }, root);
    llm(writer, 13, 20, writerInput, 'The moon tugs at the oceans, and the tides follow it.');
    writer.end(at(21));
    root.end(at(22));
  });
}

function episodeOf(spans: Span[], score: number): Episode {
  const traceId = spans[0]!.traceId;
  return {
    episodeId: traceId, keyMode: 'trace', traceIds: [traceId], spans,
    evaluations: [{ name: 'task_success', score, traceId, source: 'log-event', timeUnixNano: 1n }],
    closeReason: 'evaluation-arrived', openedAtMs: 0, closedAtMs: 0, correction: false, revision: 0, duplicateSpans: 0, lateSpans: 0, bytes: 0, sources: [],
  };
}

describe('text passed from one agent to the next in application code', () => {
  it("the writer's first step reads the researcher's step whose answer its prompt holds", () => {
    const { steps } = stepsFromSpans(pipeline(`Write a paragraph for children from these notes:\n${SUMMARY}\nKeep it short.`));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  it('no edge when the prompt does not hold the answer', () => {
    const { steps } = stepsFromSpans(pipeline('Write a paragraph for children about the sea.'));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(writer.causalInputs).not.toContain(researcher.stepId);
  });

  it('the upstream agent gets credit (before: researcher 0, writer all of it)', async () => {
    const events = await processEpisode(episodeOf(pipeline(`Notes: ${SUMMARY}`), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
    expect(credit.get('writer')).toBeGreaterThan(0);
  });
});
