import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageRewards, type MessageInput } from '../../src/credit/index.js';
import { messageRewardsAt } from '../../src/credit/signals/message-rewards.js';

const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

/** Random agents with credits, messages with δ, flags and zero-sum transfers. */
const caseArb = fc
  .array(
    fc.record({
      phi: num(-1.5, 1.5),
      msgs: fc.array(fc.record({ delta: num(-1, 1), harmful: fc.boolean(), redundant: fc.boolean(), zero: fc.boolean(), t: num(-0.6, 0.6) }), { minLength: 1, maxLength: 6 }),
      withTransfers: fc.boolean(),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((agents) => {
    const credit = new Map<string, number>();
    const messages: MessageInput[] = [];
    const deltas = new Map<string, number>();
    const transfers = new Map<string, { blame: number; repair: number }>();
    agents.forEach((a, i) => {
      const id = `agent${i}`;
      credit.set(id, a.phi);
      const mean = a.msgs.reduce((s, m) => s + m.t, 0) / a.msgs.length;
      a.msgs.forEach((m, j) => {
        const stepId = `${i}-${j}`;
        const delta = m.zero ? 0 : m.delta;
        messages.push({ stepId, agentId: id, harmful: m.harmful && delta < 0, redundant: m.redundant });
        deltas.set(stepId, delta);
        if (a.withTransfers) {
          const x = m.t - mean; // zero-sum within the agent, as blameAndRepair produces
          transfers.set(stepId, { blame: Math.min(0, x), repair: Math.max(0, x) });
        }
      });
    });
    return { credit, messages, deltas, transfers };
  });

describe('messageRewards', () => {
  it('conserves: Σ_{m∈M_i} r_m = φ_i within 1e-9 and Σ_m r_m = Σ_i φ_i', () => {
    fc.assert(
      fc.property(caseArb, num(0.5, 2), ({ credit, messages, deltas, transfers }, bound) => {
        const { rewards } = messageRewards(credit, messages, deltas, { bound, transfers });
        let total = 0;
        for (const [agent, phi] of credit) {
          const sum = rewards.filter((r) => r.agentId === agent).reduce((a, r) => a + r.reward, 0);
          expect(Math.abs(sum - phi)).toBeLessThan(1e-9);
          total += phi;
        }
        expect(Math.abs(rewards.reduce((a, r) => a + r.reward, 0) - total)).toBeLessThan(1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('shrink is exactly 0 on an agent none of whose rewards exceeds the bound (the rounding residual is not put there)', () => {
    // the genai fixture's triage agent: φ = 0.2 over δ = 0.4 and 0.2 gave shrink 2.8e-17
    const { rewards } = messageRewards(new Map([['triage', 0.2]]), [{ stepId: 'h', agentId: 'triage' }, { stepId: 'l', agentId: 'triage' }], new Map([['h', 0.4], ['l', 0.2]]), { bound: 1 });
    for (const r of rewards) expect(r.components.shrink).toBe(0);
    fc.assert(
      fc.property(caseArb, ({ credit, messages, deltas, transfers }) => {
        // a bound no reward here reaches (|φ| ≤ 1.5, |δ| ≤ 1, |t| ≤ 0.6 over ≤ 6 messages): no shrink
        const { rewards: rs } = messageRewards(credit, messages, deltas, { bound: 100, transfers });
        for (const r of rs) expect(r.components.shrink).toBe(0);
        for (const [agent, phi] of credit) expect(Math.abs(rs.filter((r) => r.agentId === agent).reduce((a, r) => a + r.reward, 0) - phi)).toBeLessThan(1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('never ends an ulp past the bound after the shrink spreads its rounding residual', () => {
    // found by fast-check (30,000 runs): |r| = bound + 1 ulp on one message
    const messages = ['0-0', '0-1', '0-2'].map((stepId) => ({ stepId, agentId: 'agent0', harmful: false, redundant: false }));
    const deltas = new Map([['0-0', 0], ['0-1', 0], ['0-2', -0.8849003135657083]]);
    const transfers = new Map([
      ['0-0', { blame: -0.19999999999999052, repair: 0 }],
      ['0-1', { blame: 0, repair: 0.39999999999998104 }],
      ['0-2', { blame: -0.19999999999999052, repair: 0 }],
    ]);
    const bound = 0.7327391690376747;
    const { rewards } = messageRewards(new Map([['agent0', 0]]), messages, deltas, { bound, transfers });
    for (const r of rewards) expect(Math.abs(r.reward)).toBeLessThanOrEqual(bound);
    expect(Math.abs(rewards.reduce((a, r) => a + r.reward, 0))).toBeLessThan(1e-12);
    // still the sum of its parts (sabotage and redundancy are parts of marginal)
    for (const { reward, components: c } of rewards) expect(Math.abs(reward - (c.credit_share + c.marginal + c.blame + c.repair + c.shrink))).toBeLessThan(1e-15);
  });

  it('never ends an ulp past the bound when that ulp is under half an ulp of the message\'s shrink', () => {
    // found by fast-check (seed −1854462746, ~1 in 4,000 runs: the 300-run property failed CI now
    // and then): taking the excess (1.1e-16) off a shrink of −1.1 (ulp 2.2e-16) changed nothing
    const messages = ['0-0', '0-1', '0-2', '0-3'].map((stepId) => ({ stepId, agentId: 'agent0', harmful: false, redundant: false }));
    const deltas = new Map([['0-0', 1.0000000000000002e-12], ['0-1', -0.854844050702972], ['0-2', -0.9981857821855585], ['0-3', 0]]);
    const bound = 0.7529072245252192;
    const { rewards } = messageRewards(new Map([['agent0', 0]]), messages, deltas, { bound, transfers: new Map() });
    for (const r of rewards) expect(Math.abs(r.reward)).toBeLessThanOrEqual(bound);
    expect(Math.abs(rewards.reduce((a, r) => a + r.reward, 0))).toBeLessThan(1e-12);
    for (const { reward, components: c } of rewards) expect(Math.abs(reward - (c.credit_share + c.marginal + c.blame + c.repair + c.shrink))).toBeLessThan(1e-15);
  });

  it('is bounded: |r_m| ≤ C·(Rmax−Rmin) whenever |φ_i/|M_i|| ≤ the bound', () => {
    fc.assert(
      fc.property(caseArb, num(0.5, 2), ({ credit, messages, deltas, transfers }, bound) => {
        const { rewards, warnings } = messageRewards(credit, messages, deltas, { bound, transfers });
        for (const r of rewards) {
          const k = messages.filter((m) => m.agentId === r.agentId).length;
          // exactly: a consumer checks |r| ≤ reward_bound with <= (an ulp past it was possible)
          if (Math.abs(credit.get(r.agentId)! / k) <= bound) expect(Math.abs(r.reward)).toBeLessThanOrEqual(bound);
          else expect(warnings.some((w) => w.includes(r.agentId))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('components add up to the reward and have their documented signs', () => {
    fc.assert(
      fc.property(caseArb, ({ credit, messages, deltas, transfers }) => {
        const { rewards } = messageRewards(credit, messages, deltas, { bound: 1, transfers });
        for (const r of rewards) {
          const c = r.components;
          expect(Math.abs(c.credit_share + c.marginal + c.blame + c.repair + c.shrink - r.reward)).toBeLessThan(1e-12);
          expect(c.redundancy).toBeLessThanOrEqual(0);
          expect(c.sabotage).toBeLessThanOrEqual(0);
          expect(c.blame).toBeLessThanOrEqual(0);
          expect(c.repair).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is signed: a harmful message of a positively credited agent gets a negative reward; redundant ≤ the agent mean', () => {
    fc.assert(
      fc.property(caseArb, ({ credit, messages, deltas }) => {
        // No transfers and a generous bound: the sign rules apply unshrunk.
        const { rewards, warnings } = messageRewards(credit, messages, deltas, { bound: 100 });
        for (const r of rewards) {
          const mine = messages.filter((m) => m.agentId === r.agentId);
          const phi = credit.get(r.agentId)!;
          const unresolvable = warnings.some((w) => w.startsWith(`agent ${r.agentId}: cannot`));
          if (unresolvable) continue;
          const m = mine.find((x) => x.stepId === r.stepId)!;
          if (r.delta < -1e-12) expect(r.reward).toBeLessThan(0);
          else if (m.harmful) {
            // A harmful message with no effect (|δ| ≤ ε) is capped by the harmful sign rule, at −ε
            // (message-rewards.ts caps), not by the agent mean: with φ = −4.02e-12 over 2 messages
            // the mean + ε is −1.01e-12, below that cap (fast-check seed −1725482960, clean-clone CI)
            expect(r.reward).toBeLessThanOrEqual(-1e-12 + 1e-14);
          } else if (m.redundant || Math.abs(r.delta) <= 1e-12) {
            // Rounding: rewards are sums of terms up to |φ| + |δ| ≈ 2.5, so they carry absolute
            // errors of a few ulp of those (≈ 1e-15), not of the bound — a relative slack on a
            // bound near 1e-12 failed (φ = −4e-12 over 2 messages, δ = −5e-324: reward
            // −1.0000000000000002e-12 vs bound −1.000000000000001e-12; fast-check seed 1057659084).
            const bound = phi / mine.length + 1e-12;
            expect(r.reward).toBeLessThanOrEqual(bound + 1e-14);
            if (phi <= 0) expect(r.reward).toBeLessThanOrEqual(1e-12);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pins the default split on a small case', () => {
    const credit = new Map([['a', 0.6]]);
    const msgs = [
      { stepId: 'm1', agentId: 'a' },
      { stepId: 'm2', agentId: 'a' },
      { stepId: 'm3', agentId: 'a', harmful: true },
    ];
    const deltas = new Map([
      ['m1', 0.5],
      ['m2', 0.3],
      ['m3', -0.2],
    ]);
    const { rewards } = messageRewards(credit, msgs, deltas, { bound: 1 });
    // φ/k = 0.2, mean δ = 0.2: r = 0.2 + δ - 0.2 = δ
    expect(rewards.map((r) => r.reward)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.3, 12), expect.closeTo(-0.2, 12)]);
    expect(rewards[2]!.components.sabotage).toBeCloseTo(-0.4, 12);
  });

  it('gives a message whose exact reward is 0 a reward of 0, not a float residue with a sign', () => {
    // φ = 0.2 over δ = [0.2, 0.4]: exactly 0.1 + (0.2 − 0.3) = 0, but 0.1 − 0.10000000000000003 in
    // floats was −2.8e-17 (seen in the genai fixture's events): a trainer splitting at 0 read a penalty.
    const { rewards } = messageRewards(new Map([['a', 0.2]]), [{ stepId: 'x', agentId: 'a' }, { stepId: 'y', agentId: 'a' }], new Map([['x', 0.2], ['y', 0.4]]), { bound: 1 });
    expect(Object.is(rewards[0]!.reward, 0)).toBe(true);
    expect(rewards[1]!.reward).toBeCloseTo(0.2, 15);
    // three equal δ: their mean is 0.10000000000000002, the marginals −1.4e-17 each before
    const equal = messageRewards(new Map([['a', 0.3]]), ['x', 'y', 'z'].map((stepId) => ({ stepId, agentId: 'a' })), new Map([['x', 0.1], ['y', 0.1], ['z', 0.1]]), { bound: 1 });
    expect(equal.rewards.map((r) => r.components.marginal)).toEqual([0, 0, 0]);
    // relative to the bound: a value function on a scale of 1e-12 keeps its rewards
    const tiny = messageRewards(new Map([['a', 2e-12]]), [{ stepId: 'x', agentId: 'a' }, { stepId: 'y', agentId: 'a' }], new Map([['x', 1e-12], ['y', 3e-12]]), { bound: 1e-11 });
    expect(tiny.rewards[0]!.reward).toBe(0);
    expect(tiny.rewards[1]!.reward / 2e-12).toBeCloseTo(1, 12);
    expect(tiny.rewards[0]!.components.marginal / -1e-12).toBeCloseTo(1, 12);
    expect(tiny.rewards[1]!.components.marginal / 1e-12).toBeCloseTo(1, 12);
  });

  it('shrinks toward φ_i/k instead of clipping when a reward exceeds the bound', () => {
    const credit = new Map([['a', 0.4]]);
    const msgs = [
      { stepId: 'm1', agentId: 'a' },
      { stepId: 'm2', agentId: 'a' },
    ];
    const deltas = new Map([
      ['m1', 2],
      ['m2', 0],
    ]);
    const { rewards } = messageRewards(credit, msgs, deltas, { bound: 0.5 });
    // unshrunk: 0.2 + 1 = 1.2 and 0.2 - 1 = -0.8; α = (0.5-0.2)/1 = 0.3 → 0.5 and -0.1
    expect(rewards[0]!.reward).toBeCloseTo(0.5, 12);
    expect(rewards[1]!.reward).toBeCloseTo(-0.1, 12);
    expect(rewards[0]!.components.shrink).toBeCloseTo(-0.7, 12);
  });

  it('keeps a harmful message negative under the bound when rewards within the bound can (nearest rewards with the same sum, not the contraction)', () => {
    const credit = new Map([['a', 0.9]]);
    const msgs = [
      { stepId: 'h', agentId: 'a', harmful: true }, // evaluator-flagged
      { stepId: 'u', agentId: 'a' },
      { stepId: 'w', agentId: 'a' },
    ];
    // split: 0.3 + (δ − 0.95) = [-0.05, 1.6, -0.65]; the contraction to the bound 1 (α = 0.7/1.3)
    // would lift h to 0.112. Nearest within the caps (h < 0, u ≤ 1, w ≤ φ/k): [−ε, 1, −0.1].
    const deltas = new Map([
      ['h', 0.6],
      ['u', 2.25],
      ['w', 0],
    ]);
    const { rewards, warnings } = messageRewards(credit, msgs, deltas, { bound: 1 });
    const r = Object.fromEntries(rewards.map((x) => [x.stepId, x.reward]));
    expect(warnings).toEqual([]);
    expect(r.h).toBeLessThan(0);
    expect(r.h).toBeCloseTo(0, 9);
    expect(r.u).toBeCloseTo(1, 12);
    expect(r.w).toBeCloseTo(-0.1, 9);
    expect(rewards[0]!.components.shrink).toBeCloseTo(0.05, 9);
  });

  it('bound and sign together: when rewards within the bound can keep every sign cap, they do; otherwise a warning says so', () => {
    fc.assert(
      fc.property(caseArb, num(0.2, 1.5), ({ credit, messages, deltas }, bound) => {
        const { rewards, warnings } = messageRewards(credit, messages, deltas, { bound });
        for (const [agentId, phi] of credit) {
          const mine = rewards.filter((r) => r.agentId === agentId);
          if (mine.length === 0) continue;
          const warned = warnings.some((w) => w.startsWith(`agent ${agentId}:`));
          expect(Math.abs(mine.reduce((a, r) => a + r.reward, 0) - phi)).toBeLessThan(1e-9);
          if (warned) continue;
          for (const r of mine) {
            expect(Math.abs(r.reward)).toBeLessThanOrEqual(bound + 1e-9);
            if (r.delta < -1e-12) expect(r.reward).toBeLessThan(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('messageRewardsAt (δ by position, as creditEpisode calls it) answers what messageRewards answers by id, the agents’ messages interleaved in any order', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), ({ credit, messages, deltas, transfers }, keys) => {
        // interleave the agents' messages: sorted by a random key, each agent's kept in order
        const order = messages.map((m, i) => ({ m, k: keys[i % keys.length]! })).sort((a, b) => a.k - b.k).map((x) => x.m);
        const byId = messageRewards(credit, order, deltas, { bound: 1, transfers });
        const byPosition = messageRewardsAt(credit, order, order.map((m) => deltas.get(m.stepId)!), { bound: 1, transfers });
        expect(byPosition).toEqual(byId);
        expect(byPosition.rewards.map((r) => r.stepId)).toEqual(order.map((m) => m.stepId));
      }),
      { numRuns: 300 },
    );
  });

  it('a step id given twice answers, at both places, the result computed last for it (the later agent’s), as a map of results by id did', () => {
    const messages: MessageInput[] = [
      { stepId: 's', agentId: 'b' },
      { stepId: 'x', agentId: 'a' },
      { stepId: 's', agentId: 'a' },
    ];
    const credit = new Map([['a', 0.6], ['b', 0.2]]);
    const { rewards } = messageRewards(credit, messages, new Map([['s', 0.1], ['x', 0.3]]), { bound: 1 });
    // b's messages are computed first (b's first message comes first), then a's: s is a's
    expect(rewards[0]).toBe(rewards[2]);
    expect(rewards[0]!.agentId).toBe('a');
    expect(rewards.map((r) => r.stepId)).toEqual(['s', 'x', 's']);
    const { rewards: each } = messageRewardsAt(credit, messages, [0.1, 0.3, 0.1], { bound: 1 });
    expect(each[0]!.agentId).toBe('b');
    expect(each[2]).toEqual(rewards[2]);
  });
});
