/**
 * A preference pair's margin is r_chosen − r_rejected of the two messages' own rewards, whether the
 * episode has a few messages (their rewards are searched by id) or many (a Map of them).
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, sid, step } from './episode-builder.js';

/** `chain` LLM calls of a planner, then the coder's failed `run_tests`, its retry and a reviewer's answer. */
function failedWithRetry(chain: number) {
  const steps = [];
  for (let i = 1; i <= chain; i++) steps.push(step({ id: i, agent: 'planner', name: 'chat gpt-4o', inputs: i > 1 ? [i - 1] : [] }));
  const t = chain + 1;
  steps.push(step({ id: t, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'execute_tool run_tests', inputs: [chain], ok: false }));
  steps.push(step({ id: t + 1, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'execute_tool run_tests', inputs: [t] }));
  steps.push(step({ id: t + 2, agent: 'reviewer', name: 'chat gpt-4o', inputs: [t + 1] }));
  return { steps, star: sid(t), retry: sid(t + 1) };
}

describe('preference pair margins', () => {
  for (const chain of [3, 80]) {
    it(`are the chosen and rejected messages' reward difference (${chain + 3} messages)`, async () => {
      const { steps, star, retry } = failedWithRetry(chain);
      const out = await creditEpisode(episode(steps, 0.2), {});
      expect(out.firstError?.stepId).toBe(star);
      expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId, p.rejectedOnly])).toEqual([[retry, star, false]]);
      const reward = (id: string) => out.messages.find((m) => m.step.stepId === id)!.reward;
      expect(reward(retry)).not.toBe(reward(star));
      expect(out.pairs[0]!.margin).toBe(reward(retry) - reward(star));
    });
  }
});
