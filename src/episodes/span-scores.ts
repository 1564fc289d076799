import { evaluationsFromTree, systemEvaluation } from '../conventions/evaluations.js';
import { SpanTree } from '../conventions/span-tree.js';
import type { Span } from '../model/telemetry.js';

export interface SpanScoreOptions {
  /** `evaluation.name`: only an evaluation of this name scores the run (as `systemEvaluation` picks it). */
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
  const fromSpans = evaluationsFromTree(tree, options.rootScoreAttribute !== undefined ? { rootScoreAttribute: options.rootScoreAttribute } : {});
  return systemEvaluation(tree, fromSpans, options.evaluationName) !== undefined;
}
