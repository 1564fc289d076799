/**
 * An episode with thousands of agents (a hostile or buggy instrumentation naming every span's
 * agent differently — within the default episodes.maxSpansPerEpisode) is credited in closed form:
 * the leave-one-out diagnostic of the provenance agent game is the unanimity sum's Σ_{T∋i} w_T, not
 * n + 1 coalition evaluations of O(Σ|T|) each — those ran synchronously on the credit thread (no
 * credit.timeoutMs stops the built-in game): 10,000 agents in one chain took 3 minutes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { creditEpisode, leaveOneOut } from '../../src/credit/index.js';
import { UnanimityGame } from '../../src/credit/games/unanimity.js';
import { provenanceGames } from '../../src/credit/games/provenance.js';
import { episode, step } from './episode-builder.js';

/** n steps in one causal chain, each by an agent of its own. */
const chain = (n: number) => Array.from({ length: n }, (_, i) => step({ id: i + 1, agent: `agent${i}`, ...(i > 0 ? { inputs: [i] } : {}) }));

afterEach(() => vi.restoreAllMocks());

describe('creditEpisode with thousands of agents', () => {
  it('takes the agent game leave-one-out in closed form — only v(N) and v(∅) evaluated', async () => {
    const value = vi.spyOn(UnanimityGame.prototype, 'value');
    const out = await creditEpisode(episode(chain(3_000), 1), {});
    expect(out.agents).toHaveLength(3_000);
    expect(out.agents.every((a) => a.leaveOneOut !== undefined && Number.isFinite(a.leaveOneOut))).toBe(true);
    expect(value.mock.calls.length).toBeLessThanOrEqual(2); // v(N), v(∅); 3,002 (each over every term) without the fix
    expect(Math.abs(out.agents.reduce((s, a) => s + a.credit, 0) - 1)).toBeLessThan(1e-9);
  });

  it('gives the leave-one-out values that evaluating v(N) − v(N \\ {i}) gives', async () => {
    const input = episode(chain(40), 0.8);
    const out = await creditEpisode(input, {});
    const { agentGame } = provenanceGames(input.episodeId, input.steps, input.agents, { systemValue: 0.8, baseline: 0 });
    const evaluated = await leaveOneOut(agentGame);
    for (const a of out.agents) expect(a.leaveOneOut).toBeCloseTo(evaluated.values[evaluated.players.indexOf(a.agentId)]!, 12);
  });
});
