/**
 * Evaluation events that carry no span context, only the evaluated model response's
 * `gen_ai.response.id` (the GenAI semconv's alternative when the span is not available), join the
 * LLM span that recorded that response id: whether they arrive before the span, after it, or after
 * the episode closed. Data: scenario runs recorded with the real OTel SDK (spans and log records),
 * serialized to OTLP protobuf and decoded by src/otlp.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { recordLogs, recordSpans } from '../conventions/sdk.js';
import type { ScenarioConvention } from '../../src/scenarios/types.js';

async function saboteurRun(convention: ScenarioConvention, stepEvaluationsBy: 'span-context' | 'response-id', seed = 5) {
  const run = await generateScenario({ kind: 'saboteur', convention, seed, stepEvaluationsBy });
  const spans = decodeTraces(run.tracesProto, 'otlp_proto');
  const evaluations = evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto'));
  return { run, spans, evaluations };
}

const isFlag = (e: Evaluation) => e.name === 'code_review';

describe('evaluations joined by gen_ai.response.id', () => {
  it('reads the response id of an evaluation event that has no span context', async () => {
    const { run, spans, evaluations } = await saboteurRun('genai', 'response-id');
    const flag = evaluations.find(isFlag)!;
    expect(flag.traceId).toBeUndefined();
    expect(flag.spanId).toBeUndefined();
    const flagged = spans.find((s) => s.spanId === run.expected.flaggedSpanIds[0])!;
    expect(flag.responseId).toBe(flagged.attributes['gen_ai.response.id']);
    // The system evaluation still carries its span context.
    expect(evaluations.find((e) => e.name === 'task_success')?.spanId).toBe(run.rootSpanId);
  });

  for (const convention of ['genai', 'openllmetry'] as const) {
    it(`${convention}: gives the same events as the same verdict sent with span context (verdict before and after the spans)`, async () => {
      const byContext = await saboteurRun(convention, 'span-context');
      const byResponse = await saboteurRun(convention, 'response-id');
      expect(byResponse.spans).toEqual(byContext.spans);
      /** verdictFirst: before the spans; 'resolved': after them, resolved by the caller first (as the Kafka pipeline does). */
      const eventsOf = async (spans: Span[], evaluations: Evaluation[], verdictFirst: boolean | 'resolved') => {
        const asm = new EpisodeAssembler({ closeOnEvaluation: false }, new ManualClock(0));
        const flags = evaluations.filter(isFlag);
        if (verdictFirst === true) asm.addEvaluations(flags);
        asm.addSpans(spans);
        if (verdictFirst === false) asm.addEvaluations(flags);
        if (verdictFirst === 'resolved') asm.addEvaluations(flags.map((f) => asm.resolveEvaluation(f)));
        asm.addEvaluations(evaluations.filter((e) => !isFlag(e)));
        const [episode, ...rest] = asm.flush('shutdown');
        expect(rest).toEqual([]);
        return { events: await processEpisode(episode!, { now: () => 0 }), stats: asm.stats() };
      };
      const want = await eventsOf(byContext.spans, byContext.evaluations, false);
      expect(want.events.length).toBeGreaterThan(0);
      // The verdict matters: without it the flagged step is not harmful and the rewards differ.
      const unflagged = await eventsOf(byContext.spans, byContext.evaluations.filter((e) => !isFlag(e)), false);
      expect(unflagged.events).not.toEqual(want.events);
      for (const verdictFirst of [false, true, 'resolved'] as const) {
        const got = await eventsOf(byResponse.spans, byResponse.evaluations, verdictFirst);
        expect(got.events).toEqual(want.events);
        expect(got.stats).toMatchObject({ evaluationsJoinedByResponseId: 1, unjoinableEvaluations: 0, expiredEvaluations: 0, pendingEvaluations: 0 });
      }
    });
  }

  it('a verdict naming its trace (or conversation) and a response id but no span waits for that span; it never passes for the system verdict', async () => {
    const byContext = await saboteurRun('genai', 'span-context');
    const byResponse = await saboteurRun('genai', 'response-id');
    const conversationId = byResponse.spans.find((s) => typeof s.attributes['gen_ai.conversation.id'] === 'string')!.attributes['gen_ai.conversation.id'] as string;
    for (const keyBy of ['trace', 'conversation'] as const) {
      const run = async (spans: Span[], evaluations: Evaluation[], decorate: (e: Evaluation) => Evaluation) => {
        const asm = new EpisodeAssembler({ keyBy, closeOnEvaluation: true }, new ManualClock(0));
        asm.addEvaluations(evaluations.filter(isFlag).map(decorate)); // before any span
        asm.addSpans(spans);
        expect(asm.tick(), `${keyBy}: the step verdict must not close the episode`).toEqual([]);
        asm.addEvaluations(evaluations.filter((e) => !isFlag(e)));
        const [episode] = asm.tick();
        expect(episode?.closeReason).toBe('evaluation-arrived');
        return { events: await processEpisode(episode!, { now: () => 0 }), stats: asm.stats(), episode: episode! };
      };
      const want = await run(byContext.spans, byContext.evaluations, (e) => e);
      const withTrace = await run(byResponse.spans, byResponse.evaluations, (e) => ({ ...e, traceId: byResponse.run.traceId }));
      const withConversation = await run(byResponse.spans, byResponse.evaluations, (e) => ({ ...e, conversationId }));
      for (const got of [withTrace, withConversation]) {
        expect(got.events).toEqual(want.events);
        expect(got.episode.evaluations.find(isFlag)?.spanId).toBe(byContext.evaluations.find(isFlag)!.spanId);
        expect(got.stats).toMatchObject({ evaluationsJoinedByResponseId: 1, pendingEvaluations: 0 });
      }
    }
  });

  it('counts a join by response id once, and not for a duplicate or a contradictory verdict', async () => {
    const { run, spans, evaluations } = await saboteurRun('genai', 'response-id');
    const asm = new EpisodeAssembler({ closeOnEvaluation: false }, new ManualClock(0));
    asm.addSpans(spans);
    const flag = evaluations.find(isFlag)!;
    const resolved = asm.resolveEvaluation(flag);
    expect(resolved.spanId).toBe(run.expected.flaggedSpanIds[0]);
    expect(asm.resolveEvaluation(resolved)).toBe(resolved); // resolving again changes nothing
    asm.addEvaluations([resolved, flag]); // the second is the same verdict again
    asm.addEvaluations([{ ...flag, traceId: 'ffffffffffffffffffffffffffffffff' }]); // names another trace than the response's
    expect(asm.stats()).toMatchObject({ evaluationsJoinedByResponseId: 1, duplicateEvaluations: 1, unjoinableEvaluations: 1, pendingEvaluations: 0 });
  });

  it('a verdict by response id after the episode closed reopens it as a correction', async () => {
    const { spans, evaluations } = await saboteurRun('genai', 'response-id', 9);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(spans);
    asm.addEvaluations(evaluations.filter((e) => !isFlag(e))); // the system verdict closes it
    const [first] = asm.tick();
    expect(first?.closeReason).toBe('evaluation-arrived');
    expect(first?.evaluations.some((e) => e.responseId !== undefined)).toBe(false);
    asm.addEvaluations(evaluations.filter(isFlag));
    const [correction] = asm.flush('shutdown');
    expect(correction?.revision).toBe(1);
    expect(correction?.episodeId).toBe(first?.episodeId);
    const flag = correction!.evaluations.find(isFlag)!;
    expect(flag.traceId).toBe(first!.episodeId);
    expect(spans.find((s) => s.spanId === flag.spanId)?.attributes['gen_ai.response.id']).toBe(flag.responseId);
    expect(asm.stats()).toMatchObject({ lateEvaluations: 1, corrections: 1, evaluationsJoinedByResponseId: 1 });
  });

  it("a verdict a traced judge emits inside its own span joins the response's span, not the judge's trace", async () => {
    // The judge is a service of its own with OTel on: its request span is active when it emits the
    // event, and the logs SDK stamps the record with that span's context (another trace than the
    // run's). Joined by that context, the flag scored the judge's trace as a run of its own.
    const byContext = await saboteurRun('genai', 'span-context');
    const { spans, evaluations } = await saboteurRun('genai', 'response-id');
    const flag = evaluations.find(isFlag)!;
    let judgeContext = context.active();
    const judgeSpans = recordSpans((r) => {
      const request = r.tracer.startSpan('POST /judge', { kind: SpanKind.SERVER, root: true });
      judgeContext = trace.setSpan(context.active(), request);
      request.end();
    }, 'otlp_proto', 'judge');
    const logs = recordLogs((logger) =>
      logger.emit({
        eventName: 'gen_ai.evaluation.result',
        context: judgeContext,
        attributes: { 'gen_ai.evaluation.name': 'code_review', 'gen_ai.evaluation.score.value': 0, 'gen_ai.evaluation.score.label': 'fail', 'gen_ai.response.id': flag.responseId! },
      }),
    );
    const judged = evaluationsFromLogs(logs);
    expect(judged[0]).toMatchObject({ traceId: judgeSpans[0]!.traceId, spanId: judgeSpans[0]!.spanId, responseId: flag.responseId });
    const asm = new EpisodeAssembler({ closeOnEvaluation: false }, new ManualClock(0));
    asm.addSpans(spans);
    asm.addEvaluations([...judged, ...evaluations.filter((e) => !isFlag(e))]);
    asm.addSpans(judgeSpans);
    const episodes = asm.flush('shutdown');
    const run = episodes.find((e) => e.episodeId === spans[0]!.traceId)!;
    const judge = episodes.find((e) => e.episodeId === judgeSpans[0]!.traceId)!;
    expect(run.evaluations.find(isFlag)?.spanId).toBe(byContext.evaluations.find(isFlag)!.spanId);
    expect(judge.evaluations).toEqual([]);
    expect(await processEpisode(judge, { now: () => 0 })).toEqual([]);
    const want = await processEpisode({ ...run, evaluations: byContext.evaluations.map((e) => ({ ...e, traceId: run.episodeId })) }, { now: () => 0 });
    const flagged = (await processEpisode(run, { now: () => 0 })).filter((e) => e.event_type === 'message_reward' && e.step_id === byContext.evaluations.find(isFlag)!.spanId);
    expect(flagged).toEqual(want.filter((e) => e.event_type === 'message_reward' && e.step_id === byContext.evaluations.find(isFlag)!.spanId));
    expect(asm.stats()).toMatchObject({ evaluationsJoinedByResponseId: 1 });
  });

  it('a response id no span ever records waits, then expires (counted), like any unjoined evaluation', async () => {
    const { evaluations } = await saboteurRun('genai', 'response-id');
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ pendingEvaluationTtlMs: 1_000 }, clock);
    asm.addEvaluations(evaluations.filter(isFlag));
    expect(asm.stats()).toMatchObject({ pendingEvaluations: 1, unjoinableEvaluations: 0 });
    clock.advance(1_000);
    asm.tick();
    expect(asm.stats()).toMatchObject({ pendingEvaluations: 0, expiredEvaluations: 1, evaluationsJoinedByResponseId: 0 });
  });

  it('responseIdMemory 0 turns the join off: such a verdict is counted as unjoinable', async () => {
    const { spans, evaluations } = await saboteurRun('genai', 'response-id');
    const asm = new EpisodeAssembler({ responseIdMemory: 0 }, new ManualClock(0));
    asm.addSpans(spans);
    asm.addEvaluations(evaluations.filter(isFlag));
    expect(asm.stats()).toMatchObject({ unjoinableEvaluations: 1, pendingEvaluations: 0, evaluationsJoinedByResponseId: 0 });
  });

  it('rejects response-id step verdicts for OpenInference, whose LLM spans record no response id', async () => {
    await expect(generateScenario({ kind: 'saboteur', convention: 'openinference', seed: 1, stepEvaluationsBy: 'response-id' })).rejects.toThrow(/stepEvaluationsBy.*genai, openllmetry/);
  });

  describe("a verdict of the run's final response, by response id alone (an LLM judge of the answer)", () => {
    async function judged(pick: 'final' | 'earlier', withRootVerdict: boolean, evaluationName: string | null = 'answer_quality') {
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 11 });
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      const responses = spans.filter((s) => s.attributes['gen_ai.response.id'] !== undefined).sort((a, b) => (a.endTimeUnixNano < b.endTimeUnixNano ? -1 : 1));
      expect(responses.length).toBeGreaterThan(1);
      const target = pick === 'final' ? responses.at(-1)! : responses[0]!;
      const judge: Evaluation = { name: 'answer_quality', score: 0.8, responseId: String(target.attributes['gen_ai.response.id']), source: 'evaluations-stream', timeUnixNano: 1n };
      const asm = new EpisodeAssembler({}, new ManualClock(0));
      asm.addSpans(spans);
      const root = withRootVerdict ? evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).filter((e) => e.name === 'task_success') : [];
      asm.addEvaluations([judge, ...root]);
      const [episode] = asm.flush('shutdown');
      expect(episode!.evaluations.find((e) => e.name === 'answer_quality')?.spanId).toBe(target.spanId);
      const skipped: string[] = [];
      const events = await processEpisode(episode!, { ...(evaluationName !== null ? { evaluationName } : {}), onSkipped: (_e, err) => void skipped.push(err.message) });
      return { events, skipped, run };
    }

    it('scores the run when nothing evaluates the run itself (before: no credit, "all of inner spans")', async () => {
      const { events } = await judged('final', false);
      const head = events[0];
      expect(head?.event_type).toBe('episode_credit');
      expect(head?.event_type === 'episode_credit' && head.system_value).toBe(0.8);
    });

    it('a verdict of an earlier response still only flags that step: no credit, and the reason names the final response', async () => {
      const { events, skipped } = await judged('earlier', false);
      expect(events).toEqual([]);
      expect(skipped[0]).toMatch(/all of inner spans.*the run's final response by its gen_ai\.response\.id/);
    });

    it('only under evaluation.name: unnamed, a per-response metric would score runs — the reason says what to set', async () => {
      const { events, skipped } = await judged('final', false, null);
      expect(events).toEqual([]);
      expect(skipped[0]).toMatch(/"answer_quality" evaluates the run's final response .*set evaluation\.name to "answer_quality"/);
    });

    it('the final response recorded twice (the framework\'s span and the provider SDK\'s inside it, one response id): the verdict scores the run whether it arrives before the spans, between them or after', async () => {
      // The inner copy ends first and is noted first: a verdict waiting for the response id took
      // the inner span, one arriving after both the outer (the latest noted) — and only the outer
      // ended last, so the run got its credit or none by the order its telemetry arrived in.
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 11 });
      const decoded = decodeTraces(run.tracesProto, 'otlp_proto');
      const outer = decoded.filter((s) => s.attributes['gen_ai.response.id'] !== undefined).sort((a, b) => (a.endTimeUnixNano < b.endTimeUnixNano ? -1 : 1)).at(-1)!;
      const inner: Span = { ...outer, spanId: 'f'.repeat(16), parentSpanId: outer.spanId, endTimeUnixNano: outer.endTimeUnixNano - 1_000_000n };
      const spans = decoded.flatMap((s) => (s === outer ? [inner, s] : [s]));
      const judge: Evaluation = { name: 'answer_quality', score: 0.8, responseId: String(outer.attributes['gen_ai.response.id']), source: 'evaluations-stream', timeUnixNano: 1n };
      const cut = spans.indexOf(outer);
      const eventsOf = async (requests: Span[][], verdictAfter: number) => {
        const asm = new EpisodeAssembler({}, new ManualClock(0));
        requests.forEach((r, i) => {
          if (i === verdictAfter) asm.addEvaluations([judge]);
          asm.addSpans(r);
        });
        if (verdictAfter === requests.length) asm.addEvaluations([judge]);
        const [episode] = asm.flush('shutdown');
        return (await processEpisode(episode!, { evaluationName: 'answer_quality', now: () => 0 })).map((e) => JSON.stringify(e));
      };
      const after = await eventsOf([spans], 1);
      expect(after[0]).toContain('"system_value":0.8');
      expect(await eventsOf([spans], 0)).toEqual(after);
      expect(await eventsOf([spans.slice(0, cut), spans.slice(cut)], 1)).toEqual(after);
    });

    it('the same verdict by response id sent again after the spans of a call recorded twice is a duplicate, not a correction', async () => {
      // The first copy waited for the response id and joined the span noted first (the inner
      // copy); the re-sent one was resolved to the latest noted (the outer), so it was no copy of
      // a held verdict: the closed run was reopened and credited again as revision 1.
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 11 });
      const decoded = decodeTraces(run.tracesProto, 'otlp_proto');
      const outer = decoded.filter((s) => s.attributes['gen_ai.response.id'] !== undefined).sort((a, b) => (a.endTimeUnixNano < b.endTimeUnixNano ? -1 : 1)).at(-1)!;
      const inner: Span = { ...outer, spanId: 'f'.repeat(16), parentSpanId: outer.spanId, endTimeUnixNano: outer.endTimeUnixNano - 1_000_000n };
      const judge: Evaluation = { name: 'answer_quality', score: 0.8, responseId: String(outer.attributes['gen_ai.response.id']), source: 'evaluations-stream', timeUnixNano: 1n };
      const clock = new ManualClock(0);
      const asm = new EpisodeAssembler({}, clock);
      asm.addEvaluations([judge]);
      asm.addSpans(decoded.flatMap((s) => (s === outer ? [inner, s] : [s])));
      asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
      expect(asm.tick().map((e) => e.revision)).toEqual([0]);
      asm.addEvaluations([judge]);
      clock.advance(600_000);
      expect([...asm.tick(), ...asm.flush('shutdown')]).toEqual([]);
      expect(asm.stats()).toMatchObject({ duplicateEvaluations: 1, lateEvaluations: 0 });
    });

    it("a run-level verdict wins over the final response's", async () => {
      const { events, run } = await judged('final', true, null);
      const head = events[0];
      expect(head?.event_type === 'episode_credit' && head.system_value).toBe(run.expected.score);
    });
  });
});
