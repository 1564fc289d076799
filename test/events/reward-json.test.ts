/**
 * messageRewardJson writes JSON.stringify's text of a reward byte for byte — on any member values
 * (strings that need escaping, unicode, lone surrogates, -0, NaN and ±Infinity, long names),
 * consecutive rewards sharing or not sharing their episode members and estimator object — or
 * none, for an object not shaped as outcomeToEvents builds rewards; eventJson is
 * JSON.stringify's text either way.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { eventJson } from '../../src/events/event-json.js';
import { JsonBytes } from '../../src/events/json-bytes.js';
import { messageRewardJson, writeMessageRewardJson } from '../../src/events/reward-json.js';
import type { MessageReward } from '../../src/events/schemas.js';
import { episode, sid, threeAgentSteps } from '../credit/episode-builder.js';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '\ud800', '\udc00', '\ud83d\ude00', 'a') }),
  fc.string({ minLength: 60, maxLength: 300 }),
  fc.constantFrom('', 'planner', 'a851ab877780fb1f', '1.3.0'),
);
const number = fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 1e21, 5e-324, -0.033552631578947376), fc.integer());
const ids = fc.oneof(fc.array(text, { maxLength: 4 }), fc.array(fc.oneof(text, number, fc.constant(null), fc.constant(undefined)), { maxLength: 3 }), fc.sparseArray(text, { maxLength: 3 }));
const estimator = fc.record(
  { name: text, status: fc.constantFrom('exact', 'approximate', 'partial'), evaluations: number, budget: number, target_half_width: number, confidence: number, note: text },
  { requiredKeys: ['name', 'status', 'evaluations'] },
);
const components = fc.record({ credit_share: number, marginal: number, redundancy: number, sabotage: number, blame: number, repair: number, shrink: number });

/** A reward in schema member order (as outcomeToEvents writes it), sharing `shared`'s members and estimator object. */
const reward = (shared: { episode_id: string; episode_revision: number; trace_ids: unknown[]; emitted_at_ms: number; estimator: object }) =>
  fc
    .record(
      {
        schema_version: text,
        event_id: text,
        step_id: text,
        trace_id: text,
        parent_step_id: fc.option(text, { nil: undefined }),
        causal_inputs: fc.option(ids, { nil: undefined }),
        agent_id: text,
        agent_name: text,
        kind: text,
        name: text,
        start_time_unix_nano: text,
        reward: number,
        marginal_effect: number,
        components,
        agent_credit: number,
        outcome: text,
        failure_role: fc.option(text, { nil: undefined }),
      },
    )
    .map((f) => {
      const r = { schema_version: f.schema_version, event_id: f.event_id, episode_id: shared.episode_id, episode_revision: shared.episode_revision, trace_ids: shared.trace_ids, emitted_at_ms: shared.emitted_at_ms } as Record<string, unknown>;
      r.event_type = 'message_reward';
      r.step_id = f.step_id;
      r.trace_id = f.trace_id;
      if (f.parent_step_id !== undefined) r.parent_step_id = f.parent_step_id;
      if (f.causal_inputs !== undefined) r.causal_inputs = f.causal_inputs;
      Object.assign(r, { agent_id: f.agent_id, agent_name: f.agent_name, kind: f.kind, name: f.name, start_time_unix_nano: f.start_time_unix_nano, reward: f.reward, marginal_effect: f.marginal_effect, components: f.components, agent_credit: f.agent_credit, outcome: f.outcome });
      if (f.failure_role !== undefined) r.failure_role = f.failure_role;
      r.estimator = shared.estimator;
      return r as unknown as MessageReward;
    });

/** Episodes of rewards: consecutive rewards share the episode members and estimator, as an episode's do. */
const episodes = fc.array(
  fc.record({ episode_id: text, episode_revision: number, trace_ids: ids, emitted_at_ms: number, estimator }).chain((shared) => fc.array(reward(shared), { minLength: 1, maxLength: 4 })),
  { minLength: 1, maxLength: 4 },
);

