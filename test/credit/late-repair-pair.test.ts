/**
 * The generated `late-repair` run: a failed run whose first error has a corrective attempt by the
 * same agent in kind, so credit gives the one two-sided preference pair a generated corpus has
 * (chosen = the retry, rejected = the failed call). Before this kind, pairs with a chosen side
 * were covered on hand-built episodes only; every generated failure was rejected-only.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

async function credited(convention: 'genai' | 'openinference' | 'openllmetry', seed: number) {
  const run = await generateScenario({ kind: 'late-repair', convention, seed });
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = asm.flush('shutdown');
  const events: CreditEvent[] = await processEpisode(episode!);
  return { run, events };
}

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a late-repair run (%s)', (convention) => {
  it('fails, with the first error repaired by the same agent’s retry of the same tool', async () => {
    const { run } = await credited(convention, 21);
    expect(run.expected.label).toBe('fail');
    expect(run.expected.score).toBeLessThan(0.5);
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const err = spans.find((s) => s.spanId === run.expected.firstErrorSpanId)!;
    const fix = spans.find((s) => s.spanId === run.expected.fixSpanId)!;
    expect(err.status.code).toBe(2);
    expect(fix.status.code).not.toBe(2);
    expect(fix.parentSpanId).toBe(err.parentSpanId);
    expect(fix.startTimeUnixNano > err.endTimeUnixNano).toBe(true);
    expect(fix.name).toBe(err.name);
  });

  it('gives a two-sided preference pair: chosen = the retry, rejected = the first error, positive margin', async () => {
    const { run, events } = await credited(convention, 21);
    const episode = events.find((e) => e.event_type === 'episode_credit');
    expect(episode?.outcome).toBe('failure');
    const pairs = events.filter((e) => e.event_type === 'preference_pair');
    expect(pairs).toHaveLength(1);
    const [pair] = pairs;
    expect(pair!.rejected_only).toBe(false);
    expect(pair!.chosen?.step_id).toBe(run.expected.fixSpanId);
    expect(pair!.rejected.step_id).toBe(run.expected.firstErrorSpanId);
    expect(pair!.chosen?.agent_id).toBe(pair!.rejected.agent_id);
    const rewards = new Map(events.flatMap((e) => (e.event_type === 'message_reward' ? [[e.step_id, e] as const] : [])));
    const chosen = rewards.get(run.expected.fixSpanId!)!;
    const rejected = rewards.get(run.expected.firstErrorSpanId!)!;
    expect(chosen.failure_role).toBe('repair');
    expect(rejected.failure_role).toBe('first-error');
    expect(chosen.reward).toBeGreaterThan(0);
    expect(rejected.reward).toBeLessThan(0);
    expect(pair!.margin).toBeCloseTo(chosen.reward - rejected.reward, 12);
    // the LLM call that read the timeout and issued the retry is its critic
    const critics = [...rewards.values()].filter((r) => r.failure_role === 'critic');
    expect(critics).toHaveLength(1);
    expect(critics[0]!.reward).toBeGreaterThan(0);
  });
});
