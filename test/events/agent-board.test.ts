/**
 * The fleet board (src/events/agent-board.ts) keeps, incrementally, what a consumer of the output
 * would compute from all events at once: each episode counted as its latest revision, each event
 * once. Checked against that direct computation (the oracle below) on real events — the recorded
 * SDK fixtures replayed, and corrected episodes from the credit engine — in any arrival order
 * with re-deliveries, and at its bounds.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { AgentBoard, type AgentBoardSnapshot } from '../../src/events/agent-board.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { redeliveredShuffle } from '../support/redelivery.js';

const keyOf = (e: CreditEvent) => `${e.episode_id}/${e.trace_ids[0]}`;

/** The standings straight from the definition: per episode key the highest revision, each event once. */
function oracle(events: readonly CreditEvent[]) {
  const latest = new Map<string, number>();
  for (const e of events) latest.set(keyOf(e), Math.max(latest.get(keyOf(e)) ?? -1, e.episode_revision));
  const seen = new Set<string>();
  const kept = events.filter((e) => e.episode_revision === latest.get(keyOf(e)) && !seen.has(e.event_id) && seen.add(e.event_id));
  const agents = new Map<string, { episodes: number; successes: number; failures: number; credit: number; firstErrors: number; steps: number; harmful: number; redundant: number; repairs: number }>();
  const agent = (id: string) => agents.get(id) ?? agents.set(id, { episodes: 0, successes: 0, failures: 0, credit: 0, firstErrors: 0, steps: 0, harmful: 0, redundant: 0, repairs: 0 }).get(id)!;
  let episodes = 0;
  let failures = 0;
  let value = 0;
  for (const e of kept) {
    if (e.event_type === 'episode_credit') {
      episodes++;
      value += e.system_value;
      if (e.outcome === 'failure') failures++;
      for (const a of e.agents) {
        const s = agent(a.agent_id);
        s.episodes++;
        s[e.outcome === 'success' ? 'successes' : 'failures']++;
        s.credit += a.credit;
        if (e.first_error?.agent_id === a.agent_id) s.firstErrors++;
      }
    } else if (e.event_type === 'message_reward') {
      const s = agent(e.agent_id);
      s.steps++;
      if (e.components.sabotage < 0) s.harmful++;
      if (e.components.redundancy < 0) s.redundant++;
      if (e.failure_role === 'repair') s.repairs++;
    }
  }
  return {
    episodes,
    failures,
    systemValueMean: episodes ? value / episodes : 0,
    rewards: kept.filter((e) => e.event_type === 'message_reward').length,
    pairs: kept.filter((e) => e.event_type === 'preference_pair').length,
    agents,
  };
}

function expectMatches(s: AgentBoardSnapshot, o: ReturnType<typeof oracle>): void {
  expect({ episodes: s.episodes, failures: s.failures, rewards: s.message_rewards, pairs: s.preference_pairs }).toEqual({ episodes: o.episodes, failures: o.failures, rewards: o.rewards, pairs: o.pairs });
  expect(s.system_value_mean).toBeCloseTo(o.systemValueMean, 9);
  // agents whose every contribution was taken back stay listed with zeros; the oracle never saw them
  const live = s.agents.filter((a) => a.episodes > 0 || a.steps > 0);
  expect(new Set(live.map((a) => a.agent_id))).toEqual(new Set(o.agents.keys()));
  for (const a of live) {
    const x = o.agents.get(a.agent_id)!;
    expect({ id: a.agent_id, episodes: a.episodes, successes: a.successes, failures: a.failures, firstErrors: a.first_errors, steps: a.steps, harmful: a.harmful_steps, redundant: a.redundant_steps, repairs: a.repairs }).toEqual({
      id: a.agent_id,
      episodes: x.episodes,
      successes: x.successes,
      failures: x.failures,
      firstErrors: x.firstErrors,
      steps: x.steps,
      harmful: x.harmful,
      redundant: x.redundant,
      repairs: x.repairs,
    });
    expect(a.credit_sum).toBeCloseTo(x.credit, 9);
    expect(a.credit_mean).toBeCloseTo(x.episodes ? x.credit / x.episodes : 0, 9);
  }
}

