/**
 * A failing verdict on a step that is no message (an agent invocation: `invoke_agent`, an AGENT
 * span, `<name>.agent`; a chain) falls on that step's last LLM call. Only a failed run's first
 * error read it: in a successful run the verdict changed nothing — no harm term, no reward held
 * below 0, no word — where a failing verdict on the LLM call itself makes it harmful (method.md
 * §2: signed). Likewise in a failed run whose first error came earlier.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { episode, sid, step } from './episode-builder.js';

describe('a failing verdict on an agent invocation in a successful run', () => {
  const steps = (flagged: { invocation?: boolean; call?: boolean }, extra = false) => [
    step({ id: 1, agent: 'planner', name: 'chat gpt-4o', ok: !extra }),
    step({ id: 2, agent: 'coder', kind: 'agent', name: 'invoke_agent coder', rewardable: false, flagged: flagged.invocation, t: 2 }),
    step({ id: 3, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [1], t: 3 }),
    step({ id: 4, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [3], t: 4, flagged: flagged.call }),
    step({ id: 5, agent: 'coder', kind: 'handoff', name: 'agent_handoff coder', parent: 2, inputs: [4], t: 5 }),
    step({ id: 6, agent: 'reviewer', name: 'chat gpt-4o', inputs: [5], t: 6 }),
  ];
  const rewardOf = (out: Awaited<ReturnType<typeof creditEpisode>>, n: number) => out.messages.find((m) => m.step.stepId === sid(n))!;

  it('makes its last LLM call harmful, as a verdict on that call does', async () => {
    const onCall = await creditEpisode(episode(steps({ call: true }), 0.9), {});
    const onInvocation = await creditEpisode(episode(steps({ invocation: true }), 0.9), {});
    expect(onInvocation.outcome).toBe('success');
    expect(rewardOf(onInvocation, 4).reward).toBeLessThan(0);
    expect(rewardOf(onInvocation, 4).components.sabotage).toBeLessThan(0);
    expect(onInvocation.agents.map((a) => a.credit)).toEqual(onCall.agents.map((a) => a.credit));
    expect(onInvocation.messages.map((m) => m.reward)).toEqual(onCall.messages.map((m) => m.reward));
  });

  it('in a failed run whose first error came earlier, its last LLM call is harmful too', async () => {
    const out = await creditEpisode(episode(steps({ invocation: true }, true), 0.2), {});
    const onCall = await creditEpisode(episode(steps({ call: true }, true), 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(1));
    expect(rewardOf(out, 4).components.sabotage).toBeLessThan(0);
    expect(out.messages.map((m) => m.reward)).toEqual(onCall.messages.map((m) => m.reward));
  });
});

const judged = async (traces: Uint8Array, logs: Uint8Array, extra: (events: CreditEvent[]) => Evaluation[]): Promise<[CreditEvent[], CreditEvent[]]> => {
  const run = async (more: Evaluation[]) => {
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(decodeTraces(traces, 'otlp_proto'));
    asm.addEvaluations(more);
    asm.addEvaluations(evaluationsFromLogs(decodeLogs(logs, 'otlp_proto')).filter((e) => e.traceId === decodeTraces(traces, 'otlp_proto')[0]!.traceId));
    const [ep] = asm.flush('shutdown');
    return processEpisode(ep!);
  };
  const before = await run([]);
  return [before, await run(extra(before))];
};
const rewards = (events: CreditEvent[], agent: RegExp) => events.flatMap((e) => (e.event_type === 'message_reward' && agent.test(e.agent_name) ? [e] : []));
const verdict = (traceId: string, spanId: string): Evaluation => ({ name: 'agent_review', score: 0, label: 'fail', traceId, spanId, source: 'evaluations-stream', timeUnixNano: 1n });

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a successful generated run with a failing verdict on the coder’s invocation (%s)', (convention) => {
  it('holds the coder’s last LLM call below 0, with a sabotage component', async () => {
    const run = await generateScenario({ kind: 'success', convention, seed: 11 });
    let target = '';
    const [before, after] = await judged(run.tracesProto, run.logsProto, (ev) => {
      const coder = rewards(ev, /coder/);
      target = coder.filter((e) => e.kind === 'llm').at(-1)!.step_id;
      return [verdict(run.traceId, coder[0]!.causal_inputs![0]!)];
    });
    const episodeOf = (ev: CreditEvent[]) => ev.find((e) => e.event_type === 'episode_credit');
    expect(episodeOf(after)?.event_type === 'episode_credit' && episodeOf(after)?.outcome).toBe('success');
    const was = rewards(before, /coder/).find((e) => e.step_id === target)!;
    const now = rewards(after, /coder/).find((e) => e.step_id === target)!;
    expect(was.reward).toBeGreaterThan(0);
    expect(now.reward).toBeLessThan(0);
    expect(now.components.sabotage).toBeLessThan(0);
  });
});

describe.each(['genai', 'openinference', 'openllmetry'] as const)('the recorded %s fixture, passing run 1, with a failing verdict on the flights agent', (inst) => {
  it('holds the flights agent’s final answer below 0', async () => {
    const dir = join(AGENTS_SDK_FIXTURES, inst, 'otlp-http');
    const traces = new Uint8Array(readFileSync(join(dir, '0001-traces.pb')));
    const spans = decodeTraces(traces, 'otlp_proto');
    const invocation = stepsFromSpans(spans).steps.find((s) => s.kind === 'agent' && /flights/.test(s.agentName))!;
    const [before, after] = await judged(traces, new Uint8Array(readFileSync(join(dir, '0004-logs.pb'))), () => [verdict(spans[0]!.traceId, invocation.stepId)]);
    const answer = rewards(before, /flights/).filter((e) => e.kind === 'llm').at(-1)!;
    expect(answer.reward).toBeGreaterThan(0);
    const now = rewards(after, /flights/).find((e) => e.step_id === answer.step_id)!;
    expect(now.reward).toBeLessThan(0);
    expect(now.components.sabotage).toBeLessThan(0);
  });
});

describe('a verdict on the invocation reads as one on its last LLM call wherever the engine asks whether a step erred', () => {
  const same = async (shape: (onInvocation: boolean) => ReturnType<typeof step>[], R: number) => {
    const [inv, call] = [await creditEpisode(episode(shape(true), R), {}), await creditEpisode(episode(shape(false), R), {})];
    const view = (o: typeof inv) => o.messages.map((m) => [m.step.stepId, m.reward, m.components.redundancy, m.failureRole]);
    expect(view(inv)).toEqual(view(call));
    expect(inv.pairs.map((p) => [p.rejected.stepId, p.chosen?.stepId])).toEqual(call.pairs.map((p) => [p.rejected.stepId, p.chosen?.stepId]));
  };
  // the reviewer repeats the flagged call's output: a retry after a fault, not a duplicate
  const repeat = (inv: boolean) => [
    step({ id: 1, agent: 'planner', name: 'chat' }),
    step({ id: 2, agent: 'coder', kind: 'agent', name: 'invoke_agent coder', rewardable: false, flagged: inv, t: 2 }),
    step({ id: 3, agent: 'coder', name: 'chat', parent: 2, inputs: [1], t: 3 }),
    step({ id: 4, agent: 'coder', name: 'chat', parent: 2, inputs: [3], t: 4, digest: 'd1', flagged: !inv }),
    step({ id: 5, agent: 'reviewer', name: 'chat', inputs: [4], t: 5, digest: 'd1' }),
    step({ id: 6, agent: 'reviewer', name: 'chat', inputs: [5], t: 6 }),
  ];
  it.each([0.9, 0.2])('a later equal output (R = %s)', (R) => same(repeat, R));
  // an earlier failed call, then the flagged invocation's call redoing it: no repair
  const redo = (inv: boolean) => [
    step({ id: 1, agent: 'planner', name: 'chat' }),
    step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], t: 2, ok: false }),
    step({ id: 3, agent: 'coder', kind: 'agent', name: 'invoke_agent coder', rewardable: false, flagged: inv, t: 3 }),
    step({ id: 4, agent: 'coder', name: 'chat gpt-4o', parent: 3, inputs: [1], t: 4, flagged: !inv }),
    step({ id: 5, agent: 'reviewer', name: 'chat', inputs: [4], t: 5 }),
  ];
  it('a redo of an earlier error', () => same(redo, 0.2));
});
