/**
 * The standings' totals (src/events/agent-totals.ts, kept by src/events/agent-board.ts): the
 * figures behind the per-agent counters on /metrics. Whatever the events (corrections included,
 * in any order and batching, delivered again): after every batch gained − lost is the agent's
 * credit sum and no total has gone down. Corrections are netted per agent; counts follow the
 * highest count any revision had. Real events: the credit engine's, for the three-agent example.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { AgentBoard, type AgentStanding } from '../../src/events/agent-board.js';
import type { AgentTotals } from '../../src/events/agent-totals.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';
import { redeliveredShuffle } from '../support/redelivery.js';

/** One episode of the three-agent example, its own trace id, at a revision, passed or failed. */
async function revisionEvents(trace: string, revision: number, opts: { fails: boolean; sabotage?: boolean }): Promise<CreditEvent[]> {
  const input = { ...episode(threeAgentSteps({ toolFails: opts.fails, sabotage: opts.sabotage }), opts.fails ? 0.1 : 0.9), episodeId: trace, traceIds: [trace], revision };
  const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 1_000 + revision });
  return [out.episode, ...out.rewards, ...out.pairs];
}

const T1 = '1'.repeat(32);
const T2 = '2'.repeat(32);
const T3 = '3'.repeat(32);
let passed: CreditEvent[]; // T1 revision 0
let failed: CreditEvent[]; // T1 revision 1: the pass re-evaluated as a failure
let passedAgain: CreditEvent[]; // T1 revision 2
let others: CreditEvent[]; // T2 failed then passed, T3 a sabotaged pass
beforeAll(async () => {
  passed = await revisionEvents(T1, 0, { fails: false });
  failed = await revisionEvents(T1, 1, { fails: true });
  passedAgain = await revisionEvents(T1, 2, { fails: false });
  others = [...(await revisionEvents(T2, 0, { fails: true })), ...(await revisionEvents(T2, 1, { fails: false })), ...(await revisionEvents(T3, 0, { fails: false, sabotage: true }))];
});

const rows = (b: AgentBoard) => new Map(b.snapshot({ totals: true }).agents.map((a) => [a.agent_id, a]));
const totals = (a: AgentStanding | undefined): AgentTotals => a!.totals as AgentTotals;

/** gained − lost is the credit sum, and the counts are at least what stands now. */
function expectConsistent(b: AgentBoard): void {
  for (const a of rows(b).values()) {
    const t = totals(a);
    expect(t.creditGained - t.creditLost, a.agent_id).toBeCloseTo(a.credit_sum, 9);
    expect(t.creditGained).toBeGreaterThanOrEqual(0);
    expect(t.creditLost).toBeGreaterThanOrEqual(0);
    expect(t.episodes).toBeGreaterThanOrEqual(a.episodes);
    expect(t.failures).toBeGreaterThanOrEqual(a.failures);
    expect(t.firstErrors).toBeGreaterThanOrEqual(a.first_errors);
    expect(t.harmful).toBeGreaterThanOrEqual(a.harmful_steps);
    expect(t.redundant).toBeGreaterThanOrEqual(a.redundant_steps);
    expect(t.repairs).toBeGreaterThanOrEqual(a.repairs);
  }
}

/** No total of an agent listed before has gone down. */
function expectNoDecrease(before: Map<string, AgentStanding>, after: Map<string, AgentStanding>): void {
  for (const [id, a] of after) {
    const was = before.get(id)?.totals;
    if (was === undefined) continue;
    for (const [k, v] of Object.entries(totals(a))) expect(v, `${id} ${k}`).toBeGreaterThanOrEqual(was[k as keyof AgentTotals]);
  }
}

