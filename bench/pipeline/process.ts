/**
 * In-process cost of the credit stage: closed episodes (decoded fleet, evaluations joined by the
 * real assembler) through `processEpisode` (conventions → credit → events), one at a time.
 * This is the per-core ceiling of the Kafka pipeline's credit stage.
 */
import type { Episode } from '../../src/model/episode.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import type { Evaluation } from '../../src/model/agents.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { loadOptional } from '../lib/optional.js';
import { quantile } from '../lib/stats.js';
import type { FleetRecords } from './data.js';

export interface ProcessCost {
  episodes: number;
  spans: number;
  seconds: number;
  episodesPerSecond: number;
  spansPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  events: number;
}

export async function processEpisodeCost(fleet: FleetRecords, limit: number): Promise<ProcessCost> {
  const rt = await loadOptional<{ processEpisode: (e: Episode, o?: unknown) => Promise<CreditEvent[]>; processCheckedEpisode?: (e: Episode, o?: unknown) => Promise<CreditEvent[]> }>('../src/runtime/process-episode.js');
  if ('missing' in rt) throw new Error(rt.missing);
  // what the runtimes run: without processEpisode's episode check for library callers
  const processEpisode = rt.mod.processCheckedEpisode ?? rt.mod.processEpisode;
  const ep = await loadOptional<{ EpisodeAssembler: new (o?: unknown) => { addSpans(s: readonly Span[]): void; addEvaluations(e: readonly Evaluation[]): void; flush(r?: string): Episode[] } }>('../src/episodes/index.js');
  if ('missing' in ep) throw new Error(ep.missing);
  const conv = await loadOptional<{ evaluationsFromLogs: (l: unknown) => Evaluation[] }>('../src/conventions/index.js');
  if ('missing' in conv) throw new Error(conv.missing);
  const asm = new ep.mod.EpisodeAssembler({ maxOpenEpisodes: limit + 16 });
  const ids = new Set(fleet.spanRecords.slice(0, limit).map((r) => r.key));
  for (const r of fleet.spanRecords.slice(0, limit)) asm.addSpans(decodeTraces(r.value, fleet.encoding));
  for (const l of fleet.logRecords) if (ids.has(l.key)) asm.addEvaluations(conv.mod.evaluationsFromLogs(decodeLogs(l.value, fleet.encoding)));
  const episodes = asm.flush('shutdown');
  const times: number[] = [];
  let events = 0;
  const t0 = performance.now();
  for (const e of episodes) {
    const t = performance.now();
    events += (await processEpisode(e)).length;
    times.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  const spans = episodes.reduce((s, e) => s + e.spans.length, 0);
  return { episodes: episodes.length, spans, seconds, episodesPerSecond: episodes.length / seconds, spansPerSecond: spans / seconds, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), events };
}
