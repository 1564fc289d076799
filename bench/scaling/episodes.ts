/**
 * Time per episode through conventions → credit as agents and messages grow, on traces recorded
 * with the OTel SDK (bench/data/agent-traces.ts). Needs src/conventions `stepsFromSpans` and
 * src/credit `creditEpisode`; reports what is missing otherwise.
 */
import type { BenchContext, Plot } from '../lib/section.js';
import { loadOptional } from '../lib/optional.js';

export interface EpisodeScaling {
  ran: boolean;
  markdown: string;
  plots: Plot[];
  notes: string[];
  data: unknown;
}

export async function episodeScaling(_ctx: BenchContext): Promise<EpisodeScaling> {
  const credit = await loadOptional<Record<string, unknown>>('../src/credit/index.js');
  if ('missing' in credit || typeof credit.mod.creditEpisode !== 'function') {
    return { ran: false, markdown: 'Not run: src/credit does not export `creditEpisode` yet.', plots: [], notes: [], data: {} };
  }
  return { ran: false, markdown: 'Not run: wiring pending.', plots: [], notes: [], data: {} };
}
