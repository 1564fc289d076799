/**
 * A span-level evaluation flags its step (`flaggedErroneous`) when it says the step failed, in the
 * sense a run verdict fails a run: its R — the score through `credit.normalization.<name>` (range,
 * `higherIsBetter`) — below τ (`credit.successThreshold.<name>`, else `defaultSuccessThreshold`).
 * Before, a step was flagged when its raw score was ≤ 0 whatever its range: a 1–5 Likert judge's
 * worst step (1) was never flagged, on [−1, 1] a neutral 0 was, and a step judged 0.2 on [0, 1]
 * was not, though a run judged 0.2 fails.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import type { CreditOptionsInput } from '../../src/credit/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { creditInputOf, processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { at, contextOf, creditEventsOf, episodeOf, recordLogs, recordSpans } from './sdk.js';

/** planner (one LLM call) hands over to writer (one LLM call), under one root: GenAI semconv spans. */
function run(): { spans: Span[]; root: Span; planner: Span; writer: Span } {
  const spans = recordSpans((r) => {
    const root = r.start('invoke_agent supervisor', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
    const planner = r.start('invoke_agent planner', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' }, root);
    r.start('chat plan', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, planner).end(at(3));
    planner.end(at(4));
    const writer = r.start('invoke_agent writer', 5, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, root);
    r.start('chat write', 6, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, writer).end(at(7));
    writer.end(at(8));
    root.end(at(9));
  });
  return { spans, root: spans.find((s) => s.name === 'invoke_agent supervisor')!, planner: spans.find((s) => s.name === 'chat plan')!, writer: spans.find((s) => s.name === 'chat write')! };
}

/** A `gen_ai.evaluation.result` log record of `span`, as a judge's SDK emits it. */
function verdictOn(span: Span, name: string, score: number) {
  return recordLogs((logger) => logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(span.traceId, span.spanId), attributes: { 'gen_ai.evaluation.name': name, 'gen_ai.evaluation.score.value': score } }));
}

/** Whether processEpisode's conventions pass flags the writer's LLM step judged `score` by `name`, under `credit`. */
function writerFlagged(name: string, score: number, credit?: CreditOptionsInput): boolean {
  const { spans, writer } = run();
  const episode = episodeOf(spans, 1);
  const input = creditInputOf({ ...episode, evaluations: [...episode.evaluations, ...evaluationsFromLogs(verdictOn(writer, name, score))] }, { evaluationName: 'task_success', ...(credit !== undefined ? { credit } : {}) });
  return input.steps.find((s) => s.stepId === writer.spanId)!.flaggedErroneous === true;
}

