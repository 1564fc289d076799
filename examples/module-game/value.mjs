/**
 * Example `module` game for agent-credit: v(S) = share of the task's checklist covered by the
 * messages of the agents in S. Load it with the module game (`credit.game: module` with `credit.module.path` pointing here).
 *
 * value(coalition, episode):
 *   coalition: the player ids kept (agent ids by default)
 *   episode:   { episodeId, players, steps, agents, evaluation }   (steps are AgentSteps)
 * Must be deterministic for a given coalition; may be async.
 */
const CHECKLIST = ['Plan:', 'tests passed', 'LGTM'];

export function value(coalition, episode) {
  const kept = new Set(coalition);
  const texts = episode.steps.filter((s) => s.rewardable && kept.has(s.agentId)).map((s) => s.outputText ?? '');
  const covered = CHECKLIST.filter((item) => texts.some((t) => t.includes(item))).length;
  return covered / CHECKLIST.length;
}
