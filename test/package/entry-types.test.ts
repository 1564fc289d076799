/**
 * Types an app needs from the package root: a custom game (`gameFactory`) reads the episode's
 * steps (`AgentStep`), which the root did not name — found in the user-acceptance pass, where a
 * research script had to spell it `CreditInput['steps'][number]`. The type equalities are checked
 * by `npm run typecheck` (expectTypeOf); the run checks a factory typed with them.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { episodeSeed, type GameFactory } from '../../src/credit/index.js';
import { creditEpisode, type Agent, type AgentStep, type CreditInput, type Game, type StepKind } from '../../src/index.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';

describe('package root types', () => {
  it('names the step, agent and step-kind types that CreditInput and GameFactory use', async () => {
    expectTypeOf<AgentStep>().toEqualTypeOf<CreditInput['steps'][number]>();
    expectTypeOf<AgentStep>().toEqualTypeOf<Parameters<GameFactory>[1]['messages'][number]>();
    expectTypeOf<Agent>().toEqualTypeOf<CreditInput['agents'][number]>();
    expectTypeOf<StepKind>().toEqualTypeOf<AgentStep['kind']>();

    const seen: AgentStep[] = [];
    const factory: GameFactory = (_input, ctx) => {
      seen.push(...ctx.messages);
      const agentGame: Game = { id: 'g', players: [...ctx.agentIds], value: (c) => c.reduce((a, b) => a + b, 0) / ctx.agentIds.length };
      return { agentGame };
    };
    const out = await creditEpisode(episode(threeAgentSteps(), 0.9), { game: 'module', gameFactory: factory });
    expect(seen.length).toBeGreaterThan(0);
    expect(out.agents.map((a) => a.credit).reduce((a, b) => a + b, 0)).toBeCloseTo(0.9, 9);
  });
});

describe('agent-credit/credit names what docs/credit.md names', () => {
  it('episodeSeed (the `seed` option: the seed mixed with the episode id) is exported, so a script can re-run an episode\'s sampler with the seed creditEpisode used', () => {
    expect(episodeSeed(1, 'ep-a')).toBe(episodeSeed(1, 'ep-a'));
    expect(episodeSeed(1, 'ep-a')).not.toBe(episodeSeed(1, 'ep-b'));
    // seeds are taken modulo 2^32 (docs: 4294967297 samples as 1)
    expect(episodeSeed(4294967297, 'ep-a')).toBe(episodeSeed(1, 'ep-a'));
  });
});
