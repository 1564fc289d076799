/**
 * Message part types of the GenAI input/output messages JSON schemas besides text and tool calls
 * (semantic-conventions-genai `model/gen-ai/gen-ai-{input,output}-messages.json`: `reasoning`,
 * `blob`, `file`, `uri`, `server_tool_call`, `server_tool_call_response`, `compaction`, generic).
 * A reasoning model's answer is recorded as `[{type: 'reasoning', content: <thinking>}, {type:
 * 'text', content: <answer>}]` (Anthropic thinking blocks, OpenAI reasoning summaries); an image
 * sent or generated inline is a `blob` part whose `content` is base64. Neither is what the agent
 * said. Spans from the real OTel JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans } from './sdk.js';

const ANSWER = 'Tides are caused mainly by the gravitational pull of the moon.';
const THINKING = 'The user asks about tides. I should recall the physics: gravity of the moon and sun, the rotation of the earth, and keep the answer to one sentence as requested.';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** researcher answers (parts `first` before the text); the writer is run on that answer in application code (C8). */
function pipeline(first: Record<string, unknown>): Span[] {
  return recordSpans((r) => {
    const wf = r.start('invoke_workflow research', 0, { 'gen_ai.operation.name': 'invoke_workflow' });
    const chat = (parent: Parameters<typeof r.start>[3], start: number, input: string, output: unknown[]) =>
      r.start('chat claude', start, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: input }] }]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: output, finish_reason: 'stop' }]),
      }, parent).end(at(start + 5));
    const researcher = r.start('invoke_agent researcher', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, wf);
    chat(researcher, 2, 'What causes tides? Answer in one sentence.', [first, { type: 'text', content: ANSWER }]);
    researcher.end(at(8));
    const writer = r.start('invoke_agent writer', 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, wf);
    chat(writer, 11, `Write a paragraph for children from these notes:\n${ANSWER}`, [{ type: 'text', content: 'The moon tugs at the sea.' }]);
    writer.end(at(17));
    wf.end(at(18));
  });
}