describe('messageRewardJson', () => {
  it("is JSON.stringify's text for any reward in schema order, episode after episode", () => {
    fc.assert(
      fc.property(episodes, (eps) => {
        for (const r of eps.flat()) {
          expect(messageRewardJson(r)).toBe(JSON.stringify(r));
          expect(eventJson(r)).toBe(JSON.stringify(r));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("writeMessageRewardJson writes the UTF-8 of JSON.stringify's text for any reward, episode after episode, into a buffer that grows", () => {
    fc.assert(
      fc.property(episodes, (eps) => {
        const w = new JsonBytes(1);
        const expected: string[] = [];
        for (const r of eps.flat()) {
          expect(writeMessageRewardJson(w, r)).toBe(true);
          expected.push(JSON.stringify(r));
        }
        expect(w.copy().equals(Buffer.from(expected.join(''), 'utf8'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('takes the rewards outcomeToEvents builds (with and without parent, causal inputs, failure role)', async () => {
    const failed = threeAgentSteps({ toolFails: true }).map((s, i) => (i === 1 ? { ...s, parentStepId: sid(1) } : s));
    for (const out of [await creditEpisode(episode(threeAgentSteps(), 0.9), {}), await creditEpisode(episode(failed, 0.2), {})]) {
      const { rewards } = outcomeToEvents(out, { emittedAtMs: 5 });
      for (const r of rewards) expect(messageRewardJson(r)).toBe(JSON.stringify(r));
      const w = new JsonBytes();
      for (const r of rewards) expect(writeMessageRewardJson(w, r)).toBe(true);
      expect(w.copy().toString('utf8')).toBe(rewards.map((r) => JSON.stringify(r)).join(''));
    }
  });

  it('has no text for an object not shaped like them (JSON.stringify writes it)', () => {
    const [base] = fc.sample(reward({ episode_id: 'e', episode_revision: 0, trace_ids: ['t'], emitted_at_ms: 1, estimator: { name: 'exact', status: 'exact', evaluations: 1 } }), { numRuns: 1, seed: 7 });
    const r = base as unknown as Record<string, unknown>;
    const { agent_id, ...withoutAgent } = r;
    const misshapen: unknown[] = [
      { ...withoutAgent, agent_id }, // agent_id out of order
      { ...r, extra: 1 }, // a member the schema does not have
      withoutAgent, // a required member missing
      { ...r, agent_name: undefined }, // present but undefined (JSON.stringify leaves it out)
      { ...r, reward: '1' }, // a string for a number
      { ...r, kind: 3 }, // a number for a string
      { ...r, trace_ids: 'x' }, // not an array
      { ...r, components: null },
      { ...r, components: { ...(r.components as object), extra: 0 } },
      { ...r, components: { ...(r.components as object), shrink: undefined } },
      { ...r, estimator: undefined },
      { ...r, toJSON: () => 'x' },
      Object.assign(Object.create({ inherited: true }) as object, r), // not a plain object
      Object.assign(Object.create(null) as object, r, { components: Object.assign(Object.create({}) as object, r.components) }),
    ];
    const w = new JsonBytes();
    w.ascii('[');
    for (const m of misshapen) {
      // nothing written, also when the member found wrong comes after others were
      expect(writeMessageRewardJson(w, m as MessageReward)).toBe(false);
      expect(w.copy().toString()).toBe('[');
      expect(messageRewardJson(m as MessageReward)).toBeUndefined();
      expect(eventJson(m as MessageReward)).toBe(JSON.stringify(m));
    }
    // a null-prototype reward is plain for JSON.stringify too
    const bare = Object.assign(Object.create(null) as object, r) as MessageReward;
    expect(messageRewardJson(bare)).toBe(JSON.stringify(r));
  });

  it('refuses to load when MessageRewardSchema gains a member it does not write (instead of dropping it)', async () => {
    vi.resetModules();
    vi.doMock('../../src/events/schemas.js', async (importOriginal) => {
      const real = await importOriginal<typeof import('../../src/events/schemas.js')>();
      return { ...real, MessageRewardSchema: real.MessageRewardSchema.extend({ weight: real.MessageRewardSchema.shape.reward.optional() }) };
    });
    try {
      await expect(import('../../src/events/reward-json.js')).rejects.toThrow(/MessageRewardSchema now has .*estimator, weight .*: update rewardBytes/);
    } finally {
      vi.doUnmock('../../src/events/schemas.js');
      vi.resetModules();
    }
  });
});
