/**
 * Since a failed run can have independent errors (1.4.0), a `repair` or `critic` message reward may
 * correct t* or one of them, and the events did not say which: a trainer pairing a fix with the
 * error it fixed (for its own pairs, or to skip fixes of errors it does not train on) had to redo
 * the engine's causal analysis. `repairs_step_id` (1.5.0) names the error.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { messageRewardJson } from '../../src/events/reward-json.js';
import { MessageRewardSchema } from '../../src/events/schemas.js';
import { episode, sid } from '../credit/episode-builder.js';
import { parallelFailedSearches } from '../credit/search-steps.js';

const parallel = parallelFailedSearches();

describe('message_reward.repairs_step_id', () => {
  it('names the error each repair or critic corrects: t* or the independent error', async () => {
    const { rewards } = outcomeToEvents(await creditEpisode(episode(parallel, 0.2), {}), { emittedAtMs: 0 });
    const of = (id: number) => rewards.find((r) => r.step_id === sid(id))!;
    expect([2, 3, 4, 5, 6].map((id) => of(id).failure_role)).toEqual(['first-error', 'independent-error', 'critic', 'repair', 'repair']);
    expect(of(5).repairs_step_id).toBe(sid(2));
    expect(of(6).repairs_step_id).toBe(sid(3));
    expect(of(4).repairs_step_id).toBe(sid(2));
    // only on repairs and critics
    for (const id of [1, 2, 3, 7, 8]) expect(of(id)).not.toHaveProperty('repairs_step_id');
    for (const r of rewards) {
      MessageRewardSchema.parse(r);
      expect(messageRewardJson(r)).toBe(JSON.stringify(r)); // the fast writer writes it too
    }
  });

  it('absent in successful runs', async () => {
    const { rewards } = outcomeToEvents(await creditEpisode(episode(parallel, 0.9), {}), { emittedAtMs: 0 });
    for (const r of rewards) expect(r).not.toHaveProperty('repairs_step_id');
  });
});
