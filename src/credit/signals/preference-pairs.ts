/**
 * Preference pairs of a failed episode (method.md §3): one pair per corrective attempt c of the
 * first error t*, (context, chosen = c, rejected = t*, margin = r_c - r_t*); with no corrective
 * attempt, one rejected-only sample of t* (margin = |r_t*|), flagged as such.
 */
import type { AgentStep } from '../../model/agents.js';
import type { CorrectiveAttempt } from './blame-repair.js';
import type { FirstError } from './first-error.js';

export interface PreferencePairDraft {
  readonly agentId: string;
  readonly traceId: string;
  readonly context: { parentStepId?: string; subTask?: string; input?: string; inputDigest?: string };
  readonly chosen?: AgentStep;
  readonly rejected: AgentStep;
  readonly margin: number;
  readonly rejectedOnly: boolean;
  readonly reason: string;
}

export function preferencePairs(
  stepsById: ReadonlyMap<string, AgentStep>,
  fe: FirstError,
  repairs: readonly CorrectiveAttempt[],
  rewardOf: (stepId: string) => number,
): PreferencePairDraft[] {
  const rejected = stepsById.get(fe.stepId);
  if (!rejected) return [];
  const context = {
    ...(rejected.parentStepId !== undefined ? { parentStepId: rejected.parentStepId } : {}),
    subTask: rejected.toolName ?? rejected.name,
    ...(rejected.inputText !== undefined ? { input: rejected.inputText } : {}),
    ...(rejected.inputDigest !== undefined ? { inputDigest: rejected.inputDigest } : {}),
  };
  const base = { agentId: rejected.agentId, traceId: rejected.traceId, context, rejected };
  if (repairs.length === 0) {
    return [{ ...base, margin: Math.abs(rewardOf(rejected.stepId)), rejectedOnly: true, reason: `first error (${fe.evidence.join('; ')}); no corrective attempt found` }];
  }
  return repairs.flatMap((r) => {
    const chosen = stepsById.get(r.stepId);
    if (!chosen) return [];
    return [{ ...base, chosen, margin: rewardOf(chosen.stepId) - rewardOf(rejected.stepId), rejectedOnly: false, reason: `first error (${fe.evidence.join('; ')}) corrected by ${r.reason}` }];
  });
}