describe('a step verdict is read as the run verdict is', () => {
  it('a 1–5 Likert judge (normalization {min: 1, max: 5}): its worst score 1 flags the step (before: never flagged), 3 (R = 0.5 = τ) does not', () => {
    const likert = { normalization: { helpfulness: { min: 1, max: 5 } } };
    expect([1, 2, 3, 4, 5].map((s) => writerFlagged('helpfulness', s, likert))).toEqual([true, true, false, false, false]);
  });

  it('on [−1, 1]: −0.5 (R = 0.25) flags, a neutral 0 (R = 0.5) no longer does', () => {
    const signed = { normalization: { stance: { min: -1, max: 1 } } };
    expect([-1, -0.5, 0, 0.5].map((s) => writerFlagged('stance', s, signed))).toEqual([true, true, false, false]);
  });

  it('a name with τ or a range configured: a score below τ flags (0.2 on [0, 1] was not flagged before); 0 still flags, 0.5 and 1 do not', () => {
    expect([0, 0.2, 0.49, 0.5, 1].map((s) => writerFlagged('correctness', s, { successThreshold: { correctness: 0.5 } }))).toEqual([true, true, true, false, false]);
    expect([0, 0.2, 0.49, 0.5, 1].map((s) => writerFlagged('correctness', s, { normalization: { correctness: { min: 0, max: 1 } } }))).toEqual([true, true, true, false, false]);
  });

  it('a name nothing is configured for flags only at its worst score 0, whatever defaultSuccessThreshold says (708b78a flagged 0.2 and 0.49: every mediocre relevancy, every clean toxicity)', () => {
    expect([0, 0.2, 0.49, 0.5, 1].map((s) => writerFlagged('answer_relevancy', s))).toEqual([true, false, false, false, false]);
    expect([0, 0.05, 0.3, 1].map((s) => writerFlagged('faithfulness', s, { defaultSuccessThreshold: 0.7 }))).toEqual([true, false, false, false]);
  });

  it('an unconfigured lower-is-better metric (DeepEval / Phoenix toxicity, bias, hallucination) flags only at its worst score 1, not at a clean 0', () => {
    // read as higher-is-better, every clean 0.0 toxicity on a step flagged it harmful, and a toxic 1.0 passed
    for (const name of ['toxicity', 'Toxicity', 'Bias', 'hallucination', 'deepeval.Hallucination', 'toxicity_score', 'HallucinationMetric']) {
      expect([0, 0.05, 0.5, 0.99, 1].map((s) => writerFlagged(name, s, { defaultSuccessThreshold: 0.7 })), name).toEqual([false, false, false, false, true]);
    }
    // names that only contain one of them are not taken for it
    expect([0, 1].map((s) => writerFlagged('non_toxicity', s))).toEqual([true, false]);
    // configured, the name follows its configuration (here: higher-is-better on [0, 1])
    expect([0, 0.4, 1].map((s) => writerFlagged('toxicity', s, { normalization: { toxicity: { min: 0, max: 1 } } }))).toEqual([true, true, false]);
  });

  it('τ per evaluation name applies to steps: successThreshold.helpfulness 0.2 on 1–5 flags only the worst score', () => {
    const credit = { normalization: { helpfulness: { min: 1, max: 5 } }, successThreshold: { helpfulness: 0.2 } };
    expect([1, 2].map((s) => writerFlagged('helpfulness', s, credit))).toEqual([true, false]);
    // a name whose τ is 0 never flags (nor fails a run): the way to keep a metric out of step flags
    expect(writerFlagged('tone', 0, { successThreshold: { tone: 0 } })).toBe(false);
  });

  it('normalize: false keeps the range’s units: τ = 3 on 1–5 flags 2, not 3; lower-is-better is reflected first', () => {
    const raw = { normalize: false, normalization: { helpfulness: { min: 1, max: 5 } }, successThreshold: { helpfulness: 3 } };
    expect([2, 3].map((s) => writerFlagged('helpfulness', s, raw))).toEqual([true, false]);
    const lower = { normalization: { hallucination: { min: 0, max: 1, higherIsBetter: false } } };
    expect([0, 0.4, 0.6, 1].map((s) => writerFlagged('hallucination', s, lower))).toEqual([false, false, true, true]);
  });

  it('a configured name flags the step exactly when the same evaluation of the run would make it a failure', async () => {
    const cases: { credit: CreditOptionsInput; scores: number[]; name?: string }[] = [
      { credit: { successThreshold: { quality: 0.5 } }, scores: [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5] },
      // a lower-is-better name by default (toxicity) with only its threshold configured: both sides reflect it
      { name: 'toxicity', credit: { successThreshold: { toxicity: 0.7 } }, scores: [0, 0.2, 0.3, 0.31, 1] },
      { credit: { normalization: { quality: { min: 1, max: 5 } } }, scores: [0, 1, 2, 2.99, 3, 4, 5, 6] },
      { credit: { normalization: { quality: { min: -1, max: 1 } }, defaultSuccessThreshold: 0.7 }, scores: [-1, 0, 0.39, 0.4, 1] },
      { credit: { normalization: { quality: { min: 0, max: 10, higherIsBetter: false } }, successThreshold: { quality: 0.8 } }, scores: [0, 1.9, 2, 2.1, 10] },
      { credit: { normalize: false, normalization: { quality: { min: 1, max: 5 } }, successThreshold: { quality: 4 } }, scores: [1, 3.9, 4, 5, 7] },
    ];
    for (const { credit, scores, name = 'quality' } of cases) {
      for (const score of scores) {
        const { spans, root } = run();
        // the oracle: the credit stage's own outcome for a run judged `score`
        const episode = { ...episodeOf(spans, 1), evaluations: evaluationsFromLogs(verdictOn(root, name, score)) };
        const [head] = await processEpisode(episode, { credit });
        const failure = (head as EpisodeCredit).outcome === 'failure';
        expect({ credit, score, flagged: writerFlagged(name, score, credit) }).toEqual({ credit, score, flagged: failure });
      }
    }
  });

  it('end to end: in a failed run the Likert-1 step is the first error, by its evaluator flag', async () => {
    const { spans, root, writer } = run();
    const logs = [...verdictOn(writer, 'helpfulness', 1), ...verdictOn(root, 'task_success', 0)];
    const { credit } = await creditEventsOf(spans, logs, { evaluationName: 'task_success', credit: { normalization: { helpfulness: { min: 1, max: 5 } } } });
    expect(credit.outcome).toBe('failure');
    expect(credit.first_error).toMatchObject({ step_id: writer.spanId, evidence: ['evaluator flag'] });
  });
});

