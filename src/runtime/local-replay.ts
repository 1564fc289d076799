/**
 * Replay: OTLP files → the same local pipeline as `run`, driven by a clock that follows the
 * data (the latest span end / log time read so far), so episode closing (grace, idle,
 * evaluation-arrived) happens as it would have live, and the output is deterministic.
 * Remaining open episodes close with reason `shutdown` at the end.
 */
import type { AppConfig } from '../config/schema.js';
import { ManualClock } from '../episodes/index.js';
import type { EventSink } from '../sinks/types.js';
import { readOtlpFile, type OtlpFile } from '../sources/file/otlp-files.js';
import type { Logger } from '../telemetry/logger.js';
import { LocalPipeline, type LocalPipelineStats } from './local-pipeline.js';
import { buildLocalStages, type ProcessEpisodeFn } from './local-stages.js';

export interface ReplayOptions {
  sinks: EventSink[];
  logger?: Logger;
  processEpisode?: ProcessEpisodeFn;
  /** Called after each file (progress). */
  onFile?: (done: number, total: number, stats: LocalPipelineStats) => void;
}

const nsToMs = (ns: bigint) => Number(ns / 1_000_000n);

export async function replayFiles(config: AppConfig, files: readonly OtlpFile[], options: ReplayOptions): Promise<LocalPipelineStats> {
  const clock = new ManualClock(0);
  const stages = await buildLocalStages(config, clock, options.processEpisode, options.logger);
  const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks: options.sinks, logger: options.logger });
  const advanceTo = (ms: number) => {
    if (Number.isFinite(ms) && ms > clock.now()) clock.set(ms);
  };
  try {
    let done = 0;
    for (const file of files) {
      const batches = readOtlpFile(file);
      // An empty file decodes as an empty request (valid protobuf): say so, or it passes unseen.
      if (batches.every((b) => (b.signal === 'traces' ? b.spans.length : b.logs.length) === 0)) options.logger?.warn({ file: file.path }, 'replay: no spans or log records in this file (empty?)');
      for (const batch of batches) {
        if (batch.signal === 'traces') {
          let latest = 0;
          for (const s of batch.spans) latest = Math.max(latest, nsToMs(s.endTimeUnixNano));
          advanceTo(latest);
          // Backpressure in replay is waiting, not refusing: let credit catch up first.
          while (pipeline.stats().pending >= config.runtime.creditQueueMax) await pipeline.drain();
          pipeline.onSpans(batch.spans);
        } else {
          let latest = 0;
          for (const l of batch.logs) latest = Math.max(latest, nsToMs(l.timeUnixNano || l.observedTimeUnixNano));
          advanceTo(latest);
          pipeline.onLogs(batch.logs);
        }
        pipeline.tick();
      }
      options.onFile?.(++done, files.length, pipeline.stats());
    }
    await pipeline.stop('shutdown');
  } finally {
    await stages.close();
  }
  return pipeline.stats();
}
