// A value function that ends its worker thread for episodes whose id starts with "crash" (a
// native crash, an out-of-memory kill), and is additive otherwise.
export function value(coalition, episode) {
  if (episode.episodeId.startsWith('crash')) process.exit(7);
  return coalition.length;
}
