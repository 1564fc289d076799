/**
 * The trainer's ledger (src/events/training-ledger.ts) applies the README's consumer contract —
 * de-duplicate on event_id, key on (episode_id, trace_ids[0]), keep the highest revision's credit
 * and rewards, keep every turn's latest pairs in conversation mode — incrementally, in any arrival
 * order. Checked against that contract computed directly (the oracle below) on real events: the
 * recorded SDK fixtures replayed, and credit-engine episodes corrected and continued over turns.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent, PreferencePair } from '../../src/events/schemas.js';
import { TrainingLedger, type TrainingEpisode } from '../../src/events/training-ledger.js';
import { TrainingRecordSchema, trainingRecord } from '../../src/events/training-record.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { redeliveredShuffle } from '../support/redelivery.js';

const T1 = '1'.repeat(32);
const T2 = '2'.repeat(32);
const T3 = '3'.repeat(32);
const keyOf = (e: { episode_id: string; trace_ids: readonly string[] }) => `${e.episode_id}/${e.trace_ids[0]}`;
const pairKey = (p: PreferencePair) => `${p.rejected.step_id}/${p.chosen?.step_id ?? ''}`;

/** The contract computed from all events at once: what each episode should be handed out as. */
function oracle(events: readonly CreditEvent[]) {
  const seen = new Set<string>();
  const unique = events.filter((e) => !seen.has(e.event_id) && seen.add(e.event_id));
  const out = new Map<string, { revision: number; credit: string | undefined; rewards: string[]; pairs: string[] }>();
  for (const key of new Set(unique.map(keyOf))) {
    const mine = unique.filter((e) => keyOf(e) === key);
    const revision = Math.max(...mine.map((e) => e.episode_revision));
    const latest = mine.filter((e) => e.episode_revision === revision);
    // pairs: of each turn group its highest revision's; of the same steps, the highest revision's
    const groupMax = new Map<number, number>();
    for (const e of mine) groupMax.set(e.trace_ids.length, Math.max(groupMax.get(e.trace_ids.length) ?? -1, e.episode_revision));
    const pairs = new Map<string, PreferencePair>();
    for (const e of mine) {
      if (e.event_type !== 'preference_pair' || e.episode_revision < groupMax.get(e.trace_ids.length)!) continue;
      const old = pairs.get(pairKey(e));
      if (!old || e.episode_revision > old.episode_revision) pairs.set(pairKey(e), e);
    }
    out.set(key, {
      revision,
      credit: latest.find((e) => e.event_type === 'episode_credit')?.event_id,
      rewards: latest.filter((e) => e.event_type === 'message_reward').map((e) => e.event_id).sort(),
      pairs: [...pairs.values()].map((p) => p.event_id).sort(),
    });
  }
  return out;
}

const shape = (t: TrainingEpisode) => ({ revision: t.revision, credit: t.credit?.event_id, rewards: t.rewards.map((e) => e.event_id).sort(), pairs: t.pairs.map((p) => p.event_id).sort() });

function expectMatches(released: readonly TrainingEpisode[], o: ReturnType<typeof oracle>): void {
  expect(new Set(released.map(keyOf)).size).toBe(released.length);
  expect(new Map(released.map((t) => [keyOf({ episode_id: t.episode_id, trace_ids: [t.first_trace_id] }), shape(t)]))).toEqual(o);
}

/** One episode of the three-agent example, credited by the engine: trace ids (the turns so far), revision, pass or fail. */
async function revisionEvents(episodeId: string, traceIds: string[], revision: number, opts: { fails: boolean; emittedAtMs?: number }): Promise<CreditEvent[]> {
  const input = { ...episode(threeAgentSteps({ toolFails: opts.fails }), opts.fails ? 0.1 : 0.9), episodeId, traceIds, revision };
  const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: opts.emittedAtMs ?? 1_000 + revision });
  return [out.episode, ...out.rewards, ...out.pairs];
}

