/**
 * Repeating an earlier output after a fault is a re-check, not redundancy (causal-graph.ts
 * `duplicateMessages`): in the generated saboteur run the reviewer reverts the optimizer's flagged
 * edit and re-runs the tests, getting the coder's "8/8 passed" again. That message was the run's
 * most penalized one (r = −0.557, below the sabotage at −0.378; a user-acceptance finding). Runs
 * from the real OTel SDK through the production path (decode → assemble → processEpisode).
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent, MessageReward } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario, type ScenarioKind } from '../../src/scenarios/index.js';

async function rewards(kind: ScenarioKind, convention: 'genai' | 'openinference' | 'openllmetry', seed: number): Promise<MessageReward[]> {
  const run = await generateScenario({ kind, convention, seed });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const events: CreditEvent[] = [];
  for (const ep of asm.flush('shutdown')) events.push(...(await processEpisode(ep)));
  return events.filter((e): e is MessageReward => e.event_type === 'message_reward');
}

describe('an output repeated after a fault is not a redundant duplicate', () => {
  for (const convention of ['genai', 'openinference', 'openllmetry'] as const) {
    it(`${convention}: the reviewer's test run after reverting the sabotage is not penalized as redundant; the sabotage stays the most penalized message`, async () => {
      for (const seed of [1, 2]) {
        const rs = await rewards('saboteur', convention, seed);
        const tests = rs.filter((r) => r.agent_name === 'reviewer' && /run_tests/.test(r.name));
        expect(tests.length).toBeGreaterThanOrEqual(2);
        for (const r of rs) expect(r.components.redundancy, `${r.agent_name} ${r.name}`).toBe(0);
        const worst = rs.reduce((a, b) => (b.reward < a.reward ? b : a));
        expect(worst.agent_name).toBe('optimizer');
        expect(worst.components.sabotage).toBeLessThan(0);
      }
    });
  }

  it('without a fault in between, re-running the coder’s tests with the same result still counts as a duplicate (success run)', async () => {
    const rs = await rewards('success', 'genai', 1);
    const redundant = rs.filter((r) => r.components.redundancy < 0);
    expect(redundant.map((r) => `${r.agent_name} ${r.name}`)).toEqual(['reviewer execute_tool run_tests']);
  });
});

describe('duplicateMessages: which faults make a repeat a re-check (hand-built causal graphs)', () => {
  it('a fault the repeat read, that had ended before it started, counts; an enclosing span failing later does not', async () => {
    const { buildCausalGraph, duplicateMessages } = await import('../../src/credit/index.js');
    const { step, sid } = await import('./episode-builder.js');
    // 1 coder's test run (D) · 2 saboteur edit (flagged) · 3 reviewer agent span [20, 100] · 4 reviewer re-run (D) at 30
    const base = [step({ id: 1, agent: 'coder', kind: 'tool', digest: 'D', t: 1 }), step({ id: 2, agent: 'optimizer', flagged: true, t: 5 })];
    const agentSpan = (ok: boolean) => ({ ...step({ id: 3, agent: 'reviewer', kind: 'agent', rewardable: false, ok, t: 20 }), endTimeUnixNano: 100_000_000n });
    // the re-run reads the flagged edit: a re-check, not a duplicate
    const reads = [...base, agentSpan(true), step({ id: 4, agent: 'reviewer', kind: 'tool', digest: 'D', parent: 3, inputs: [2], t: 30 })];
    expect(duplicateMessages(buildCausalGraph(reads)).size).toBe(0);
    // it does not read it: a duplicate, also when its enclosing agent span ends in error after it ran
    for (const ok of [true, false]) {
      const steps = [...base, agentSpan(ok), step({ id: 4, agent: 'reviewer', kind: 'tool', digest: 'D', parent: 3, inputs: [1], t: 30 })];
      expect(duplicateMessages(buildCausalGraph(steps)).get(sid(4)), `agent span ok=${ok}`).toBe(sid(1));
    }
  });

  it('follows faults through the chain (a repeat two steps after the fault) and stays linear on long chains of equal outputs', async () => {
    const { buildCausalGraph, duplicateMessages } = await import('../../src/credit/index.js');
    const { step, sid } = await import('./episode-builder.js');
    const chain = [step({ id: 1, agent: 'a', digest: 'D' }), step({ id: 2, agent: 'b', flagged: true, inputs: [1] }), step({ id: 3, agent: 'c', inputs: [2] }), step({ id: 4, agent: 'd', digest: 'D', inputs: [3] })];
    expect(duplicateMessages(buildCausalGraph(chain)).size).toBe(0);
    // 10,000 steps (maxSpansPerEpisode) each repeating the previous output: every one after the first is a duplicate
    const long = Array.from({ length: 10_000 }, (_, i) => step({ id: i + 1, agent: `a${i % 5}`, digest: 'D', ...(i > 0 ? { inputs: [i] } : {}) }));
    const dup = duplicateMessages(buildCausalGraph(long));
    expect(dup.size).toBe(9_999);
    expect(dup.get(sid(10_000))).toBe(sid(1));
  });

  it('a call repeated after reading its result (a poll) is not a duplicate, one in a branch that did not read it is — each repeat costs no walk of its ancestors', async () => {
    const { buildCausalGraph, duplicateMessages } = await import('../../src/credit/index.js');
    const { step, sid } = await import('./episode-builder.js');
    // 1 a's deploy_status call (D) · 2 its tool · then b, in a branch that reads none of a's results, makes the same call 1,500 times, each after its own previous one's tool
    const steps = [step({ id: 1, agent: 'a', digest: 'D' }), step({ id: 2, agent: 'a', kind: 'tool', digest: 'running', inputs: [1] })];
    for (let k = 0; k < 1_500; k++) {
      const call = 3 + 2 * k;
      steps.push(step({ id: call, agent: 'b', digest: 'D', ...(k > 0 ? { inputs: [call - 1] } : {}) }), step({ id: call + 1, agent: 'b', kind: 'tool', digest: `status ${k}`, inputs: [call] }));
    }
    // a's second call reads its first one's result: a poll, not a duplicate
    steps.push(step({ id: 3_003, agent: 'a', digest: 'D', inputs: [2] }), step({ id: 3_004, agent: 'a', kind: 'tool', digest: 'live', inputs: [3_003] }));
    const graph = buildCausalGraph(steps);
    let rowsRead = 0;
    const counted = { ...graph, inputs: new Proxy(graph.inputs, { get: (rows, key, receiver) => (typeof key === 'string' && /^\d+$/.test(key) && rowsRead++, Reflect.get(rows, key, receiver)) }) };
    const dup = duplicateMessages(counted);
    // b's calls read none of a's results: each is a duplicate of a's first call; a's second call is a poll
    expect(dup.size).toBe(1_500);
    expect(dup.get(sid(3))).toBe(sid(1));
    expect(dup.get(sid(2_999))).toBe(sid(1));
    expect(dup.has(sid(3_003))).toBe(false);
    expect(rowsRead).toBeLessThan(20 * steps.length); // 2,253,007 without the sweep: every repeat walked its ancestors
  });
});
