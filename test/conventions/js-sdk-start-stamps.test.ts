/**
 * An agent used as a tool in a Node app: the OTel JS SDK stamps each span's start with Date.now()
 * (whole milliseconds) and its end as that start plus the measured duration. So the nested agent's
 * last model call, which ended just before the caller's next model call really began, can be
 * recorded as ending up to 1 ms after that call's recorded start. C7 ("the last nested step that
 * ended before the reader started") then found none: with the real SDK clock about a third of such
 * runs gave the nested agent 0 and its caller everything. Spans from the real OTel SDK, with the
 * stamps the JS SDK gives such a run (the first case), and with sub-millisecond stamps as other
 * SDKs record them (the second: a step that ended after the reader started is still not read).
 * The same stamps cut C8, text passed on between agents chained in app code: the next agent's first
 * call, recorded as starting before the answer in its prompt ended, did not read it (12 of 30 runs);
 * and L2, a LangGraph JS graph's next agent node, started in the millisecond the previous one ended.
 */
import { context, trace, type Span as OtelSpan } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { episodeOf, recordSpans } from './sdk.js';

const T0 = 1_795_575_745;
const us = (n: number): [number, number] => [T0 + Math.floor(n / 1e6), (n % 1e6) * 1000];
const msgs = (m: unknown[]) => JSON.stringify(m);
const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });

/** boss → tool `researcher` → agent researcher → its model call (ends at `nestedEndUs`) → boss's next model call (starts at `readerStartUs`). */
function run(nestedEndUs: number, readerStartUs: number) {
  return recordSpans((r) => {
    const span = (name: string, startUs: number, attributes: Record<string, string>, parent?: OtelSpan) =>
      r.tracer.startSpan(name, { startTime: us(startUs), attributes, ...(parent ? {} : { root: true }) }, parent ? trace.setSpan(context.active(), parent) : context.active());
    const root = span('invoke_agent boss', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'boss' });
    span('chat m', 1_000, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.input.messages': msgs([text('user', 'research tides')]),
      'gen_ai.output.messages': msgs([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'researcher', arguments: { q: 'tides' } }] }]),
    }, root).end(us(4_200));
    const tool = span('execute_tool researcher', 5_000, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'researcher', 'gen_ai.tool.call.id': 'c1' }, root);
    const agent = span('invoke_agent researcher', 5_000, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, tool);
    span('chat m', 5_000, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': msgs([text('user', 'tides')]), 'gen_ai.output.messages': msgs([text('assistant', 'The moon causes tides.')]) }, agent).end(us(nestedEndUs));
    agent.end(us(nestedEndUs + 20));
    tool.end(us(nestedEndUs + 40));
    span('chat m', readerStartUs, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.input.messages': msgs([text('user', 'research tides'), { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'The moon causes tides.' }] }]),
      'gen_ai.output.messages': msgs([text('assistant', 'Tides: the moon.')]),
    }, root).end(us(readerStartUs + 3_100));
    root.end(us(readerStartUs + 3_200));
  });
}

