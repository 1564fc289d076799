import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { CreditEventSchema } from '../../src/events/schemas.js';
import { episode, step } from './episode-builder.js';

/** Random episodes: up to 8 messages, up to 4 agents, random DAG, errors, flags, duplicates, any score. */
const episodeArb = fc.integer({ min: 1, max: 8 }).chain((k) =>
  fc.tuple(
    fc.array(
      fc.record({
        agent: fc.constantFrom('a', 'b', 'c', 'd'),
        kind: fc.constantFrom('llm' as const, 'tool' as const, 'handoff' as const, 'agent' as const),
        fail: fc.boolean(),
        flagged: fc.boolean(),
        dup: fc.boolean(),
        tool: fc.constantFrom('search', 'book'),
        inputs: fc.array(fc.nat(), { maxLength: 3 }),
      }),
      { minLength: k, maxLength: k },
    ),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: -0.3, max: 0.6, noNaN: true }),
  ),
);

describe('creditEpisode on random episodes', () => {
  it('conserves per agent and in total, respects the bound, emits schema-valid finite events', async () => {
    await fc.assert(
      fc.asyncProperty(episodeArb, async ([specs, score, baseline]) => {
        const steps = specs.map((s, i) =>
          step({
            id: i + 1,
            agent: s.agent,
            kind: s.kind,
            ok: !(s.fail && i % 2 === 0),
            flagged: s.flagged && i % 3 === 2,
            ...(s.kind === 'tool' ? { tool: s.tool, name: s.tool } : {}),
            ...(s.dup ? { digest: 'd' } : {}),
            inputs: s.inputs.filter((x) => x < i).map((x) => x + 1),
          }),
        );
        const out = await creditEpisode(episode(steps, score), { baseline });
        const messageAgents = new Set(out.messages.map((m) => m.step.agentId));
        expect(Math.abs(out.agents.reduce((x, a) => x + a.credit, 0) - (out.systemValue - out.baseline))).toBeLessThan(1e-9);
        for (const a of out.agents) {
          expect(Number.isFinite(a.credit)).toBe(true);
          // Provenance game: an agent without messages is a null player.
          if (!messageAgents.has(a.agentId)) {
            if (out.messages.length > 0) expect(Math.abs(a.credit)).toBe(0);
            continue;
          }
          const s = out.messages.filter((m) => m.step.agentId === a.agentId).reduce((x, m) => x + m.reward, 0);
          expect(Math.abs(s - a.credit)).toBeLessThan(1e-9);
        }
        if (out.messages.length > 0) {
          const total = out.messages.reduce((x, m) => x + m.reward, 0);
          expect(Math.abs(total - (out.systemValue - out.baseline))).toBeLessThan(1e-9);
        }
        for (const m of out.messages) {
          const k = out.messages.filter((x) => x.step.agentId === m.step.agentId).length;
          if (Math.abs(m.agentCredit / k) <= out.rewardBound) expect(Math.abs(m.reward)).toBeLessThanOrEqual(out.rewardBound + 1e-9);
        }
        if (out.outcome === 'failure' && out.firstError) expect(out.pairs.length).toBeGreaterThan(0);
        const ev = outcomeToEvents(out, { emittedAtMs: 0 });
        for (const e of [ev.episode, ...ev.rewards, ...ev.pairs]) CreditEventSchema.parse(e);
      }),
      { numRuns: 200 },
    );
  });
});