/** One episode of the three-agent example, its own trace id, at a revision, passed or failed. */
async function revisionEvents(trace: string, revision: number, opts: { fails: boolean; sabotage?: boolean }): Promise<CreditEvent[]> {
  const input = { ...episode(threeAgentSteps({ toolFails: opts.fails, sabotage: opts.sabotage }), opts.fails ? 0.1 : 0.9), episodeId: trace, traceIds: [trace], revision };
  const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 1_000 + revision });
  return [out.episode, ...out.rewards, ...out.pairs];
}

let fixtureEvents: CreditEvent[];
let corrected: CreditEvent[];
beforeAll(async () => {
  const sink = new CollectingSink();
  await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http'), join(AGENTS_SDK_FIXTURES, 'openinference', 'otlp-http'), join(AGENTS_SDK_FIXTURES, 'openllmetry', 'otlp-http')]), { sinks: [sink] });
  fixtureEvents = sink.events;
  // three episodes: failed then corrected to a pass; passed then corrected to a failure; a sabotaged pass
  corrected = [
    ...(await revisionEvents('1'.repeat(32), 0, { fails: true })),
    ...(await revisionEvents('1'.repeat(32), 1, { fails: false })),
    ...(await revisionEvents('2'.repeat(32), 0, { fails: false })),
    ...(await revisionEvents('2'.repeat(32), 1, { fails: true })),
    ...(await revisionEvents('3'.repeat(32), 0, { fails: false, sabotage: true })),
  ];
});

