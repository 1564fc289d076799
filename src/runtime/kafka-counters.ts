/**
 * Counters of the Kafka pipeline, read by the metrics module (monotonic totals since start,
 * plus gauges passed in at snapshot time). Plain numbers: incremented on the hot path.
 */
export interface KafkaPipelineStats {
  /** Input records consumed (spans and logs topics). */
  readonly recordsIn: number;
  readonly spansIn: number;
  /** Spans of already-committed episodes skipped while replaying below the processed position. */
  readonly spansSkippedOnReplay: number;
  /** Evaluations of already-committed episodes skipped while replaying below the processed position. */
  readonly evaluationsSkippedOnReplay: number;
  readonly logsIn: number;
  /** GenAI content events (message contents as log records) read and handed to the assembler as content spans (the assembler counts where they went). */
  readonly contentEventsIn: number;
  /** Records below the committed offset fetched at assignment (committed by a previous owner) skipped. */
  readonly recordsSkippedCommitted: number;
  readonly evaluationsIn: number;
  /** Records that failed to decode (each sent to the DLQ). */
  readonly decodeErrors: number;
  readonly episodesClosed: number;
  /** Open or closed-unpublished episodes dropped on rebalance (rebuilt by the new owner). */
  readonly episodesDropped: number;
  /** Credit events produced (before commit). */
  readonly eventsOut: number;
  readonly dlqOut: number;
  /** Events larger than sink.maxRecordBytes, published to the DLQ as descriptions instead. */
  readonly eventsTooLarge: number;
  readonly recordsPublished: number;
  readonly creditFailures: number;
  readonly transactions: number;
  readonly commits: number;
  readonly commitFailures: number;
  /**
   * Producers replaced while running: at-least-once after the broker stopped accepting their
   * sequence numbers; exactly-once after a failed abort, an unknown transaction outcome, or a
   * producer stuck or unknown to the broker (its transactional id expired) — the claims at an
   * assignment are not counted.
   */
  readonly producerReplacements: number;
  /**
   * Group rejoins after a transactional producer was fenced while the group kept its partition
   * here (the fence came from this instance's own replaced producer): the partition is rebuilt
   * from its committed offset instead of idling until the next rebalance.
   */
  readonly fenceRejoins: number;
  /**
   * Exactly-once transactions whose end could not be confirmed (EndTxn(commit) sent and no answer,
   * or the abort failed): each resolved by re-claiming the transactional id and reading the
   * committed offset's tag back.
   */
  readonly commitOutcomesUnknown: number;
  readonly rebalances: number;
  readonly pauses: number;
  /**
   * Logs or evaluations records not taken because the verdicts waiting for their runs' spans were
   * full (`episodes.maxPendingEvaluations`) while the spans partitions still had records to read:
   * each partition moved back to the record and held, read again once the spans caught up —
   * instead of dropping the oldest waiting verdict.
   */
  readonly verdictRewinds: number;
  /**
   * Assigned partitions without a committed offset in a group that has committed on other
   * partitions of the topic (added to the topic later, or their offset expired): read from their
   * beginning whatever `fromBeginning` says (it is about a new group).
   */
  readonly partitionsNewToGroup: number;
  /** Partitions of a new group started at their end (`fromBeginning: false`). */
  readonly partitionsStartedAtEnd: number;
  /**
   * Times an input topic's partition count was found changed after a group assignment (logged at
   * warn): traces in flight at the change may have been split between partitions.
   */
  readonly partitionCountChanges: number;
  /**
   * Gauge: records behind the log end over assigned partitions: end offset (from fetches, and read
   * every `lagRefreshIntervalMs` apart from them, so it is true while paused) − next offset to process.
   */
  readonly lag: number;
  /**
   * Replay filters spilled to the side topic (`sinks.kafka.replayFilterTopic`): its records written
   * and acknowledged — in exactly-once within the commit's transaction, which may still abort.
   */
  readonly replayFiltersSpilled: number;
  /**
   * Commits whose replay filter was hashed into the offset metadata although a side topic was
   * there, by why (watermark.ts `SpillFallbackReason`; `noRecordSend`: a producer that cannot say
   * where a record went) — and the side topic dropped for the rest of the run after a lasting
   * refusal (`topicRefused`, once per drop: the filters after it are hashed as without the topic).
   */
  readonly replayFilterFallbacksTooLarge: number;
  readonly replayFilterFallbacksPointerTooLong: number;
  readonly replayFilterFallbacksUnwritableIds: number;
  readonly replayFilterFallbacksNoRecordSend: number;
  readonly replayFilterFallbacksTopicRefused: number;
  /** Spilled filters read back at assignment: read and checked (`Ok`), or not had (`Failed`: the partition replayed without a filter, warned). */
  readonly spilledFilterReadsOk: number;
  readonly spilledFilterReadsFailed: number;
  /** Gauge: closed episodes waiting for credit work. */
  readonly queueDepth: number;
  /** Gauge: closed episodes whose events are not committed yet. */
  readonly inFlight: number;
  /**
   * Gauge: credit computations past `creditTimeoutMs` still running (their episodes went to the
   * DLQ); each holds a credit slot until it settles, up to `creditConcurrency - 1` of them.
   */
  readonly creditOverdue: number;
  /**
   * Gauge: input partitions not fetched now while the others are read (KafkaPipeline
   * `alignInputs`), by why: `recordTime` — read more than 1 s of record time past a partition that
   * still has records to read; `verdictsWaiting` — a logs or evaluations partition while the
   * verdicts waiting for their spans fill half of `episodes.maxPendingEvaluations`; `runsWaiting` —
   * a spans partition while the open runs fill half of `maxOpenEpisodes` / `maxBufferedBytes` and
   * verdicts are left to read. Under either, a partition whose partner of the same number in the
   * other topic is read here too is held by the pair's own balance (its runs, or its verdicts,
   * ahead), counted by its topic: spans `runsWaiting`, logs `verdictsWaiting`. Not the
   * backpressure pause (`paused`).
   */
  readonly partitionsHeld: { readonly recordTime: number; readonly verdictsWaiting: number; readonly runsWaiting: number };
  /**
   * Gauge: the longest current run of failed publishes (exactly-once: transactions of one
   * partition; at-least-once: sends/offset commits), 0 once one succeeds. While it grows nothing is
   * published there; from 3 it is logged at error level with the reason.
   */
  readonly consecutiveCommitFailures: number;
  readonly paused: boolean;
  readonly assignedPartitions: number;
}

