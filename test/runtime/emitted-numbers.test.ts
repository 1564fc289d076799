/**
 * The numbers of emitted events under awkward inputs, end to end (generated OTLP → episodes →
 * processEpisode → events): what the event schema promises of them holds — an `exact` estimate has
 * ci_low = credit = ci_high.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode, type ProcessEpisodeOptions } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import type { ScenarioKind } from '../../src/scenarios/types.js';

async function episodeOf(kind: ScenarioKind, seed: number): Promise<Episode> {
  const asm = new EpisodeAssembler({});
  const run = await generateScenario({ kind, convention: 'genai', seed });
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = asm.flush('shutdown');
  return episode!;
}

async function episodeCredit(episode: Episode, options: ProcessEpisodeOptions): Promise<EpisodeCredit> {
  const events = await processEpisode(episode, options);
  const head = events[0];
  if (head?.event_type !== 'episode_credit') throw new Error('no episode_credit');
  return head;
}

describe('estimator status and intervals in episode_credit', () => {
  it.each(['success', 'error-retry', 'failure'] as const)('svarm on a 3-agent %s run: every stratum evaluated, status exact, and ci_low = credit = ci_high', async (kind) => {
    const ec = await episodeCredit(await episodeOf(kind, 1), { credit: { estimator: 'svarm' } });
    expect(ec.agents).toHaveLength(3);
    expect(ec.estimator).toMatchObject({ name: 'svarm', status: 'exact' });
    for (const a of ec.agents) {
      expect(a.ci_low).toBe(a.credit);
      expect(a.ci_high).toBe(a.credit);
    }
  });
});
