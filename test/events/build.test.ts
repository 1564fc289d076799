/**
 * Event building: ids are sha256 over NUL-terminated parts (the prefix form equals the list form),
 * every event's keys follow its schema's field order (the published JSON text depends on it),
 * per-episode values are computed once, and non-finite numbers fail naming their subject.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditEpisode, type CreditOutcome } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { eventId, eventIdOfText, eventIdText } from '../../src/events/event-id.js';
import { messageRewardJson } from '../../src/events/reward-json.js';
import { EpisodeCreditSchema, EvaluationUsedSchema, PairStepSchema, MessageRewardSchema, PreferencePairSchema } from '../../src/events/schemas.js';
import { episode, sid, step, threeAgentSteps } from '../credit/episode-builder.js';

describe('eventId', () => {
  it('is the first 32 hex chars of sha256 over each part followed by NUL', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.integer())), (parts) => {
        const h = createHash('sha256');
        for (const p of parts) h.update(`${String(p)}\u0000`);
        expect(eventId(parts)).toBe(h.digest('hex').slice(0, 32));
      }),
    );
  });

  it('equals the prefix form: eventIdOfText(eventIdText(head) + subject + NUL)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.nat())), fc.string(), (head, subject) => {
        expect(eventIdOfText(`${eventIdText(head)}${subject}\u0000`)).toBe(eventId([...head, subject]));
      }),
    );
  });
});

/** Keys of `event` must appear in the schema's field order (optional fields may be absent). */
function expectSchemaKeyOrder(event: object, schemaKeys: readonly string[]): void {
  const keys = Object.keys(event);
  const positions = keys.map((k) => schemaKeys.indexOf(k));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
}

/** The failed three-agent episode, its second step nested under the first (a parent step id). */
async function failedOutcome(): Promise<CreditOutcome> {
  const steps = threeAgentSteps({ toolFails: true }).map((s, i) => (i === 1 ? { ...s, parentStepId: sid(1) } : s));
  return creditEpisode(episode(steps, 0.2), {});
}

