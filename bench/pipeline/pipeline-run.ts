/**
 * Runs the project's KafkaPipeline (src/runtime) once over loaded topics until every episode's
 * events are published, and measures it. Loaded at run time (lib/optional.ts): while src/runtime,
 * src/episodes or src/credit are missing this throws an error naming what is missing.
 */
import type { BenchContext } from '../lib/section.js';
import { loadOptional } from '../lib/optional.js';
import type { SteadyLoad } from '../latency/raw.js';
import type { FleetRecords } from './data.js';

export interface PipelineRun {
  seconds: number;
  /** Episode close → events acknowledged, ms, per episode (for section 3). */
  latenciesMs: number[];
  episodesPublished: number;
  markdown: string;
  notes: string[];
}

export interface PipelineTopics {
  spansTopic: string;
  logsTopic: string;
  episodes: number;
  spans: number;
}

export async function runPipelineOnce(_ctx: BenchContext, _brokers: string, _topics: PipelineTopics): Promise<PipelineRun> {
  const runtime = await loadOptional<Record<string, unknown>>('../src/runtime/index.js');
  if ('missing' in runtime) throw new Error(runtime.missing);
  const episodes = await loadOptional<Record<string, unknown>>('../src/episodes/index.js');
  if ('missing' in episodes) throw new Error(episodes.missing);
  throw new Error('src/runtime exports found, but the benchmark is not wired to them yet');
}

/** Live run at a steady load (section 3): latencies from episode close to its events consumed. */
export async function runPipelineLive(ctx: BenchContext, brokers: string, _fleet: FleetRecords, _load: SteadyLoad): Promise<PipelineRun> {
  return runPipelineOnce(ctx, brokers, { spansTopic: '', logsTopic: '', episodes: 0, spans: 0 });
}
