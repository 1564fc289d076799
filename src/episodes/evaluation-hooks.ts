import type { EpisodeAssemblerHooks } from './assembler.js';

/**
 * Assembler hooks that close an episode on arrival (`evaluation-arrived`) only of the evaluation
 * credit will use (`evaluation.name`, as src/runtime `systemEvaluation` picks it): another
 * evaluator's verdict on the run (a toxicity check) must not close it before the task verdict.
 */
export function assemblerHooksFor(evaluationName: string | undefined): EpisodeAssemblerHooks {
  return evaluationName === undefined ? {} : { closesOnEvaluation: (e) => e.name === evaluationName };
}
