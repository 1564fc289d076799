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
import { generateScenario } from '../../src/scenarios/index.js';

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
