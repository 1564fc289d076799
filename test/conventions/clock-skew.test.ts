/**
 * Clock skew between the hosts of one run: a supervisor calls two agents as tools, each running in
 * its own process (own resource, own clock). The span tree says the nested agents ran inside
 * the tool calls; when a remote host's clock is ahead, by the timestamps the nested agent's
 * answer ended after the supervisor's next step started — C7 did not link it, and the agent lost
 * its credit (a +1 s skew flipped the sign of the researcher's answer, +3 s gave it 0, and in a
 * failed run the supervisor's later steps became `before-error`). Spans from the real OTel JS SDK,
 * one TracerProvider per host.
 */
import { context, SpanStatusCode, trace, type Span as OtelSpan, type Tracer } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { CreditEvent, EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf } from './sdk.js';

const msgs = (m: unknown[]) => JSON.stringify(m);
const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });
const call = (id: string, name: string, args: object) => ({ role: 'assistant', parts: [{ type: 'tool_call', id, name, arguments: args }] });
const result = (id: string, value: string) => ({ role: 'tool', parts: [{ type: 'tool_call_response', id, result: value }] });

/** Spans of the run, recorded on three hosts; `skewMs` moves every timestamp of a host. */
function run(skewMs: { researcher?: number; writer?: number } = {}, options: { researchFails?: boolean } = {}): Span[] {
  const exporter = new InMemorySpanExporter();
  const tracerOf = (host: string): Tracer =>
    new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': `agents-${host}`, 'host.name': host }), spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('agents', '1.0.0');
  const hosts = { supervisor: tracerOf('a'), researcher: tracerOf('b'), writer: tracerOf('c') };
  const skew = { supervisor: 0, researcher: skewMs.researcher ?? 0, writer: skewMs.writer ?? 0 };
  const start = (host: keyof typeof hosts, name: string, ms: number, attributes: Record<string, unknown>, parent?: OtelSpan): OtelSpan =>
    hosts[host].startSpan(name, { startTime: at(ms + skew[host]), attributes: attributes as never, ...(parent ? {} : { root: true }) }, parent ? trace.setSpan(context.active(), parent) : context.active());
  const end = (host: keyof typeof hosts, span: OtelSpan, ms: number) => span.end(at(ms + skew[host]));
  const chat = (host: keyof typeof hosts, s: number, e: number, input: unknown[], output: unknown[], parent: OtelSpan) =>
    end(host, start(host, 'chat m', s, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.input.messages': msgs(input), 'gen_ai.output.messages': msgs(output) }, parent), e);
  // times in ms from a 10 s origin (the run lasts 6.1 s)
  const T = (ms: number) => 10_000 + ms;
  const root = start('supervisor', 'invoke_agent supervisor', T(0), { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
  chat('supervisor', T(100), T(200), [text('user', 'write an article on tides')], [call('call_r', 'research', { topic: 'tides' })], root);
  const research = start('supervisor', 'execute_tool research', T(300), { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'research', 'gen_ai.tool.call.id': 'call_r', 'gen_ai.tool.call.result': 'Tides are caused by the moon.' }, root);
  const researcher = start('researcher', 'invoke_agent researcher', T(400), { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, research);
  const search = start('researcher', 'execute_tool web_search', T(500), { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search' }, researcher);
  if (options.researchFails) search.setStatus({ code: SpanStatusCode.ERROR, message: 'search returned the wrong page' });
  end('researcher', search, T(900));
  chat('researcher', T(1000), T(2000), [text('user', 'research tides')], [text('assistant', 'Tides are caused by the moon.')], researcher);
  end('researcher', researcher, T(2100));
  end('supervisor', research, T(2200));
  chat('supervisor', T(2300), T(3000), [result('call_r', 'Tides are caused by the moon.')], [call('call_w', 'write', { notes: 'moon' })], root);
  const write = start('supervisor', 'execute_tool write', T(3100), { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'write', 'gen_ai.tool.call.id': 'call_w', 'gen_ai.tool.call.result': 'The moon pulls the sea.' }, root);
  const writer = start('writer', 'invoke_agent writer', T(3200), { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, write);
  chat('writer', T(3300), T(5000), [text('user', 'write from: moon')], [text('assistant', 'The moon pulls the sea.')], writer);
  end('writer', writer, T(5100));
  end('supervisor', write, T(5200));
  chat('supervisor', T(5300), T(6000), [result('call_w', 'The moon pulls the sea.')], [text('assistant', 'The moon pulls the sea.')], root);
  end('supervisor', root, T(6100));
  return decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto');
}

/** What credit says, by agent and step position (span ids differ between recordings). */
function outcome(events: CreditEvent[]) {
  const episode = events[0] as EpisodeCredit;
  const rewards = events.filter((e): e is MessageReward => e.event_type === 'message_reward');
  const firstError = rewards.find((r) => r.step_id === episode.first_error?.step_id);
  return {
    credit: Object.fromEntries(episode.agents.map((a) => [a.agent_name, Number(a.credit.toFixed(9))])),
    rewards: rewards.map((r) => `${r.agent_name} ${r.name} ${r.reward.toFixed(9)} ${r.failure_role ?? ''}`).sort(),
    firstError: firstError === undefined ? undefined : `${firstError.agent_name} ${firstError.name}`,
    pairs: events.filter((e) => e.event_type === 'preference_pair').length,
  };
}

describe('clock skew between the hosts of agents called as tools', () => {
  const skews = [-3000, -1000, -50, 50, 1000, 3000];

  it.each(skews)('a successful run is credited as with agreeing clocks (researcher host %i ms off, writer host the opposite)', async (ms) => {
    const same = outcome(await processEpisode(episodeOf(run(), 0.9)));
    const skewed = outcome(await processEpisode(episodeOf(run({ researcher: ms, writer: -ms }), 0.9)));
    expect(skewed).toEqual(same);
    expect(same.credit.researcher).toBeGreaterThan(0);
    expect(same.credit.writer).toBeGreaterThan(0);
  });

  it.each(skews)('a failed run keeps its first error, blame, roles and pairs (researcher host %i ms off)', async (ms) => {
    const same = outcome(await processEpisode(episodeOf(run({}, { researchFails: true }), 0.1)));
    const skewed = outcome(await processEpisode(episodeOf(run({ researcher: ms, writer: ms }, { researchFails: true }), 0.1)));
    expect(same.firstError).toBe('researcher execute_tool web_search');
    expect(skewed).toEqual(same);
  });

  it("the nested agent's answer is read by the supervisor's next step; events keep each span's own start time", async () => {
    const spans = run({ researcher: 3000 });
    const { steps } = stepsFromSpans(spans);
    const researcherChat = steps.find((s) => s.agentName === 'researcher' && s.kind === 'llm')!;
    const next = steps.filter((s) => s.agentName === 'supervisor' && s.kind === 'llm')[1]!;
    expect(next.causalInputs).toContain(researcherChat.stepId);
    // moved back onto the caller's clock: 3 s minus nothing more than needed to end inside the tool call
    expect(researcherChat.clockOffsetNano).toBeLessThan(0n);
    const events = await processEpisode(episodeOf(spans, 0.9));
    const own = spans.find((s) => s.spanId === researcherChat.stepId)!;
    const reward = events.find((e): e is MessageReward => e.event_type === 'message_reward' && e.step_id === researcherChat.stepId)!;
    expect(reward.start_time_unix_nano).toBe(own.startTimeUnixNano.toString());
  });

  it('spans of one resource are never moved, even a child that ends after its parent', () => {
    const spans = run();
    const oneHost = spans.map((s) => ({ ...s, resource: spans[0]!.resource }));
    const late = oneHost.map((s) => (s.name === 'invoke_agent researcher' ? { ...s, endTimeUnixNano: s.endTimeUnixNano + 5_000_000_000n } : s));
    const { steps } = stepsFromSpans(late);
    expect(steps.every((s) => s.clockOffsetNano === undefined)).toBe(true);
    // and with agreeing clocks on separate hosts nothing moves either
    expect(stepsFromSpans(spans).steps.every((s) => s.clockOffsetNano === undefined)).toBe(true);
  });
});

/**
 * One process, one clock, two Resource objects: the app's TracerProvider and a library's (another
 * SDK version), or a collector that added `host.name` to one pipeline's records. The researcher's
 * streamed model call ends after its agent span (the stream is consumed after the agent returned),
 * while the writer's call has already started: on one clock, nothing says its times are wrong.
 */
function oneProcessRun(libraryResource: Record<string, string> | undefined): Span[] {
  const exporter = new InMemorySpanExporter();
  const tracerOf = (attrs: Record<string, string>): Tracer =>
    new BasicTracerProvider({ resource: resourceFromAttributes(attrs), spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('agents', '1.0.0');
  const app = tracerOf({ 'service.name': 'agents' });
  const library = libraryResource === undefined ? app : tracerOf({ 'service.name': 'agents', ...libraryResource });
  const start = (t: Tracer, name: string, ms: number, attributes: Record<string, unknown>, parent?: OtelSpan): OtelSpan =>
    t.startSpan(name, { startTime: at(ms), attributes: attributes as never, ...(parent ? {} : { root: true }) }, parent ? trace.setSpan(context.active(), parent) : context.active());
  const chat = (input: string, output: string) => ({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.input.messages': msgs([text('user', input)]), 'gen_ai.output.messages': msgs([text('assistant', output)]) });
  const root = start(app, 'workflow', 0, {});
  const researcher = start(app, 'invoke_agent researcher', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, root);
  start(library, 'chat m', 12, chat('research tides', 'Tides are caused by the moon.'), researcher).end(at(24));
  researcher.end(at(20));
  const writer = start(app, 'invoke_agent writer', 21, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, root);
  start(app, 'chat m', 22, chat('write from: Tides are caused by the moon.', 'The moon pulls the sea.'), writer).end(at(40));
  writer.end(at(45));
  root.end(at(50));
  return decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto');
}

describe('one process exporting through two resources is one clock', () => {
  it.each<Record<string, string>>([{ 'telemetry.sdk.version': '2.0.0-other' }, { 'host.name': 'node-1' }])('no span is moved and the edges are those of one resource (%o)', (attrs) => {
    const edges = (spans: Span[]) => {
      const { steps } = stepsFromSpans(spans);
      const index = new Map(steps.map((s, i) => [s.stepId, i]));
      return steps.map((s) => [s.kind, s.clockOffsetNano ?? 0n, s.causalInputs.map((id) => index.get(id))]);
    };
    // before: the researcher's call was moved back 4 ms onto "its parent's clock" and the writer's
    // call, which started before it ended, read its text (C8)
    expect(edges(oneProcessRun(attrs))).toEqual(edges(oneProcessRun(undefined)));
  });
});
