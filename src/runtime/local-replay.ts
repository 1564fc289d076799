/**
 * Replay: OTLP files → the same local pipeline as `run`, driven by a clock that follows the
 * data (the latest span end / log time read so far), so episode closing (grace, idle,
 * evaluation-arrived) happens as it would have live, and the output is deterministic.
 * Remaining open episodes close with reason `shutdown` at the end.
 *
 * Order: requests are fed in event-time order across all inputs, not in path order. Each
 * request's key is the clock value it sets (its latest span end or log time); ties keep the
 * listing order (path, then line of a `.jsonl` file). Path order alone put a collector dump's
 * `otlp_logs/` before `otlp_spans/` (or `logs/` before `traces/`): the clock ran to the end of the
 * dump on the logs, and every evaluation older than `episodes.pendingEvaluationTtlMs` expired
 * before its spans were read (a 10-minute dump of 20 runs gave 3 episodes); reversed, runs closed
 * `root-ended` before their verdict and came out as revision 1.
 *
 * Two passes, so a large dump is never held decoded in memory at once: the first decodes each
 * request to learn its key and signal and keeps only those (≈ 100 bytes per request: path, byte
 * range, signal, time); the second reads and decodes the requests again one at a time in key
 * order. Cost: every request is read and decoded twice (about twice the decode CPU of one pass);
 * peak memory is one decoded request plus the open episodes, as before.
 *
 * Undecodable requests (a file, or a `.jsonl` line) are skipped: each is logged at error level with
 * its path and reason and counted (`undecodable` in the result); the rest is replayed.
 *
 * JSON evaluation records (src/sources/file: a dump of `source.kafka.evaluationsTopic`, or bodies
 * posted to `POST /v1/evaluations`) join episodes as the receiver joins them (`onEvaluations`, the
 * same refusals): each record is a request of its own, at its `time_unix_nano`, after the spans
 * and log records of the same millisecond (a judge's verdict follows the run it judges); a record
 * without one is placed by `evaluationTimes` and timed as received — the replay clock when it is
 * fed, as the receiver takes the wall clock. Invalid or refused records are logged at error level
 * with their file, record number and reason, and counted (`invalidEvaluations`): not fatal.
 */
import type { AppConfig } from '../config/schema.js';
import { ManualClock } from '../episodes/index.js';
import type { Episode } from '../model/episode.js';
import type { EventSink } from '../sinks/types.js';
import { kafkaRecordSource, readOtlpRequest, scanOtlpFile, type OtlpFile, type OtlpRequestRef, type UndecodableRequest } from '../sources/file/otlp-files.js';
import type { Logger } from '../telemetry/logger.js';
import { LocalPipeline, type LocalPipelineStats } from './local-pipeline.js';
import { buildLocalStages, type ProcessEpisodeFn } from './local-stages.js';

export interface ReplayOptions {
  sinks: EventSink[];
  logger?: Logger;
  processEpisode?: ProcessEpisodeFn;
  /** Called after each request fed to the pipeline (progress). */
  onRequest?: (done: number, total: number, stats: LocalPipelineStats) => void;
}

export interface ReplayStats extends LocalPipelineStats {
  /** Requests (files, `.jsonl` lines, and each evaluation record) fed to the pipeline. */
  requests: number;
  /** Requests skipped because they could not be read or decoded, each with why (also logged). */
  undecodable: UndecodableRequest[];
  /** Evaluation records refused as the receiver refuses them (invalid, or naming nothing to join on), each with why (also logged). */
  invalidEvaluations: UndecodableRequest[];
  /** Closed episode revisions that yielded no credit events (degenerate: no evaluation, bad score…; each logged). */
  episodesSkipped: number;
  /** Evaluations that joined no episode, by why. */
  unmatchedEvaluations: {
    /** Waited `episodes.pendingEvaluationTtlMs` (or the buffer was full) for spans of their trace that never came. */
    expired: number;
    /** Still waiting for spans of their trace when the input ended. */
    pendingAtEnd: number;
    /** Carried no trace id, conversation id or response id usable to join. */
    unjoinable: number;
  };
}

