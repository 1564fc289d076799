// A value function that never returns for episodes whose id starts with "hang" (a stuck judge),
// and is additive otherwise.
export function value(coalition, episode) {
  if (episode.episodeId.startsWith('hang')) for (;;);
  return coalition.length;
}
