// A value function that costs ~250 ms of CPU the first time it sees an episode (a slow but
// healthy judge), and is additive otherwise.
const seen = new Set();
export function value(coalition, episode) {
  if (!seen.has(episode.episodeId)) {
    seen.add(episode.episodeId);
    const end = Date.now() + 250;
    while (Date.now() < end);
  }
  return coalition.length;
}
