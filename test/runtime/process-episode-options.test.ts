/**
 * Library callers of processEpisode / creditEpisode get option errors that name the key (from the
 * researcher user-acceptance pass: a bad value was a raw ZodError — a JSON dump of issues — and a
 * misspelt key such as `budgett` was ignored from a .mjs script).
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { creditEpisode, CreditOptionsError } from '../../src/credit/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { creditInputOf, processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

async function episode() {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto!, 'otlp_proto')));
  return asm.flush('shutdown')[0]!;
}

describe('option errors of the library entry points name the key', () => {
  it('processEpisode: a misspelt key names the one meant, a bad value what is accepted; good options pass (checked once per options object)', async () => {
    const ep = await episode();
    await expect(processEpisode(ep, { credit: { budgett: 5 } } as never)).rejects.toThrow(/^processOptions\.credit\.budgett: unknown key — did you mean budget\?/);
    await expect(processEpisode(ep, { credit: { estimator: 'nope' } } as never)).rejects.toThrow(/^processOptions\.credit\.estimator: expected one of "auto" \| "exact"/);
    const options = { credit: { budget: 200 } };
    const a = await processEpisode(ep, options);
    const b = await processEpisode(ep, options);
    expect(a.length).toBeGreaterThan(1);
    expect(b.map((e) => e.event_id)).toEqual(a.map((e) => e.event_id));
  });

  it('creditEpisode: a bad value is a CreditOptionsError naming credit.<key>, not a ZodError', async () => {
    const input = creditInputOf(await episode());
    const err = await creditEpisode(input, { estimator: 'nope' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditOptionsError);
    expect((err as Error).message).toMatch(/^credit\.estimator: expected one of "auto"/);
  });

  it('creditEpisode: a misspelt key is a CreditOptionsError naming the one meant, not ignored (an estimator comparison with { estimater } got the default estimator)', async () => {
    const input = creditInputOf(await episode());
    const err = await creditEpisode(input, { estimater: 'kernel' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditOptionsError);
    expect((err as Error).message).toMatch(/^credit\.estimater: unknown key — did you mean estimator\? — accepted keys here: game, /);
    // a parsed CreditOptions object (every key, defaults filled) is still accepted, and used: the
    // default estimator here is the closed form
    const { CreditOptionsSchema } = await import('../../src/credit/index.js');
    expect((await creditEpisode(input, {})).estimator.name).not.toBe('svarm');
    expect((await creditEpisode(input, CreditOptionsSchema.parse({ estimator: 'svarm' }))).estimator.name).toBe('svarm');
  });
});