/** Total of `ReplayStats.unmatchedEvaluations`. */
const unmatchedTotal = (u: ReplayStats['unmatchedEvaluations']) => u.expired + u.pendingAtEnd + u.unjoinable;

/**
 * The episodes `replay` closes, each revision in the order it closed them, with nothing credited
 * (what `compare` measures its estimators on). One at a time: with `runtime.creditConcurrency`
 * above 1 the pipeline starts several `processEpisode` calls at once, each after a time-slicer
 * yield when the event loop's turn has run 10 ms (time-slicer.ts), and an episode enqueued later
 * could be handed over first when the one before it was still waiting for its turn. The sinks
 * never saw that (they publish in close order) but `compare` collected its episodes that way:
 * its `--json` episode and run rows came in another order from one run to the next (a machine
 * under load, or Node 22 instead of 20, was enough), and the pooled errors, summed in that
 * order, differed in their last digits.
 */
export async function replayEpisodes(config: AppConfig, files: readonly OtlpFile[], options: Pick<ReplayOptions, 'logger'> = {}): Promise<{ episodes: Episode[]; stats: ReplayStats }> {
  const episodes: Episode[] = [];
  const stats = await replayFiles({ ...config, runtime: { ...config.runtime, creditConcurrency: 1 } }, files, {
    sinks: [],
    ...options,
    processEpisode: async (episode) => {
      episodes.push(episode);
      return [];
    },
  });
  return { episodes, stats };
}