const creditOf = async (spans: ReturnType<typeof run>) =>
  Object.fromEntries(((await processEpisode(episodeOf(spans, 1), { now: () => 0 }))[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));

describe('an agent used as a tool, recorded by the OTel JS SDK', () => {
  it("keeps its credit when its last step's recorded end passes the caller's next call's whole-millisecond start", async () => {
    // really: the nested call ended at ~8.95 ms, the boss's next call began at ~8.99 ms, stamped 8.000
    const stamped = await creditOf(run(8_300, 8_000));
    const apart = await creditOf(run(7_900, 9_000));
    expect(apart.researcher).toBeGreaterThan(0);
    expect(stamped).toEqual(apart);
  });

  it('a sub-millisecond start (another SDK) is taken as it is', async () => {
    const credit = await creditOf(run(8_300, 8_100));
    expect(credit.researcher).toBe(0);
  });
});

/** researcher's model call (ends at `upstreamEndUs`) → writer's first model call (starts at `readerStartUs`) whose prompt holds its answer, chained in app code. */
function chained(upstreamEndUs: number, readerStartUs: number) {
  const findings = 'Tides are caused by the gravitational pull of the moon and the sun.';
  return recordSpans((r) => {
    const span = (name: string, startUs: number, attributes: Record<string, string>, parent?: OtelSpan) =>
      r.tracer.startSpan(name, { startTime: us(startUs), attributes, ...(parent ? {} : { root: true }) }, parent ? trace.setSpan(context.active(), parent) : context.active());
    const root = span('workflow', 0, {});
    const researcher = span('invoke_agent researcher', 1_000, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, root);
    span('chat m', 1_000, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': msgs([text('user', 'research tides')]), 'gen_ai.output.messages': msgs([text('assistant', findings)]) }, researcher).end(us(upstreamEndUs));
    researcher.end(us(upstreamEndUs + 20));
    const writer = span('invoke_agent writer', readerStartUs, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, root);
    span('chat m', readerStartUs, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': msgs([text('user', `Write an article from these notes: ${findings}`)]), 'gen_ai.output.messages': msgs([text('assistant', 'The moon pulls the sea.')]) }, writer).end(us(readerStartUs + 3_100));
    writer.end(us(readerStartUs + 3_150));
    root.end(us(readerStartUs + 3_200));
  });
}

describe('agents chained in the code of a Node app (text passed on, C8)', () => {
  it("the next agent reads the answer in its prompt when that answer's recorded end passes its whole-millisecond start", async () => {
    const stamped = await creditOf(chained(4_300, 4_000));
    const apart = await creditOf(chained(3_900, 5_000));
    expect(apart.researcher).toBeGreaterThan(0);
    expect(stamped).toEqual(apart);
  });
});

/** The `metadata` attribute OpenInference's LangChain tracer writes on a run inside a LangGraph task. */
const graphMeta = (node: string, ns: string) => JSON.stringify({ langgraph_step: 1, langgraph_node: node, langgraph_triggers: [`branch:to:${node}`], langgraph_path: ['__pregel_pull', node], langgraph_checkpoint_ns: ns });

/**
 * A LangGraph JS graph of two `create_react_agent` workers run one after the other (no message
 * contents recorded: L2 passes the first's result to the second); `researcherEndUs`: the end of the
 * researcher's node spans, `writerStartUs`: the start of the writer's.
 */
function graph(researcherEndUs: number, writerStartUs: number) {
  return recordSpans((r) => {
    const span = (name: string, startUs: number, attributes: Record<string, string>, parent?: OtelSpan) =>
      r.tracer.startSpan(name, { startTime: us(startUs), attributes, ...(parent ? {} : { root: true }) }, parent ? trace.setSpan(context.active(), parent) : context.active());
    const root = span('LangGraph', 0, { 'openinference.span.kind': 'CHAIN' });
    const agent = (name: string, id: string, startUs: number, endUs: number) => {
      const ns = `${name}:${id}`;
      const node = span(name, startUs, { 'openinference.span.kind': 'CHAIN', metadata: graphMeta(name, ns) }, root);
      const model = span('agent', startUs + 100, { 'openinference.span.kind': 'CHAIN', metadata: graphMeta('agent', `${ns}|agent:${id}`) }, node);
      span('ChatOpenAI', startUs + 200, { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', metadata: graphMeta('agent', `${ns}|agent:${id}`) }, model).end(us(endUs - 300));
      model.end(us(endUs - 200));
      node.end(us(endUs));
    };
    agent('researcher', '1f0e2d3c-0001-4a5b-8c7d-000000000001', 1_000, researcherEndUs);
    agent('writer', '1f0e2d3c-0002-4a5b-8c7d-000000000002', writerStartUs, writerStartUs + 3_000);
    root.end(us(writerStartUs + 3_100));
  });
}

describe('LangGraph JS agents one after the other, no contents (L2)', () => {
  it("the next agent reads the previous one's result when their node spans' stamps overlap by less than a millisecond", async () => {
    // really: the researcher's node ended at ~9.95 ms and the writer's began at ~9.97 ms, stamped 9.000
    const stamped = await creditOf(graph(9_400, 9_000));
    const apart = await creditOf(graph(8_900, 10_000));
    expect(apart.researcher).toBeGreaterThan(0);
    expect(stamped).toEqual(apart);
  });
});
