import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateFiles } from '../../src/cli/generate.js';
import { loadConfig } from '../../src/config/index.js';
import type { Episode } from '../../src/model/episode.js';
import { replayEpisodes, replayFiles } from '../../src/runtime/local-replay.js';
import type { EventSink } from '../../src/sinks/types.js';
import { listOtlpFiles } from '../../src/sources/file/otlp-files.js';
import { tempDir } from '../support/temp-dir.js';

const config = loadConfig({ env: {} }).config;
const key = (e: Episode) => `${e.episodeId}#${e.revision}`;

describe('replayEpisodes (what compare measures)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the episodes in the order replay closes them also when the time slicer yields between them — compare --json rows came in another order from run to run', async () => {
    const dir = tempDir('ac-replay-episodes-order-');
    await generateFiles({ dir, episodes: 12, seed: 3, encoding: 'proto' });
    const files = listOtlpFiles([dir]);
    // The close order: the sinks publish in it.
    const closed: Episode[] = [];
    const recorder: EventSink = {
      name: 'recorder',
      start: async () => undefined,
      publish: (_events, ctx) => void closed.push(ctx!.episode!),
      flush: async () => undefined,
      close: async () => undefined,
    };
    await replayFiles(config, files, { sinks: [recorder] });
    expect(closed.length).toBe(12);
    // A slow machine: every turn of the event loop has run past the slicer's 10 ms, so credit
    // yields before each episode (what a loaded machine or another Node version does at random).
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += 25));
    const { episodes } = await replayEpisodes(config, files);
    expect(episodes.map(key)).toEqual(closed.map(key));
  }, 60_000);
});
