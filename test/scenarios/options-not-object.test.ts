/**
 * `generateScenario()` / `generateFleet(undefined)` said `invalid scenario option "": Invalid
 * input: expected object, received undefined`, naming an option "" that does not exist. They now
 * say the options are no object, and which options there are.
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, generateScenario } from '../../src/scenarios/index.js';

describe('scenario options that are no object', () => {
  it('generateScenario(undefined) names the options, not an option ""', async () => {
    const err = (await generateScenario(undefined as never).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toMatch(/option ""/);
    expect(err.message).toMatch(/^invalid scenario options: .*expected object.* — pass an object of options \(accepted: kind, convention, seed, agents/);
  });

  it('generateFleet(null) likewise', async () => {
    const err = (await generateFleet(null as never).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^invalid fleet options: .* — pass an object of options \(accepted: .*episodes/);
  });
});