describe('AgentBoard', () => {
  it('recorded SDK runs: the standings a consumer would compute, failures with their first errors and repairs', () => {
    const board = new AgentBoard();
    board.add(fixtureEvents);
    const s = board.snapshot();
    expectMatches(s, oracle(fixtureEvents));
    expect(s.episodes).toBeGreaterThan(3);
    expect(s.failures).toBeGreaterThan(0);
    // every failed run has a first error, and it is counted against the agent that made it
    const failed = fixtureEvents.filter((e) => e.event_type === 'episode_credit' && e.outcome === 'failure');
    expect(s.agents.reduce((n, a) => n + a.first_errors, 0)).toBe(failed.filter((e) => e.event_type === 'episode_credit' && e.first_error).length);
    expect(s.agents.map((a) => a.credit_sum)).toEqual([...s.agents.map((a) => a.credit_sum)].sort((x, y) => y - x));
    expect(s.duplicates).toBe(0);
  });

  it('a correction replaces its episode’s earlier revision; a late older revision and re-deliveries change nothing', () => {
    const board = new AgentBoard();
    board.add(corrected);
    const s = board.snapshot();
    expectMatches(s, oracle(corrected));
    expect(s.corrections).toBe(2);
    expect(s.episodes).toBe(3);
    expect(s.failures).toBe(1); // episode 2's correction
    const before = JSON.stringify(s);
    const changes = board.changes;
    board.add(corrected.filter((e) => e.episode_revision === 0)); // late old revisions
    board.add(corrected.filter((e) => e.episode_revision === 1)); // re-delivered latest
    expect(board.changes).toBe(changes);
    expect(JSON.stringify({ ...board.snapshot(), duplicates: s.duplicates })).toBe(before);
    // re-delivered: every latest-revision event (episode 3 has only revision 0, in the first batch)
    expect(board.snapshot().duplicates).toBe(corrected.filter((e) => e.episode_revision === 1 || e.trace_ids[0] === '3'.repeat(32)).length);
  });

  it('harmful and redundant steps come from the reward components, first errors from the failed revision', () => {
    const board = new AgentBoard();
    board.add(corrected.filter((e) => e.trace_ids[0] === '3'.repeat(32)));
    const researcher = board.snapshot().agents.find((a) => a.agent_id === 'researcher')!;
    expect(researcher.harmful_steps).toBeGreaterThan(0); // the flagged summary
    const failedOnly = new AgentBoard();
    failedOnly.add(corrected.filter((e) => e.trace_ids[0] === '1'.repeat(32) && e.episode_revision === 0));
    const f = failedOnly.snapshot();
    expect(f.failures).toBe(1);
    expect(f.agents.find((a) => a.agent_id === 'researcher')!.first_errors).toBe(1); // the failed search
    expect(f.agents.find((a) => a.agent_id === 'researcher')!.repairs).toBeGreaterThan(0); // its retry
  });

  it('any arrival order, any re-deliveries: the same standings as the direct computation', () => {
    const all = [...fixtureEvents, ...corrected];
    fc.assert(
      fc.property(fc.array(fc.nat(all.length - 1), { maxLength: all.length }), fc.integer({ min: 1, max: 1 << 30 }), (repeats, seed) => {
        // a seeded shuffle of every event plus some delivered again
        const order = redeliveredShuffle(all, repeats, seed);
        const board = new AgentBoard();
        for (let i = 0; i < order.length; i += 7) board.add(order.slice(i, i + 7));
        expectMatches(board.snapshot(), oracle(all));
      }),
      { numRuns: 60 },
    );
  });

  it('bounded: forgotten episodes keep their contribution, a correction of one adds without taking back; the least recently seen agents go', () => {
    const board = new AgentBoard({ maxEpisodes: 1 });
    const ep1 = corrected.filter((e) => e.trace_ids[0] === '1'.repeat(32));
    board.add(ep1.filter((e) => e.episode_revision === 0));
    board.add(corrected.filter((e) => e.trace_ids[0] === '3'.repeat(32))); // forgets episode 1
    board.add(ep1.filter((e) => e.episode_revision === 0)); // its revision again: not counted twice
    expect(board.snapshot().episodes).toBe(2);
    board.add(ep1.filter((e) => e.episode_revision === 1));
    const s = board.snapshot();
    expect(s.episodes).toBe(3); // the old revision could not be taken back
    expect(s.corrections_unmatched).toBe(1);

    const few = new AgentBoard({ maxAgents: 2 });
    few.add(corrected.filter((e) => e.trace_ids[0] === '3'.repeat(32)));
    expect(few.snapshot().agents).toHaveLength(2);
    expect(few.snapshot().agents_dropped).toBeGreaterThan(0);
    expect(() => new AgentBoard({ maxAgents: 0 })).toThrow(/maxAgents must be an integer ≥ 1/);
  });

  it('an agent dropped at maxAgents and seen again starts afresh: a correction of an episode from before the drop takes nothing back from it', async () => {
    // three agents fit; three others push them out; they come back with another episode
    const others = (await revisionEvents('4'.repeat(32), 0, { fails: false })).map(
      (e) => JSON.parse(JSON.stringify(e).replace(/"(planner|researcher|writer)"/g, '"other-$1"')) as CreditEvent,
    );
    const ep1 = corrected.filter((e) => e.trace_ids[0] === '1'.repeat(32));
    const ep3 = corrected.filter((e) => e.trace_ids[0] === '3'.repeat(32));
    const board = new AgentBoard({ maxAgents: 3 });
    board.add(ep1.filter((e) => e.episode_revision === 0)); // failed: researcher made the first error
    board.add(others); // drops planner, researcher, writer
    expect(board.snapshot().agents.map((a) => a.agent_id).sort()).toEqual(['other-planner', 'other-researcher', 'other-writer']);
    board.add(ep3); // they come back, with episode 3 only
    board.add(ep1.filter((e) => e.episode_revision === 1)); // the correction of episode 1 (a pass)
    const fresh = new AgentBoard();
    fresh.add([...ep3, ...ep1.filter((e) => e.episode_revision === 1)]);
    const want = new Map(fresh.snapshot().agents.map((a) => [a.agent_id, a]));
    for (const a of board.snapshot().agents) {
      const w = want.get(a.agent_id)!;
      expect({ id: a.agent_id, episodes: a.episodes, failures: a.failures, firstErrors: a.first_errors, steps: a.steps, repairs: a.repairs }).toEqual({
        id: w.agent_id,
        episodes: w.episodes,
        failures: w.failures,
        firstErrors: w.first_errors,
        steps: w.steps,
        repairs: w.repairs,
      });
      expect(a.credit_sum).toBeCloseTo(w.credit_sum, 9);
    }
  });

  it('deduplicate off (replay summaries): the same standings for input without re-deliveries, and no ids kept', () => {
    const all = [...fixtureEvents, ...corrected];
    const lean = new AgentBoard({ deduplicate: false });
    lean.add(all);
    expectMatches(lean.snapshot(), oracle(all));
    // a re-delivered message reward counts again (what de-duplication is for); a second episode_credit of a revision never does
    lean.add(all.filter((e) => e.event_type !== 'message_reward' && e.event_type !== 'preference_pair'));
    expect(lean.snapshot().episodes).toBe(oracle(all).episodes);
    const before = lean.snapshot().message_rewards;
    lean.add(all.filter((e) => e.event_type === 'message_reward').slice(0, 1));
    expect(lean.snapshot().message_rewards).toBe(before + 1);
  });
});

