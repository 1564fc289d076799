// A value function whose values are finite but huge: ±1e308 (a sentinel for "impossible"
// coalitions) for a lone player and for the run without one message, the checklist share of
// examples/module-game otherwise.
const CHECKLIST = ['Plan:', 'tests passed', 'LGTM'];

export function value(coalition, episode) {
  if (episode.playerKind === 'messages' && coalition.length === episode.players.length - 1) return -1e308;
  if (coalition.length === 1) return coalition[0] === episode.players[0] ? 1e308 : -1e308;
  const kept = new Set(coalition);
  const texts = episode.steps.filter((s) => s.rewardable && kept.has(episode.playerKind === 'messages' ? s.stepId : s.agentId)).map((s) => s.outputText ?? '');
  return CHECKLIST.filter((item) => texts.some((t) => t.includes(item))).length / CHECKLIST.length;
}
