/** `estimator: 'exact'` refused for too many agents: the warning names the estimator that ran (it said "permutation sampling" while SVARM ran; review finding 11). */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, step } from './episode-builder.js';

describe("estimator 'exact' refused", () => {
  it('names the estimator actually used', async () => {
    const n = 16;
    const steps = Array.from({ length: n }, (_, i) => step({ id: i + 1, agent: `ag${i}`, inputs: i ? [i] : [] }));
    const gameFactory = (_inp: unknown, ctx: { agentIds: string[] }) => ({ agentGame: { id: 'g', players: ctx.agentIds, value: (s: Uint8Array) => s.reduce((a, b) => a + b, 0) / n } });
    const out = await creditEpisode(episode(steps, 0.8), { game: 'module', gameFactory, estimator: 'exact' } as never);
    const warning = out.warnings.find((w) => w.includes("'exact' refused"));
    expect(out.estimator.name).toBe('svarm');
    expect(warning).toContain('using svarm');
    expect(warning).not.toContain('permutation');
  });
});
