/**
 * Agents used as tools (OpenAI Agents SDK `as_tool`, a LangGraph supervisor's workers): the
 * supervisor's tool span holds the sub-agent's spans, and the supervisor's next LLM call reads the
 * tool's result — which the sub-agent produced. Spans from the real OTel JS SDK (test/conventions/sdk.ts).
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans } from './sdk.js';

const msgs = (m: unknown[]) => JSON.stringify(m);
const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });
const call = (id: string, name: string, args: object) => ({ role: 'assistant', parts: [{ type: 'tool_call', id, name, arguments: args }] });
const result = (id: string, value: string) => ({ role: 'tool', parts: [{ type: 'tool_call_response', id, result: value }] });

/** supervisor → execute_tool research (researcher agent inside) → execute_tool write (writer inside) → answer. */
function supervisorRun(options: { researchFails?: boolean } = {}): Span[] {
  return recordSpans((r) => {
    const chat = (name: string, start: number, end: number, attrs: Record<string, unknown>, parent: Parameters<typeof r.start>[3], status?: 'error') => {
      const s = r.start(name, start, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', ...attrs }, parent);
      if (status) s.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      s.end(at(end));
      return s;
    };
    const root = r.start('invoke_agent supervisor', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
    chat('chat m', 1, 2, { 'gen_ai.input.messages': msgs([text('user', 'write an article on tides')]), 'gen_ai.output.messages': msgs([call('call_r', 'research', { topic: 'tides' })]) }, root);
    const research = r.start('execute_tool research', 3, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'research', 'gen_ai.tool.call.id': 'call_r', 'gen_ai.tool.call.result': 'Tides are caused by the moon.' }, root);
    const researcher = r.start('invoke_agent researcher', 4, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, research);
    const search = r.start('execute_tool web_search', 5, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search' }, researcher);
    if (options.researchFails) search.setStatus({ code: SpanStatusCode.ERROR, message: 'search returned the wrong page' });
    search.end(at(9));
    chat('chat m', 10, 20, { 'gen_ai.input.messages': msgs([text('user', 'research tides')]), 'gen_ai.output.messages': msgs([text('assistant', 'Tides are caused by the moon.')]) }, researcher);
    researcher.end(at(21));
    research.end(at(22));
    chat('chat m', 23, 30, { 'gen_ai.input.messages': msgs([result('call_r', 'Tides are caused by the moon.')]), 'gen_ai.output.messages': msgs([call('call_w', 'write', { notes: 'moon' })]) }, root);
    // the tool reports its agent's answer as its result, as agent-as-tool wrappers do
    const write = r.start('execute_tool write', 31, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'write', 'gen_ai.tool.call.id': 'call_w', 'gen_ai.tool.call.result': 'The moon pulls the sea.' }, root);
    const writer = r.start('invoke_agent writer', 32, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, write);
    chat('chat m', 33, 50, { 'gen_ai.input.messages': msgs([text('user', 'write from: moon')]), 'gen_ai.output.messages': msgs([text('assistant', 'The moon pulls the sea.')]) }, writer);
    writer.end(at(51));
    write.end(at(52));
    chat('chat m', 53, 60, { 'gen_ai.input.messages': msgs([result('call_w', 'The moon pulls the sea.')]), 'gen_ai.output.messages': msgs([text('assistant', 'The moon pulls the sea.')]) }, root);
    root.end(at(61));
  });
}

describe('agents used as tools', () => {
  it("the step reading a tool's result also reads the nested agent's last step", () => {
    const { steps } = stepsFromSpans(supervisorRun());
    const byAgent = (agent: string) => steps.filter((s) => s.agentName === agent && s.rewardable);
    // supervisor: chat, execute_tool research, chat, execute_tool write, chat (steps come in start order)
    const supervisor = byAgent('supervisor');
    expect(supervisor.map((s) => s.kind)).toEqual(['llm', 'tool', 'llm', 'tool', 'llm']);
    const [afterResearch, answer] = [supervisor[2], supervisor[4]];
    const researcherLast = byAgent('researcher').at(-1)!;
    expect(researcherLast.outputText).toBe('Tides are caused by the moon.');
    expect(afterResearch!.causalInputs).toContain(researcherLast.stepId);
    expect(answer!.causalInputs).toContain(byAgent('writer').at(-1)!.stepId);
    // nested steps keep their own inputs: no cycle through the tool span
    for (const s of byAgent('researcher')) expect(s.causalInputs).not.toContain(afterResearch!.stepId);
  });

  it('cooperation is rewarded: the nested agents get credit in a successful run', async () => {
    const events = await processEpisode(episodeOf(supervisorRun(), 0.9));
    const episode = events[0] as EpisodeCredit;
    const credit = new Map(episode.agents.map((a) => [a.agent_name, a.credit]));
    // before: supervisor 0.9, researcher 0, writer 0 (and, with the C7 edges alone, the writer still
    // 0: taken for a duplicate of the tool call that reported its answer)
    expect(credit.get('researcher')).toBeGreaterThan(0);
    expect(credit.get('writer')).toBeGreaterThan(0);
    const rewards = events.filter((e): e is MessageReward => e.event_type === 'message_reward');
    expect(rewards.filter((r) => r.agent_name === 'researcher' && r.kind === 'llm').every((r) => r.reward > 0)).toBe(true);
  });

  it("failure: the supervisor's steps that relayed the nested error depend on it", async () => {
    const events = await processEpisode(episodeOf(supervisorRun({ researchFails: true }), 0.1));
    const episode = events[0] as EpisodeCredit;
    const rewards = events.filter((e): e is MessageReward => e.event_type === 'message_reward');
    expect(rewards.find((r) => r.step_id === episode.first_error?.step_id)?.name).toBe('execute_tool web_search');
    const supervisorAfter = rewards.filter((r) => r.agent_name === 'supervisor' && r.kind === 'llm' && BigInt(r.start_time_unix_nano) > BigInt(rewards.find((x) => x.name === 'execute_tool web_search')!.start_time_unix_nano));
    expect(supervisorAfter.length).toBe(2);
    // before: marked `unrelated`, and the supervisor ended with a positive credit
    for (const r of supervisorAfter) expect(r.failure_role).toBe('dependent');
  });

  it('parallel nested agents in one tool call are all read, and a nested step still running is not (the latest that ended is)', () => {
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent supervisor', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
      r.start('chat m', 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': msgs([call('call_p', 'research_both', {})]) }, root).end(at(2));
      const tool = r.start('execute_tool research_both', 3, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'research_both', 'gen_ai.tool.call.id': 'call_p' }, root);
      for (const [agent, end] of [['b', 10], ['c', 12]] as const) {
        const a = r.start(`invoke_agent ${agent}`, 4, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent }, tool);
        r.start('chat m', 5, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': msgs([text('assistant', `${agent} found it`)]) }, a).end(at(end));
        if (agent === 'c') r.start('execute_tool save_memory', 13, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'save_memory' }, a).end(at(40)); // fire and forget: ends after the reader starts
        a.end(at(end + 1));
      }
      tool.end(at(14));
      r.start('chat m', 15, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': msgs([result('call_p', 'b found it; c found it')]), 'gen_ai.output.messages': msgs([text('assistant', 'done')]) }, root).end(at(20));
      root.end(at(41));
    });
    const { steps } = stepsFromSpans(spans);
    const reader = steps.filter((s) => s.agentName === 'supervisor' && s.kind === 'llm').at(-1)!;
    const chatOf = (agent: string) => steps.find((s) => s.agentName === agent && s.kind === 'llm')!.stepId;
    // before: only the last-ending descendant overall (c's save_memory, still running) — so neither
    expect(reader.causalInputs).toEqual(expect.arrayContaining([chatOf('b'), chatOf('c')]));
    expect(reader.causalInputs).not.toContain(steps.find((s) => s.name === 'execute_tool save_memory')!.stepId);
  });
});