type Gauges = Pick<KafkaPipelineStats, 'lag' | 'queueDepth' | 'inFlight' | 'creditOverdue' | 'consecutiveCommitFailures' | 'paused' | 'assignedPartitions' | 'partitionsHeld'>;

export class KafkaPipelineCounters {
  recordsIn = 0;
  spansIn = 0;
  spansSkippedOnReplay = 0;
  evaluationsSkippedOnReplay = 0;
  logsIn = 0;
  contentEventsIn = 0;
  recordsSkippedCommitted = 0;
  evaluationsIn = 0;
  decodeErrors = 0;
  episodesClosed = 0;
  episodesDropped = 0;
  eventsOut = 0;
  dlqOut = 0;
  eventsTooLarge = 0;
  recordsPublished = 0;
  creditFailures = 0;
  transactions = 0;
  commits = 0;
  commitFailures = 0;
  producerReplacements = 0;
  fenceRejoins = 0;
  commitOutcomesUnknown = 0;
  rebalances = 0;
  pauses = 0;
  verdictRewinds = 0;
  partitionsNewToGroup = 0;
  partitionsStartedAtEnd = 0;
  partitionCountChanges = 0;
  replayFiltersSpilled = 0;
  replayFilterFallbacksTooLarge = 0;
  replayFilterFallbacksPointerTooLong = 0;
  replayFilterFallbacksUnwritableIds = 0;
  replayFilterFallbacksNoRecordSend = 0;
  replayFilterFallbacksTopicRefused = 0;
  spilledFilterReadsOk = 0;
  spilledFilterReadsFailed = 0;

  snapshot(gauges: Gauges): KafkaPipelineStats {
    // Own enumerable fields are exactly the counters above.
    return { ...(this as Omit<KafkaPipelineCounters, 'snapshot'>), ...gauges };
  }
}