describe('AgentBoard totals', () => {
  it('are left out of the snapshot unless asked for (the live page’s JSON, which a view compares with a job’s)', () => {
    const board = new AgentBoard();
    board.add(passed);
    expect(board.snapshot().agents.every((a) => a.totals === undefined)).toBe(true);
    expect(board.snapshot({ totals: true }).agents.every((a) => a.totals !== undefined)).toBe(true);
  });

  it('a correction is netted per agent: a lowered credit adds the difference to lost, a raised one to gained — never both', () => {
    const board = new AgentBoard();
    board.add(passed);
    const before = rows(board);
    board.add(failed);
    const after = rows(board);
    expectConsistent(board);
    expectNoDecrease(before, after);
    let lowered = 0;
    for (const [id, a] of after) {
      const [was, now] = [totals(before.get(id)), totals(a)];
      const [gained, lost] = [now.creditGained - was.creditGained, now.creditLost - was.creditLost];
      const change = a.credit_sum - before.get(id)!.credit_sum;
      expect(gained * lost, id).toBe(0);
      expect(gained - lost, id).toBeCloseTo(change, 12);
      if (change < 0) lowered++;
      // the same episode, re-evaluated: not a second one; the failure it turned into is counted
      expect(now.episodes, id).toBe(1);
      expect(now.failures, id).toBe(1);
    }
    expect(lowered).toBeGreaterThan(0); // the failure lowered someone's credit
    // and back to a pass: the failure stays counted (the gauge says 0), nothing is counted twice
    board.add(passedAgain);
    expectConsistent(board);
    expectNoDecrease(after, rows(board));
    for (const a of rows(board).values()) expect({ failures: a.failures, total: totals(a).failures, episodes: totals(a).episodes }).toEqual({ failures: 0, total: 1, episodes: 1 });
  });

  it('counts follow the highest count any revision had: a fail, a pass and a fail again count one first error', async () => {
    const board = new AgentBoard();
    board.add(await revisionEvents(T1, 0, { fails: true }));
    const researcher = () => rows(board).get('researcher')!;
    const once = { ...totals(researcher()) };
    expect(once.firstErrors).toBe(1);
    expect(once.repairs).toBeGreaterThan(0);
    board.add(await revisionEvents(T1, 1, { fails: false }));
    board.add(await revisionEvents(T1, 2, { fails: true }));
    expect(researcher().first_errors).toBe(1);
    expect(totals(researcher())).toMatchObject({ firstErrors: 1, failures: 1, episodes: 1, repairs: once.repairs, harmful: once.harmful, redundant: once.redundant });
    expectConsistent(board);
  });

  it('a correction whose credit comes in a later batch (a view reads the rewards and episodes topics apart): what was taken back is lost meanwhile', () => {
    const board = new AgentBoard();
    board.add(passed);
    const before = rows(board);
    board.add(failed.filter((e) => e.event_type !== 'episode_credit')); // the correction's first events: the pass is taken back
    const between = rows(board);
    expectConsistent(board);
    expectNoDecrease(before, between);
    expect(between.get('writer')!.credit_sum).toBe(0);
    expect(totals(between.get('writer')).creditLost).toBeCloseTo(before.get('writer')!.credit_sum, 12);
    board.add(failed.filter((e) => e.event_type === 'episode_credit'));
    expectConsistent(board);
    expectNoDecrease(between, rows(board));
    expect(totals(rows(board).get('writer')).episodes).toBe(1);
  });

  it('any arrival order, batching and re-deliveries: after every batch gained − lost is the sum and no total went down', () => {
    const all = [...passed, ...failed, ...passedAgain, ...others];
    fc.assert(
      fc.property(fc.array(fc.nat(all.length - 1), { maxLength: all.length }), fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 1, max: 9 }), (repeats, seed, batch) => {
        const order = redeliveredShuffle(all, repeats, seed);
        const board = new AgentBoard();
        let before = rows(board);
        for (let i = 0; i < order.length; i += batch) {
          board.add(order.slice(i, i + batch));
          const after = rows(board);
          expectConsistent(board);
          expectNoDecrease(before, after);
          before = after;
        }
      }),
      { numRuns: 60 },
    );
  });
});
