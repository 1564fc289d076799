/**
 * A generated run (real OTel JS SDK spans, scenario `success`) judged as failed: the recorded
 * system verdict is kept but scored 0.2 / `fail`. `judge(extra)` rebuilds the episode with extra
 * evaluations (step or invocation verdicts) and returns its credit events — the failure path's
 * tests compare the events without and with a verdict.
 */
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { childSeed, generateScenario } from '../../src/scenarios/index.js';
import { planScenario, type PlannedSpan } from '../../src/scenarios/plan.js';
import { recordScenario } from '../../src/scenarios/record.js';
import { logsToProto, tracesToProto } from '../../src/scenarios/serialize.js';

export async function failedGeneratedRun(
  convention: 'genai' | 'openinference' | 'openllmetry',
  seed = 11,
): Promise<{ traceId: string; judge: (extra: Evaluation[]) => Promise<CreditEvent[]> }> {
  const run = await generateScenario({ kind: 'success', convention, seed });
  const judge = async (extra: Evaluation[]): Promise<CreditEvent[]> => {
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    asm.addEvaluations(extra);
    asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).map((e) => ({ ...e, score: 0.2, label: 'fail' })));
    const [ep] = asm.flush('shutdown');
    return processEpisode(ep!);
  };
  return { traceId: run.traceId, judge };
}

/**
 * A failed run with two errors in branches that do not read each other, recorded with the real OTel
 * SDK (scenario `redundant`: the planner starts a `researcher` side task outside the hand-off chain).
 * The coder's `search_docs` fails (t*) and, with `second: 'error'`, so does the researcher's own
 * `search_docs`; with `second: 'flag'` a failing step-level verdict falls on the researcher's notes
 * instead. Judged as failed (0.2). Returns the credit events and the span ids of both errors.
 */
export async function twoErrorRun(
  convention: 'genai' | 'openinference' | 'openllmetry',
  second: 'error' | 'flag',
  seed = 11,
): Promise<{ events: CreditEvent[]; firstErrorId: string; secondErrorId: string }> {
  const plan = planScenario({ kind: 'redundant', seed });
  const spans: PlannedSpan[] = [];
  const walk = (s: PlannedSpan) => (spans.push(s), s.children.forEach(walk));
  walk(plan.root);
  const fail = (s: PlannedSpan | undefined): PlannedSpan => {
    if (!s) throw new Error('scenario plan without the expected step');
    Object.assign(s, { error: { type: 'TimeoutError', message: 'search_docs timed out after 30000 ms' }, output: undefined });
    return s;
  };
  const first = fail(spans.find((s) => s.role === 'tool' && s.agent === 'coder' && s.toolCall?.name === 'search_docs'));
  const secondSpan =
    second === 'error' ? fail(spans.find((s) => s.role === 'tool' && s.agent === 'researcher')) : spans.find((s) => s.role === 'llm' && s.agent === 'researcher' && s.output?.startsWith('Notes'))!;
  const recorded = await recordScenario(plan, convention, childSeed(seed, 99), 0.2);
  const secondErrorId = recorded.spanIds.get(secondSpan.key)!;
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(decodeTraces(tracesToProto(recorded.spans), 'otlp_proto'));
  if (second === 'flag') asm.addEvaluations([{ name: 'notes_review', score: 0, label: 'fail', traceId: recorded.traceId, spanId: secondErrorId, source: 'evaluations-stream', timeUnixNano: 1n }]);
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(logsToProto(recorded.logRecords), 'otlp_proto')));
  const [ep] = asm.flush('shutdown');
  return { events: await processEpisode(ep!), firstErrorId: recorded.spanIds.get(first.key)!, secondErrorId };
}
