// A value function that allocates without bound (and keeps it) for episodes whose id starts with
// "leak", and is additive otherwise: a leak that, without a heap limit, grows its worker — and the
// whole process — until the OOM killer.
const kept = [];
export function value(coalition, episode) {
  if (episode.episodeId.startsWith('leak')) for (;;) kept.push(new Array(1 << 16).fill(kept.length));
  return coalition.length;
}