describe('agents calling agents through tools, deep', () => {
  /**
   * Level k: agent k's chat calls `ask` (call_k), the tool span runs agent k + 1 inside it, and
   * agent k's next chat reads the result. Span objects built directly, their end times counted.
   */
  function nestedRun(depth: number): { spans: Span[]; endReads: () => number; answers: string[] } {
    let reads = 0;
    const resource = { attributes: { 'service.name': 'fleet' } };
    const scope = { name: 'test' };
    const traceId = 'ab'.repeat(16);
    let next = 0;
    const id = () => (0x1000_0000 + 7919 * ++next).toString(16).padStart(16, 'c');
    const ms = (t: number) => BigInt(t) * 1_000_000n;
    const spans: Span[] = [];
    const add = (spanId: string, parent: string | undefined, name: string, start: number, end: number, attributes: Record<string, string>) => {
      const span = { traceId, spanId, ...(parent !== undefined ? { parentSpanId: parent } : {}), name, kind: 1, startTimeUnixNano: ms(start), attributes, events: [], links: [], status: { code: 0 as const }, resource, scope };
      Object.defineProperty(span, 'endTimeUnixNano', { enumerable: true, get: () => (reads++, ms(end)) });
      spans.push(span as unknown as Span);
      return spanId;
    };
    const T = 10 * (depth + 2);
    const answers: string[] = [];
    let parent: string | undefined;
    for (let k = 0; k < depth; k++) {
      const agent = add(id(), parent, `invoke_agent agent_${k % 50}`, 10 * k + 1, 2 * T - 10 * k - 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': `agent_${k % 50}` });
      add(id(), agent, 'chat m', 10 * k + 2, 10 * k + 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': msgs([call(`call_${k}`, 'ask', { level: k })]) });
      const tool = add(id(), agent, 'execute_tool ask', 10 * k + 4, 2 * T - 10 * k - 4, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'ask', 'gen_ai.tool.call.id': `call_${k}` });
      const answer = add(id(), agent, 'chat m', 2 * T - 10 * k - 3, 2 * T - 10 * k - 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': msgs([result(`call_${k}`, `answer ${k + 1}`)]), 'gen_ai.output.messages': msgs([text('assistant', `answer ${k}`)]) });
      answers.push(answer);
      parent = tool;
    }
    return { spans, endReads: () => reads, answers };
  }

  it("500 deep: each agent's answer reads the nested agent's answer, and no span's end is read once per container above it", () => {
    const run = nestedRun(500);
    const { steps } = stepsFromSpans(run.spans);
    const byId = new Map(steps.map((s) => [s.stepId, s]));
    // the nested agent's answer is the last of its work to end (its own nested agents ended before it)
    for (let k = 0; k < 499; k++) expect(byId.get(run.answers[k]!)!.causalInputs).toContain(run.answers[k + 1]);
    // 2,000 spans: 10,093 reads; 758,416 when every tool's nested spans were gathered and sorted for it
    expect(run.endReads()).toBeLessThan(15 * run.spans.length);
  });
});
