/**
 * The credit computation the integration tests run in the pipeline and in process: the real
 * `processEpisode` (conventions → credit → events) with default options. Deterministic given the
 * episode (event ids, rewards), which is what "output equal to the in-process computation" and
 * "every episode's events exactly once by event id" compare.
 */
import type { CreditEvent } from '../../../src/events/schemas.js';
import type { Episode } from '../../../src/model/episode.js';
import { processEpisode } from '../../../src/runtime/process-episode.js';

export async function referenceProcessEpisode(episode: Episode): Promise<CreditEvent[]> {
  return processEpisode(episode, {});
}
