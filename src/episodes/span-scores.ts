import { evaluationsFromTree } from '../conventions/evaluations.js';
import { SpanTree } from '../conventions/span-tree.js';
import type { Span } from '../model/telemetry.js';

export interface SpanScoreOptions {
  /** `evaluation.name`: only an evaluation of this name scores the run (as src/runtime `systemEvaluation` picks it). */
  evaluationName?: string;
  /** `evaluation.rootScoreAttribute`. */
  rootScoreAttribute?: string;
}

/**
 * Whether the spans themselves carry the run's system score — an evaluation span event or an
 * OpenInference evaluator span on a root, or the root score attribute — with a finite score, as
 * credit reads them (src/runtime/process-episode.ts). Such an episode has nothing to wait for
 * (`awaitEvaluationMs`). Called once per episode when its grace has passed, not per span.
 */
export function carriesSystemScore(spans: readonly Span[], options: SpanScoreOptions = {}): boolean {
  const tree = new SpanTree(spans);
  const opts = options.rootScoreAttribute !== undefined ? { rootScoreAttribute: options.rootScoreAttribute } : {};
  for (const e of evaluationsFromTree(tree, opts)) {
    if (e.score === undefined) continue;
    if (options.evaluationName !== undefined && e.name !== options.evaluationName) continue;
    if (e.spanId === undefined || (tree.byId.has(e.spanId) && tree.isRoot(e.spanId))) return true;
  }
  return false;
}