let fixtureEvents: CreditEvent[];
let corrected: CreditEvent[];
let conversation: CreditEvent[];
let correctedTurn: CreditEvent[];
beforeAll(async () => {
  const sink = new CollectingSink();
  await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http'), join(AGENTS_SDK_FIXTURES, 'openinference', 'otlp-http'), join(AGENTS_SDK_FIXTURES, 'openllmetry', 'otlp-http')]), { sinks: [sink] });
  fixtureEvents = sink.events;
  // trace mode: a failed run corrected to a pass (a late verdict), and a pass corrected to a failure
  corrected = [...(await revisionEvents(T1, [T1], 0, { fails: true })), ...(await revisionEvents(T1, [T1], 1, { fails: false })), ...(await revisionEvents(T2, [T2], 0, { fails: false })), ...(await revisionEvents(T2, [T2], 1, { fails: true }))];
  // conversation mode: turn 1 fails (pairs), turn 2 passes (revision 1, one more trace: no pairs);
  // the same conversation re-opened after a restart (another first trace) fails at revision 0
  conversation = [...(await revisionEvents('conv:c1', [T1], 0, { fails: true })), ...(await revisionEvents('conv:c1', [T1, T2], 1, { fails: false })), ...(await revisionEvents('conv:c1', [T3], 0, { fails: true }))];
  // conversation mode: turn 1 fails (pairs), a late verdict corrects it to a pass (revision 1, the
  // same turns: no pairs), then turn 2 passes (revision 2, one more trace)
  correctedTurn = [...(await revisionEvents('conv:c2', [T1], 0, { fails: true })), ...(await revisionEvents('conv:c2', [T1], 1, { fails: false })), ...(await revisionEvents('conv:c2', [T1, T2], 2, { fails: false }))];
});

