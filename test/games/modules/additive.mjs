// A user value function: each agent adds a fixed weight; the episode id is echoed via players.
const weights = { planner: 0.2, coder: 0.5, reviewer: 0.3 };
export function value(coalition, episode) {
  if (!Array.isArray(episode.players)) throw new Error('episode.players missing');
  return coalition.reduce((sum, agent) => sum + (weights[agent] ?? 0), 0);
}
