import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, EpisodeAssemblerOptionsSchema, EpisodeOptionsError, resolveEpisodeAssemblerOptions } from '../../src/episodes/index.js';
import { estimateSpanBytes } from '../../src/episodes/index.js';
import { recordRuns } from './sdk.js';

describe('options', () => {
  it('applies the documented defaults', () => {
    expect(resolveEpisodeAssemblerOptions({})).toMatchObject({
      keyBy: 'trace',
      graceMs: 2000,
      closeOnEvaluation: true,
      idleMs: 30_000,
      maxDurationMs: 300_000,
      maxSpansPerEpisode: 10_000,
      maxOpenEpisodes: 10_000,
      maxBufferedBytes: 256 * 1024 * 1024,
      lateSpanPolicy: 'correct',
    });
    expect(EpisodeAssemblerOptionsSchema.parse({})).toEqual(resolveEpisodeAssemblerOptions());
  });

  it('names the offending key in errors, including unknown keys', () => {
    expect(() => new EpisodeAssembler({ graceMs: -1 })).toThrow(/episodes\.graceMs/);
    expect(() => resolveEpisodeAssemblerOptions({ keyBy: 'session' })).toThrow(/episodes\.keyBy/);
    expect(() => resolveEpisodeAssemblerOptions({ gracems: 5 })).toThrow(/episodes\.gracems/);
    expect(() => resolveEpisodeAssemblerOptions({ maxBytesPerEpisode: 10, maxBufferedBytes: 5 })).toThrow(EpisodeOptionsError);
  });
});

describe('estimateSpanBytes', () => {
  it('grows with attribute payload and is at least the fixed per-span cost', () => {
    const [small, big] = recordRuns([{ children: 1 }, { children: 1, payloadChars: 10_000 }]);
    const child = (r: typeof small) => r!.find((s) => s.parentSpanId !== undefined)!;
    expect(estimateSpanBytes(child(small))).toBeGreaterThanOrEqual(480);
    expect(estimateSpanBytes(child(big)) - estimateSpanBytes(child(small))).toBeGreaterThanOrEqual(10_000);
  });
});
