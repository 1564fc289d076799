import type { EpisodeAssemblerHooks } from './assembler.js';
import { evaluationsFromTree } from '../conventions/evaluations.js';
import { normalizedLabelTable, scoredByLabel, scoreOfLabel } from '../conventions/labels.js';
import type { Evaluation } from '../model/agents.js';
import { carriesSystemScore, type SpanScoreOptions } from './span-scores.js';

export interface EvaluationHookOptions extends Omit<SpanScoreOptions, 'evaluationName'> {
  /** `credit.labelScores`: the label table credit scores label-only verdicts by (default: the one decoding used). */
  labelScores?: Readonly<Record<string, number>>;
}

/**
 * Assembler hooks for the evaluation credit will use (`evaluation.name`, as src/runtime
 * `systemEvaluation` picks it):
 * - close an episode on arrival (`evaluation-arrived`) only of that evaluation: another
 *   evaluator's verdict on the run (a toxicity check) must not close it before the task verdict;
 * - do not hold an episode for an evaluation (`awaitEvaluationMs`) when its spans already carry
 *   that score (root score attribute, evaluation span events, evaluator spans);
 * - a verdict starts the correction window only when credit can score it (`scoresRun`): a finite
 *   score, or a label `credit.labelScores` scores, as src/runtime/process-episode.ts reads it.
 */
export function assemblerHooksFor(evaluationName: string | undefined, options: EvaluationHookOptions = {}): EpisodeAssemblerHooks {
  const { labelScores, ...spanOptions } = options;
  const scoreOptions: SpanScoreOptions = { ...spanOptions, ...(evaluationName !== undefined ? { evaluationName } : {}) };
  const table = labelScores === undefined ? undefined : normalizedLabelTable(labelScores);
  return {
    ...(evaluationName === undefined ? {} : { closesOnEvaluation: (e) => e.name === evaluationName }),
    scoresRun: (e) => scoresRun(e, table),
    carriesSystemScore: (spans) => carriesSystemScore(spans, scoreOptions),
    spanEvaluations: (tree) => evaluationsFromTree(tree, spanOptions.rootScoreAttribute !== undefined ? { rootScoreAttribute: spanOptions.rootScoreAttribute } : {}),
  };
}

/**
 * Whether credit finds a score in a system verdict: a label-only one (or one scored from its label
 * at decoding) by the configured table, as process-episode's `withLabelScores` re-scores it; any
 * other by a finite score.
 */
function scoresRun(e: Evaluation, table: Readonly<Record<string, number>> | undefined): boolean {
  if (table !== undefined && scoredByLabel(e)) return scoreOfLabel(e.label, table) !== undefined;
  return Number.isFinite(e.score);
}
