/**
 * A run's verdict that arrives before the run's agent spans: a multi-service trace whose front end
 * exports its SERVER root first while the agents' service exports later (its BatchSpanProcessor
 * waits up to 5 s), or a collector pipeline that batches logs faster than traces. The episode then
 * holds only the front end's spans — no agent work — and its verdict.
 *
 * Before, the verdict closed it at once (`evaluation-arrived`): an `episode_credit` with no agents
 * went out, and the run came as a correction (revision 1). Now such an episode waits for its agent
 * spans (up to `episodes.awaitEvaluationMs` after its last span), closes on its verdict when they
 * come, and is credited once; if none come it closes on its verdict as before (an `episode_credit`
 * with no agents, README "no agents"). A run whose agent spans are there closes at once, as before.
 *
 * The spans are recorded by the real OpenTelemetry JS SDK in two services (the front end's
 * `POST /api/chat` with its `fetch` CLIENT span, the agents' Express service under it, trace context
 * propagated), the verdict is a `gen_ai.evaluation.result` log record the front end emits on its
 * request's span, all serialized and decoded as the receiver does.
 */
import { SpanKind, trace, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { DegenerateEpisodeError } from '../../src/credit/index.js';
import { EpisodeAssembler, ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, contextOf, recordLogs, recordSpans } from '../conventions/sdk.js';
import { express, inside } from '../conventions/web-apps.js';

const START_MS = 1_000_000;
const { graceMs, awaitEvaluationMs } = loadConfig({ env: {} }).config.episodes;

interface TwoServiceRun {
  /** The front end's spans: SERVER `POST /api/chat` (the trace's root) and its `fetch` CLIENT span. */
  web: Span[];
  /** The agents' Express service: SERVER `POST /chat`, its handler, the supervisor, researcher and writer. */
  agentsService: Span[];
  /** The front end's verdict on its request (its root span). */
  verdict: Evaluation;
  traceId: string;
}

function twoServiceRun(score = 1): TwoServiceRun {
  let call: SpanContext | undefined;
  const web = recordSpans(
    (r) => {
      const front = r.tracer.startSpan('POST /api/chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'POST', 'url.path': '/api/chat', 'url.scheme': 'https', 'http.route': '/api/chat', 'http.response.status_code': 200 }, root: true });
      const fetch = r.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(0), attributes: { 'http.request.method': 'POST', 'url.full': 'http://agents:3000/chat', 'server.address': 'agents', 'server.port': 3000, 'http.response.status_code': 200 } }, inside(front));
      call = fetch.spanContext();
      fetch.end(at(35));
      front.end(at(36));
    },
    'otlp_proto',
    'web',
  );
  // the agents' service, called by the front end's fetch (its traceparent header)
  const agentsService = recordSpans((r) => express(r, { caller: trace.wrapSpanContext(call!) }), 'otlp_proto', 'agents');
  const root = web.find((s) => s.name === 'POST /api/chat')!;
  const logs = recordLogs((logger) =>
    logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(root.traceId, root.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': score } }),
  );
  const [verdict] = evaluationsFromLogs(logs);
  return { web, agentsService, verdict: verdict!, traceId: root.traceId };
}

const agentNames = (credit: EpisodeCredit) => credit.agents.map((a) => a.agent_name).sort();

describe("a run's verdict that arrives before its agent spans", () => {
  it('the front end\'s root, then the verdict, then the agents\' spans after grace: one revision, credited with its agents, no correction', async () => {
    const { web, agentsService, verdict, traceId } = twoServiceRun();
    expect(new Set([...web, ...agentsService].map((s) => s.traceId))).toEqual(new Set([traceId]));
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(web);
    asm.addEvaluations([verdict]);
    expect(asm.tick()).toEqual([]); // not closed on a verdict with nothing to credit yet
    clock.set(START_MS + graceMs + 3_000); // the agents' exporter's batch, past grace
    expect(asm.tick()).toEqual([]);
    asm.addSpans(agentsService);
    const [episode, ...more] = asm.tick();
    expect(more).toEqual([]);
    expect(episode).toMatchObject({ episodeId: traceId, revision: 0, correction: false, closeReason: 'evaluation-arrived' });
    expect(episode!.spans).toHaveLength(web.length + agentsService.length);
    expect(asm.stats()).toMatchObject({ open: 0, corrections: 0, lateSpans: 0, awaitingEvaluation: 0, evaluationWaitsExpired: 0 });
    const [credit] = (await processEpisode(episode!)) as EpisodeCredit[];
    expect(credit).toMatchObject({ event_type: 'episode_credit', episode_revision: 0, outcome: 'success', close_reason: 'evaluation-arrived' });
    expect(agentNames(credit!)).toEqual(['researcher', 'supervisor', 'writer']);
    expect(credit!.agents.reduce((sum, a) => sum + a.credit, 0)).toBeCloseTo(1);
  });

  it('the verdict before any span of the run (it waits for them), then the front end\'s root, then the agents\' spans: one revision', async () => {
    const { web, agentsService, verdict, traceId } = twoServiceRun();
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addEvaluations([verdict]);
    clock.advance(500);
    asm.addSpans(web);
    expect(asm.tick()).toEqual([]);
    clock.advance(awaitEvaluationMs - 1); // just within the wait, counted from the root's arrival
    expect(asm.tick()).toEqual([]);
    asm.addSpans(agentsService);
    const closed = asm.tick();
    expect(closed).toMatchObject([{ episodeId: traceId, revision: 0, closeReason: 'evaluation-arrived' }]);
    expect(asm.stats().corrections).toBe(0);
    const [credit] = (await processEpisode(closed[0]!)) as EpisodeCredit[];
    expect(agentNames(credit!)).toEqual(['researcher', 'supervisor', 'writer']);
  });

  it('with closeOnEvaluation off it closes root-ended at grace after the agents\' spans, once', async () => {
    const { web, agentsService, verdict, traceId } = twoServiceRun();
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({ closeOnEvaluation: false }, clock);
    asm.addSpans(web);
    asm.addEvaluations([verdict]);
    clock.set(START_MS + graceMs + 3_000);
    expect(asm.tick()).toEqual([]);
    asm.addSpans(agentsService);
    clock.set(START_MS + graceMs * 2 + 3_000 - 1);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    const closed = asm.tick();
    expect(closed).toMatchObject([{ episodeId: traceId, revision: 0, closeReason: 'root-ended' }]);
    expect(asm.stats().corrections).toBe(0);
    const [credit] = (await processEpisode(closed[0]!)) as EpisodeCredit[];
    expect(agentNames(credit!)).toEqual(['researcher', 'supervisor', 'writer']);
  });

  it('agent spans that never come: it closes on its verdict awaitEvaluationMs after its last span, credited with no agents as before', async () => {
    const { web, verdict, traceId } = twoServiceRun();
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(web);
    asm.addEvaluations([verdict]);
    clock.set(START_MS + awaitEvaluationMs - 1);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, awaitingEvaluation: 0 }); // it has its verdict: it waits for agents, not for a verdict
    clock.advance(1);
    const closed = asm.tick();
    expect(closed).toMatchObject([{ episodeId: traceId, revision: 0, closeReason: 'evaluation-arrived' }]);
    expect(asm.stats()).toMatchObject({ open: 0, evaluationWaitsExpired: 0 });
    const [credit] = (await processEpisode(closed[0]!)) as EpisodeCredit[];
    expect(credit).toMatchObject({ event_type: 'episode_credit', episode_revision: 0, agents: [], outcome: 'success' });
    expect(credit!.diagnostics.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^empty episode: no agents/)]));
  });

  it('a verdict on the top agent span, before that span came: the run waits for it past grace and closes on the verdict when it comes', async () => {
    const { web, agentsService, traceId } = twoServiceRun();
    const top = agentsService.find((s) => s.name === 'invoke_agent supervisor')!;
    const logs = recordLogs((logger) =>
      logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(top.traceId, top.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 } }),
    );
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(web);
    asm.addEvaluations(evaluationsFromLogs(logs));
    clock.set(START_MS + graceMs + 3_000);
    expect(asm.tick()).toEqual([]); // before: closed root-ended at grace, skipped as no-agents, then the run as revision 1
    asm.addSpans(agentsService);
    const closed = asm.tick();
    expect(closed).toMatchObject([{ episodeId: traceId, revision: 0, correction: false, closeReason: 'evaluation-arrived' }]);
    const [credit] = (await processEpisode(closed[0]!)) as EpisodeCredit[];
    expect(credit).toMatchObject({ event_type: 'episode_credit', outcome: 'success' });
    expect(agentNames(credit!)).toEqual(['researcher', 'supervisor', 'writer']);
  });

  it("a run whose agent spans are there closes on its verdict at once, as before: no wait", () => {
    const { web, agentsService, verdict, traceId } = twoServiceRun();
    const asm = new EpisodeAssembler({}, new ManualClock(START_MS));
    asm.addSpans([...web, ...agentsService]);
    asm.addEvaluations([verdict]);
    expect(asm.tick()).toMatchObject([{ episodeId: traceId, revision: 0, closeReason: 'evaluation-arrived' }]);
  });

  it('the wait is off with awaitEvaluationMs off (not above graceMs): the verdict closes it at once, as before', () => {
    const { web, verdict, traceId } = twoServiceRun();
    const asm = new EpisodeAssembler({ awaitEvaluationMs: 0 }, new ManualClock(START_MS));
    asm.addSpans(web);
    asm.addEvaluations([verdict]);
    expect(asm.tick()).toMatchObject([{ episodeId: traceId, revision: 0, closeReason: 'evaluation-arrived', spans: web }]);
  });

  it('root closed agent-free at grace, then the verdict, then the agents\' spans: the correction waits for them and is credited with its agents', async () => {
    const { web, agentsService, verdict, traceId } = twoServiceRun();
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(web);
    clock.set(START_MS + graceMs);
    const [first] = asm.tick();
    expect(first).toMatchObject({ episodeId: traceId, revision: 0, closeReason: 'root-ended' });
    let why: DegenerateEpisodeError | undefined;
    expect(await processEpisode(first!, { onSkipped: (_e, err) => (why = err) })).toEqual([]);
    expect(why?.reason).toBe('no-agents');
    clock.advance(1_000);
    asm.addEvaluations([verdict]); // late: it reopens the run, which still holds nothing to credit
    expect(asm.tick()).toEqual([]);
    clock.advance(3_000);
    asm.addSpans(agentsService);
    clock.advance(graceMs);
    const closed = asm.tick();
    expect(closed).toMatchObject([{ episodeId: traceId, revision: 1, correction: true, closeReason: 'evaluation-arrived' }]);
    expect(asm.stats().corrections).toBe(1);
    const [credit] = (await processEpisode(closed[0]!)) as EpisodeCredit[];
    expect(credit).toMatchObject({ event_type: 'episode_credit', episode_revision: 1, outcome: 'success' });
    expect(agentNames(credit!)).toEqual(['researcher', 'supervisor', 'writer']);
  });
});
