/** The replay summary counts each episode once, as its latest revision (src/cli/summary.ts). */
import { describe, expect, it } from 'vitest';
import { SummaryCollector, renderSummary } from '../../src/cli/summary.js';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';

async function events(revision: number, score: number) {
  const out = outcomeToEvents(await creditEpisode({ ...episode(threeAgentSteps({ toolFails: score < 0.5 }), score), revision }, {}), { emittedAtMs: 0 });
  return [out.episode, ...out.rewards, ...out.pairs];
}

describe('SummaryCollector', () => {
  it('a correction replaces the episode’s earlier revision in every figure (also when the older revision arrives last)', async () => {
    const first = await events(0, 0.2); // failed, with a preference pair
    const fix = await events(1, 0.9); // corrected by a late evaluation: success
    for (const order of [[first, fix], [fix, first]]) {
      const c = new SummaryCollector();
      for (const batch of order) c.add(batch);
      const s = c.summary();
      expect(s).toMatchObject({ episodes: 1, failures: 0, meanSystemValue: 0.9, messageRewards: fix.length - 1, preferencePairs: 0 });
      expect(s.corrections).toBe(order[0] === first ? 1 : 0);
      expect(s.agents.every((a) => a.episodes === 1)).toBe(true);
      expect(s.agents.reduce((sum, a) => sum + a.totalCredit, 0)).toBeCloseTo(0.9, 12);
    }
    const c = new SummaryCollector();
    c.add(first);
    c.add(fix);
    expect(renderSummary(c.summary())).toMatch(/^episodes: 1 {3}failures: 0 .* corrections: 1 \(each episode counted once, as its latest revision\)/);
  });

  it('conversation mode: a conversation reopened at revision 0 after a restart (another trace_ids[0]) is another episode, not an older revision', async () => {
    const turn = async (trace: string, revision: number) => {
      const input = { ...episode(threeAgentSteps(), 0.9), episodeId: 'conv:support-42', traceIds: [trace], revision };
      const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 0 });
      return [out.episode, ...out.rewards, ...out.pairs];
    };
    const c = new SummaryCollector();
    c.add(await turn('1'.repeat(32), 2)); // the conversation's third turn, before the restart
    c.add(await turn('2'.repeat(32), 0)); // after it: the next turn opens conv:support-42 again
    expect(c.summary()).toMatchObject({ episodes: 2, corrections: 0 });
  });
});