describe('span-level metrics an evaluator attaches to every LLM call (generated runs: the scenario generator, real SDK spans and log records)', () => {
  /**
   * The generated `kind` run (genai convention) with `metrics(i)` logged as gen_ai.evaluation.result
   * records on its i-th LLM call (time order), through the real assembler and processEpisode.
   */
  async function scenario(kind: 'success' | 'failure', metrics: (i: number) => Record<string, number>, credit?: CreditOptionsInput) {
    const run = await generateScenario({ kind, convention: 'genai', seed: 5 });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const chats = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat').sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    const stepLogs = recordLogs((logger) =>
      chats.forEach((s, i) => {
        for (const [name, score] of Object.entries(metrics(i))) logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(s.traceId, s.spanId), attributes: { 'gen_ai.evaluation.name': name, 'gen_ai.evaluation.score.value': score } });
      }),
    );
    const out = await creditEventsOf(spans, [...stepLogs, ...decodeLogs(run.logsProto!, 'otlp_proto')], { evaluationName: 'task_success', ...(credit !== undefined ? { credit } : {}) });
    return { ...out, spans, chats, expected: run.expected };
  }
  const creditsOf = (c: EpisodeCredit) => Object.fromEntries(c.agents.map((a) => [a.agent_name, a.credit]));
  const rewardsOf = (rs: readonly { step_id: string; reward: number }[]) => Object.fromEntries(rs.map((r) => [r.step_id, r.reward]));
  // DeepEval-style metrics without labels: relevancy 0.4 on the planner's second call, clean toxicity (lower is better, not configured) everywhere
  const typical = (i: number) => ({ answer_relevancy: i === 1 ? 0.4 : 0.9, toxicity: 0.05, faithfulness: 0.8 });

  it('a successful run: unconfigured metrics change no credit and no reward (708b78a: every LLM call harmful, planner 0.077 → −0.033, its calls −0.14)', async () => {
    const plain = await scenario('success', () => ({}));
    const judged = await scenario('success', typical);
    expect(judged.credit.outcome).toBe('success');
    expect(creditsOf(judged.credit)).toEqual(creditsOf(plain.credit));
    expect(rewardsOf(judged.rewards)).toEqual(rewardsOf(plain.rewards));
  });

  it('a failed run: the first error stays the tool call that raised, and the pair rejects it (708b78a: the planner\'s first LLM call, by "evaluator flag")', async () => {
    const { credit, rewards, expected } = await scenario('failure', typical);
    expect(credit.outcome).toBe('failure');
    expect(credit.first_error).toMatchObject({ step_id: expected.firstErrorSpanId, evidence: [expect.stringMatching(/^status=error/)] });
    expect(rewards.find((r) => r.failure_role === 'first-error')!.step_id).toBe(expected.firstErrorSpanId);
  });

  it('configured, a metric flags by its own τ: answer_relevancy below successThreshold 0.7 makes that LLM call the failed run\'s first error', async () => {
    const { credit, chats } = await scenario('failure', (i) => ({ answer_relevancy: i === 0 ? 0.4 : 0.9 }), { successThreshold: { answer_relevancy: 0.7 } });
    expect(credit.first_error).toMatchObject({ step_id: chats[0]!.spanId, evidence: ['evaluator flag'] });
    // toxicity configured lower-is-better: clean 0.05 flags nothing, 0.9 flags its step
    const tox = await scenario('failure', (i) => ({ toxicity: i === 0 ? 0.9 : 0.05 }), { normalization: { toxicity: { min: 0, max: 1, higherIsBetter: false } } });
    expect(tox.credit.first_error).toMatchObject({ step_id: tox.chats[0]!.spanId, evidence: ['evaluator flag'] });
  });
});
