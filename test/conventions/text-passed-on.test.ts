/**
 * Agents chained in application code: the writer is run on the researcher's answer, with no
 * hand-off span, span link or agent-graph attribute (OpenInference's OpenAI instrumentor under two
 * AGENT spans). The only trace of the dependency is the text. Spans from the real OTel JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans } from './sdk.js';

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

  it('not from a step that copied the text from its own input (a quote both agents read at the source)', () => {
    const quoted = 'Please translate: the tide comes in twice a day along this coast.';
    const spans = recordSpans((r) => {
      const root = r.start('pipeline', 0, {});
      const llm = (agent: string, start: number, input: string, output: string) => {
        const a = r.start(agent, start, { 'openinference.span.kind': 'AGENT', 'agent.name': agent }, root);
        r.start('ChatCompletion', start + 1, {
          'openinference.span.kind': 'LLM', 'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': input,
          'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': output,
        }, a).end(at(start + 5));
        a.end(at(start + 6));
      };
      llm('extractor', 1, `User wrote: ${quoted}`, quoted);
      llm('translator', 10, `User wrote: ${quoted}`, 'La marée monte deux fois par jour.');
      root.end(at(20));
    });
    const { steps } = stepsFromSpans(spans);
    const extractor = steps.find((s) => s.agentName === 'extractor' && s.kind === 'llm')!;
    const translator = steps.find((s) => s.agentName === 'translator' && s.kind === 'llm')!;
    expect(translator.causalInputs).not.toContain(extractor.stepId);
  });

  /** The researcher answers `answer` (output.value); the writer's LLM call is recorded with `writerAttributes`. */
  function researcherThenWriter(answer: string, writerAttributes: Record<string, string>) {
    const spans = recordSpans((r) => {
      const root = r.start('pipeline', 0, {});
      const a = r.start('researcher', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'researcher' }, root);
      r.start('ChatCompletion', 2, { 'openinference.span.kind': 'LLM', 'input.value': 'What causes tides?', 'output.value': answer }, a).end(at(5));
      a.end(at(6));
      const w = r.start('writer', 7, { 'openinference.span.kind': 'AGENT', 'agent.name': 'writer' }, root);
      r.start('ChatCompletion', 8, { 'openinference.span.kind': 'LLM', ...writerAttributes, 'output.value': 'The moon pulls the sea.' }, w).end(at(12));
      w.end(at(13));
      root.end(at(14));
    });
    const { steps } = stepsFromSpans(spans);
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    return { researcher, writer };
  }

  it('found JSON-escaped in a prompt recorded as a JSON document', () => {
    const answer = 'Tides:\n1. the "moon" pulls the sea\n2. the sun helps a little';
    const { researcher, writer } = researcherThenWriter(answer, {
      'input.value': JSON.stringify({ messages: [{ role: 'user', content: `Rewrite: ${answer}` }] }),
      'input.mime_type': 'application/json',
    });
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  // An answer is long enough to be looked for by its trimmed length (the linker skips trimming an
  // answer that neither starts nor ends with whitespace): padding does not count.
  it.each([
    ['padded, under 20 characters trimmed', '\n   Moon pulls seas.   \u00a0\n', false],
    ['padded, 20 characters trimmed', '\u3000 Moon pulls the seas. \n', true],
    ['unpadded, 20 characters', 'Moon pulls the seas.', true],
  ])('an answer %s', (_, answer, linked) => {
    const { researcher, writer } = researcherThenWriter(answer, { 'input.value': `Rewrite for children: ${answer.trim()}` });
    expect(writer.causalInputs.includes(researcher.stepId)).toBe(linked);
  });
});
