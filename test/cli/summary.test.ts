/** The replay summary counts each episode once, as its latest revision (src/cli/summary.ts). */
import { describe, expect, it } from 'vitest';
import { SummaryCollector, renderSummary } from '../../src/cli/summary.js';
import { creditEpisode } from '../../src/credit/index.js';
import type { Game } from '../../src/credit/types.js';
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

  it('counts episodes whose estimate is partial, as their latest revision says (a failing value function: the replay said nothing of it)', async () => {
    const failing = {
      game: 'module' as const,
      gameFactory: (_i: unknown, ctx: { agentIds: readonly string[] }) => ({
        agentGame: { id: 'down', players: ctx.agentIds, value: (): number => { throw new Error('value function down'); } } satisfies Game,
      }),
    };
    const partial = async (revision: number) => {
      const out = outcomeToEvents(await creditEpisode({ ...episode(threeAgentSteps(), 0.9), revision }, failing), { emittedAtMs: 0 });
      return [out.episode, ...out.rewards, ...out.pairs];
    };
    const broken = await partial(0);
    expect(broken[0]).toMatchObject({ event_type: 'episode_credit', estimator: { status: 'partial' } });
    const c = new SummaryCollector();
    c.add(broken);
    expect(c.summary().partialEstimates).toBe(1);
    expect(renderSummary(c.summary())).toContain('partial estimates: 1 (');
    // the line sends the reader to the field that says why: it named the events' `warnings`, which no
    // event has (a researcher's `.warnings` read null) — they are the episode_credit's diagnostics.warnings
    expect(renderSummary(c.summary())).toContain("their episode_credit's diagnostics.warnings say why");
    expect(broken[0]).not.toHaveProperty('warnings');
    expect((broken[0] as { diagnostics: { warnings: string[] } }).diagnostics.warnings.some((w) => w.includes('value function down'))).toBe(true);
    c.add(await events(1, 0.9)); // a correction credited in full takes it back
    expect(c.summary()).toMatchObject({ episodes: 1, partialEstimates: 0 });
    expect(renderSummary(c.summary())).not.toContain('partial estimates');
  });

  it('with no episode the mean system value is "—", not 0.0000 (which read as every run scoring 0)', async () => {
    const empty = renderSummary(new SummaryCollector().summary()).split('\n')[0]!;
    expect(empty).toMatch(/^episodes: 0 {3}failures: 0 {3}mean system value: — {3}agents: 0 /);
    const c = new SummaryCollector();
    c.add(await events(0, 0)); // one episode that did score 0 keeps its figure
    expect(renderSummary(c.summary())).toMatch(/^episodes: 1 {3}failures: 1 {3}mean system value: 0\.0000 /);
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

describe('renderSummary with names from telemetry', () => {
  const agent = (agentName: string, agentId = agentName) => ({ agentId, agentName, episodes: 2, meanCredit: 0.125, totalCredit: 0.25, firstErrors: 0 });
  const summary = (names: ReturnType<typeof agent>[]) => ({ episodes: 2, failures: 0, meanSystemValue: 1, partialEstimates: 0, messageRewards: 6, preferencePairs: 0, corrections: 0, correctionsUnmatched: 0, agents: names });

  it('pads by terminal columns: a CJK name (two columns a character) or a combining accent keeps the figures under their headings', () => {
    // columns of each name as a terminal shows it, written out: 客服代理 4 characters in 8 columns, Cafe + U+0301 (é) 4
    const names: [string, number][] = [['planner', 7], ['客服代理', 8], ['Cafe\u0301', 4]];
    const table = renderSummary(summary(names.map(([n]) => agent(n)))).split('\n');
    const header = table.find((l) => l.startsWith('agent '))!;
    const figures = header.indexOf('episodes'); // the first column is 8 columns wide (客服代理), then two spaces
    expect(figures).toBe(10);
    for (const [name, cols] of names) {
      const row = table.find((l) => l.startsWith(name))!;
      expect(row.slice(name.length, name.length + (figures - cols))).toBe(' '.repeat(figures - cols));
      expect(row.slice(name.length + (figures - cols))).toBe(`       2       0.1250        0.2500             0`);
    }
  });

  it('writes control characters of a name as \\uXXXX: an ESC would reach the terminal as an escape sequence, a CR overwrite the row', () => {
    const text = renderSummary(summary([agent('evil\u001b[2J\rX\n', 'evil')]));
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text.split('\n').filter((l) => l.startsWith('evil'))).toEqual([expect.stringMatching(/^evil\\u001b\[2J\\u000dX\\u000a \(evil\) +2 +0\.1250 +0\.2500 +0$/)]);
  });
});
