import type { EpisodeAssemblerHooks } from './assembler.js';
import { evaluationsFromTree } from '../conventions/evaluations.js';
import { carriesSystemScore, type SpanScoreOptions } from './span-scores.js';

/**
 * Assembler hooks for the evaluation credit will use (`evaluation.name`, as src/runtime
 * `systemEvaluation` picks it):
 * - close an episode on arrival (`evaluation-arrived`) only of that evaluation: another
 *   evaluator's verdict on the run (a toxicity check) must not close it before the task verdict;
 * - do not hold an episode for an evaluation (`awaitEvaluationMs`) when its spans already carry
 *   that score (root score attribute, evaluation span events, evaluator spans).
 */
export function assemblerHooksFor(evaluationName: string | undefined, options: Omit<SpanScoreOptions, 'evaluationName'> = {}): EpisodeAssemblerHooks {
  const scoreOptions: SpanScoreOptions = { ...options, ...(evaluationName !== undefined ? { evaluationName } : {}) };
  return {
    ...(evaluationName === undefined ? {} : { closesOnEvaluation: (e) => e.name === evaluationName }),
    carriesSystemScore: (spans) => carriesSystemScore(spans, scoreOptions),
    spanEvaluations: (tree) => evaluationsFromTree(tree, options.rootScoreAttribute !== undefined ? { rootScoreAttribute: options.rootScoreAttribute } : {}),
  };
}
