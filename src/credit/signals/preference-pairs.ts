/**
 * Preference pairs of a failed episode (method.md §3): one pair per corrective attempt c of the
 * first error t* by t*'s own agent in kind, (context, chosen = c, rejected = t*, margin = r_c - r_t*); with
 * no such attempt, one rejected-only sample of t* (margin = max(0, −r_t*): how far below zero its reward
 * is — a first error whose reward is not negative, e.g. its agent's share of a failed run that still
 * scored above the baseline, is no weight to push it down by), flagged as such.
 *
 * A pair says "in this context, this policy should have answered like c": both sides must come from
 * the same agent (role), or the trainer would learn one agent's answer from another agent's prompt,
 * and be the same kind of step (the same tool for tool calls): a sub-task is answered in kind.
 * A corrective attempt by another agent still earns its repair reward (blame-repair.ts); it only
 * forms no pair, and the rejected-only sample's reason names it.
 */
import { inputDigestOf } from '../../conventions/step-digests.js';
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
  // Built by assignment, and the drafts below written out, not as `{ ...(cond ? { a } : {}), b }` /
  // `{ ...base, more }`: in this V8 a literal that starts with a spread and has more gets a map of
  // its own per object, which made every read of a pair (outcomeToEvents) megamorphic.
  const context: { -readonly [K in keyof PreferencePairDraft['context']]: PreferencePairDraft['context'][K] } = {};
  if (rejected.parentStepId !== undefined) context.parentStepId = rejected.parentStepId;
  context.subTask = rejected.toolName ?? rejected.name;
  if (rejected.inputText !== undefined) context.input = rejected.inputText;
  const inputDigest = inputDigestOf(rejected);
  if (inputDigest !== undefined) context.inputDigest = inputDigest;
  const { agentId, traceId } = rejected;
  // Same agent, and the same kind of step (the same tool for a tool call): a retry or redo is of
  // t*'s kind by construction, but a prefix-value recovery is the first step after which the value
  // recovers, whatever it is — paired, a tool execution or a hand-off was the chosen answer to the
  // prompt of the LLM call that went wrong.
  const sameSubTask = (c: AgentStep) => c.agentId === rejected.agentId && c.kind === rejected.kind && (c.kind !== 'tool' || c.toolName === rejected.toolName);
  const own = repairs.flatMap((r) => {
    const chosen = stepsById.get(r.stepId);
    return chosen && sameSubTask(chosen) ? [{ chosen, reason: r.reason }] : [];
  });
  if (own.length === 0) {
    let otherKind = false;
    const others = repairs.flatMap((r) => {
      const s = stepsById.get(r.stepId);
      if (!s) return [];
      if (s.agentId !== rejected.agentId) return [`${s.stepId} by ${s.agentName ?? s.agentId}`];
      otherKind = true;
      return [`${s.stepId} (a ${s.kind === 'tool' && rejected.kind === 'tool' ? `${s.toolName ?? 'tool'} call` : `${s.kind} step`}) by ${s.agentName ?? s.agentId}`];
    });
    const why =
      others.length === 0
        ? 'no corrective attempt found'
        : otherKind
          ? `corrected only by another agent or another kind of step (${others.join(', ')}): no pair across agents or sub-tasks`
          : `corrected only by another agent (${others.join(', ')}): no pair across agents`;
    return [{ agentId, traceId, context, rejected, margin: Math.max(0, -rewardOf(rejected.stepId)), rejectedOnly: true, reason: `first error (${fe.evidence.join('; ')}); ${why}` }];
  }
  return own.map(({ chosen, reason }) => ({
    agentId,
    traceId,
    context,
    rejected,
    chosen,
    margin: rewardOf(chosen.stepId) - rewardOf(rejected.stepId),
    rejectedOnly: false,
    reason: `first error (${fe.evidence.join('; ')}) corrected by ${reason}`,
  }));
}
