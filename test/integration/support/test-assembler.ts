/** The episode assembler the Kafka integration tests run with (no vitest imports: also used by the child process). */
import { EpisodeAssembler } from '../../../src/episodes/index.js';

/**
 * The real EpisodeAssembler with the close rule these tests rely on: an episode closes when its
 * evaluation has arrived and the root ended (never on grace alone, so results never depend on
 * whether the evaluation beat a timer), else after `idleMs`.
 */
export function testAssembler(idleMs: number): EpisodeAssembler {
  return new EpisodeAssembler({ closeOnEvaluation: true, graceMs: 120_000, idleMs, maxDurationMs: 600_000 });
}

