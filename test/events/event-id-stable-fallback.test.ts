/**
 * Event ids of one episode revision do not depend on whether its value function answered: a
 * replay (at-least-once after a crash, or a documented exactly-once duplicate) of a revision whose
 * first processing had a working judge and whose second met it failing publishes events that
 * consumers de-duplicate on event_id.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

describe('event ids of a revision whose value function failed', () => {
  it('an exact run whose game fails at v(N) (equal-split fallback, partial) keeps the ids a run with the game answering has', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 41 });
    const assembler = new EpisodeAssembler();
    assembler.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    assembler.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
    const [episode] = assembler.flush('shutdown');
    let judgeUp = true;
    const credit = {
      game: 'module' as const,
      estimator: 'exact' as const,
      // a judge-like black-box game: additive over the agents while it answers
      gameFactory: (_: unknown, ctx: { agentIds: readonly string[]; systemValue: number; baseline: number }) => ({
        agentGame: {
          id: 'judge',
          players: ctx.agentIds,
          value: (c: Uint8Array) => {
            if (!judgeUp) throw new Error('judge answered 503');
            return ctx.baseline + (c.reduce((s, x) => s + x, 0) * (ctx.systemValue - ctx.baseline)) / ctx.agentIds.length;
          },
        },
      }),
    };
    const first = await processEpisode(episode!, { credit });
    judgeUp = false;
    const replayed = await processEpisode(episode!, { credit });
    const head = (events: typeof first) => events.find((e) => e.event_type === 'episode_credit') as { estimator: { name: string; status: string } } | undefined;
    expect(head(first)!.estimator).toMatchObject({ name: 'exact', status: 'exact' });
    expect(head(replayed)!.estimator).toMatchObject({ name: 'exact/equal-split-fallback', status: 'partial' }); // what the game did is still reported
    const ids = (events: typeof first) => events.filter((e) => e.event_type !== 'preference_pair').map((e) => `${e.event_type} ${e.event_id}`).sort();
    expect(ids(replayed)).toEqual(ids(first));
  });
});