describe('outcomeToEvents', () => {
  it('writes every event in its schema field order, with and without the optional fields', async () => {
    for (const out of [await creditEpisode(episode(threeAgentSteps(), 0.9), {}), await failedOutcome()]) {
      const { episode: ep, rewards, pairs } = outcomeToEvents(out, { emittedAtMs: 5 });
      expectSchemaKeyOrder(ep, Object.keys(EpisodeCreditSchema.shape));
      expectSchemaKeyOrder(ep.estimator, ['name', 'status', 'evaluations', 'budget', 'target_half_width', 'confidence', 'note']);
      expectSchemaKeyOrder(ep.evaluation, Object.keys(EvaluationUsedSchema.shape));
      for (const a of ep.agents) expectSchemaKeyOrder(a, ['agent_id', 'agent_name', 'credit', 'ci_low', 'ci_high', 'leave_one_out', 'steps']);
      for (const r of rewards) {
        expectSchemaKeyOrder(r, Object.keys(MessageRewardSchema.shape));
        MessageRewardSchema.parse(r);
      }
      for (const p of pairs) {
        expectSchemaKeyOrder(p, Object.keys(PreferencePairSchema.shape));
        expectSchemaKeyOrder(p.rejected, Object.keys(PairStepSchema.shape));
        if (p.chosen) expectSchemaKeyOrder(p.chosen, Object.keys(PairStepSchema.shape));
      }
    }
    // Both forms of the optional reward fields occur: with and without parent / failure role.
    const { rewards } = outcomeToEvents(await failedOutcome(), { emittedAtMs: 5 });
    expect(rewards.some((r) => r.failure_role !== undefined)).toBe(true);
    expect(rewards.some((r) => r.parent_step_id !== undefined)).toBe(true);
    expect(rewards.some((r) => r.parent_step_id === undefined)).toBe(true);
  });

  it("gives the chosen side its own prompt when it answered another one than the rejected step (math review: the pair's context was the rejected step's alone)", async () => {
    const withInput = (s: ReturnType<typeof step>, text: string) => ({ ...s, inputText: text, inputDigest: createHash('sha256').update(text).digest('hex').slice(0, 16) });
    const pairFor = async (retryInput: string) => {
      const steps = [
        step({ id: 1, agent: 'planner', name: 'plan' }),
        withInput(step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], ok: false }), 'write the parser'),
        withInput(step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [1] }), retryInput),
      ];
      const { pairs } = outcomeToEvents(await creditEpisode(episode(steps, 0.3), {}), { emittedAtMs: 5 });
      expect(pairs).toHaveLength(1);
      PreferencePairSchema.parse(pairs[0]);
      return pairs[0]!;
    };
    const same = await pairFor('write the parser');
    expect(same.chosen?.input_digest).toBe(same.context.input_digest);
    expect(same.rejected.input_digest).toBe(same.context.input_digest);
    expect(same.chosen?.input).toBeUndefined();
    const longer = await pairFor('write the parser\nerror: rate limited, try again');
    expect(longer.chosen?.input_digest).not.toBe(longer.context.input_digest);
    expect(longer.chosen?.input).toBe('write the parser\nerror: rate limited, try again');
  });

  it('keeps only well-formed trace ids and gives each event its own id from (episode, revision, type, method, subject)', async () => {
    const out = await failedOutcome();
    const bad = { ...out, traceIds: ['not-a-trace', ...out.traceIds, 'F'.repeat(32)] };
    const { episode: ep, rewards, pairs } = outcomeToEvents(bad, { emittedAtMs: 7.9 });
    for (const e of [ep, ...rewards, ...pairs]) {
      expect(e.trace_ids).toEqual(out.traceIds);
      expect(e.emitted_at_ms).toBe(7);
    }
    const method = `${out.game.kind}/${out.game.removalProtocol}/${out.estimator.name}`;
    expect(ep.event_id).toBe(eventId([out.episodeId, out.revision, 'episode_credit', method, '']));
    for (const r of rewards) expect(r.event_id).toBe(eventId([out.episodeId, out.revision, 'message_reward', method, r.step_id]));
  });

  it('builds each message_reward as a plain object (reward-json writes its text) with its own copy of the span ids among its causal inputs', async () => {
    const out = await failedOutcome();
    const valid = sid(0xabc); // upper case, it is no span id
    const inputs: string[][] = [['not-a-span-id', valid, valid.toUpperCase()], ['nope'], [valid, sid(8)], []];
    const messages = out.messages.map((m, i) => ({ ...m, step: { ...m.step, causalInputs: inputs[i % inputs.length]!, ...(i === 0 ? { clockOffsetNano: 1_000n } : {}) } }));
    const { rewards } = outcomeToEvents({ ...out, messages }, { emittedAtMs: 5 });
    expect(rewards).toHaveLength(messages.length);
    rewards.forEach((r, i) => {
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(messageRewardJson(r)).toBe(JSON.stringify(r));
      const expected = [[valid], undefined, [valid, sid(8)], undefined][i % inputs.length];
      expect(r.causal_inputs).toEqual(expected);
      expect('causal_inputs' in r).toBe(expected !== undefined);
      if (r.causal_inputs !== undefined) expect(r.causal_inputs).not.toBe(messages[i]!.step.causalInputs);
      MessageRewardSchema.parse(r);
    });
    // the span's own start: the step's corrected start less its clock offset
    expect(rewards[0]!.start_time_unix_nano).toBe((messages[0]!.step.startTimeUnixNano - 1_000n).toString());
    expect(rewards[1]!.start_time_unix_nano).toBe(messages[1]!.step.startTimeUnixNano.toString());
  });

  it('refuses non-finite numbers, naming the field and its subject', async () => {
    const out = await failedOutcome();
    const [m0, ...rest] = out.messages;
    const broken = { ...out, messages: [{ ...m0!, reward: Number.NaN }, ...rest] };
    expect(() => outcomeToEvents(broken, { emittedAtMs: 0 })).toThrow(new RangeError(`reward of ${m0!.step.stepId} is NaN; credit outcomes must be finite (bug in the credit engine)`));
    const [a0, ...others] = out.agents;
    expect(() => outcomeToEvents({ ...out, agents: [{ ...a0!, ciHigh: Infinity }, ...others] }, { emittedAtMs: 0 })).toThrow(`ci_high of ${a0!.agentId} is Infinity`);
    expect(() => outcomeToEvents({ ...out, baseline: Number.NaN }, { emittedAtMs: 0 })).toThrow('baseline is NaN');
  });
});
