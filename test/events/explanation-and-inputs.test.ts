/**
 * Events 1.2.0 (additive): episode_credit carries the evaluator's explanation (cut at 2048 bytes),
 * message_reward the steps it read (`causal_inputs`; a tool step's is the LLM call that issued it).
 * On the recorded GenAI fixture, run 1.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { EpisodeCreditSchema, MessageRewardSchema, type CreditEvent } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from '../conventions/fixtures.js';

async function run1(explanation: string | undefined): Promise<CreditEvent[]> {
  const spans = runSpans('genai')[0]!;
  const [verdict] = evaluationsFromLogs(fixtureLogs('genai')).filter((e) => e.traceId === spans[0]!.traceId);
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(spans);
  const { explanation: _recorded, ...rest } = verdict!;
  asm.addEvaluations([explanation === undefined ? rest : { ...rest, explanation }]);
  const [episode] = asm.tick();
  return processEpisode(episode!);
}

describe('events 1.2.0', () => {
  it('episode_credit carries the explanation, cut at 2048 bytes; none when the evaluator gave none', async () => {
    const [head] = await run1('the flight was booked as asked');
    expect(EpisodeCreditSchema.parse(head).evaluation.explanation).toBe('the flight was booked as asked');
    const [long] = await run1('é'.repeat(3000));
    const cut = EpisodeCreditSchema.parse(long).evaluation.explanation!;
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2048);
    expect(cut.startsWith('éé')).toBe(true);
    const [none] = await run1(undefined);
    expect(EpisodeCreditSchema.parse(none).evaluation).not.toHaveProperty('explanation');
  });

  it('message_reward names the steps it read: the tool step the LLM call that issued it, the answer the tool', async () => {
    const rewards = (await run1(undefined)).filter((e) => e.event_type === 'message_reward').map((e) => MessageRewardSchema.parse(e));
    const tool = rewards.find((r) => r.kind === 'tool')!;
    const issuer = rewards.find((r) => tool.causal_inputs?.includes(r.step_id))!;
    expect(issuer).toMatchObject({ kind: 'llm', agent_id: tool.agent_id });
    expect(rewards.some((r) => r.kind === 'llm' && r.causal_inputs?.includes(tool.step_id))).toBe(true);
    for (const r of rewards) for (const id of r.causal_inputs ?? []) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});