describe('TrainingLedger', () => {
  it('a misspelt option (finalAfterMS, maxEpisode) is refused naming the one meant — it was ignored and the default used (a JavaScript consumer has no type check)', () => {
    expect(() => new TrainingLedger({ finalAfterMS: 60_000 } as never)).toThrow('TrainingLedger: unknown option finalAfterMS — did you mean finalAfterMs? — accepted: finalAfterMs, maxEpisodes, maxHeldBytes, maxReleased');
    expect(() => new TrainingLedger({ maxEpisode: 1_000_000 } as never)).toThrow(/unknown option maxEpisode — did you mean maxEpisodes\?/);
    expect(() => new TrainingLedger({ finalAfterMs: 60_000, maxEpisodes: 10, maxHeldBytes: 1 << 20, maxReleased: 10 })).not.toThrow();
  });

  it('recorded SDK runs: each episode handed out once, whole, with its rewards and pairs', () => {
    const ledger = new TrainingLedger();
    for (const e of fixtureEvents) expect(ledger.add(e)).toBe('added');
    const out = ledger.release(Number.POSITIVE_INFINITY);
    expectMatches(out, oracle(fixtureEvents));
    expect(out.length).toBeGreaterThan(3);
    expect(out.every((t) => t.complete && !t.early && t.credit !== undefined)).toBe(true);
    expect(out.some((t) => t.pairs.length > 0)).toBe(true);
    expect(ledger.stats()).toMatchObject({ events: fixtureEvents.length, duplicates: 0, held: 0, released: out.length, released_incomplete: 0 });
  });

  it('a correction replaces the earlier revision: its rewards, its credit and its pairs', () => {
    const ledger = new TrainingLedger();
    for (const e of corrected) ledger.add(e);
    const out = ledger.release(Number.POSITIVE_INFINITY);
    expectMatches(out, oracle(corrected));
    const one = out.find((t) => t.episode_id === T1)!;
    expect(one.revision).toBe(1);
    expect(one.credit!.outcome).toBe('success');
    expect(one.pairs).toEqual([]); // the failed revision's pairs went with it
    const two = out.find((t) => t.episode_id === T2)!;
    expect(two.credit!.outcome).toBe('failure');
    expect(two.pairs.length).toBeGreaterThan(0);
    expect(two.pairs.every((p) => p.episode_revision === 1)).toBe(true);
    expect(ledger.stats().revisions_replaced).toBe(2);
  });

  it('conversation mode: a passing next turn keeps the failed turn’s pairs; a re-opened conversation is its own episode', () => {
    const ledger = new TrainingLedger();
    for (const e of conversation) ledger.add(e);
    const out = ledger.release(Number.POSITIVE_INFINITY);
    expectMatches(out, oracle(conversation));
    const c1 = out.find((t) => t.first_trace_id === T1)!;
    expect(c1.revision).toBe(1);
    expect(c1.trace_ids).toEqual([T1, T2]);
    expect(c1.credit!.outcome).toBe('success');
    const turn1Pairs = conversation.filter((e) => e.event_type === 'preference_pair' && e.episode_revision === 0 && e.trace_ids[0] === T1);
    expect(turn1Pairs.length).toBeGreaterThan(0);
    expect(c1.pairs.map((p) => p.event_id).sort()).toEqual(turn1Pairs.map((p) => p.event_id).sort());
    expect(c1.complete).toBe(true); // revision 1 states 0 pairs of its own
    const reopened = out.find((t) => t.first_trace_id === T3)!;
    expect(reopened.episode_id).toBe('conv:c1');
    expect(reopened.credit!.outcome).toBe('failure');
  });

  it('conversation mode: a corrected turn’s pairs stay replaced when the correction arrives after the next turn’s events', () => {
    const byRevision = (r: number) => correctedTurn.filter((e) => e.episode_revision === r);
    expect(byRevision(0).some((e) => e.event_type === 'preference_pair')).toBe(true);
    expect(byRevision(1).some((e) => e.event_type === 'preference_pair')).toBe(false);
    // on Kafka the next turn's rewards (another agent's partition) can be read before the correction
    for (const order of [correctedTurn, [...byRevision(2), ...byRevision(1), ...byRevision(0)], [...byRevision(2), ...byRevision(0), ...byRevision(1)]]) {
      const ledger = new TrainingLedger();
      for (const e of order) ledger.add(e);
      const out = ledger.release(Number.POSITIVE_INFINITY);
      expectMatches(out, oracle(correctedTurn));
      expect(out[0]!.revision).toBe(2);
      expect(out[0]!.pairs).toEqual([]); // the verdict that made them was corrected
    }
  });

  it('any arrival order, any re-deliveries: the same episodes as the direct computation', () => {
    const all = [...fixtureEvents, ...corrected, ...conversation, ...correctedTurn];
    const expected = oracle(all);
    fc.assert(
      fc.property(fc.array(fc.nat(all.length - 1), { maxLength: all.length }), fc.integer({ min: 1, max: 1 << 30 }), (repeats, seed) => {
        // a seeded shuffle of every event plus some delivered again
        const order = redeliveredShuffle(all, repeats, seed);
        const ledger = new TrainingLedger();
        for (const e of order) ledger.add(e);
        expectMatches(ledger.release(Number.POSITIVE_INFINITY), expected);
        const s = ledger.stats();
        expect(s.events + s.duplicates + s.stale).toBe(order.length);
      }),
      { numRuns: 60 },
    );
  });

  it('hands an episode out once it is final: finalAfterMs after its first event', async () => {
    const ledger = new TrainingLedger({ finalAfterMs: 60_000 });
    for (const e of await revisionEvents(T1, [T1], 0, { fails: false, emittedAtMs: 10_000 })) ledger.add(e);
    for (const e of await revisionEvents(T2, [T2], 0, { fails: false, emittedAtMs: 40_000 })) ledger.add(e);
    expect(ledger.release(69_999)).toEqual([]);
    expect(ledger.release(70_000).map((t) => t.episode_id)).toEqual([T1]);
    expect(ledger.stats().held).toBe(1);
    // a re-delivery of what went out, and an older revision: nothing new
    const again = await revisionEvents(T1, [T1], 0, { fails: false, emittedAtMs: 10_000 });
    expect(ledger.add(again[0]!)).toBe('after-release');
    // a later correction of a released episode (after a restart of the job) is handed out again, saying what it replaces
    for (const e of await revisionEvents(T1, [T1], 1, { fails: true, emittedAtMs: 90_000 })) ledger.add(e);
    const later = ledger.release(200_000);
    expect(later.map((t) => [t.episode_id, t.revision, t.supersedes_released_revision])).toEqual([
      [T2, 0, undefined],
      [T1, 1, 0],
    ]);
    expect(ledger.stats()).toMatchObject({ released: 3, released_again: 1, after_release: 1 });
  });

  it('a re-delivery of a released revision is not handed out again with a later revision, whatever the order', async () => {
    // conversation mode: turn 1 fails (pairs) and goes out; turn 2 (revision 1, one more trace) comes later
    const turn1 = await revisionEvents('conv:c3', [T1], 0, { fails: true, emittedAtMs: 10_000 });
    const turn2 = await revisionEvents('conv:c3', [T1, T2], 1, { fails: false, emittedAtMs: 90_000 });
    const pair = turn1.find((e) => e.event_type === 'preference_pair')!;
    expect(pair).toBeDefined();
    const outcomes: string[] = [];
    const records: TrainingEpisode[] = [];
    for (const redeliveredAfterTurn2 of [false, true]) {
      const ledger = new TrainingLedger({ finalAfterMs: 60_000 });
      for (const e of turn1) ledger.add(e);
      const first = ledger.release(70_000);
      expect(first.map((t) => [t.revision, t.pairs.length > 0])).toEqual([[0, true]]);
      // at-least-once: turn 1's pair is delivered again, before or after turn 2's first event
      if (!redeliveredAfterTurn2) outcomes.push(ledger.add(pair));
      for (const e of turn2) ledger.add(e);
      if (redeliveredAfterTurn2) outcomes.push(ledger.add(pair));
      const [second] = ledger.release(200_000);
      records.push(second!);
    }
    expect(outcomes).toEqual(['after-release', 'after-release']);
    // turn 1's pairs went out with revision 0 (kept: the next turn has more trace_ids); revision 1 repeats none of them
    expect(records.map((t) => [t.revision, t.supersedes_released_revision, t.pairs.map((p) => p.event_id)])).toEqual([
      [1, 0, []],
      [1, 0, []],
    ]);
  });

  it('an episode missing events goes out marked incomplete; bounded memory hands the oldest out early', async () => {
    const events = await revisionEvents(T1, [T1], 0, { fails: true });
    const ledger = new TrainingLedger();
    for (const e of events.filter((e) => e.event_type !== 'message_reward' || e !== events.find((r) => r.event_type === 'message_reward'))) ledger.add(e);
    const [partial] = ledger.release(Number.POSITIVE_INFINITY);
    expect(partial!.complete).toBe(false);
    expect(ledger.stats().released_incomplete).toBe(1);

    const small = new TrainingLedger({ maxEpisodes: 1 });
    for (const e of corrected.filter((e) => e.episode_revision === 0)) small.add(e);
    const early = small.release(0); // nothing final at t = 0, but episode T1 was pushed out by T2
    expect(early.map((t) => [t.episode_id, t.early])).toEqual([[T1, true]]);
    expect(small.stats()).toMatchObject({ held: 1, released_early: 1 });
    expect(() => new TrainingLedger({ maxEpisodes: 0 })).toThrow(/maxEpisodes must be a positive integer/);

    // by bytes: 1.5 × the JSON length of each held event
    const sizes = corrected.filter((e) => e.episode_revision === 0 && e.episode_id === T1).map((e) => JSON.stringify(e).length);
    const oneEpisode = sizes.reduce((a, b) => Math.ceil(a + 1.5 * b), 0);
    const byBytes = new TrainingLedger({ maxHeldBytes: oneEpisode + 10 });
    for (const e of corrected.filter((e) => e.episode_revision === 0)) byBytes.add(e, JSON.stringify(e).length);
    expect(byBytes.release(0).map((t) => [t.episode_id, t.early, t.complete])).toEqual([[T1, true, true]]); // T1 whole, pushed out by T2
    expect(byBytes.stats().held).toBe(1);
    expect(byBytes.stats().held_bytes).toBeLessThanOrEqual(oneEpisode + 10);
  });

  it('takes no event of another major version and no record without the event header: counted, never a TypeError', () => {
    const ledger = new TrainingLedger();
    const next = { ...fixtureEvents[0]!, schema_version: '2.0.0' } as unknown as CreditEvent;
    expect(ledger.add(next)).toBe('unsupported');
    const { trace_ids: _gone, ...headless } = fixtureEvents[0]!;
    expect(ledger.add(headless as unknown as CreditEvent)).toBe('unsupported');
    expect(ledger.add({} as CreditEvent)).toBe('unsupported');
    expect(ledger.stats()).toMatchObject({ unsupported: 3, events: 0, held: 0 });
    // a later minor version is taken
    expect(ledger.add({ ...fixtureEvents[0]!, schema_version: '1.9.0' } as unknown as CreditEvent)).toBe('added');
  });

  it('after a consumer restart a next turn comes without supersedes_revision: the record contract says to apply revisions by number, which gives the one-process result', () => {
    // one process hands out turn 1 (revision 0, a failed turn's pairs); a restarted one, whose
    // ledger never saw it, gets turn 2 (revision 1, re-crediting turn 1): no mark. Records kept as
    // the example's header said (keyed on episode, first trace and revision) and replaced only where
    // marked — as the record schema described the mark — held turn 1's rewards twice.
    const c1 = conversation.filter((e) => e.trace_ids[0] === T1);
    const before = new TrainingLedger();
    for (const e of c1.filter((e) => e.episode_revision === 0)) before.add(e);
    const after = new TrainingLedger();
    for (const e of c1.filter((e) => e.episode_revision === 1)) after.add(e);
    const records = [...before.release(Number.POSITIVE_INFINITY), ...after.release(Number.POSITIVE_INFINITY)].map(trainingRecord);
    expect(records.map((r) => [r.revision, r.supersedes_revision])).toEqual([
      [0, null],
      [1, null],
    ]);
    // the rule by revision: the highest record's credit and rewards, a lower one's pairs while no higher one has as many trace ids
    const top = records.reduce((a, b) => (b.revision > a.revision ? b : a));
    const pairs = records.flatMap((r) => (records.some((o) => o.revision > r.revision && o.trace_ids.length === r.trace_ids.length) ? [] : r.preference_pairs));
    const one = new TrainingLedger();
    for (const e of c1) one.add(e);
    const [whole] = one.release(Number.POSITIVE_INFINITY);
    expect(top.message_rewards.map((e) => e.event_id)).toEqual(whole!.rewards.map((e) => e.event_id));
    expect(pairs.map((p) => p.event_id).sort()).toEqual(whole!.pairs.map((p) => p.event_id).sort());
    // and that is what the contract says
    const flat = (t: string) => t.replace(/\s+\*?\s*/g, ' ');
    const description = (TrainingRecordSchema.shape.supersedes_revision as { description?: string }).description ?? '';
    expect(description).toContain('after a restart of the consumer');
    expect(description).toContain('apply the rule by revision, not by this mark');
    const readme = flat(readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8'));
    expect(readme).toContain('train on the highest revision of each (`episode_id`, `first_trace_id`)');
    const example = flat(readFileSync(join(import.meta.dirname, '../../examples/trainer-consumer/consume.ts'), 'utf8'));
    expect(example).toContain('and train on the highest revision of each (`episode_id`, `first_trace_id`)');
  });

  it('skips event types a later minor version may add, and counts them', () => {
    const ledger = new TrainingLedger();
    const future = { ...fixtureEvents[0]!, event_type: 'agent_summary' } as unknown as CreditEvent;
    expect(ledger.add(future)).toBe('unknown-type');
    expect(ledger.stats()).toMatchObject({ unknown_types: 1, events: 0, held: 0 });
  });
});