describe('GenAI message parts that are not what the agent said', () => {
  it('a reasoning part is not the output text: the answer passed on is still found (C8)', () => {
    const { steps } = stepsFromSpans(pipeline({ type: 'reasoning', content: THINKING }));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  it('the researcher whose answer the writer used gets credit (before: its thinking was the probe, 0)', async () => {
    const events = await processEpisode(episodeOf(pipeline({ type: 'reasoning', content: THINKING }), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });

  it("Pydantic AI's thinking part ({type: 'thinking'}, pydantic_ai ModelResponse.otel_message_parts) is not the output text either", async () => {
    const { steps } = stepsFromSpans(pipeline({ type: 'thinking', content: THINKING }));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
    const events = await processEpisode(episodeOf(pipeline({ type: 'thinking', content: THINKING }), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });

  it("nor Pydantic AI's binary part ({type: 'binary'}: a file's base64 bytes before its instrumentation version 4)", () => {
    const { steps } = stepsFromSpans(pipeline({ type: 'binary', media_type: 'image/png', content: PNG }));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
  });

  it("nor Strands' reasoningContent part (telemetry/tracer.py _map_content_blocks_to_otel_parts: a Bedrock block's key as type, its value as content)", async () => {
    const part = { type: 'reasoningContent', content: { reasoningText: { text: THINKING, signature: 'c2ln' } } };
    const { steps } = stepsFromSpans(pipeline(part));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
    const events = await processEpisode(episodeOf(pipeline(part), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });

  it("nor a reasoningContent block of Strands' default gen_ai.choice span event (content-events.ts strandsParts)", () => {
    const spans = recordSpans((r) => {
      const common = { 'gen_ai.system': 'strands-agents' };
      const chat = (parent: Parameters<typeof r.start>[3], start: number, input: string, out: unknown[]) => {
        const s = r.start('chat', start, { ...common, 'gen_ai.operation.name': 'chat' }, parent);
        s.addEvent('gen_ai.user.message', { content: JSON.stringify([{ text: input }]) }, at(start));
        s.addEvent('gen_ai.choice', { finish_reason: 'end_turn', message: JSON.stringify(out) }, at(start + 4));
        s.end(at(start + 5));
      };
      const researcher = r.start('invoke_agent researcher', 1, { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' });
      chat(researcher, 2, 'What causes tides? Answer in one sentence.', [{ reasoningContent: { reasoningText: { text: THINKING, signature: 'c2ln' } } }, { text: ANSWER }]);
      researcher.end(at(8));
      const writer = r.start('invoke_agent writer', 10, { ...common, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' });
      chat(writer, 11, `Write a paragraph for children from these notes:\n${ANSWER}`, [{ text: 'The moon tugs at the sea.' }]);
      writer.end(at(17));
    });
    const { steps } = stepsFromSpans(spans);
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  it('an inline blob (base64 bytes) is not text either', () => {
    const { steps } = stepsFromSpans(pipeline({ type: 'blob', modality: 'image', mime_type: 'image/png', content: PNG }));
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
  });
});

/**
 * The same in OpenInference's flattened form (Arize-ai/openinference spec/semantic_conventions.md
 * `message_content.type` "reasoning"): its Anthropic instrumentations (JS `getAnthropicOutputMessagesAttributes`,
 * Python `_stream.py`) write a thinking block as `llm.output_messages.0.message.contents.0` of type `reasoning`
 * with its thinking as `message_content.text`, then the answer as `contents.1` of type `text`.
 */
function openinferencePipeline(): Span[] {
  return recordSpans((r) => {
    const root = r.start('research', 0, { 'openinference.span.kind': 'CHAIN' });
    const llm = (parent: Parameters<typeof r.start>[3], start: number, input: string, contents: [string, string][]) => {
      const attrs: Record<string, string> = {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'claude',
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': input,
        'llm.output_messages.0.message.role': 'assistant',
      };
      contents.forEach(([type, text], i) => {
        attrs[`llm.output_messages.0.message.contents.${i}.message_content.type`] = type;
        attrs[`llm.output_messages.0.message.contents.${i}.message_content.text`] = text;
      });
      r.start('Messages.create', start, attrs, parent).end(at(start + 5));
    };
    const researcher = r.start('researcher', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'researcher' }, root);
    llm(researcher, 2, 'What causes tides? Answer in one sentence.', [['reasoning', THINKING], ['text', ANSWER]]);
    researcher.end(at(8));
    const writer = r.start('writer', 10, { 'openinference.span.kind': 'AGENT', 'agent.name': 'writer' }, root);
    llm(writer, 11, `Write a paragraph for children from these notes:\n${ANSWER}`, [['text', 'The moon tugs at the sea.']]);
    writer.end(at(17));
    root.end(at(18));
  });
}

describe('OpenInference message contents that are not what the agent said', () => {
  it('a reasoning content part is not the output text: the answer passed on is still found (C8)', () => {
    const { steps } = stepsFromSpans(openinferencePipeline());
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  it('the researcher whose answer the writer used gets credit (before: its thinking was the probe, 0)', async () => {
    const events = await processEpisode(episodeOf(openinferencePipeline(), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });
});

/**
 * OpenLLMetry's legacy flattened completions (traceloop/openllmetry opentelemetry-instrumentation-anthropic
 * `span_utils.py` `_set_span_completions`): an `anthropic.chat` span (`llm.request.type` `completion`) writes a
 * thinking block as a completion of its own, `gen_ai.completion.0.role = "thinking"` with the thinking as its
 * `content`, and the answer as `gen_ai.completion.1`.
 */
function openllmetryPipeline(): Span[] {
  return recordSpans((r) => {
    const wf = r.start('research.workflow', 0, { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'research' });
    const chat = (parent: Parameters<typeof r.start>[3], start: number, input: string, completions: [string, string][]) => {
      const attrs: Record<string, string> = {
        'gen_ai.system': 'Anthropic',
        'llm.request.type': 'completion',
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': input,
      };
      completions.forEach(([role, content], i) => {
        attrs[`gen_ai.completion.${i}.role`] = role;
        attrs[`gen_ai.completion.${i}.content`] = content;
      });
      r.start('anthropic.chat', start, attrs, parent).end(at(start + 5));
    };
    const agent = (name: string, start: number) =>
      r.start(`${name}.agent`, start, { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': name }, wf);
    const researcher = agent('researcher', 1);
    chat(researcher, 2, 'What causes tides? Answer in one sentence.', [['thinking', THINKING], ['assistant', ANSWER]]);
    researcher.end(at(8));
    const writer = agent('writer', 10);
    chat(writer, 11, `Write a paragraph for children from these notes:\n${ANSWER}`, [['assistant', 'The moon tugs at the sea.']]);
    writer.end(at(17));
    wf.end(at(18));
  });
}

describe('OpenLLMetry thinking completions are not what the agent said', () => {
  it('a thinking completion is not the output text: the answer passed on is still found (C8)', () => {
    const { steps } = stepsFromSpans(openllmetryPipeline());
    const researcher = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const writer = steps.find((s) => s.agentName === 'writer' && s.kind === 'llm')!;
    expect(researcher.outputText).toBe(ANSWER);
    expect(writer.causalInputs).toContain(researcher.stepId);
  });

  it('the researcher whose answer the writer used gets credit (before: its thinking was the probe, 0)', async () => {
    const events = await processEpisode(episodeOf(openllmetryPipeline(), 1));
    const credit = new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
    expect(credit.get('researcher')).toBeGreaterThan(0);
  });
});
