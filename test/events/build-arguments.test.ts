/**
 * `outcomeToEvents` given wrong arguments: `outcomeToEvents({}, …)` threw "Cannot read properties
 * of undefined (reading 'kind')", and `outcomeToEvents(outcome, {})` built events whose
 * emitted_at_ms was NaN (null in their JSON, against the package's own schema).
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode, type CreditOutcome } from '../../src/credit/index.js';
import { outcomeToEvents, type BuildOptions } from '../../src/events/index.js';
import { EpisodeCreditSchema } from '../../src/events/schemas.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';

const build = (outcome: unknown, opts?: unknown) => () => outcomeToEvents(outcome as CreditOutcome, opts as BuildOptions);

describe('outcomeToEvents arguments', () => {
  it('refuses what is not a CreditOutcome, naming what it takes', () => {
    expect(build({}, { emittedAtMs: 1 })).toThrow(/outcomeToEvents: expected the CreditOutcome creditEpisode returns .*got an object with no keys/);
    expect(build(undefined, { emittedAtMs: 1 })).toThrow(/got undefined/);
    expect(build({ episodeId: 'e', agents: [] }, { emittedAtMs: 1 })).toThrow(/got an object with episodeId, agents/);
  });

  it('refuses a missing or non-finite emittedAtMs instead of events with emitted_at_ms NaN', async () => {
    const outcome = await creditEpisode(episode(threeAgentSteps(), 0.9));
    expect(build(outcome)).toThrow(/opts\.emittedAtMs must be a finite number .*got none/);
    expect(build(outcome, {})).toThrow(/got none/);
    expect(build(outcome, { emittedAtMs: Number.NaN })).toThrow(/got NaN/);
    expect(build(outcome, { emittedAtMs: '1' })).toThrow(/got string/);
    const { episode: event } = outcomeToEvents(outcome, { emittedAtMs: 1_700_000_000_000 });
    expect(EpisodeCreditSchema.safeParse(event).success).toBe(true);
  });
});
