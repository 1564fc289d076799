/**
 * `creditEpisode` given what a JavaScript caller writes by mistake: `creditEpisode({})` reported
 * "episode undefined: no-evaluation", a missing `steps` or an evaluation without `name` threw a
 * TypeError from deep inside ("items is not iterable"). It now refuses them naming the field.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode, CreditInputError, DegenerateEpisodeError, type CreditInput } from '../../src/credit/index.js';
import { episode, threeAgentSteps } from './episode-builder.js';

const bad = (input: unknown) => creditEpisode(input as CreditInput);

describe('creditEpisode input check', () => {
  it('refuses a missing or non-object input naming what it takes', async () => {
    await expect(bad(undefined)).rejects.toThrow(CreditInputError);
    await expect(bad(undefined)).rejects.toThrow(/expected a CreditInput object \{ episodeId, .*got undefined/);
    await expect(bad([])).rejects.toThrow(/got an array/);
  });

  it('{} names its missing fields instead of "episode undefined: no-evaluation"', async () => {
    const err = await bad({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditInputError);
    expect(err).not.toBeInstanceOf(DegenerateEpisodeError);
    expect((err as Error).message).toMatch(/input\.episodeId: .*expected string/);
    expect((err as Error).message).toMatch(/input\.steps: /);
  });

  it('an evaluation without a name, or a score that is no number, names the field', async () => {
    const good = episode(threeAgentSteps(), 0.9);
    const noName = { ...good, evaluation: { ...good.evaluation!, name: undefined } };
    await expect(bad(noName)).rejects.toThrow(/input\.evaluation\.name: .*expected string/);
    const textScore = { ...good, evaluation: { ...good.evaluation!, score: '0.9' } };
    await expect(bad(textScore)).rejects.toThrow(/input\.evaluation\.score: .*expected number/);
  });

  it('steps that are not a list, or a step without its ids, name the step', async () => {
    const good = episode(threeAgentSteps(), 0.9);
    await expect(bad({ ...good, steps: {} })).rejects.toThrow(/input\.steps: .*expected array/);
    const steps = [...good.steps];
    steps[1] = { ...steps[1]!, stepId: undefined } as never;
    await expect(bad({ ...good, steps })).rejects.toThrow(/input\.steps\[1\]\.stepId/);
  });

  it('a NaN or infinite score is still the documented degenerate episode, and a good input credits', async () => {
    await expect(creditEpisode(episode(threeAgentSteps(), Number.NaN))).rejects.toMatchObject({ reason: 'non-finite-score' });
    await expect(creditEpisode(episode(threeAgentSteps(), Number.POSITIVE_INFINITY))).rejects.toBeInstanceOf(DegenerateEpisodeError);
    expect((await creditEpisode(episode(threeAgentSteps(), 0.9))).outcome).toBe('success');
  });
});
