import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactShapley, provenanceGames, UnanimityGame } from '../../src/credit/index.js';
import { step, threeAgentSteps } from './episode-builder.js';
import { shapleyBySubsets } from './helpers.js';

function table(game: UnanimityGame): number[] {
  const n = game.players.length;
  return Array.from({ length: 2 ** n }, (_, m) => game.value(Uint8Array.from({ length: n }, (_, i) => (m >> i) & 1)));
}

describe('UnanimityGame', () => {
  it('closed form equals exact enumeration of value(S) on random term sets (≤ 8 players)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.double({ min: -2, max: 2, noNaN: true }),
            fc.array(fc.record({ carriers: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 0, maxLength: n }), weight: fc.double({ min: -3, max: 3, noNaN: true }) }), { maxLength: 12 }),
          ),
        ),
        async ([n, base, terms]) => {
          const g = new UnanimityGame('u', Array.from({ length: n }, (_, i) => `p${i}`), base, terms);
          const exact = await exactShapley(g);
          const cf = g.closedForm();
          cf.forEach((v, i) => expect(Math.abs(v - exact.values[i]!)).toBeLessThan(1e-9));
          const brute = shapleyBySubsets(table(g));
          cf.forEach((v, i) => expect(Math.abs(v - brute[i]!)).toBeLessThan(1e-9));
          const loo = g.leaveOneOut();
          const full = new Uint8Array(n).fill(1);
          loo.forEach((v, i) => {
            const c = full.slice();
            c[i] = 0;
            expect(Math.abs(v - (g.value(full) - g.value(c)))).toBeLessThan(1e-9);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Random DAG episodes of up to 8 messages over up to 4 agents, some failing / flagged / duplicate. */
const episodeArb = fc.integer({ min: 1, max: 8 }).chain((k) =>
  fc.tuple(
    fc.array(
      fc.record({
        agent: fc.constantFrom('a', 'b', 'c', 'd'),
        ok: fc.boolean(),
        flagged: fc.boolean(),
        dup: fc.boolean(),
        inputs: fc.array(fc.nat(), { maxLength: 3 }),
      }),
      { minLength: k, maxLength: k },
    ),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: -0.5, max: 0.5, noNaN: true }),
  ),
);

describe('provenance game', () => {
  it('closed form equals exact enumeration (agent and message level) and is efficient on random episodes', async () => {
    await fc.assert(
      fc.asyncProperty(episodeArb, async ([specs, R, b]) => {
        const steps = specs.map((s, i) =>
          step({
            id: i + 1,
            agent: s.agent,
            ok: s.ok || i % 3 !== 0,
            flagged: s.flagged && i % 4 === 1,
            ...(s.dup && i > 0 ? { digest: 'same' } : {}),
            inputs: s.inputs.filter((x) => x < i).map((x) => x + 1),
          }),
        );
        const agents = [...new Set(steps.map((s) => s.agentId))].map((a) => ({ agentId: a, agentName: a }));
        const { agentGame, messageGame } = provenanceGames('ep', steps, agents, { systemValue: R, baseline: b });
        for (const g of [agentGame, messageGame]) {
          const exact = await exactShapley(g);
          const cf = g.closedForm();
          cf.forEach((v, i) => expect(Math.abs(v - exact.values[i]!)).toBeLessThan(1e-9));
          expect(Math.abs(exact.grandValue - R)).toBeLessThan(1e-9);
          expect(Math.abs(exact.emptyValue - b)).toBeLessThan(1e-9);
          expect(Math.abs(cf.reduce((x, y) => x + y, 0) - (R - b))).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives no value to messages that do not reach the output or duplicate earlier content', () => {
    const steps = [
      step({ id: 1, agent: 'a' }),
      step({ id: 2, agent: 'b', inputs: [1], digest: 'x' }),
      step({ id: 3, agent: 'b', inputs: [1], digest: 'x' }), // duplicate of 2
      step({ id: 4, agent: 'c', inputs: [1] }), // dead end
      step({ id: 5, agent: 'a', inputs: [2, 3] }), // output (ends last)
    ];
    const agents = ['a', 'b', 'c'].map((x) => ({ agentId: x, agentName: x }));
    const { messageGame, agentGame, analysis } = provenanceGames('ep', steps, agents, { systemValue: 1, baseline: 0 });
    expect(analysis.outputStepIds).toEqual([steps[4]!.stepId]);
    expect(analysis.roles.get(steps[2]!.stepId)).toBe('redundant-duplicate');
    expect(analysis.roles.get(steps[3]!.stepId)).toBe('redundant-no-path');
    const phiM = messageGame.closedForm();
    expect(phiM[2]).toBe(0);
    expect(phiM[3]).toBe(0);
    expect(agentGame.closedForm()[2]).toBe(0); // agent c is a null player
  });

  it('makes error and flagged messages harmful (negative marginal effect)', () => {
    const steps = threeAgentSteps({ toolFails: true, sabotage: false });
    const agents = ['planner', 'researcher', 'writer'].map((x) => ({ agentId: x, agentName: x }));
    const { messageGame, analysis } = provenanceGames('ep', steps, agents, { systemValue: 0.9, baseline: 0 });
    expect(analysis.roles.get(steps[2]!.stepId)).toBe('harmful');
    const loo = messageGame.leaveOneOut();
    expect(loo[2]).toBeLessThan(0);
    expect(loo[3]).toBeGreaterThan(0);
  });
});
