/**
 * Credit for a run recorded by the real @opentelemetry/instrumentation-openai around the real
 * openai client (test/support/openai-instrumented-run.ts): the chat spans carry no messages, the
 * instrumentation logs them as `gen_ai.*.message` / `gen_ai.choice` events. Read through
 * src/conventions/content-events.ts, the researcher's findings that the app hands to the writer
 * (C8) link the two agents, and the tool call is followed from the call to its result (C3).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { contentSpansFromLogs } from '../../src/conventions/content-events.js';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { recordOpenAIRun, RESEARCH_FINDINGS, researchWriteRun, runLogBytes, runTraceBytes, type InstrumentedRun, type OpenAIRunPlan } from '../support/openai-instrumented-run.js';

type Encoding = 'otlp_proto' | 'otlp_json';

/** The run as the receiver gets it: spans, log records (content events + the verdict), decoded. */
function decoded(run: InstrumentedRun, encoding: Encoding): { spans: Span[]; logs: LogRecord[] } {
  return { spans: decodeTraces(runTraceBytes(run, encoding), encoding), logs: decodeLogs(runLogBytes(run, encoding), encoding) };
}

/** Episode credit through the real assembler, with or without the content events. */
async function creditOf(spans: Span[], logs: LogRecord[], withContent: boolean): Promise<EpisodeCredit> {
  const asm = new EpisodeAssembler();
  asm.addSpans(spans);
  if (withContent) asm.addSpans(contentSpansFromLogs(logs));
  asm.addEvaluations(evaluationsFromLogs(logs));
  const [episode, ...rest] = asm.flush('shutdown');
  expect(rest).toEqual([]);
  const events = await processEpisode(episode!);
  return events.find((e): e is EpisodeCredit => e.event_type === 'episode_credit')!;
}

const creditOfAgent = (ev: EpisodeCredit, name: string): number => ev.agents.find((a) => a.agent_name === name)!.credit;

describe.each<Encoding>(['otlp_proto', 'otlp_json'])('a run instrumented by @opentelemetry/instrumentation-openai (%s)', (encoding) => {
  let run: InstrumentedRun;
  let spans: Span[];
  let logs: LogRecord[];
  beforeAll(async () => {
    run = await recordOpenAIRun(researchWriteRun({ score: 1 }));
    ({ spans, logs } = decoded(run, encoding));
  });

  it('its chat spans carry no messages; the content events give them their prompts, completions and tool calls', () => {
    const plain = stepsFromSpans(spans).steps.filter((s) => s.kind === 'llm');
    expect(plain).toHaveLength(3);
    expect(plain.every((s) => s.inputText === undefined && s.outputText === undefined)).toBe(true);

    const { steps } = stepsFromSpans([...spans, ...contentSpansFromLogs(logs)]);
    const llm = steps.filter((s) => s.kind === 'llm');
    expect(llm.map((s) => s.stepId)).toEqual(run.chatSpanIds);
    const [search, findings, article] = llm;
    expect(search!.inputText).toContain('Texas power grid');
    expect(findings!.outputText).toBe(RESEARCH_FINDINGS);
    expect(article!.inputText).toContain(RESEARCH_FINDINGS);
    // C3: the tool step reads the call that issued it, the second researcher call reads its result
    const tool = steps.find((s) => s.kind === 'tool')!;
    expect(tool.causalInputs).toContain(search!.stepId);
    expect(findings!.causalInputs).toContain(tool.stepId);
    // C8: the writer's call reads the researcher's findings, passed on in code
    expect(article!.causalInputs).toContain(findings!.stepId);
  });

  it('credit: without the events the researcher, whose findings the article is made of, gets nothing; with them it gets its share', async () => {
    const without = await creditOf(spans, logs, false);
    const withContent = await creditOf(spans, logs, true);
    expect(creditOfAgent(without, 'researcher')).toBe(0);
    expect(creditOfAgent(withContent, 'researcher')).toBeGreaterThan(0.1);
    expect(creditOfAgent(withContent, 'writer')).toBeGreaterThan(0.1);
    // efficiency holds either way: Σ credit = system value − baseline
    for (const ev of [without, withContent]) {
      expect(ev.agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(ev.system_value - ev.baseline, 9);
    }
  });

  it('with message capture off (the instrumentation\'s default) the events carry no text, and the credit is that of the run without them', async () => {
    const bare = await recordOpenAIRun(researchWriteRun({ score: 1 }), { captureContent: false });
    const d = decoded(bare, encoding);
    // every message is still logged ({} bodies, {id}, tool calls without arguments): only those
    // that name a tool call or the call they answer are kept — the rest would only be held
    const kept = contentSpansFromLogs(d.logs);
    expect(bare.contentLogRecords.length).toBe(run.contentLogRecords.length);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(bare.contentLogRecords.length / 2);
    for (const s of kept) {
      const [m] = s.attributes['agent_credit.content.messages'] as Record<string, unknown>[];
      expect(m!['content']).toBeUndefined();
      expect(m!['tool_calls'] !== undefined || m!['tool_call_id'] !== undefined).toBe(true);
    }
    const without = await creditOf(d.spans, d.logs, false);
    const withEvents = await creditOf(d.spans, d.logs, true);
    expect(withEvents.agents.map((a) => [a.agent_name, a.credit])).toEqual(without.agents.map((a) => [a.agent_name, a.credit]));
  });
});

/** One agent polling a tool with the same call until the state it reads changes (instrumentation-openai, content events). */
function pollingRun(): OpenAIRunPlan {
  const poll = { name: 'deploy_status', arguments: { q: '7' } };
  return {
    agents: [
      {
        name: 'deployer',
        input: 'Wait until deploy 7 is live, then say so.',
        tools: [{ type: 'function', function: { name: 'deploy_status', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
        steps: [
          { kind: 'chat', reply: { toolCalls: [{ id: 'call_1', ...poll }] } },
          { kind: 'tool', result: 'running' },
          { kind: 'chat', reply: { toolCalls: [{ id: 'call_2', ...poll }] } },
          { kind: 'tool', result: 'live' },
          { kind: 'chat', reply: { text: 'Deploy 7 is live.' } },
        ],
      },
    ],
    score: 1,
  };
}

describe('a model that calls the same tool again after reading its result (a poll, a retry after an error text)', () => {
  it('the repeated call is not redundant: it is on the path to the answer and gets a positive reward (content events give it its call)', async () => {
    const run = await recordOpenAIRun(pollingRun());
    const { spans, logs } = decoded(run, 'otlp_proto');
    const asm = new EpisodeAssembler();
    asm.addSpans(spans);
    asm.addSpans(contentSpansFromLogs(logs));
    asm.addEvaluations(evaluationsFromLogs(logs));
    const events = await processEpisode(asm.flush('shutdown')[0]!);
    const rewards = events.filter((e): e is MessageReward => e.event_type === 'message_reward');
    const second = rewards.find((r) => r.step_id === run.chatSpanIds[1])!;
    expect(second.components.redundancy).toBe(0); // before: −0.5, as a duplicate of the first poll
    expect(second.reward).toBeGreaterThan(0); // before: −0.36, the run's worst
  });
});
