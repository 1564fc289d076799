/**
 * The order of the evaluations inside one request does not change the episode: a judge that
 * sends the run's verdict before its step verdicts (one OTLP logs request, one Kafka record, one
 * POST /v1/evaluations) gets the same single revision as one that sends them the other way round.
 * Closing on the run's verdict waits for the end of the request, as it does for spans (addSpans).
 * Data: a saboteur run recorded with the real OTel SDK — a failing step verdict (`code_review`
 * on the harmful step) and the run's `task_success` — serialized to OTLP protobuf, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { encodeLogs, generateScenario } from '../../src/scenarios/index.js';

async function closedEpisodes(verdictFirst: boolean): Promise<Episode[]> {
  const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 });
  // the generator logs the step verdict first; a judge may as well log the run's verdict first
  const records = verdictFirst ? [...run.logRecords].reverse() : run.logRecords;
  const evaluations = evaluationsFromLogs(decodeLogs(encodeLogs(records, 'otlp_proto'), 'otlp_proto'));
  expect(evaluations.map((e) => e.name)).toEqual(verdictFirst ? ['task_success', 'code_review'] : ['code_review', 'task_success']);
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto')); // the whole run, its root ended
  asm.addEvaluations(evaluations); // one request
  return [...asm.tick(), ...asm.flush('shutdown')];
}

describe('evaluations of one request', () => {
  it("the run's verdict before a step verdict closes one revision holding both, as the other order does", async () => {
    const stepFirst = await closedEpisodes(false);
    const verdictFirst = await closedEpisodes(true);
    // without the fix: revision 0 closed on task_success alone, code_review made revision 1
    expect(verdictFirst.map((e) => [e.revision, e.closeReason, e.evaluations.length])).toEqual([[0, 'evaluation-arrived', 2]]);
    expect(stepFirst.map((e) => [e.revision, e.closeReason, e.evaluations.length])).toEqual([[0, 'evaluation-arrived', 2]]);
    const events = async (episodes: Episode[]) => (await Promise.all(episodes.map((e) => processEpisode(e, { now: () => 0 })))).flat();
    const want = await events(stepFirst);
    expect(want.length).toBeGreaterThan(0);
    expect(await events(verdictFirst)).toEqual(want);
  });
});
