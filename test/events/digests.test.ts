/**
 * `input_digest` / `output_digest` as their descriptions state them: the first 16 hex chars of
 * sha256 over the full text, taken before the cut at conventions.maxTextBytes — so an uncut text
 * beside it hashes to it, and a cut one does not (consumer review: the algorithm was undocumented).
 * On the recorded GenAI fixture, run 3 (failed: a rejected-only pair with input and output).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { PreferencePairSchema, type PreferencePair } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from '../conventions/fixtures.js';

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);

async function pairsOfRun3(maxTextBytes: number): Promise<PreferencePair[]> {
  const spans = runSpans('genai')[2]!;
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(spans);
  asm.addEvaluations(evaluationsFromLogs(fixtureLogs('genai')).filter((e) => e.traceId === spans[0]!.traceId));
  const [episode] = asm.tick();
  const events = await processEpisode(episode!, { conventions: { maxTextBytes } });
  return events.filter((e) => e.event_type === 'preference_pair').map((e) => PreferencePairSchema.parse(e));
}

describe('text digests', () => {
  it('are sha256 of the uncut text, first 16 hex chars; a cut text keeps the full text’s digest', async () => {
    const [whole] = await pairsOfRun3(1_000_000);
    expect(whole).toBeDefined();
    const { context, rejected } = whole!;
    expect(context.input && context.input_digest && rejected.output && rejected.output_digest).toBeTruthy();
    expect(digest(context.input!)).toBe(context.input_digest);
    expect(digest(rejected.output!)).toBe(rejected.output_digest);

    const [cut] = await pairsOfRun3(24);
    expect(cut!.context.input!.startsWith('…')).toBe(true); // inputs keep their end
    expect(cut!.rejected.output!.endsWith('…')).toBe(true); // outputs keep their start
    // same digests as the uncut texts: a trainer tells a cut text by the mismatch
    expect(cut!.context.input_digest).toBe(context.input_digest);
    expect(cut!.rejected.output_digest).toBe(rejected.output_digest);
    expect(digest(cut!.context.input!)).not.toBe(cut!.context.input_digest);
    expect(digest(cut!.rejected.output!)).not.toBe(cut!.rejected.output_digest);
  });
});
