/**
 * `processEpisode` given what a JavaScript caller writes by mistake: `processEpisode({})` threw
 * "spans is not iterable" from the conventions, an evaluation without a name a TypeError further
 * in. It now refuses them naming the field; the assembler's episodes credit as before.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { EpisodeInputError, processEpisode } from '../../src/runtime/index.js';
import { processCheckedEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

async function closedEpisode(): Promise<Episode> {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 7 });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  return asm.flush('shutdown')[0]!;
}

const bad = (episode: unknown) => processEpisode(episode as Episode);

describe('processEpisode input check', () => {
  it('refuses a missing or non-object episode naming what it takes', async () => {
    await expect(bad(undefined)).rejects.toThrow(EpisodeInputError);
    await expect(bad(undefined)).rejects.toThrow(/expected an Episode object \{ episodeId, .*got undefined/);
    await expect(bad('e1')).rejects.toThrow(/got string/);
  });

  it('{} and spans that are no list name the field instead of "spans is not iterable"', async () => {
    await expect(bad({})).rejects.toThrow(/episode\.episodeId: .*expected string/);
    const episode = await closedEpisode();
    await expect(bad({ ...episode, spans: {} })).rejects.toThrow(/episode\.spans: .*expected array/);
    await expect(bad({ ...episode, spans: {} })).rejects.not.toThrow(/not iterable/);
  });

  it('an evaluation without a name, or a span with a bad id, names the entry', async () => {
    const episode = await closedEpisode();
    const evaluations = episode.evaluations.map((e, i) => (i === 0 ? { ...e, name: undefined } : e));
    await expect(bad({ ...episode, evaluations })).rejects.toThrow(/episode\.evaluations\[0\]\.name: .*expected string/);
    const spans = episode.spans.map((s, i) => (i === 1 ? { ...s, spanId: 42 } : s));
    await expect(bad({ ...episode, spans })).rejects.toThrow(/episode\.spans\[1\]\.spanId/);
  });

  it("the assembler's episodes credit as before; a NaN score is still skipped as degenerate, not refused", async () => {
    const episode = await closedEpisode();
    const now = () => 1;
    const events = await processEpisode(episode, { now });
    expect(events[0]?.event_type).toBe('episode_credit');
    expect(events).toEqual(await processCheckedEpisode(episode, { now }));
    let skipped: string | undefined;
    const nan = { ...episode, evaluations: episode.evaluations.map((e) => ({ ...e, score: Number.NaN })) };
    expect(await processEpisode(nan, { onSkipped: (_e, err) => (skipped = err.reason) })).toEqual([]);
    expect(skipped).toBe('non-finite-score');
  });
});

describe('creditInputOf input check', () => {
  it('refuses what is not an Episode as processEpisode does, instead of "spans is not iterable"', async () => {
    const { creditInputOf } = await import('../../src/index.js');
    expect(() => creditInputOf({} as Episode)).toThrow(EpisodeInputError);
    expect(() => creditInputOf({} as Episode)).toThrow(/episode\.spans: /);
    expect(creditInputOf(await closedEpisode()).steps.length).toBeGreaterThan(0);
  });
});
