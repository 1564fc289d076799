/**
 * The sampler seed of one episode: the configured seed mixed with the episode id. With the seed
 * alone every episode drew the same permutations, so an estimator's error repeated from episode to
 * episode (researcher review: SVARM gave one agent the wrong sign in all 4 episodes of a replay),
 * and averages over episodes did not converge. The same seed and episode id still give the same
 * estimate (replays are reproducible); revisions of an episode share its seed. Pure.
 */
import { hash32 } from './hash32.js';

export function episodeSeed(seed: number, episodeId: string): number {
  // FNV-1a over the id's UTF-16 code units, then the murmur3 finalizer over it and the seed.
  let h = 0x811c9dc5;
  for (let i = 0; i < episodeId.length; i++) h = Math.imul(h ^ episodeId.charCodeAt(i), 0x01000193);
  return hash32(h ^ Math.imul(seed | 0, 0x9e3779b1));
}
