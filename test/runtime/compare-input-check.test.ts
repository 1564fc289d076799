/**
 * `compareEstimators` checks each episode's credit input once, then runs every estimator, budget
 * and seed through the unchecked path: through `creditEpisode` it checked the whole input (every
 * step, against CreditInputSchema) again on each of those calls — for an input it had just built.
 */
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { compareEstimators } from '../../src/runtime/compare-estimators.js';
import { processOptionsOf } from '../../src/runtime/local-stages.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';

const checked = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../src/credit/input.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/credit/input.js')>();
  return {
    ...real,
    checkCreditInput: (input: unknown) => {
      checked.calls++;
      return real.checkCreditInput(input);
    },
  };
});

describe('compareEstimators checks each input once', () => {
  it('two episodes × 2 estimators × 2 budgets × 2 seeds: two checks, not one per credit run', async () => {
    const { spans, logs } = kafkaRecordsFor(await generateFleet({ episodes: 2, seed: 11, mix: { success: 1 } }), 'otlp_proto');
    const assembler = new EpisodeAssembler({ maxOpenEpisodes: 8 });
    for (const r of spans) assembler.addSpans(decodeTraces(r.value, 'otlp_proto'));
    for (const r of logs) assembler.addEvaluations(evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')));
    const episodes = assembler.flush('shutdown');
    expect(episodes).toHaveLength(2);
    checked.calls = 0;
    const report = await compareEstimators(episodes, processOptionsOf(loadConfig({ env: {} }).config), { estimators: ['permutation', 'svarm'], budgetsPerPlayer: [4, 10], seeds: 2 });
    expect(report.compared).toBe(2);
    expect(report.runRows).toHaveLength(16);
    expect(checked.calls).toBe(2);
  });
});
