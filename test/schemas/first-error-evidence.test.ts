/**
 * `first_error.evidence` is matched on by consumers: its description must list the forms the engine
 * writes, and only those. It named an `exception event` that is never written (an exception sets
 * the step's error status: `status=error: …`) and not the agent-invocation flag.
 */
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../../src/cli/schema-files.js';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, step } from '../credit/episode-builder.js';

/** The backticked forms of the description, as patterns: `<…>` is any text, digits any digits. */
function forms(description: string): RegExp[] {
  return description
    .split('`')
    .filter((_, i) => i % 2 === 1)
    .map((f) => new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '.+').replace(/\d/g, '\\d')}$`));
}

describe('first_error.evidence description', () => {
  it('lists every evidence the engine writes, and nothing it does not', async () => {
    const schema = JSON.parse(schemaFiles()['episode-credit.schema.json']!) as { properties: { first_error: { properties: { evidence: { description: string } } } } };
    const patterns = forms(schema.properties.first_error.properties.evidence.description);
    const within = (kind: 'agent' | 'chain', flaggedCall = false) => [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', kind, name: 'invoke_agent coder', rewardable: false, flagged: true, t: 2 }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [1], t: 3, flagged: flaggedCall }),
    ];
    const runs = [
      episode([step({ id: 1, agent: 'a', ok: false }), step({ id: 2, agent: 'b', inputs: [1] })], 0.1),
      episode([{ ...step({ id: 1, agent: 'a' }), status: { ok: false } }, step({ id: 2, agent: 'b', inputs: [1] })], 0.1),
      episode(within('agent', true), 0.1),
      episode(within('chain'), 0.1),
      episode([step({ id: 1, agent: 'coder', kind: 'agent', rewardable: false, flagged: true }), step({ id: 2, agent: 'coder', kind: 'tool', parent: 1 })], 0.1),
      episode([step({ id: 1, agent: 'a' }), step({ id: 2, agent: 'b', inputs: [1] })], 0.1),
    ];
    const written: string[] = [];
    for (const run of runs) written.push(...((await creditEpisode(run, {})).firstError?.evidence ?? []));
    const prefix = await creditEpisode(runs[5]!, { prefixScorer: async () => [0.8, 0.2] });
    written.push(...(prefix.firstError?.evidence ?? []));
    expect(new Set(written.map((e) => e.replace(/".*"/, '"…"').replace(/: .*/, ': …')))).toEqual(
      new Set(['status=error: …', 'status=error', 'evaluator flag', 'evaluator flag on agent invocation "…" (its last LLM call)', 'evaluator flag on chain span "…" (its last LLM call)', 'evaluator flag on agent invocation "…" (its last message)', 'failed output (no earlier error evidence)', 'prefix value drop 0.80→0.20']),
    );
    const unmatched = written.filter((e) => !patterns.some((p) => p.test(e)));
    expect(unmatched).toEqual([]);
    const neverWritten = patterns.filter((p) => !written.some((e) => p.test(e))).map(String);
    expect(neverWritten).toEqual([]);
  });
});
