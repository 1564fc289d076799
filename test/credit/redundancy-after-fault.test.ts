/**
 * Repeating an earlier output after a fault is a re-check, not redundancy (causal-graph.ts
 * `duplicateMessages`): in the generated saboteur run the reviewer reverts the optimizer's flagged
 * edit and re-runs the tests, getting the coder's "8/8 passed" again. That message was the run's
 * most penalized one (r = −0.557, below the sabotage at −0.378; a user-acceptance finding). Runs
 * from the real OTel SDK through the production path (decode → assemble → processEpisode).
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent, MessageReward } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario, type ScenarioKind } from '../../src/scenarios/index.js';

async function rewards(kind: ScenarioKind, convention: 'genai' | 'openinference' | 'openllmetry', seed: number): Promise<MessageReward[]> {
  const run = await generateScenario({ kind, convention, seed });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const events: CreditEvent[] = [];
  for (const ep of asm.flush('shutdown')) events.push(...(await processEpisode(ep)));
  return events.filter((e): e is MessageReward => e.event_type === 'message_reward');
}

describe('an output repeated after a fault is not a redundant duplicate', () => {
  for (const convention of ['genai', 'openinference', 'openllmetry'] as const) {
    it(`${convention}: the reviewer's test run after reverting the sabotage is not penalized as redundant; the sabotage stays the most penalized message`, async () => {
      for (const seed of [1, 2]) {
        const rs = await rewards('saboteur', convention, seed);
        const tests = rs.filter((r) => r.agent_name === 'reviewer' && /run_tests/.test(r.name));
        expect(tests.length).toBeGreaterThanOrEqual(2);
        for (const r of rs) expect(r.components.redundancy, `${r.agent_name} ${r.name}`).toBe(0);
        const worst = rs.reduce((a, b) => (b.reward < a.reward ? b : a));
        expect(worst.agent_name).toBe('optimizer');
        expect(worst.components.sabotage).toBeLessThan(0);
      }
    });
  }

  it('without a fault in between, re-running the coder’s tests with the same result still counts as a duplicate (success run)', async () => {
    const rs = await rewards('success', 'genai', 1);
    const redundant = rs.filter((r) => r.components.redundancy < 0);
    expect(redundant.map((r) => `${r.agent_name} ${r.name}`)).toEqual(['reviewer execute_tool run_tests']);
  });
});