export async function replayFiles(config: AppConfig, files: readonly OtlpFile[], options: ReplayOptions): Promise<ReplayStats> {
  const logger = options.logger;
  const undecodable: UndecodableRequest[] = [];
  const skip = (u: UndecodableRequest) => {
    undecodable.push(u);
    logger?.error({ file: u.name, reason: u.reason }, 'replay: request skipped, it cannot be decoded (the rest is replayed; the exit code will be 1)');
  };
  const invalidEvaluations: UndecodableRequest[] = [];
  const refuseRecord = (u: UndecodableRequest) => {
    invalidEvaluations.push(u);
    logger?.error({ file: u.name, reason: u.reason }, 'replay: evaluation record refused, as the receiver refuses it (the rest is replayed; the exit code will be 1)');
  };
  // Pass 1: keys (event time) and signals of every request, nothing decoded kept (but evaluation records, which are small).
  const refs: OtlpRequestRef[] = [];
  const traceEnds = new Map<string, number>();
  for (const file of files) {
    const scanned = scanOtlpFile(file);
    scanned.undecodable.forEach(skip);
    scanned.invalidEvaluations.forEach(refuseRecord);
    // An empty file decodes as an empty request (valid protobuf): say so, or it passes unseen.
    if (scanned.undecodable.length === 0 && scanned.invalidEvaluations.length === 0 && scanned.requests.every((r) => r.items === 0)) logger?.warn({ file: file.path }, 'replay: no spans or log records in this file (empty?)');
    for (const r of scanned.requests) refs.push(r);
    for (const [trace, end] of scanned.traceEnds) traceEnds.set(trace, Math.max(traceEnds.get(trace) ?? 0, end));
  }
  evaluationTimes(refs, traceEnds);
  // Event-time order; Array.prototype.sort is stable, so ties keep the listing order — but an
  // evaluation record comes after the spans and log records of its millisecond (a judge answers
  // once it has the run): sorted by path among them, a verdict that fell after the request with
  // its run's root and before another ending in that millisecond closed the run
  // (closeOnEvaluation) without that request's spans, which then came as late spans.
  const rank = (r: OtlpRequestRef) => (r.signal === 'evaluations' ? 1 : 0);
  refs.sort((a, b) => a.timeMs - b.timeMs || rank(a) - rank(b));

  // The assembler's start counts as an evaluation arriving (runs wait awaitEvaluationMs for theirs
  // while evaluations arrive, episodes.evaluationsArrivingMs): it starts at the input's first
  // request, as a job started before its first record. At 0 (1970) the runs before the first
  // verdict in the input did not wait for theirs — closed at graceMs without credit, then
  // credited by their verdict as revision 1, where the job gives revision 0.
  const clock = new ManualClock(refs.find((r) => r.timeMs > 0)?.timeMs ?? 0);
  const stages = await buildLocalStages(config, clock, options.processEpisode, logger);
  const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks: options.sinks, logger });
  /** Moves the clock to `ms`; whether it moved. */
  const advanceTo = (ms: number): boolean => {
    if (!Number.isFinite(ms) || ms <= clock.now()) return false;
    clock.set(ms);
    return true;
  };
  let requests = 0;
  try {
    let done = 0;
    // Pass 2: decode again, one request at a time, in key order.
    for (const ref of refs) {
      let batch;
      try {
        batch = readOtlpRequest(ref);
      } catch (err) {
        skip({ name: ref.name, reason: (err as Error).message.replace(/^replay: /, '') });
        continue;
      }
      requests++;
      // What is due by this request's time closes before its records join (grace, awaitEvaluationMs,
      // idleMs), as the job's timer closes it live: else a verdict that came after its run's wait
      // joined it when no other request fell in between — the same run credited as revision 0 or
      // 1, with other event ids, depending on the other runs in the input.
      if (advanceTo(ref.timeMs)) pipeline.tick();
      if (batch.signal === 'traces') {
        // Backpressure in replay is waiting, not refusing: credit catches up before each slice.
        await pipeline.feedSpans(batch.spans);
      } else if (batch.signal === 'evaluations') {
        const joinable = [];
        for (const ev of batch.evaluations) {
          // without time_unix_nano, timed at receipt: the receiver's wall clock, here the replay's
          const timed = ev.timeFromReceipt === true ? { ...ev, timeUnixNano: BigInt(clock.now()) * 1_000_000n } : ev;
          const refused = pipeline.evaluationRefusal(timed);
          if (refused === undefined) joinable.push(timed);
          else refuseRecord({ name: ref.name, reason: refused });
        }
        if (joinable.length > 0) await pipeline.feedEvaluations(joinable);
      } else {
        // a dumped Kafka record's content events are named by their record, as the job names them
        await pipeline.feedLogs(batch.logs, kafkaRecordSource(ref.path));
      }
      pipeline.tick();
      options.onRequest?.(++done, refs.length, pipeline.stats());
    }
    await pipeline.stop('shutdown');
  } finally {
    await stages.close();
  }
  const stats = pipeline.stats();
  const a = stages.assembler.stats();
  const unmatchedEvaluations = { expired: a.expiredEvaluations, pendingAtEnd: a.pendingEvaluations, unjoinable: a.unjoinableEvaluations + stats.evaluationsRejected };
  const total = unmatchedTotal(unmatchedEvaluations);
  if (total > 0) {
    logger?.warn(
      { unmatched: total, ...unmatchedEvaluations },
      'replay: evaluation(s) joined no episode and were dropped: expired = waited episodes.pendingEvaluationTtlMs for spans of their trace, pendingAtEnd = their trace\'s spans were not in the input, unjoinable = no trace id, gen_ai.conversation.id (with episodes.keyBy: conversation) or gen_ai.response.id',
    );
  }
  return { ...stats, requests, undecodable, invalidEvaluations, episodesSkipped: stats.episodesSkipped, unmatchedEvaluations };
}

/**
 * Places each evaluation record without `time_unix_nano` (its `timeMs` NaN): after the latest span
 * of the trace it names, as a judge answers once the run has ended, and not before the record read
 * before it in its file (a dump of the evaluations topic, or the bodies posted, lists records in
 * arrival order); at the input's start when neither says more. `refs` in listing order.
 */
function evaluationTimes(refs: OtlpRequestRef[], traceEnds: ReadonlyMap<string, number>): void {
  let path: string | undefined;
  let previous = 0;
  for (const r of refs) {
    if (r.signal !== 'evaluations') continue;
    if (r.path !== path) {
      path = r.path;
      previous = 0;
    }
    if (Number.isNaN(r.timeMs)) {
      const end = r.evaluation?.traceId === undefined ? undefined : traceEnds.get(r.evaluation.traceId);
      r.timeMs = Math.max(previous, end ?? 0);
    }
    previous = Math.max(previous, r.timeMs);
  }
}
