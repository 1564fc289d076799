/**
 * First-error localization (method.md §3): walk the messages in causal/time order and return the
 * first erroneous one, with the evidence that makes it erroneous and the steps that tie with it.
 * Evidence, strongest first:
 * - `status=error[: message]` (error status; exceptions set it),
 * - `evaluator flag` (`flaggedErroneous`),
 * - `evaluator flag on agent invocation "…"`: a failing verdict on a step that is no message (an
 *   agent invocation — `invoke_agent`, an AGENT span: what per-agent evaluators score — or another
 *   structural span) falls on that step's output, its last LLM call to end (else its last message),
 *   found through the messages' parent steps. Walking messages only, the verdict was dropped
 *   without a word and the failed run's last output took the blame,
 * - `prefix value drop a→b` when prefix scores are given and v_≤t drops by more than
 *   `dropThreshold` from v_≤t-1 (v_≤-1 = the baseline).
 * Ties: other erroneous messages that are causally concurrent with t* (neither depends on the
 * other) and started before t* ended — the walk cannot tell which came "first", so they are reported.
 * When nothing is erroneous but the run failed (`failedOutputStepId`), the output message is
 * returned with evidence `failed output (no earlier error evidence)`: the last resort, and it says so.
 */
import type { AgentStep } from '../../model/agents.js';
import { type CausalGraph, ancestors, buildCausalGraph, descendants, flaggedInvocationOutputs, isMessage } from '../causal-graph.js';

export { flaggedInvocationOutputs };

/** The evidence of the last resort: no step showed an error, so the failed output is named. */
export const FAILED_OUTPUT_EVIDENCE = 'failed output (no earlier error evidence)';

export interface FirstErrorOptions {
  /**
   * Prefix values v_≤t for the messages in causal order (index t = after the t-th message), from a
   * judge that can score prefixes. Same length as the number of messages.
   */
  prefixScores?: readonly number[];
  /** v_≤-1: the prefix value before any message (default 0). */
  prefixBaseline?: number;
  /** A drop larger than this counts as significant. Default 0.2. */
  dropThreshold?: number;
  /** The output message of a failed run: the last-resort culprit. */
  failedOutputStepId?: string;
}

export interface FirstError {
  readonly stepId: string;
  readonly agentId: string;
  readonly evidence: readonly string[];
  readonly ties: readonly string[];
  /** Index of t* in `graph.order`. */
  readonly index: number;
}

/** Evidence that message t (position `pos` among messages) is erroneous; empty when none. */
export function errorEvidence(step: AgentStep, pos: number, opts: FirstErrorOptions): string[] {
  const ev: string[] = [];
  if (!step.status.ok) ev.push(step.status.message ? `status=error: ${step.status.message}` : 'status=error');
  if (step.flaggedErroneous) ev.push('evaluator flag');
  const ps = opts.prefixScores;
  if (ps && pos < ps.length) {
    const prev = pos === 0 ? (opts.prefixBaseline ?? 0) : ps[pos - 1]!;
    const cur = ps[pos]!;
    if (prev - cur > (opts.dropThreshold ?? 0.2)) ev.push(`prefix value drop ${prev.toFixed(2)}→${cur.toFixed(2)}`);
  }
  return ev;
}

/**
 * @param stepsOrGraph the episode's steps (any order; the causal graph is built) or a graph built
 *   with `buildCausalGraph`.
 */
export function firstErrorStep(stepsOrGraph: readonly AgentStep[] | CausalGraph, opts: FirstErrorOptions = {}): FirstError | undefined {
  const graph = Array.isArray(stepsOrGraph) ? buildCausalGraph(stepsOrGraph as readonly AgentStep[]) : (stepsOrGraph as CausalGraph);
  const msgIdx = graph.order.map((s, i) => (isMessage(s) ? i : -1)).filter((i) => i >= 0);
  const evidence = msgIdx.map((i, pos) => errorEvidence(graph.order[i]!, pos, opts));
  for (const [i, ev] of flaggedInvocationOutputs(graph).outputs) evidence[msgIdx.indexOf(i)]!.push(ev);
  const firstPos = evidence.findIndex((e) => e.length > 0);
  if (firstPos < 0) {
    const out = opts.failedOutputStepId !== undefined ? graph.indexOf.get(opts.failedOutputStepId) : undefined;
    if (out === undefined) return undefined;
    const s = graph.order[out]!;
    return { stepId: s.stepId, agentId: s.agentId, evidence: [FAILED_OUTPUT_EVIDENCE], ties: [], index: out };
  }
  const t = msgIdx[firstPos]!;
  const star = graph.order[t]!;
  const down = descendants(graph, t);
  const up = ancestors(graph, t);
  const ties: string[] = [];
  msgIdx.forEach((i, pos) => {
    if (i === t || evidence[pos]!.length === 0 || down.has(i) || up.has(i)) return;
    if (graph.order[i]!.startTimeUnixNano <= star.endTimeUnixNano) ties.push(graph.order[i]!.stepId);
  });
  return { stepId: star.stepId, agentId: star.agentId, evidence: evidence[firstPos]!, ties, index: t };
}
