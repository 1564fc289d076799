/**
 * The Kafka runtime: consumer group on the spans/logs topics → decode → episode assembler →
 * credit (`processEpisode`, off the consumer loop, bounded queue) → output topics.
 *
 * Delivery (config `delivery`):
 * - `exactly-once`: one transactional producer per assigned input partition (transactional id
 *   `<prefix>-<topic>-<partition>`; kafkajs lacks KIP-447, so zombies are fenced by that id). The
 *   events of episodes owned by a partition (their spans partition) and that partition's group
 *   offset are committed in one transaction — with the offsets of the logs and evaluations
 *   partitions of the same number those episodes held (`ridersOf`), whose transactions are
 *   chained with it. Output readers must use `isolation.level=read_committed`.
 * - `at-least-once`: idempotent producer; offsets are committed after the events are acknowledged.
 *
 * Offset watermark: a partition's committed offset is min(next offset to read, the assembler's
 * `lowWatermark`, the first offset of every closed episode whose events are not committed yet).
 * The commit's metadata carries a replay filter (./watermark.ts) so replaying [committed,
 * processed) rebuilds only the episodes that still need it, and no committed episode is
 * produced twice in exactly-once mode.
 *
 * Rebalance: kafkajs re-reads committed offsets for every assigned partition after a join
 * (kept ones too), so on every join ALL previous partitions' open episodes are dropped
 * (`dropPartition`) and their unfinished credit work discarded; the new owner (possibly this
 * instance again) rebuilds them from the committed offset.
 *
 * Failures: an undecodable record goes to the DLQ (original bytes, key, headers + reason and
 * source position) and the stream continues; a `processEpisode` that throws or exceeds
 * `creditTimeoutMs` yields a DLQ entry for the episode (never a stall).
 */
import { errorChain } from '../kafka/error-chain.js';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, describeIssue, didYouMean, formatPath } from '../config/errors.js';
import { acceptedKeysAt, schemaAt, unknownKeys } from '../config/schema-walk.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Evaluation } from '../model/agents.js';
import type { CloseReason, Episode, SourcePosition } from '../model/episode.js';
import type { LogRecord, Span } from '../model/telemetry.js';
import type { BatchControl, CommittedOffset, ConsumedRecord, ConsumerState, KafkaAdmin, KafkaClient, KafkaProducer, KafkaTransactionalProducer, OffsetCommit, OutgoingRecord, RecordPosition, TopicPartition } from '../kafka/client.js';
import { withAdmin } from '../kafka/with-admin.js';
import { silentLogger, type KafkaLogger } from '../kafka/log.js';
import { KafkaSinkConfigSchema } from '../sinks/kafka/config.js';
import { isProducerStateError } from '../kafka/producer-errors.js';
import { DLQ_HEADERS, deadLetterRecord, failedEpisodeRecord, publishableFactsRecord } from '../sinks/kafka/event-records.js';
import { creditedFromEvents, type CreditedEvents } from '../events/credited-events.js';
import { prepareOutputTopics } from '../sinks/kafka/kafka-event-sink.js';
import { DEFAULT_TRANSACTION_TIMEOUT_MS, isOffsetMetadataTooLarge, publishFailureHint, transactionTimeoutHint } from '../sinks/kafka/publish-errors.js';
import { KafkaSourceConfigSchema } from '../sources/kafka/config.js';
import { KafkaTelemetrySource, MissingTopicError, type SourceBatch } from '../sources/kafka/kafka-source.js';
import { mismatchedPartitionCounts as mismatchedPartitionCountsOf } from '../kafka/co-partitioned-assignment.js';
import { isSessionTimeoutRefusal, sessionTimeoutOutsideRange } from '../kafka/session-timeout.js';
import { groupAclMissing, isGroupAuthorizationRefusal } from '../kafka/group-authorization.js';
import { compareOffsets, type SourceRange } from '../episodes/offsets.js';
import type { Clock } from '../episodes/clock.js';
import { KafkaPipelineCounters, type KafkaPipelineStats } from './kafka-counters.js';
import {
  HeldTraces,
  commitOffsetFor,
  commitTagOf,
  decodeReplayMetadata,
  decodeSpilledFilter,
  encodeCorrectionFilter,
  encodeReplayMetadata,
  decodeSpillPointer,
  encodeSpillableFilter,
  encodeSpillPointer,
  spillHash,
  type SpillFallbackReason,
  type SpillPointer,
  KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES,
  minOffset,
  nextOffset,
  replayKeeps,
  replayKeyOf,
  replayMetadataBudget,
  SHORT_REPLAY_FILTER_ADVICE,
  type ReplayFilter,
} from './watermark.js';
import { evaluationTimeReporter } from './evaluation-time-warnings.js';
import { expiredEvaluationsReporter, expiredPastTtl, otherNameVerdictsReporter, overLimitEvaluationsReporter, throttledCount, unjoinableEvaluationsReporter } from './expired-evaluations.js';
import { CREDIT_SLICE_MS, TimeSlicer } from './time-slicer.js';
import { withTimeout } from './with-timeout.js';
import { prepareReplayFilterTopic, replayFilterKey, type ReplayFilterTopic } from './replay-filter-topic.js';
import { createdTopicsLine } from './created-topics.js';
import { readGroupMembers, reportGroupMembers } from './group-members-at-start.js';
import { contentSpansFromLogs } from '../conventions/content-events.js';
import { recordKeyText, traceNotKeyed, unkeyedAdvice } from '../sources/kafka/unkeyed.js';

const DeliverySchema = z.enum(['exactly-once', 'at-least-once']);
export type Delivery = z.infer<typeof DeliverySchema>;

export const KafkaPipelineConfigSchema = z.object({
  source: KafkaSourceConfigSchema,
  sink: KafkaSinkConfigSchema.default(KafkaSinkConfigSchema.parse({})),
  delivery: DeliverySchema.default('at-least-once'),
  /** Prefix of the per-partition transactional ids (exactly-once). Must be unique per group. */
  transactionalIdPrefix: z.string().min(1).default('agent-credit'),
  /**
   * Closed episodes not yet published — waiting for or in credit work, or credited and waiting for
   * their transaction/send — at which ingestion pauses (it resumes at half).
   */
  creditQueueMax: z.number().int().min(1).default(256),
  /**
   * Bytes of those episodes (Episode.bytes, the assembler's estimate of their spans, plus their
   * events once credited) at which ingestion pauses too (it resumes at half of both): large runs —
   * thousands of spans with their messages, up to episodes.maxBytesPerEpisode each, and a reward
   * per message — piled up 256 at a time while credit or publishing fell behind.
   */
  creditQueueMaxBytes: z.number().int().min(1).default(256 * 1024 * 1024),
  /** Episodes credited at once. */
  creditConcurrency: z.number().int().min(1).default(4),
  /** Ms a single `processEpisode` may take before the episode goes to the DLQ. */
  creditTimeoutMs: z.number().int().min(1).default(30_000),
  /** Ms between assembler ticks (close policy timers). */
  tickIntervalMs: z.number().int().min(10).default(200),
  /** Ms between commits of finished work (events + offsets). */
  commitIntervalMs: z.number().int().min(10).default(500),
  /**
   * Ms between reads of the assigned partitions' end offsets (admin ListOffsets), apart from
   * fetching: the lag stays true while fetching is paused (backpressure) or failing.
   */
  lagRefreshIntervalMs: z.number().int().min(10).default(10_000),
  /** Ms publishing may fail without a break (every transaction/send in a row) before `health()` says not ready. */
  readinessPublishFailureMs: z.number().int().min(0).default(60_000),
  /**
   * Ms without any progress (no record processed, nothing published) while there is lag, or with
   * the consumer stopped for good, before `health()` says not live (a restart is what helps); 0 = never for lack of progress.
   * Off by default: transactionally written input (and aborted transactions under read_committed)
   * leaves end offsets past the last record (commit markers), so a caught-up job shows lag ≥ 1 for
   * ever and a stall check restarted it every livenessStallMs (review of this change).
   */
  livenessStallMs: z.number().int().min(0).default(0),
  /** Ms `stop()` waits for queued credit work (what is left is replayed later). */
  shutdownTimeoutMs: z.number().int().min(0).default(10_000),
  /** Ms `stop()` then gives the final commit, leaving the group and disconnecting (what is left: see `stop()`). */
  closeTimeoutMs: z.number().int().min(1).default(10_000),
});
export type KafkaPipelineConfig = z.infer<typeof KafkaPipelineConfigSchema>;
export type KafkaPipelineConfigInput = z.input<typeof KafkaPipelineConfigSchema>;

/**
 * `KafkaPipeline`'s options, checked as the config file's are (src/config/load.ts): every unknown
 * key and bad value, each with its path and what is accepted, in one `ConfigError`. An embedding
 * service's misspelt key was dropped without a word — `source.spansTopc` read the default
 * otlp_spans, a `sinks` section (the config file's name for `sink`) left the events going to the
 * default output topics — and a bad value threw a bare ZodError (its issues as JSON).
 */
export function parseKafkaPipelineConfig(config: unknown): KafkaPipelineConfig {
  const acceptedKeys = (p: readonly PropertyKey[]) => acceptedKeysAt(KafkaPipelineConfigSchema, p);
  const problems = unknownKeys(KafkaPipelineConfigSchema, config).map((path) => {
    const keys = acceptedKeys(path.slice(0, -1));
    return `${formatPath(path)}: unknown key${didYouMean(String(path.at(-1)), keys)} — accepted keys here: ${keys.join(', ')}`;
  });
  const parsed = KafkaPipelineConfigSchema.safeParse(config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code !== 'unrecognized_keys') problems.push(describeIssue(issue, config, { acceptedKeys, schemaAt: (p) => schemaAt(KafkaPipelineConfigSchema, p) }));
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, 'KafkaPipeline options');
  return parsed.data;
}

/**
 * What the pipeline needs from the episode assembler (src/episodes `EpisodeAssembler`,
 * docs/contracts.md). Positions are the Kafka record each span/evaluation came from.
 */
export interface EpisodeAssemblerPort {
  addSpans(spans: readonly Span[], position?: SourcePosition): unknown;
  addEvaluations(evaluations: readonly Evaluation[], position?: SourcePosition): unknown;
  /**
   * The evaluation with the trace/span id of the LLM span its `gen_ai.response.id` names, when
   * known (src/episodes EpisodeAssembler). Optional: without it such evaluations are held under
   * `resp:<id>` for the replay metadata, and still joined by the assembler.
   */
  resolveEvaluation?(evaluation: Evaluation): Evaluation;
  /** Closes due episodes. */
  tick(): Episode[];
  flush(reason: CloseReason): Episode[];
  /** Forgets a partition's open episodes; returns how many. */
  dropPartition(topic: string, partition: number): number;
  /** First offset still needed by an open episode on the partition. */
  lowWatermark(topic: string, partition: number): string | undefined;
  /**
   * Whether an open (or closed, not yet returned) episode or waiting content holds the trace
   * (src/episodes EpisodeAssembler). Optional: without it every span's trace is held for the
   * replay metadata, also one the assembler dropped (a re-sent span of a published episode).
   */
  holdsTrace?(traceId: string): boolean;
  /**
   * Evaluations and content events that expired waiting for their spans (or were dropped over
   * their limits) since the last call, with the key they waited under and the partition they were
   * read from (src/episodes EpisodeAssembler): their keys leave the replay metadata, so a replay
   * does not read them again. Optional: without it they are named until the committed offset passes them.
   */
  takeDroppedWaiting?(): { key: string; topic: string; partition: number }[];
  /**
   * Trace-keyed corrections not yet handed out that read the partition in any revision, with the
   * first offset of it they need (src/episodes EpisodeAssembler). With `correctionBase` and
   * `expectRevision`, what makes a correction survive a crash or rebalance before it is published:
   * the commit is held back to the records of the revisions before it and the replay filter names
   * its revision. Optional: without them a correction holds only its own records (lost on a crash).
   */
  correctionsOn?(topic: string, partition: number): readonly { episodeId: string; revision: number; firstOffset: string; rebuilt: boolean }[];
  /** The sources of the revisions before a correction this assembler closed. */
  correctionBase?(episode: Episode): readonly SourceRange[] | undefined;
  /** A replay brings the records of `episodeId`, whose revision `revision - 1` is published: rebuild it at `revision`. */
  expectRevision?(episodeId: string, revision: number): void;
  /** Counters (src/episodes EpisodeAssembler): evaluations that expired are logged. Optional. */
  stats?(): {
    readonly expiredEvaluations?: number;
    readonly evaluationsDroppedOverLimit?: number;
    readonly lateEvaluationsOtherName?: number;
    readonly unjoinableEvaluations?: number;
    readonly pendingEvaluations?: number;
    readonly open?: number;
    readonly bufferedBytes?: number;
  };
  readonly options?: {
    readonly pendingEvaluationTtlMs?: number;
    readonly keyBy?: 'trace' | 'conversation';
    readonly maxPendingEvaluations?: number;
    readonly maxOpenEpisodes?: number;
    readonly maxBufferedBytes?: number;
  };
}

type AssemblerStats = ReturnType<NonNullable<EpisodeAssemblerPort['stats']>>;

export interface KafkaPipelineDeps {
  client: KafkaClient;
  /**
   * Makes a fresh assembler (src/episodes `new EpisodeAssembler(options, clock)`). Called at
   * start and after every group join: all state of the previous assignment is rebuilt by replay,
   * including the assembler's memory of closed episodes — a replayed span of an episode whose
   * events were never committed must rebuild that episode, not count as a late span.
   * `clock` is the one to give it: the wall clock less the time ingestion was held for
   * backpressure or the brokers were unreachable (`KafkaPipeline.assemblerClock`), so the
   * episodes' timers do not run while the records that would feed them wait unread.
   */
  createAssembler: (clock: Clock) => EpisodeAssemblerPort;
  /**
   * conventions → credit → events for one closed episode (credit options already bound): the
   * events, or their facts and JSON as a credit worker sends them (CreditWorkerPool.credit).
   */
  processEpisode: (episode: Episode) => Promise<readonly CreditEvent[] | CreditedEvents>;
  /** Evaluations carried by log records (src/conventions `evaluationsFromLogs`). */
  evaluationsFromLogs: (logs: readonly LogRecord[]) => Evaluation[];
  logger?: KafkaLogger;
  /** Wall clock for `emitted_at_ms`-independent timing (tests). */
  now?: () => number;
  /**
   * Fields the "joining the consumer group" line carries besides the group's: the job's live page
   * and /metrics addresses, which answer (/readyz 503) while the join waits — up to a session
   * timeout after an unclean stop, before the job's start line names them.
   */
  joiningLineFields?: Readonly<Record<string, unknown>>;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Record-time lead (ms) over the earliest input partition with records to read at which a partition stops fetching (`alignInputs`). */
const ALIGN_SLACK_MS = 1_000;
/** A partition that reads nothing this long while it seems to have records to read holds no other back (`alignInputs`). */
const ALIGN_STALL_MS = 5_000;

/** Whether the partition has records this assignment has not read (as far as the last fetch or end-offset refresh knew). */
function hasUnread(st: { readonly processedNext: string | undefined; readonly startOffset: string | undefined; readonly highWatermark: string | undefined }): boolean {
  const from = st.processedNext ?? st.startOffset;
  return st.highWatermark !== undefined && from !== undefined && compareOffsets(st.highWatermark, from) > 0;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly generation: number;
  /** Resolves once the partition may be processed: producer fenced in (EOS), replay filter read. */
  ready: Promise<void>;
  replay: ReplayFilter | undefined;
  /**
   * While replaying below `replay.processedNext`: the ids of `replay.heldTraces` not yet handed on
   * in an episode this instance closed. A commit made before the replay passes that position must
   * still describe the records above ours (read by the previous owner, not by us yet): see watermarkFor.
   */
  replayOwed: Set<string> | undefined;
  /** The pending corrections the last commit's watermark held (`correctionsSignature`): one opened or published since makes the partition dirty. */
  correctionsWritten?: string;
  /** Committed offset read after fencing (exactly-once) — records below it are already committed. */
  committedAtStart: string | undefined;
  /**
   * A new group's partition started at its end (`fromBeginning: false`, placeUncommitted): records
   * below this offset are not read (the fetch position is moved there; a batch fetched before is skipped).
   */
  startAt: string | undefined;
  /** Where this assignment starts reading (committed offset, or where an uncommitted partition starts): the base of the lag before the first record. */
  startOffset: string | undefined;
  /** Next offset to read (last processed + 1) in this assignment; undefined before the first record. */
  processedNext: string | undefined;
  highWatermark: string | undefined;
  /** Latest record timestamp (ms) read in this assignment: how far it has been read in record time (`alignInputs`). */
  readTimestampMs: number | undefined;
  /** Wall-clock ms of the last record read in this assignment. */
  readAtMs: number | undefined;
  /** Wall-clock ms of this assignment, then of the end of the partition's preparation: whence a partition not read yet holds the others back (`alignInputs`). */
  alignFromMs: number;
  /** Prepared (committed offset and end offset read, `preparePartition`): where it starts and ends is known. */
  prepared: boolean;
  /** Records to publish with the next commit that belong to no episode (dead letters). */
  looseRecords: OutgoingRecord[];
  producer: KafkaTransactionalProducer | undefined;
  /** Serializes this partition's commits (one transaction at a time). */
  committing: Promise<void>;
  /**
   * Settles once this assignment has claimed the partition's transactional id (exactly-once), or
   * its preparation failed for good: a logs or evaluations partition of the same number reads its
   * committed offset only after the spans partition's claim (`preparePartition`), as the spans
   * partition's transactions commit its offset too (`ridersOf`).
   */
  readonly claimed: Deferred;
  /** Tag of the last commit known on this partition (read at assignment, then ours). */
  lastCommittedTag: string | undefined;
  /** Offset of this instance's last commit on the partition in this assignment. */
  committedOffset: string | undefined;
  dirty: boolean;
  fenced: boolean;
  /** Failed transactions in a row (reset by a commit): see noteCommitFailure. */
  failures: FailureStreak;
}

/** Failed publishes in a row, since when, and when the last error-level line about them was written. */
interface FailureStreak {
  count: number;
  loggedAtMs: number | undefined;
  sinceMs?: number | undefined;
  lastError?: string | undefined;
  /** The error-level line still being written (it waits for the missing-topics check): a recovery line goes after it. */
  logging?: Promise<void> | undefined;
  /** A failed transaction of the streak carried records (events or dead letters), not only offsets. */
  recordsFailed?: boolean | undefined;
  /**
   * Kept across a group join (exactly-once, a partition kept): when records were failing, only a
   * transaction that publishes records ends it. The first ones after the join carry offsets only
   * (the replayed episodes are open again): their success said nothing about the failing publishes.
   */
  carried?: boolean | undefined;
}

/** What `/readyz` and `/healthz` say about the Kafka runtime (KafkaPipeline.health). */
export interface KafkaPipelineHealth {
  /** A group member, and publishing has not failed without a break for `readinessPublishFailureMs`. */
  readonly ready: boolean;
  /** False only for what a restart fixes: the consumer stopped for good, or no progress for `livenessStallMs` with lag (unless `restartHelps` says otherwise). */
  readonly live: boolean;
  /** One line for the status JSON: why, or what it is doing (e.g. paused for backpressure). */
  readonly detail: string;
  /**
   * False when not live because of a setting the brokers refuse (the session timeout, the
   * transaction timeout) or an ACL this principal lacks (Read on the consumer group): a restart with
   * the same configuration fails the same way, and `detail` names the setting or ACL and the fix.
   * True otherwise (also when live).
   */
  readonly restartHelps: boolean;
  /** When a restart does not help: what to change, a `setting` or an `acl`, and the consumer's error naming it and the fix. */
  readonly refused?: { readonly what: 'setting' | 'acl'; readonly reason: string };
}

/** A trace-keyed correction not yet published, on one partition (`KafkaPipeline.pendingCorrections`). */
interface PendingCorrection {
  revision: number;
  /** The first offset of the partition any of its revisions read; undefined: not replayed yet (owed by the previous owner's filter). */
  first: string | undefined;
  /** Rebuilt by this owner's replay (or still to be): its records replayed without its revision make a revision 0 again. */
  rebuilt: boolean;
}

/** Pending corrections as `watermarkFor` holds them, in a comparable form: '' for none. */
function correctionsSignature(corrections: ReadonlyMap<string, PendingCorrection>): string {
  if (corrections.size === 0) return '';
  return [...corrections].map(([id, c]) => `${id}#${c.revision}@${c.first ?? ''}`).sort().join(',');
}

const NO_WORK: ReadonlySet<never> = new Set();

/** Ms a consumer may stay stopped (not while stopping or rejoining) before it counts as stopped for good. */
const STOPPED_FOR_GOOD_MS = 60_000;

/** The same consumer crash logged at warn at most this often (reportCrash); the input topics checked at most every INPUT_CHECK_EVERY_MS. */
const CRASH_LOG_EVERY_MS = 30_000;
const INPUT_CHECK_EVERY_MS = 5_000;

/** kafkajs's text for UNKNOWN_TOPIC_OR_PARTITION (and the type / newer UNKNOWN_TOPIC_ID, should a message carry them). */
function isUnknownTopicError(error: string | undefined): boolean {
  return error !== undefined && /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION|UNKNOWN_TOPIC_ID/i.test(error);
}

/** Failed publishes in a row after which they are logged at error level (then at most every ERROR_LOG_EVERY_MS). */
const FAILURES_BEFORE_ERROR = 3;
/** Input records sent to the DLQ logged one by one, then counted at most every DEAD_LETTER_LOG_EVERY_MS. */
const DEAD_LETTER_LINES = 3;
const DEAD_LETTER_LOG_EVERY_MS = 30_000;
const ERROR_LOG_EVERY_MS = 30_000;

type WorkStatus = 'queued' | 'running' | 'ready' | 'committing';

interface CreditWork {
  readonly episode: Episode;
  readonly generation: number;
  /** Partition whose transaction/commit publishes the events (first spans-topic source). */
  readonly owner: string;
  /** First offset per source partition key: held back until the events are committed. */
  readonly holds: ReadonlyMap<string, string>;
  /** A trace-keyed correction's: the sources of the revisions before it (`EpisodeAssemblerPort.correctionBase`). */
  readonly base?: readonly SourceRange[];
  status: WorkStatus;
  records: OutgoingRecord[];
  /** Characters (≈ bytes) of `records`' keys and values: held with the episode until published. */
  recordBytes: number;
}

export class KafkaPipeline {
  readonly config: KafkaPipelineConfig;
  private readonly source: KafkaTelemetrySource;
  /** Wall clock in ms (`deps.now`, for tests; else `Date.now`). */
  private readonly wall: () => number;
  /** Per input topic, whether the group had committed on it before the current assignment: see groupCommittedBefore. */
  private readonly groupCommitsAtAssignment = new Map<string, Promise<boolean>>();
  /** Input topics whose "starting at the end" warning this assignment has logged (placeUncommitted). */
  private readonly endStartWarned = new Set<string>();
  /** Input topics whose "records not keyed by trace id" warning was logged (once for the process: warnUnkeyed). */
  private readonly unkeyedWarned = new Set<string>();
  /** Partitions this process has moved with a seek (`topic/partition`): see preparePartition. */
  private readonly seekedPartitions = new Set<string>();
  private readonly log: KafkaLogger;
  /** Arrival order of log records, for content events with equal timestamps (contentSpansFromLogs). */
  private contentOrder = 0;
  /** Partitions alignInputs holds now, by why (stats: `partitionsHeld`). */
  private partitionsHeld = { recordTime: 0, verdictsWaiting: 0, runsWaiting: 0 };
  private readonly counters = new KafkaPipelineCounters();
  private readonly held = new HeldTraces();
  private readonly reportExpired: (expiredTotal: number | undefined) => void;
  private readonly reportOverLimit: (total: number | undefined) => void;
  private readonly reportOtherNames: (total: number | undefined) => void;
  private readonly reportUnjoinable: (total: number | undefined) => void;
  private assembler: EpisodeAssemblerPort;
  /**
   * The assemblers' clock: wall time less the time the source held ingestion for backpressure
   * (runtime.creditQueueMax), and less the time the brokers were unreachable past
   * brokersUnreachableGraceMs (`brokerStallMs`). While held, the next batch — the rest of the open
   * episodes' spans, their verdicts — waits unread, so graceMs, awaitEvaluationMs, idleMs and the
   * evaluations' pendingEvaluationTtlMs must not run on: on the wall clock a credit stage slower
   * than those timers closed runs whose verdict was in the held batch `root-ended` without it (no
   * credit) and corrected them once it was read — an answer neither replay nor a job that keeps up
   * gives. A broker outage holds the input the same way: a run read before it closed without its
   * verdict during it, its spans were committed, and the rejoin after it (a fresh assembler) read
   * the verdict alone, which expired — the run never got credit.
   * Never goes back.
   */
  private readonly assemblerClock: Clock;
  private assemblerClockMs = Number.NEGATIVE_INFINITY;
  /** Wall-clock ms at which each queued episode closed (the assembler's `closedAtMs` is on `assemblerClock`). */
  private readonly closedAtWall = new WeakMap<Episode, number>();
  private readonly partitions = new Map<string, PartitionState>();
  /** Producers by transactional id, kept across rebalances (re-init fences zombies). */
  private readonly txProducers = new Map<string, KafkaTransactionalProducer>();
  /** The latest producer swap per transactional id (replaceProducer runs them one at a time). */
  private readonly producerSwaps = new Map<string, Promise<void>>();
  private producer: KafkaProducer | undefined;
  private readonly work = new Set<CreditWork>();
  private readonly queue: CreditWork[] = [];
  /** Credit slots taken: computations running, and overdue ones still holding theirs. */
  private running = 0;
  /**
   * `processEpisode` calls past `creditTimeoutMs` that have not settled (their episode already
   * went to the DLQ). Each keeps its credit slot until it settles, so `creditConcurrency` bounds
   * the computations really running — up to `creditConcurrency - 1` of them (one slot always stays
   * for new work); past that, an overdue computation's slot is released and logged as an error.
   */
  private overdue = 0;
  /** Lets produce acks and fetches in between credit work on this thread (time-slicer.ts). */
  private readonly slicer = new TimeSlicer(CREDIT_SLICE_MS);
  /**
   * This process's count of group assignments (onAssignment), which tags the state built from each
   * one. Not Kafka's consumer-group generation id: kafkajs 2.2.4's GROUP_JOIN event does not carry
   * it (its HEARTBEAT event does, a heartbeat interval later), so the assignment line logs this one
   * as `assignmentNo` — logged as `generation`, it was read for the broker's.
   */
  private generation = 0;
  /**
   * Longest offset metadata (replay filter) written; undefined = encodeReplayMetadata's default,
   * sized for Kafka's default offset.metadata.max.bytes. Lowered when the brokers refuse it
   * (shortenReplayMetadata).
   */
  private metadataMaxBytes: number | undefined;
  /** Where replay filters that do not fit the metadata are spilled (`sinks.kafka.replayFilterTopic`); undefined = never. */
  private replayFilterTopic: ReplayFilterTopic | undefined;
  /** When a filter too large for the side topic was last warned about (wall ms): at most one line a minute. */
  private spillTooLargeWarnedAtMs: number | undefined;
  private correctionsWarnedAtMs: number | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  /** A read of end offsets under way (refreshHighWatermarks): the next tick skips. */
  private refreshingLag = false;
  /** The end-offset read under way (refreshHighWatermarks): what settles it, and how to close its connection. */
  private lagRead: { readonly settled: Promise<void>; readonly abandon: () => void } | undefined;
  private aloCommitting: Promise<void> = Promise.resolve();
  /** At-least-once: failed publishes/commits in a row. */
  private readonly aloFailures: FailureStreak = { count: 0, loggedAtMs: undefined };
  /** At-least-once: the partitions whose records (events, dead letters) failed to publish in the current streak. */
  private readonly aloFailedPartitions = new Set<string>();
  /** The consumer's group membership (source onState) and since when. */
  /** `setting` / `acl`: the crash is a setting the brokers refuse, or an ACL they lack (a restart fails the same way; health().restartHelps); `afterCrash`: joining again after a crash the client restarted from — that crash's error. */
  private consumerState: { state: ConsumerState; sinceMs: number; error?: string; restart?: boolean; setting?: boolean; acl?: boolean; afterCrash?: string } = { state: 'joining', sinceMs: Date.now() };
  /**
   * Since when a connection to a broker has failed with no fetch or heartbeat of the consumer
   * answered since (source onBrokers), and the last such error: health() is not ready past
   * brokersUnreachableGraceMs.
   */
  private brokersUnreachable: { sinceMs: number; error: string; pausedMsAtSince: number } | undefined;
  /** Ms of outages that ended (brokersUnreachable past its grace, backpressure pauses left out): the assembler clock leaves them out. */
  private brokerStallTotalMs = 0;
  /** Dead-lettered input records logged one by one so far (reportDeadLetter). */
  private deadLetterLines = 0;
  /** The last dead-lettered input record logged at debug only, for the next count line. */
  private lastDeadLetter: (SourcePosition & { reason: string }) | undefined;
  private readonly deadLetterDue: (n: number) => number | undefined;
  /** Evaluation times that look like seconds or milliseconds: a warning per input topic at most once a minute. */
  private readonly reportTimeUnits: (evaluations: readonly Evaluation[], source: string) => void;
  /**
   * Input records (`topic/partition/offset`) whose dead letter was counted and logged but is not
   * published yet. Read again before it is — a group join while publishing failed drops the dead
   * letters waiting and the records are read again from the committed offset — such a record is
   * dead-lettered again without being counted and logged again (decodeErrors counted each one
   * once per read: 2N for N records after one such join). Entries go when the dead letter is
   * published, and with partitions no longer assigned.
   */
  private readonly deadLettersUnpublished = new Set<string>();
  /** Events over sink.maxRecordBytes logged one by one so far (reportTooLarge), and the last one held back. */
  private tooLargeLines = 0;
  private lastTooLarge: { episodeId: string; eventId: string; eventType: string; bytes: number } | undefined;
  private readonly tooLargeDue: (n: number) => number | undefined;
  /** Last time a record was processed or something was published (health: liveness). */
  private lastProgressMs = Date.now();
  private stopping = false;
  /** Pending self-fence check (checkFence), for one group generation. */
  private fenceCheck: { generation: number; timer: NodeJS.Timeout } | undefined;
  /** A rejoin started by a self-fence check; stop() waits for it before leaving the group. */
  private rejoining: Promise<void> | undefined;
  /** Set by `stop()` once it disconnects the producers. */
  private closed = false;
  private started = false;
  /** Partition count per input topic: read at start, again after every group assignment (checkPartitionCounts). */
  private inputPartitionCounts = new Map<string, number>();
  /** A check of the input topics' partition counts under way (checkPartitionCounts). */
  private checkingCounts: Promise<void> | undefined;
  /** An assignment came since the running check read the counts: check again when it ends. */
  private recheckCounts = false;
  /** The consumer's last crash line (reportCrash): its error, when it was written, repeats since. */
  private lastCrash: { key: string; loggedAtMs: number; repeats: number } | undefined;
  /** An input topic found missing after a crash (checkInputTopics), until the consumer joins again. */
  private missingInput: { reason: string; loggedAtMs: number } | undefined;
  /**
   * A partition of the current assignment whose preparation failed for a cause retrying cannot end
   * (the brokers refuse the transaction timeout: transactionTimeoutHint): the
   * partition can publish nothing, its first batch crashes the consumer for good. health() says
   * why from the failure on, input or not; cleared by the next assignment.
   */
  private prepareFailure: { error: string; reason: string } | undefined;
  private checkingInput = false;
  private lastInputCheckMs: number | undefined;
  /** Distinguishes this instance's commit tags from any other's (watermark.ts commitTagOf). */
  private readonly instanceTag = randomBytes(4).toString('hex');
  /**
   * Transactions begun by this instance: the last part of each one's commit tag. One count for all
   * partitions, not one per partition: a spans partition's transaction writes its tag into the
   * metadata of the logs partition it carries (`ridersOf`), and a count of that partition's own
   * could give one of its own transactions the same tag — whose lost answer would then read as
   * committed (`resolveCommitOutcome`).
   */
  private txSeq = 0;

  constructor(
    config: KafkaPipelineConfigInput,
    private readonly deps: KafkaPipelineDeps,
  ) {
    this.config = parseKafkaPipelineConfig(config);
    this.log = deps.logger ?? silentLogger;
    const wall = (this.wall = deps.now ?? Date.now);
    this.source = new KafkaTelemetrySource(this.config.source, deps.client, wall);
    this.assemblerClock = {
      now: () => (this.assemblerClockMs = Math.max(this.assemblerClockMs, wall() - this.source.pausedMs() - this.brokerStallMs())),
    };
    this.assembler = deps.createAssembler(this.assemblerClock);
    this.reportExpired = expiredEvaluationsReporter(this.log, this.assembler.options?.pendingEvaluationTtlMs ?? 60_000);
    this.reportOverLimit = overLimitEvaluationsReporter(this.log, this.assembler.options?.maxPendingEvaluations ?? 10_000);
    this.reportOtherNames = otherNameVerdictsReporter(this.log);
    this.reportUnjoinable = unjoinableEvaluationsReporter(this.log);
    this.deadLetterDue = throttledCount(DEAD_LETTER_LOG_EVERY_MS, () => this.wall());
    this.reportTimeUnits = evaluationTimeReporter(this.log, undefined, () => this.wall());
    this.tooLargeDue = throttledCount(DEAD_LETTER_LOG_EVERY_MS, () => this.wall());
  }

  /** Creates missing output topics, connects and joins the group. Resolves once consuming. */
  async start(): Promise<void> {
    if (this.started) throw new Error('KafkaPipeline already started');
    this.started = true;
    // Before anything is connected or scheduled: a missing input topic is a configuration error.
    const { mismatchedPartitionCounts, partitionCounts } = await this.source.checkTopics();
    this.inputPartitionCounts = new Map(partitionCounts);
    if (mismatchedPartitionCounts.length > 0) {
      this.log.warn(
        { partitionCounts: mismatchedPartitionCounts },
        'input topics have different partition counts: a trace\'s spans and its evaluation may be read by different instances and never meet — give source.kafka.spansTopic, logsTopic and evaluationsTopic the same partition count',
      );
    }
    // who else is in the group, asked while the output topics are prepared (group-members-at-start.ts)
    const members = readGroupMembers(this.deps.client, this.config.source.groupId, this.source.topics());
    // Output topics exist (or are created) before anything is published: a missing one would fail
    // every transaction/send writing to it, retried for ever.
    const createdOutput = await prepareOutputTopics(this.deps.client, this.config.sink);
    const side = await prepareReplayFilterTopic(this.deps.client, this.config.sink, this.log);
    this.replayFilterTopic = side.spill;
    // one line for every topic this start created, none when they all existed
    const created = createdTopicsLine([...createdOutput, ...(side.created !== undefined ? [side.created] : [])], this.config.sink);
    if (created) this.log.info(created.fields, created.message);
    await this.sizeReplayMetadata();
    if (this.config.delivery === 'at-least-once') {
      this.producer = this.deps.client.createProducer({ idempotent: true, compression: this.config.sink.compression });
      await this.producer.connect();
    }
    // answered by now as a rule; at most GROUP_MEMBERS_WAIT_MS more, then joined without it
    await reportGroupMembers(members, this.config.source.groupId, this.log);
    this.tickTimer = setInterval(() => this.onTick(), this.config.tickIntervalMs);
    this.tickTimer.unref();
    this.commitTimer = setInterval(() => this.scheduleCommit(), this.config.commitIntervalMs);
    this.commitTimer.unref();
    this.lagTimer = setInterval(() => void this.refreshHighWatermarks(), this.config.lagRefreshIntervalMs);
    this.lagTimer.unref();
    this.consumerState = { state: 'joining', sinceMs: this.wall() };
    this.lastProgressMs = this.wall();
    // Joining can take a whole session timeout after an unclean stop (the broker waits for the old
    // member to expire): say so, or the job looks hung (a SIGKILL restart was silent for ~28 s).
    // Said here, once every topic check passed: said before them (by the job), a start that failed
    // on a missing topic opened with "joining the consumer group".
    const { brokers, groupId, sessionTimeoutMs } = this.config.source;
    this.log.info({ brokers, groupId, sessionTimeoutMs, ...this.deps.joiningLineFields }, 'joining the consumer group (after an unclean stop this waits until the old member’s session times out: source.kafka.sessionTimeoutMs)');
    await this.source.start({
      onState: (state, detail) => {
        if (state === 'joined') {
          this.missingInput = undefined;
          this.brokersAnswered();
        }
        // an input topic found gone (checkInputTopics): health's detail names it, not kafkajs's text
        const named =
          state === 'crashed' && this.missingInput !== undefined && isUnknownTopicError(detail?.error)
            ? { error: this.missingInput.reason }
            : // the partition whose preparation failed crashed the consumer (its batch awaited it): say why, not kafkajs's text
              state === 'crashed' && this.prepareFailure !== undefined && detail?.error === this.prepareFailure.error
              ? { error: this.prepareFailure.reason, setting: true }
              : // the brokers refused the session timeout: kafkajs's text named only their settings
                state === 'crashed' && isSessionTimeoutRefusal(detail?.error)
                ? { error: `${detail!.error} — ${sessionTimeoutOutsideRange(this.config.source.sessionTimeoutMs)}`, setting: true }
                : // the brokers refuse the group to this principal: kafkajs's text named no ACL (and a restart was advised)
                  state === 'crashed' && isGroupAuthorizationRefusal(detail?.error)
                  ? { error: `${detail!.error} — ${groupAclMissing(this.config.source.groupId)}`, acl: true }
                  : {};
        const prev = this.consumerState;
        const afterCrash = state === 'joining' && prev.state === 'crashed' ? (prev.error ?? 'unknown error') : undefined;
        this.consumerState = { state, sinceMs: this.wall(), ...detail, ...named, ...(afterCrash !== undefined ? { afterCrash } : {}) };
        if (state === 'crashed') this.reportCrash(isSessionTimeoutRefusal(detail?.error) || 'acl' in named ? { ...detail, ...named } : detail, 'setting' in named ? 'setting' : 'acl' in named ? 'acl' : undefined);
      },
      onBrokers: (state, error) => {
        if (state === 'answered') this.brokersAnswered();
        else
          this.brokersUnreachable = {
            sinceMs: this.brokersUnreachable?.sinceMs ?? this.wall(),
            error: error ?? 'connection failed',
            pausedMsAtSince: this.brokersUnreachable?.pausedMsAtSince ?? this.source.pausedMs(),
          };
      },
      onAssignment: (a) => this.onAssignment(a),
      onBatch: (b, c) => this.onBatch(b, c),
    });
  }

  /**
   * Logs a consumer crash: the first one of an error at warn, then the same error at most every
   * CRASH_LOG_EVERY_MS with how often it came since (each at debug). kafkajs restarts a retriable
   * crash within a few hundred ms, so one that repeats — an input topic deleted while running —
   * wrote a warn line three times a second for as long as it lasted. A crash saying a topic or
   * partition is unknown has the input topics checked (checkInputTopics).
   */
  private reportCrash(detail: { error?: string; restart?: boolean } | undefined, refused?: 'setting' | 'acl'): void {
    const now = this.wall();
    const key = `${detail?.restart === true} ${(detail?.error ?? '').replace(/\d+/g, 'N')}`;
    const last = this.lastCrash;
    const message = detail?.restart
      ? 'kafka consumer crashed; kafkajs restarts it (not ready meanwhile)'
      : refused === 'setting'
        ? 'kafka consumer crashed on a setting the brokers refuse and will not restart (not live; a restart fails the same way until the setting is changed)'
        : refused === 'acl'
          ? 'kafka consumer crashed: the brokers refuse this principal the consumer group, and it will not restart (not live; a restart fails the same way until the ACL is granted)'
          : 'kafka consumer crashed and will not restart (not live)';
    if (last !== undefined && last.key === key && now - last.loggedAtMs < CRASH_LOG_EVERY_MS) {
      last.repeats++;
      this.log.debug({ err: detail?.error, restart: detail?.restart }, message);
    } else {
      const repeats = last !== undefined && last.key === key ? last.repeats : 0;
      this.lastCrash = { key, loggedAtMs: now, repeats: 0 };
      this.log.warn(
        { err: detail?.error, restart: detail?.restart, ...(repeats > 0 ? { repeats } : {}) },
        repeats > 0 ? `${message}; ${repeats} more crash(es) like it since the last line (further ones at most every 30 s)` : message,
      );
    }
    if (detail?.restart && isUnknownTopicError(detail.error)) void this.checkInputTopics();
  }

  /**
   * After a crash saying a topic or partition is unknown: are the input topics still there? An
   * input topic deleted while running makes kafkajs crash and restart the consumer over and over
   * with "This server does not host this topic-partition", which names neither the topic nor the
   * setting (the start-up check, MissingTopicError, does both). When one is gone: an error line
   * with the start-up check's words (at most every CRASH_LOG_EVERY_MS), and health()'s detail
   * says it until the consumer joins again. One check at a time, at most every INPUT_CHECK_EVERY_MS.
   */
  private async checkInputTopics(): Promise<void> {
    const now = this.wall();
    if (this.checkingInput || this.stopping || (this.lastInputCheckMs !== undefined && now - this.lastInputCheckMs < INPUT_CHECK_EVERY_MS)) return;
    this.checkingInput = true;
    this.lastInputCheckMs = now;
    try {
      await withTimeout(this.source.checkTopics(), 5_000, 'checking the input topics timed out');
      this.missingInput = undefined;
    } catch (err) {
      if (!(err instanceof MissingTopicError) || this.stopping) return;
      const reason = `input topic gone while running — ${err.message}; the consumer restarts until it exists again`;
      const t = this.wall();
      const due = this.missingInput?.reason !== reason || t - this.missingInput.loggedAtMs >= CRASH_LOG_EVERY_MS;
      this.missingInput = { reason, loggedAtMs: due ? t : this.missingInput!.loggedAtMs };
      if (this.consumerState.state === 'crashed') this.consumerState = { ...this.consumerState, error: reason };
      if (due) this.log.error({ missingTopics: err.topics }, reason);
    } finally {
      this.checkingInput = false;
    }
  }

  /**
   * Graceful stop: stops fetching, waits up to `shutdownTimeoutMs` for queued credit work, then up
   * to `closeTimeoutMs` to commit what finished, leave the group and disconnect. Open episodes are
   * NOT flushed: their records stay uncommitted and are replayed by the next owner. Bounded even
   * when the broker is gone (a commit retrying, a lost commit's outcome being resolved): what has
   * not finished by then is left — in exactly-once mode its transaction is aborted by the broker
   * (transaction timeout) or fenced by the next owner, in at-least-once mode its records are read
   * again — so a deployment's stop never outlasts its grace period because of Kafka.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.source.pause();
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while ([...this.work].some((w) => w.status === 'queued' || w.status === 'running') && Date.now() < deadline) {
      await sleep(20);
    }
    clearInterval(this.tickTimer);
    clearInterval(this.commitTimer);
    clearInterval(this.lagTimer);
    this.lagRead?.abandon();
    clearTimeout(this.fenceCheck?.timer);
    // closeTimeoutMs split: the final commit gets 60%; leaving the group and disconnecting get at
    // least 20% each even when the commit used all of its share (a member that does not leave
    // makes the group wait a whole session timeout).
    const budget = this.config.closeTimeoutMs;
    const closeStart = Date.now();
    const within = (what: string, p: Promise<unknown>, until: number): Promise<void> =>
      withTimeout(p, Math.max(until - Date.now(), 0.2 * budget), `${what} did not finish within its share of closeTimeoutMs (${budget} ms)`).then(
        () => undefined,
        (err: unknown) => this.log.warn({ err: errorMessage(err) }, `stop: ${what} left unfinished`),
      );
    await within('the final commit', this.finalCommit(), closeStart + 0.6 * budget);
    await within('leaving the group', this.source.stop(), closeStart + 0.8 * budget);
    this.closed = true; // work left running from here on must not claim new producers
    const disconnect = async () => {
      // a producer swap under way finishes first (it lets its producer go once it sees `closed`)
      await Promise.all([...this.producerSwaps.values()]);
      const producers = [...this.txProducers.values(), ...(this.producer ? [this.producer] : [])];
      this.txProducers.clear();
      // and the lag refresh's admin connection, abandoned above: closed by then, or (abandoned
      // while still connecting) closing once it is up — stop returned before it had
      await Promise.all([...producers.map((p) => p.disconnect().catch(() => undefined)), this.lagRead?.settled]);
    };
    await within('disconnecting the producers', disconnect(), closeStart + budget);
  }

  private async finalCommit(): Promise<void> {
    await this.rejoining;
    try {
      this.markReleasedPartitions();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'stop: could not check the partitions for released offsets');
    }
    // A commit can release holds on other partitions (EOS: per-partition transactions), so repeat
    // until nothing is left to commit (bounded: each round publishes or gives up on all ready work).
    for (let round = 0; round < 3; round++) {
      await this.commitAll();
      const pending = [...this.partitions.values()].some((st) => st.dirty && !st.fenced) || [...this.work].some((w) => w.status === 'ready');
      if (!pending) break;
    }
  }

  /**
   * Reads the end offset of every assigned partition (one admin connection), so the lag does not
   * freeze when fetching stops — paused for backpressure, the consumer crash-restarting — where
   * the fetch responses' high watermark stopped moving too (the lag read 0 for minutes while 250
   * records were unread). A failed read keeps the last values (debug log).
   *
   * A read that outlives its timeout is abandoned: its admin is disconnected then (kafkajs stops
   * retrying; the connection closes once the requests in flight have answered or timed out, its
   * requestTimeout), and no next read starts until it has settled — two reads overlapped, each
   * with its own connection, when the broker was slow. `stop` abandons a read under way the same
   * way and waits for it to settle.
   */
  private async refreshHighWatermarks(): Promise<void> {
    if (this.refreshingLag || this.stopping || this.partitions.size === 0) return;
    this.refreshingLag = true;
    let admin: KafkaAdmin | undefined;
    let abandoned = false;
    const close = (a: KafkaAdmin) => a.disconnect().catch(() => undefined);
    const topics = [...new Set([...this.partitions.values()].map((st) => st.topic))];
    const read = (async () => {
      admin = await this.deps.client.admin();
      if (abandoned) {
        // abandoned while connecting: nothing closed it yet
        await close(admin);
        throw new Error('abandoned');
      }
      try {
        return await Promise.all(topics.map(async (t) => [t, await admin!.fetchEndOffsets(t)] as const));
      } finally {
        await close(admin);
      }
    })();
    // cleared only once the read has settled, whether or not its timeout fired first
    const settled = read.then(
      () => undefined,
      () => undefined,
    );
    this.lagRead = {
      settled,
      abandon: () => {
        abandoned = true;
        if (admin !== undefined) void close(admin);
      },
    };
    void settled.finally(() => {
      this.refreshingLag = false;
      this.lagRead = undefined;
    });
    try {
      const ends = await withTimeout(read, Math.max(this.config.lagRefreshIntervalMs, 5_000), 'reading end offsets timed out');
      for (const [topic, offsets] of ends) {
        for (const o of offsets) {
          const st = this.partitions.get(tpKey(topic, o.partition));
          if (st && (st.highWatermark === undefined || compareOffsets(o.offset, st.highWatermark) > 0)) st.highWatermark = o.offset;
          // a committed offset below the log start (retention removed records never read; the
          // consumer reads from the log start): those records are not lag, nor anything to wait for
          if (st && st.processedNext === undefined && o.low !== undefined && st.startOffset !== undefined && compareOffsets(o.low, st.startOffset) > 0) {
            st.startOffset = o.low;
            // Nothing left to read either (retention removed every record above the committed
            // offset): commit the log start, or the committed offset stayed below it while the
            // partition was idle and every restart warned again that the position was out of
            // range. Safe for the replay filter: no record below the log start can be read again,
            // and the filter only ever names records below its processed position, which is at
            // most the old end — here the log start (watermarkFor drops it past there).
            if (st.committedAtStart !== undefined && compareOffsets(o.offset, o.low) <= 0 && !st.fenced) {
              st.processedNext = o.low;
              st.dirty = true;
            }
          }
        }
      }
    } catch (err) {
      this.lagRead?.abandon();
      this.log.debug({ err: errorMessage(err) }, 'reading end offsets for the lag failed; keeping the last ones');
    }
  }

  /**
   * Readiness and liveness of the Kafka runtime, for /readyz and /healthz:
   * - not ready while the consumer is not a group member (joining, rebalancing, crashed and
   *   restarting), while a broker connection has failed and no fetch or heartbeat answered for
   *   brokersUnreachableGraceMs (a broker gone: kafkajs retries before the consumer crashes), or while publishing has failed without a break for `readinessPublishFailureMs`;
   *   paused for backpressure is ready (it says so in `detail`);
   * - not live when the consumer has stopped for good (a crash kafkajs does not restart, or
   *   stopped for STOPPED_FOR_GOOD_MS outside a stop/rejoin), or nothing progressed (no record
   *   processed, nothing published) for `livenessStallMs` while there is lag: what a restart fixes.
   */
  health(): KafkaPipelineHealth {
    const now = this.wall();
    const stats = this.stats();
    const c = this.consumerState;
    let live = true;
    let liveReason = '';
    let restartHelps = true;
    let refused: KafkaPipelineHealth['refused'];
    const crashedForGood = !this.stopping && c.state === 'crashed' && c.restart === false;
    if (crashedForGood) {
      live = false;
      if (c.setting === true || c.acl === true) refused = { what: c.setting === true ? 'setting' : 'acl', reason: c.error ?? 'unknown error' };
      restartHelps = refused === undefined;
      liveReason = `kafka consumer crashed and does not restart: ${c.error ?? 'unknown error'}`;
    } else if (!this.stopping && !this.rejoining && c.state === 'stopped' && now - c.sinceMs >= STOPPED_FOR_GOOD_MS) {
      live = false;
      liveReason = `kafka consumer stopped ${Math.round((now - c.sinceMs) / 1000)} s ago and did not rejoin`;
    } else if (this.config.livenessStallMs > 0 && stats.lag > 0 && now - this.lastProgressMs >= this.config.livenessStallMs) {
      live = false;
      liveReason = `no progress for ${Math.round((now - this.lastProgressMs) / 1000)} s (runtime.livenessStallMs) with ${stats.lag} record(s) of lag`;
    }
    const streaks = [this.aloFailures, ...[...this.partitions.values()].map((st) => st.failures)].filter((f) => f.count > 0 && f.sinceMs !== undefined);
    const oldest = streaks.reduce<FailureStreak | undefined>((a, f) => (a === undefined || f.sinceMs! < a.sinceMs! ? f : a), undefined);
    const failingMs = oldest ? now - oldest.sinceMs! : 0;
    let ready = true;
    let detail: string;
    if (this.stopping) {
      ready = false;
      detail = 'stopping';
    } else if (c.state !== 'joined') {
      ready = false;
      detail =
        c.state === 'crashed'
          ? `consumer crashed${c.restart ? ', restarting' : ''}: ${c.error ?? ''}`
          : c.state === 'joining' && c.afterCrash !== undefined
            ? this.missingInput !== undefined
              ? // an input topic gone: the wait is for the topic, not the group's session timeout — and the
                // crash the join follows may be kafkajs's bare "does not host this topic-partition",
                // the check naming the topic having answered after the restart
                `consumer joining the group again after a crash: ${this.missingInput.reason}`
              : // connected again: the crash's error is history, the wait is the group's (it said "crashed: ECONNREFUSED" with the brokers back)
                `consumer joining the group again after a crash (${c.afterCrash}): the brokers answer; after an unclean stop the group admits it once the old member's session has timed out (source.kafka.sessionTimeoutMs ${this.config.source.sessionTimeoutMs} ms)`
            : `consumer ${c.state === 'stopped' ? 'stopped' : c.state === 'joining' ? 'joining the group' : 'rebalancing'}`;
    } else if (this.brokersUnreachable !== undefined && now - this.brokersUnreachable.sinceMs >= this.brokersUnreachableGraceMs()) {
      // kafkajs retries a broker it cannot reach for ~10 s, nested retries ~20 s, before the
      // consumer crashes — a group member all along: /readyz stayed 200 that long after a broker
      // went (a SIGKILL: 21 s in pipeline-health-outage.test.ts)
      ready = false;
      detail = `brokers unreachable for ${Math.round((now - this.brokersUnreachable.sinceMs) / 1000)} s, no fetch or heartbeat answered since (the Kafka client retries; the consumer restarts once it gives up): ${this.brokersUnreachable.error}`;
    } else if (this.prepareFailure !== undefined) {
      ready = false;
      detail = this.prepareFailure.reason;
    } else if (oldest && failingMs >= this.config.readinessPublishFailureMs) {
      ready = false;
      detail = `publishing has failed for ${Math.round(failingMs / 1000)} s (${oldest.count} in a row): ${oldest.lastError ?? ''}`;
    } else {
      detail = stats.paused ? `consuming, paused for backpressure (${stats.inFlight} episode(s) in flight, runtime.creditQueueMax ${this.config.creditQueueMax}; ${mib(this.unpublishedBytes())} of spans and events, runtime.creditQueueMaxBytes ${mib(this.config.creditQueueMaxBytes)})` : 'consuming';
      if (oldest) detail += `; publishing failing for ${Math.round(failingMs / 1000)} s`;
    }
    // a crash for good is the whole story: "…does not restart: E; consumer crashed: E" gave the
    // error (and the fix it names) twice, in /healthz and the job's not-live line
    if (!live) detail = crashedForGood ? liveReason : `${liveReason}; ${detail}`;
    return { ready: ready && live, live, detail, restartHelps, ...(refused !== undefined ? { refused } : {}) };
  }

  /**
   * How long a connection failure may go without a fetch or heartbeat answered before health()
   * says not ready: a member's fetch answers at least every `maxWaitMs` and its heartbeat every
   * `heartbeatIntervalMs` while the brokers are there (a held batch heartbeats), so one failed
   * connection among answering ones (another broker's, a producer's) is not an outage.
   */
  private brokersUnreachableGraceMs(): number {
    return Math.max(this.config.source.maxWaitMs, this.config.source.heartbeatIntervalMs) + 1_000;
  }

  /**
   * Ms the brokers were unreachable beyond brokersUnreachableGraceMs, the current outage included:
   * nothing was read then (the collector could not write either), so the assembler clock leaves it
   * out, as it leaves out backpressure. Time paused for backpressure within the outage (a full
   * credit queue while publishing fails) is already left out, and not twice.
   */
  private brokerStallMs(): number {
    const u = this.brokersUnreachable;
    if (u === undefined) return this.brokerStallTotalMs;
    const stalled = this.wall() - u.sinceMs - this.brokersUnreachableGraceMs() - (this.source.pausedMs() - u.pausedMsAtSince);
    return this.brokerStallTotalMs + Math.max(0, stalled);
  }

  /** A fetch or heartbeat was answered, or the consumer joined: an outage ends (brokerStallMs). */
  private brokersAnswered(): void {
    if (this.brokersUnreachable === undefined) return;
    this.brokerStallTotalMs = this.brokerStallMs();
    this.brokersUnreachable = undefined;
  }

  stats(): KafkaPipelineStats {
    let lag = 0n;
    for (const st of this.partitions.values()) {
      // before the first record of this assignment: from where it starts reading
      const from = st.processedNext ?? st.startOffset;
      if (st.highWatermark !== undefined && from !== undefined) {
        const d = BigInt(st.highWatermark) - BigInt(from);
        if (d > 0n) lag += d;
      }
    }
    let streak = this.aloFailures.count;
    for (const st of this.partitions.values()) streak = Math.max(streak, st.failures.count);
    return this.counters.snapshot({ lag: Number(lag), queueDepth: this.queue.length, inFlight: this.work.size, creditOverdue: this.overdue, consecutiveCommitFailures: streak, paused: this.source.isPaused(), assignedPartitions: this.partitions.size, partitionsHeld: this.partitionsHeld });
  }

  // ---- group membership ----------------------------------------------------------------------

  private onAssignment(assignment: readonly TopicPartition[]): void {
    // A join while stopping (a rejoin that was under way): stop() commits what it has and leaves.
    if (this.stopping) return;
    this.generation++;
    const generation = this.generation;
    // kafkajs resumes every assigned partition from its committed offset after a join, so all
    // state built from the previous assignment is rebuilt by replay: drop its open episodes
    // (dropPartition), then start from a fresh assembler (see KafkaPipelineDeps.createAssembler).
    // dead letters counted and not published stay known for the partitions read again here
    const assigned = new Set(assignment.map((tp) => `${tp.topic}/${tp.partition}`));
    for (const k of this.deadLettersUnpublished) if (!assigned.has(k.slice(0, k.lastIndexOf('/')))) this.deadLettersUnpublished.delete(k);
    for (const st of this.partitions.values()) {
      const dropped = this.assembler.dropPartition(st.topic, st.partition);
      this.counters.episodesDropped += dropped;
      this.held.dropPartition(st.key);
    }
    this.counters.episodesDropped += [...this.work].filter((w) => w.status !== 'committing').length;
    this.assembler = this.deps.createAssembler(this.assemblerClock);
    // A partition kept across the join keeps its failure streak: a rebalance is no break in failing
    // publishes (a fresh streak at every join kept /readyz ready while publishing failed, whenever
    // the group rebalanced more often than readinessPublishFailureMs, and restarted the error logs).
    const streaks = new Map([...this.partitions].map(([k, st]) => [k, st.failures] as const));
    for (const f of streaks.values()) if (f.count > 0) f.carried = true;
    // at-least-once: one streak for every partition, carried when a partition whose records failed stays here
    if (this.aloFailures.count > 0 && assignment.some((tp) => this.aloFailedPartitions.has(tpKey(tp.topic, tp.partition)))) this.aloFailures.carried = true;
    // exactly-once: the producers of partitions now read by another instance are let go (with any
    // claim of one still under way) — kept, never used again (the new owner's claim fences it),
    // each held its kafkajs client for good and its broker connections until the broker closed
    // them as idle: two instances joining a third left it 24 producers for its 8 partitions
    const ids = new Set(assignment.map((tp) => this.transactionalIdOf(tp)));
    for (const id of new Set([...this.txProducers.keys(), ...this.producerSwaps.keys()])) if (!ids.has(id)) this.releaseProducer(id);
    this.partitions.clear();
    this.prepareFailure = undefined;
    this.work.clear();
    this.queue.length = 0;
    this.counters.rebalances++;
    this.groupCommitsAtAssignment.clear();
    this.endStartWarned.clear();
    this.log.info({ assignment, assignmentNo: generation }, 'kafka group assignment');
    for (const tp of assignment) {
      const key = tpKey(tp.topic, tp.partition);
      const st: PartitionState = {
        topic: tp.topic,
        partition: tp.partition,
        key,
        generation,
        ready: Promise.resolve(),
        replay: undefined,
        replayOwed: undefined,
        committedAtStart: undefined,
        startAt: undefined,
        startOffset: undefined,
        processedNext: undefined,
        highWatermark: undefined,
        readTimestampMs: undefined,
        readAtMs: undefined,
        alignFromMs: this.wall(),
        prepared: false,
        looseRecords: [],
        producer: undefined,
        committing: Promise.resolve(),
        claimed: deferred(),
        lastCommittedTag: undefined,
        committedOffset: undefined,
        dirty: false,
        fenced: false,
        failures: streaks.get(key) ?? { count: 0, loggedAtMs: undefined },
      };
      st.ready = retry(() => this.preparePartition(st), 3, 500).catch((err: unknown) => {
        st.claimed.reject(err);
        // kafkajs's text alone (INVALID_TRANSACTION_TIMEOUT even misnames the broker setting) left the operator guessing
        // (only this cause: publishFailureHint's others speak of output topics, which preparing does not touch)
        const hint = transactionTimeoutHint(err, this.config.sink.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS);
        if (hint !== undefined && st.generation === this.generation && !this.stopping) {
          this.prepareFailure = { error: errorMessage(err), reason: `preparing partition ${tp.topic}/${tp.partition} failed, nothing can be published: ${hint}` };
        }
        this.log.error({ err, topic: tp.topic, partition: tp.partition, ...(hint ? { fix: hint } : {}) }, hint ? `preparing partition failed: ${hint}` : 'preparing partition failed');
        throw err;
      });
      // Avoid an unhandled rejection if no batch ever awaits it.
      st.ready.catch(() => undefined);
      this.partitions.set(key, st);
    }
    // one check at a time; an assignment during one is checked after it (the counts may have changed since it read them)
    this.recheckCounts = true;
    if (!this.checkingCounts) {
      this.checkingCounts = (async () => {
        while (this.recheckCounts && !this.closed) {
          this.recheckCounts = false;
          await this.checkPartitionCounts();
        }
      })().finally(() => (this.checkingCounts = undefined));
    }
  }

  /**
   * After a group assignment: have partitions been added to an input topic since the counts were
   * last read? kafkajs rebalances for them (noticed within `metadataMaxAgeMs`) and this job reads
   * them, but the collector partitions by trace id modulo the count, so a trace in flight at the
   * change has its earlier spans on one partition and its later spans (and its evaluation) on
   * another — possibly another instance, or read after the first part closed alone. Such an
   * episode is credited from part of its spans, under the event ids a full credit would have (or
   * not at all): seen on the broker, 12 of 20 traces in flight when 2 → 3 partitions with two
   * instances. Nothing here can join them; the operator learns which window to distrust. Also
   * warns when the input topics' counts no longer agree (one topic grown, not the other), which
   * the start-up check alone saw only at the next start.
   */
  private async checkPartitionCounts(): Promise<void> {
    let now: Map<string, number>;
    try {
      now = await this.source.partitionCounts();
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'reading the input topics\' partition counts failed; checked again at the next assignment');
      return;
    }
    const before = this.inputPartitionCounts;
    const changed = [...now].filter(([t, n]) => n > 0 && (before.get(t) ?? 0) > 0 && before.get(t) !== n).map(([t, n]) => `${t}: ${before.get(t)} → ${n}`);
    for (const [t, n] of now) if (n > 0) before.set(t, n);
    if (changed.length === 0) return;
    this.counters.partitionCountChanges++;
    this.log.warn(
      { partitionCounts: changed },
      'input topic partition count changed while running: the collector now sends a trace id to another partition, so traces in flight at the change may be split — part of their spans or their evaluation on the old partition, the rest on the new one (another instance, or read after the first part closed): such episodes are credited from part of their spans under the same event ids, or not at all. Change partition counts while the collector is stopped and this job has caught up, or distrust credit for traces that ran across the change',
    );
    const mismatched = mismatchedPartitionCountsOf(now);
    if (mismatched.length > 0) {
      this.log.warn(
        { partitionCounts: mismatched },
        'input topics now have different partition counts: a trace\'s spans and its evaluation may be read by different instances and never meet — give source.kafka.spansTopic, logsTopic and evaluationsTopic the same partition count',
      );
    }
  }

  /**
   * Swaps the partition's transactional producer for a fresh one with the same id. Swaps of one
   * id run one at a time, and one asked for by a past generation's partition state is skipped:
   * otherwise a swap still running for the old assignment (a failed abort, an unknown commit
   * outcome) could disconnect and fence the producer the new assignment just claimed.
   * `replacing`: in place of the partition's producer of this generation (stuck, unknown to the
   * broker, mid-transaction), counted in `producerReplacements`; not the claim at an assignment.
   */
  private replaceProducer(st: PartitionState, replacing = false): Promise<void> {
    const id = this.transactionalIdOf(st);
    return this.swapProducer(id, async () => {
      if (st.generation !== this.generation || this.closed) return;
      await this.txProducers.get(id)?.disconnect().catch(() => undefined);
      const p = this.deps.client.createTransactionalProducer({ transactionalId: id, compression: this.config.sink.compression, transactionTimeoutMs: this.config.sink.transactionTimeoutMs });
      this.txProducers.set(id, p);
      await p.connect();
      if (this.closed) {
        // stop() disconnected the producers while this one claimed the id: let it go again
        await p.disconnect().catch(() => undefined);
        return;
      }
      st.producer = p;
      if (replacing) this.counters.producerReplacements++;
    });
  }

  /** The transactional id of an input partition's producer. */
  private transactionalIdOf(tp: TopicPartition): string {
    return `${this.config.transactionalIdPrefix}-${tp.topic}-${tp.partition}`;
  }

  /**
   * Disconnects the producer of a partition no longer assigned here, after any swap of its id
   * under way; a later claim of the id (the partition assigned here again) runs after it.
   */
  private releaseProducer(id: string): void {
    void this.swapProducer(id, async () => {
      const p = this.txProducers.get(id);
      if (p === undefined) return;
      this.txProducers.delete(id);
      await p.disconnect().catch(() => undefined);
    }).catch(() => undefined);
  }

  /** Runs `change` of the producer of `id` after the changes of it under way (producerSwaps), and stop() waits for it. */
  private swapProducer(id: string, change: () => Promise<void>): Promise<void> {
    const swap = (this.producerSwaps.get(id) ?? Promise.resolve()).then(change);
    const settled = swap.catch(() => undefined);
    this.producerSwaps.set(id, settled);
    void settled.then(() => {
      if (this.producerSwaps.get(id) === settled) this.producerSwaps.delete(id);
    });
    return swap;
  }

  /** EOS: (re)initialise the partition's transactional producer (fences a zombie, waits for its
   *  open transaction to end), THEN read the committed offset's replay metadata. */
  private async preparePartition(st: PartitionState): Promise<void> {
    if (this.config.delivery === 'exactly-once') {
      await this.replaceProducer(st);
      st.claimed.resolve();
      // The spans partition of this number commits this partition's offset in its transactions too
      // (ridersOf): the previous owner's last one must be finished — by the claim of the spans
      // partition's id, which fences it — before this offset is read, or it could land behind the read.
      const leader = this.pairLeaderOf(st);
      if (leader) await leader.claimed.promise;
    }
    let end: string | undefined;
    const mine = await this.withCommittedReads(st, async (read, readEnd) => {
      // whether the partition has records to read before its first batch comes (alignInputs); a
      // failed read leaves it unknown, as before its first batch
      end = await readEnd().catch(() => undefined);
      let latest = await read();
      if (this.config.delivery !== 'exactly-once') return latest;
      // Kafka 3.x's classic group coordinator applies a finished transaction's offsets on a
      // scheduler thread, possibly after the claim above returned; kafkajs cannot ask for stable
      // offsets (OffsetFetch require_stable). Read again until two reads agree, so the previous
      // owner's last commit is not missed (its records would be published twice).
      for (let i = 0; i < ASSIGNMENT_SETTLE_READS; i++) {
        await sleep(ASSIGNMENT_SETTLE_MS);
        const again = await read();
        if (again?.offset === latest?.offset && again?.metadata === latest?.metadata) break;
        latest = again;
      }
      return latest;
    });
    const pointer = decodeSpillPointer(mine?.metadata);
    st.replay = pointer === undefined ? decodeReplayMetadata(mine?.metadata) : await this.readSpilledFilter(st, pointer);
    st.replayOwed = st.replay?.heldTraces ? new Set(st.replay.heldTraces) : undefined;
    // corrections the previous owner had not published: their records come again, from below the
    // revision before them, and must rebuild the correction — not that revision once more
    if (st.replay?.revisions) for (const [id, revision] of st.replay.revisions) this.assembler.expectRevision?.(id, revision);
    st.lastCommittedTag = commitTagOf(mine?.metadata);
    if (mine && BigInt(mine.offset) >= 0n) {
      st.committedAtStart = st.startOffset = mine.offset;
      // kafkajs keeps a seek that was still pending when its partition was revoked and applies it
      // when the partition comes back: an old seek to the end would skip what another member
      // committed up to meanwhile. A partition this process ever moved gets the committed offset
      // as the latest seek (review of the added-partitions change).
      if (this.seekedPartitions.has(`${st.topic}/${st.partition}`)) this.source.seek({ topic: st.topic, partition: st.partition }, mine.offset);
    } else await this.placeUncommitted(st);
    if (end !== undefined && (st.highWatermark === undefined || compareOffsets(end, st.highWatermark) > 0)) st.highWatermark = end;
    st.prepared = true;
    st.alignFromMs = this.wall();
    this.log.debug({ topic: st.topic, partition: st.partition, committed: mine?.offset, metadata: mine?.metadata }, 'partition prepared: resuming from the committed offset');
  }

  /**
   * The filter a commit spilled to the side topic (`ac5`): its record read back (read_committed:
   * in exactly-once it was written in the transaction that committed the pointer) and checked — key,
   * hash, position. When it cannot be had (no side topic configured now, the topic deleted or
   * recreated, the record compacted away, not the one the pointer names, the read timed out) the
   * partition is replayed whole, as with no filter, and a warning says why and what follows.
   */
  private async readSpilledFilter(st: PartitionState, pointer: SpillPointer): Promise<ReplayFilter | undefined> {
    const side = this.replayFilterTopic?.topic ?? this.config.sink.replayFilterTopic;
    const where = side === null ? `a side topic (partition ${pointer.partition}, offset ${pointer.offset})` : `topic "${side}" partition ${pointer.partition} offset ${pointer.offset}`;
    const started = this.wall();
    let reason: string;
    if (side === null) reason = 'sinks.kafka.replayFilterTopic is null now, so it is not read';
    else if (this.deps.client.readRecord === undefined) reason = 'this Kafka client cannot read a record at an offset';
    else {
      try {
        const record = await this.deps.client.readRecord({ topic: side, partition: pointer.partition }, pointer.offset, { timeoutMs: SPILLED_FILTER_READ_TIMEOUT_MS, maxBytes: SPILLED_FILTER_READ_FETCH_BYTES });
        const key = replayFilterKey(this.config.source.groupId, st.topic, st.partition);
        if (record === undefined) reason = 'the record is not there (the topic deleted or recreated, or the record compacted away)';
        else if (record.key === null || Buffer.from(record.key).toString('utf8') !== key) reason = `the record there is not keyed ${key} (another partition's or group's)`;
        else if (record.value === null) reason = 'the record there has no value';
        else {
          const read = decodeSpilledFilter(pointer, record.value);
          if ('filter' in read) {
            this.counters.spilledFilterReadsOk++;
            this.log.debug({ topic: st.topic, partition: st.partition, heldTraces: read.filter.heldTraces?.size, readMs: this.wall() - started }, 'spilled replay filter read');
            return read.filter;
          }
          reason = `the record there is not the filter the commit wrote: ${read.reason}`;
        }
      } catch (err) {
        reason = `reading it failed: ${errorMessage(err)}`;
      }
    }
    this.counters.spilledFilterReadsFailed++;
    this.log.warn(
      { topic: st.topic, partition: st.partition, replayFilterTopic: side, pointer },
      `the committed offset's replay filter was spilled to ${where}, and ${reason}: the partition is replayed from its committed offset without a filter, so episodes published above it are published again (de-duplicate on event_id)`,
    );
    return undefined;
  }

  /**
   * A partition without a committed offset. kafkajs reads it from its beginning (the source always
   * subscribes that way); `source.fromBeginning: false` is about a NEW group, so:
   * - the group has committed on no partition of the topic (a new group, or one new to the topic):
   *   with `fromBeginning: false` the partition starts at its end — the fetch position is moved
   *   there and the position is committed with the next commit, so a rebalance before any record
   *   arrives does not take the partition for one added later;
   * - it has committed on other partitions: the partition was added to the topic later (or its
   *   offset expired), and is read from its beginning — starting it at its end lost every record
   *   written there before the group noticed it (kafkajs metadataMaxAge). Logged and counted.
   */
  private async placeUncommitted(st: PartitionState): Promise<void> {
    const admin = await this.deps.client.admin();
    let groupHasCommits: boolean;
    let end: { offset: string; low?: string } | undefined;
    try {
      groupHasCommits = await this.groupCommittedBefore(admin, st.topic);
      end = (await admin.fetchEndOffsets(st.topic)).find((p) => p.partition === st.partition);
    } finally {
      await admin.disconnect();
    }
    const where = { topic: st.topic, partition: st.partition, groupId: this.config.source.groupId };
    // An empty partition (no record to read) has its position committed with the next commit (an
    // offsets-only transaction in exactly-once mode): left uncommitted until its first record was,
    // records arriving there before a rebalance (a broker restart: the group rejoined while the
    // producers wrote on) made it one "without a committed offset in a group that has committed on
    // the topic's other partitions" — warned about as added to the topic since or expired, and
    // counted. Not "new to the group" at every rebalance meanwhile either (review of this change: 3
    // rebalances, 3 false warnings).
    if (end !== undefined && end.low !== undefined && BigInt(end.offset) <= BigInt(end.low) && (groupHasCommits || this.config.source.fromBeginning)) {
      st.startOffset = end.low;
      st.processedNext = end.offset;
      st.dirty = true;
      return;
    }
    if (groupHasCommits) {
      this.counters.partitionsNewToGroup++;
      st.startOffset = end?.low;
      if (end?.low !== undefined && this.seekedPartitions.has(`${st.topic}/${st.partition}`)) this.source.seek({ topic: st.topic, partition: st.partition }, end.low);
      this.log.warn(
        { ...where, from: end?.low, end: end?.offset },
        'partition without a committed offset in a group that has committed on the topic\'s other partitions (added to the topic since, or its offset expired): reading it from its beginning',
      );
      return;
    }
    if (this.config.source.fromBeginning || end === undefined) {
      st.startOffset = end?.low;
      return;
    }
    this.counters.partitionsStartedAtEnd++;
    st.startAt = st.startOffset = end.offset;
    // committed with the next commit (an offsets-only transaction in exactly-once mode)
    st.processedNext = end.offset;
    st.dirty = true;
    this.seekedPartitions.add(`${st.topic}/${st.partition}`);
    this.source.seek({ topic: st.topic, partition: st.partition }, end.offset);
    // warn, not info: a group whose committed offsets all expired (Kafka expires a group's offsets
    // together) looks new too, and what was written since its last commit is skipped here.
    // Once per topic and assignment at warn (a new group's 8 partitions made 8 identical lines); each partition's offset at debug.
    const first = !this.endStartWarned.has(st.topic);
    this.endStartWarned.add(st.topic);
    this.log[first ? 'warn' : 'debug'](
      { ...where, offset: end.offset },
      'no committed offset on any partition of the topic for this group: starting at the end (source.kafka.fromBeginning: false); records already there are skipped — if this group ran before, its committed offsets expired (offsets.retention.minutes)',
    );
  }

  /**
   * Whether the group had committed on a partition of `topic` before this assignment: read once per
   * topic and assignment, at the first partition without a committed offset — before any
   * partition of the assignment that lacked one can commit (it commits only once prepared here).
   * Read per partition, a partition prepared after another one's first commit (the preparations
   * run concurrently, each on its own admin connection: ~750 ms for 8 partitions on 2 cores, past
   * the 500 ms commit interval) took the group's own new commit for an older one: a new group's
   * partition was warned about as "added to the topic since", counted, and with
   * `fromBeginning: false` read from its beginning instead of its end.
   */
  private groupCommittedBefore(admin: KafkaAdmin, topic: string): Promise<boolean> {
    let known = this.groupCommitsAtAssignment.get(topic);
    if (!known) {
      const read = admin.fetchCommittedOffsets(this.config.source.groupId, [topic]).then((committed) => committed.some((c) => BigInt(c.offset) >= 0n));
      known = read;
      this.groupCommitsAtAssignment.set(topic, read);
      // a failed read is read again at the partition's retry
      read.catch(() => {
        if (this.groupCommitsAtAssignment.get(topic) === read) this.groupCommitsAtAssignment.delete(topic);
      });
    }
    return known;
  }

  /**
   * Runs `f` with `read`: the group's committed offset (and its metadata) for the partition, read
   * from the broker at each call, and `readEnd`: its end offset (undefined when unknown), all
   * through one admin connection.
   */
  private async withCommittedReads<T>(st: PartitionState, f: (read: (of?: TopicPartition) => Promise<CommittedOffset | undefined>, readEnd: () => Promise<string | undefined>) => Promise<T>): Promise<T> {
    const admin = await this.deps.client.admin();
    try {
      return await f(
        async (of: TopicPartition = st) => {
          const committed = await admin.fetchCommittedOffsets(this.config.source.groupId, [of.topic]);
          return committed.find((c) => c.partition === of.partition);
        },
        async () => (await admin.fetchEndOffsets(st.topic)).find((p) => p.partition === st.partition)?.offset,
      );
    } finally {
      await admin.disconnect();
    }
  }

  // ---- ingestion -----------------------------------------------------------------------------

  /**
   * Waits for the partition to be prepared, heartbeating: kafkajs heartbeats only between batches
   * and when a batch asks, and preparing can take longer than the session timeout (30 s by
   * default) — a spilled filter's read waits up to SPILLED_FILTER_READ_TIMEOUT_MS behind a
   * transaction left open on its side partition, after the producer's claim and the settle reads —
   * so the member was dropped from the group and the partitions moved again. False when kafkajs
   * stopped or rebalanced meanwhile (the batch is not to be handled); rejects as preparing did.
   */
  private async whilePreparing(st: PartitionState, control: BatchControl): Promise<boolean> {
    let prepared = false;
    const done = st.ready.then(
      () => void (prepared = true),
      () => void (prepared = true),
    );
    while (!prepared) {
      if (!control.isRunning() || control.isStale()) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, PREPARE_HEARTBEAT_CHECK_MS)))]);
      clearTimeout(timer);
      if (!prepared) await control.heartbeat();
    }
    await st.ready;
    return true;
  }

  private async onBatch(batch: SourceBatch, control: BatchControl): Promise<void> {
    const st = this.partitions.get(tpKey(batch.topic, batch.partition));
    if (!st || this.stopping) return;
    if (!(await this.whilePreparing(st, control))) return;
    if (st.generation !== this.generation) return;
    if (st.highWatermark === undefined || compareOffsets(batch.highWatermark, st.highWatermark) > 0) st.highWatermark = batch.highWatermark;
    let n = 0;
    for (const { record, decoded } of batch.items) {
      if (!control.isRunning() || control.isStale() || st.generation !== this.generation || st.fenced) break;
      if (st.committedAtStart !== undefined && compareOffsets(record.offset, st.committedAtStart) < 0) {
        // kafkajs fetched its start offset before this partition's producer fenced the previous
        // owner, whose last transaction committed meanwhile: these records are already done.
        this.counters.recordsSkippedCommitted++;
        control.resolveOffset(record.offset);
        continue;
      }
      if (st.startAt !== undefined && compareOffsets(record.offset, st.startAt) < 0) continue; // fetched before the seek to the end
      this.counters.recordsIn++;
      const position: SourcePosition = { topic: record.topic, partition: record.partition, offset: record.offset };
      // Replaying below the position the committed offset's metadata names: the commit that wrote
      // it published this record's dead letter (with it, or before it), so it is not sent again.
      const deadLettered = st.replay !== undefined && compareOffsets(record.offset, st.replay.processedNext) < 0;
      if (!decoded.ok) {
        if (deadLettered) this.log.debug({ ...position, reason: decoded.reason }, 'undecodable record replayed: its dead letter was published before');
        else {
          st.looseRecords.push(deadLetterRecord(record, decoded.reason, this.config.sink.topics.dlq, this.config.sink.maxRecordBytes));
          if (this.countedBefore(record)) this.log.debug({ ...position, reason: decoded.reason }, 'undecodable record read again before its dead letter was published: counted before');
          else {
            this.counters.decodeErrors++;
            this.reportDeadLetter({ topic: record.topic, partition: record.partition, offset: record.offset }, decoded.reason, 'undecodable record');
          }
        }
      } else if (decoded.signal === 'traces') {
        this.warnUnkeyed(record, decoded.spans);
        const kept = this.addSpansHeld(st, record.offset, position, decoded.spans);
        this.counters.spansIn += decoded.spans.length;
        this.counters.spansSkippedOnReplay += decoded.spans.length - kept;
      } else if (decoded.signal === 'logs') {
        const evaluations = this.deps.evaluationsFromLogs(decoded.logs);
        if (this.rewoundForVerdicts(st, record.offset, evaluations.length)) break;
        this.warnUnkeyed(record, decoded.logs);
        this.counters.logsIn += decoded.logs.length;
        // GenAI content events (message contents logged instead of set on the LLM span): content
        // spans, added and held for the watermark like the trace's own spans.
        const contents = contentSpansFromLogs(decoded.logs, { firstOrder: this.contentOrder, source: `${record.topic}/${record.partition}/${record.offset}` });
        this.contentOrder += decoded.logs.length;
        this.counters.contentEventsIn += this.addSpansHeld(st, record.offset, position, contents);
        this.addEvaluations(st, record.offset, position, evaluations);
      } else {
        if (this.rewoundForVerdicts(st, record.offset, decoded.evaluations.length)) break;
        this.addEvaluations(st, record.offset, position, decoded.evaluations);
        if (decoded.partialReason !== undefined && !deadLettered) {
          // the valid entries are used; the record (with its invalid ones) is not lost
          st.looseRecords.push(deadLetterRecord(record, decoded.partialReason, this.config.sink.topics.dlq, this.config.sink.maxRecordBytes));
          if (this.countedBefore(record)) this.log.debug({ ...position, reason: decoded.partialReason }, 'partly invalid evaluation record read again before its dead letter was published: counted before');
          else {
            this.counters.decodeErrors++;
            this.reportDeadLetter({ topic: record.topic, partition: record.partition, offset: record.offset }, decoded.partialReason, 'partly invalid evaluation record');
          }
        }
      }
      st.processedNext = nextOffset(record.offset);
      st.dirty = true;
      this.lastProgressMs = this.wall();
      st.readAtMs = this.lastProgressMs;
      if (record.timestampMs >= 0 && !(record.timestampMs <= (st.readTimestampMs ?? Number.NEGATIVE_INFINITY))) st.readTimestampMs = record.timestampMs;
      control.resolveOffset(record.offset);
      if (++n % 500 === 0) await control.heartbeat();
      // a fetch can bring megabytes: let produce acks in between (time-slicer.ts)
      const turn = this.slicer.yieldIfDue();
      if (turn) await turn;
    }
    if (st.replay && st.processedNext && compareOffsets(st.processedNext, st.replay.processedNext) >= 0) {
      st.replay = undefined;
      st.replayOwed = undefined;
    }
    this.enqueue(this.assembler.tick());
    this.alignInputs();
    await control.heartbeat();
    // Dead letters go out now. Progress alone (offsets, no events) waits for the commit timer or
    // the next publish, which carries it: committing it after every batch put an offset commit
    // (a transaction in exactly-once mode) in front of the next episode's events — the record
    // with a trace's spans usually arrives just before the one with its evaluation.
    if (st.looseRecords.length > 0) this.scheduleCommit();
  }

  /** Whether the record's dead letter was counted and is not published yet (deadLettersUnpublished); notes it as counted now otherwise. */
  private countedBefore(record: ConsumedRecord): boolean {
    const k = `${record.topic}/${record.partition}/${record.offset}`;
    if (this.deadLettersUnpublished.has(k)) return true;
    this.deadLettersUnpublished.add(k);
    return false;
  }

  /** Dead letters published: their records are no longer counted-and-waiting (deadLettersUnpublished). */
  private deadLettersPublished(loose: readonly OutgoingRecord[]): void {
    if (this.deadLettersUnpublished.size === 0) return;
    const text = (v: string | Uint8Array | undefined) => (v === undefined ? '' : typeof v === 'string' ? v : new TextDecoder().decode(v));
    for (const r of loose) {
      const h = r.headers ?? {};
      this.deadLettersUnpublished.delete(`${text(h[DLQ_HEADERS.sourceTopic])}/${text(h[DLQ_HEADERS.sourcePartition])}/${text(h[DLQ_HEADERS.sourceOffset])}`);
    }
  }

  /**
   * Logs an input record (`what`: "undecodable record", …) sent to the DLQ: the first
   * DEAD_LETTER_LINES each with its reason, then a count at most every 30 s with the last reason
   * (one warn line per record flooded the log when a whole topic was unreadable, e.g. a wrong
   * encoding); the rest at debug. decodeErrors and dlqOut count every one. Each line names the
   * dead-letter topic as well as where the record was read (`topic`, `partition`, `offset`): it
   * said "sent to DLQ" and named only the input topic, so the operator had to look up which topic
   * to read the record from.
   */
  private reportDeadLetter(where: SourcePosition, reason: string, what: string): void {
    const dlqTopic = this.config.sink.topics.dlq;
    const message = `${what} from ${where.topic}[${where.partition}]@${where.offset} sent to the dead-letter topic "${dlqTopic}" (sinks.kafka.topics.dlq)`;
    if (this.deadLetterLines < DEAD_LETTER_LINES) {
      this.deadLetterLines++;
      const more = this.deadLetterLines === DEAD_LETTER_LINES ? ' (further ones: a count at most every 30 s, each at debug)' : '';
      this.log.warn({ ...where, dlqTopic, reason }, `${message}${more}`);
      return;
    }
    this.log.debug({ ...where, dlqTopic, reason }, message);
    this.lastDeadLetter = { ...where, reason };
    this.reportDeadLetterCount(1);
  }

  private reportDeadLetterCount(n: number): void {
    const due = this.deadLetterDue(n);
    if (due === undefined) return;
    const dlqTopic = this.config.sink.topics.dlq;
    const last = this.lastDeadLetter;
    this.log.warn(
      { count: due, decodeErrors: this.counters.decodeErrors, dlqTopic, lastReason: last?.reason, ...(last ? { last: { topic: last.topic, partition: last.partition, offset: last.offset } } : {}) },
      `${due} more input record(s) sent to the dead-letter topic "${dlqTopic}" since the last line (${this.counters.decodeErrors} in all); the last one${last ? `, from ${last.topic}[${last.partition}]@${last.offset}` : ''}: ${last?.reason ?? ''}`,
    );
  }

  /**
   * Logs an event over `sink.maxRecordBytes` (its description goes to the DLQ): the first
   * DEAD_LETTER_LINES each with the episode and the event, then a count at most every 30 s with the
   * last one; the rest at debug. One warn line per event flooded the log when the limit was below
   * what the fleet's episodes need — every episode's events over it, at the episode rate.
   * eventsTooLarge counts every one.
   */
  private reportTooLarge(what: { episodeId: string; eventId: string; eventType: string; bytes: number }): void {
    const fields = { ...what, maxRecordBytes: this.config.sink.maxRecordBytes };
    const message = 'event too large to publish; its description goes to the DLQ';
    if (this.tooLargeLines < DEAD_LETTER_LINES) {
      this.tooLargeLines++;
      const more = this.tooLargeLines === DEAD_LETTER_LINES ? ' (further ones: a count at most every 30 s, each at debug)' : '';
      this.log.warn(fields, `${message}${more}`);
      return;
    }
    this.log.debug(fields, message);
    this.lastTooLarge = what;
    this.reportTooLargeCount(1);
  }

  private reportTooLargeCount(n: number): void {
    const due = this.tooLargeDue(n);
    if (due === undefined) return;
    const last = this.lastTooLarge;
    const max = this.config.sink.maxRecordBytes;
    this.log.warn(
      { count: due, eventsTooLarge: this.counters.eventsTooLarge, maxRecordBytes: max, ...(last ? { last } : {}) },
      `${due} more event(s) over sinks.kafka.maxRecordBytes (${max}) since the last line (${this.counters.eventsTooLarge} in all), their descriptions sent to the DLQ${last ? `; the last one: ${last.eventType} ${last.eventId} of ${last.episodeId}, ${last.bytes} bytes` : ''}`,
    );
  }

  /**
   * Spans (or content spans) from the record at `offset` → the assembler, replay-filtered (spans
   * of episodes already committed are skipped) and held under their trace ids for the watermark
   * metadata; returns how many were kept.
   */
  private addSpansHeld(st: PartitionState, offset: string, position: SourcePosition, spans: readonly Span[]): number {
    const kept = st.replay && spans.length > 0 ? spans.filter((s) => replayKeeps(st.replay, offset, s.traceId)) : spans;
    if (kept.length > 0) {
      this.assembler.addSpans(kept, position);
      // Only traces the assembler holds now: a span it dropped (a re-send of an episode already
      // closed, a late span only counted) feeds nothing to rebuild, and naming its trace made a
      // replay take that episode's earlier records too — rebuilt and published a second time.
      let last: string | undefined;
      for (const s of kept) {
        if (s.traceId === last) continue;
        last = s.traceId;
        if (this.assembler.holdsTrace === undefined || this.assembler.holdsTrace(s.traceId)) this.held.note(st.key, s.traceId, offset);
      }
    }
    return kept.length;
  }

  /**
   * Reads the input partitions together in record time (the Kafka timestamps the collector's
   * exporter writes): a partition read more than ALIGN_SLACK_MS past the earliest partition that
   * still has records to read stops fetching until that one catches up (or is read to its end).
   * kafkajs fetches every partition up to maxBytesPerPartition at a time, so on a backlog — a first
   * start, a restart after downtime — a topic of small records ran ahead of one of large records in
   * record time: the logs topic's evaluations (~0.4 kB each) read far ahead of their spans (~20 kB a
   * run) waited in the assembler and went over `maxPendingEvaluations` or `pendingEvaluationTtlMs`
   * — dropped, their runs closed without credit — and a logs topic carrying more bytes (application
   * logs) ran behind, so runs waited out `awaitEvaluationMs` for verdicts not read yet and were
   * corrected when they came: answers neither replay (event-time order) nor a job that keeps up
   * gives. A partition that reads nothing for ALIGN_STALL_MS while it seems to lag (the last offsets
   * of a transactional producer's topic are markers, never read) holds no other back.
   *
   * A partition not read yet in this assignment that may have records to read (not prepared yet,
   * or its end offset past where it starts) holds every other one: its record time is unknown. It
   * used to count for nothing until its first record, and it may get none while another partition
   * is read: kafkajs shuffles the partitions of each fetch request, and the broker returns a record
   * batch larger than maxBytesPerPartition only for the first partition of the response that has
   * records (KIP-74) — a spans partition of ~20 kB runs got nothing in every fetch that listed the
   * logs partition first, and the logs were read on, 7 evaluations a fetch, until a fetch listed
   * the spans first: a coin toss at each fetch (6 to 34 evaluations pending in 14 starts of the
   * broker test, 49 once; over maxPendingEvaluations 40 at 1 start in 32). Held, the others leave
   * that partition alone in the fetch, and its first batch comes.
   */
  private alignInputs(): void {
    const now = this.wall();
    const spans = this.config.source.spansTopic;
    // Verdicts first: of the two, reading the spans is what frees both (a run read closes on its
    // waiting verdict); held both ways, only timers (awaitEvaluationMs, the pending TTL) would move.
    const stats = this.assembler.stats?.();
    const verdictsAhead = this.verdictsWaitingFull(now, stats);
    const runsAhead = !verdictsAhead && this.runsWaitingFull(now, stats);
    // held (true) or read (false) for the balance of their partition number's runs and verdicts
    const byPair = verdictsAhead || runsAhead ? this.pairedHolds(now, verdictsAhead) : new Map<PartitionState, boolean>();
    let frontier = Number.POSITIVE_INFINITY;
    for (const st of this.partitions.values()) {
      if (st.fenced || byPair.has(st)) continue;
      // partitions stopped on purpose above do not hold the others back in record time
      if ((verdictsAhead && st.topic !== spans) || (runsAhead && st.topic === spans)) continue;
      if (st.readAtMs === undefined) {
        if ((!st.prepared || hasUnread(st)) && now - st.alignFromMs <= ALIGN_STALL_MS) frontier = Number.NEGATIVE_INFINITY;
        continue;
      }
      if (st.readTimestampMs === undefined || !hasUnread(st)) continue;
      const held = this.source.isHeldAhead(st);
      if (!held && now - (st.readAtMs ?? now) > ALIGN_STALL_MS) continue;
      frontier = Math.min(frontier, st.readTimestampMs);
    }
    const held = { recordTime: 0, verdictsWaiting: 0, runsWaiting: 0 };
    for (const st of this.partitions.values()) {
      const paired = byPair.get(st);
      // a spans partition held waits for verdicts of its runs to be read (`runsWaiting`), a logs or
      // evaluations one for runs of its verdicts (`verdictsWaiting`), paired or topic-wide
      const why = st.fenced
        ? undefined
        : paired !== undefined
          ? paired
            ? st.topic === spans
              ? 'runsWaiting'
              : 'verdictsWaiting'
            : undefined
          : verdictsAhead && st.topic !== spans
            ? 'verdictsWaiting'
            : runsAhead && st.topic === spans
              ? 'runsWaiting'
              : st.readTimestampMs !== undefined && st.readTimestampMs > frontier + ALIGN_SLACK_MS
                ? 'recordTime'
                : undefined;
      if (why === undefined) this.source.releaseAhead(st);
      else {
        held[why]++;
        this.source.holdAhead(st);
      }
    }
    this.partitionsHeld = held;
  }

  /**
   * While the verdicts or the runs waiting for each other fill half the assembler's limits
   * (`verdictsAhead`, else the runs): whether to hold each input partition whose partition of the
   * other side (spans, or logs and evaluations, of the same number) is assigned here, judged by the
   * pair's balance — the ids held for the watermark on the spans partition (runs open) less those
   * on the others (verdicts and content waiting), an episode closed leaving both. Trace-keyed input
   * on topics of one partition count only: the collector keys a trace's spans and logs by its trace
   * id, so partition p of each topic carries the same runs. Partitions left out of the map are held
   * topic-wide as before. Topic-wide alone, one partition's verdicts read ahead of their runs held
   * every logs partition while the spans were read, and the runs of another partition, whose
   * verdicts were in a held logs partition, filled maxOpenEpisodes and were evicted without credit
   * (1,993 of 6,000 on the broker, spans seeded 15 s before their verdicts, maxOpenEpisodes and
   * maxPendingEvaluations 1000). Under `verdictsAhead` a spans partition whose runs are ahead is
   * held while its partner has records to read, and the others' verdicts are read where runs wait
   * for them; the mirror under the runs. Record time does not decide these: the pair's counts do.
   */
  private pairedHolds(now: number, verdictsAhead: boolean): Map<PartitionState, boolean> {
    const out = new Map<PartitionState, boolean>();
    const spans = this.config.source.spansTopic;
    if ((this.assembler.options?.keyBy ?? 'trace') !== 'trace') return out;
    const counts = new Set([...this.inputPartitionCounts.values()]);
    if (counts.size > 1) return out;
    const pairs = new Map<number, { spans?: PartitionState; others: PartitionState[] }>();
    for (const st of this.partitions.values()) {
      if (st.fenced) continue;
      let pair = pairs.get(st.partition);
      if (!pair) pairs.set(st.partition, (pair = { others: [] }));
      if (st.topic === spans) pair.spans = st;
      else pair.others.push(st);
    }
    for (const { spans: s, others } of pairs.values()) {
      if (s === undefined || others.length === 0) continue;
      const lead = this.held.size(s.key) - others.reduce((n, o) => n + this.held.size(o.key), 0);
      const othersLeft = others.some((o) => this.hasLeftToRead(now, o));
      if (verdictsAhead) {
        // runs waiting for verdicts there are to read: read those, not more runs
        out.set(s, lead > 0 && othersLeft);
        for (const o of others) out.set(o, lead <= 0);
      } else {
        const spansLeft = this.hasLeftToRead(now, s);
        out.set(s, lead >= 0);
        for (const o of others) out.set(o, lead < 0 && spansLeft);
      }
    }
    return out;
  }

  /**
   * Whether the verdicts read ahead of their runs fill half of what the assembler keeps waiting
   * (`episodes.maxPendingEvaluations`) while a spans partition still has records to read: then the
   * logs and evaluations partitions wait too (alignInputs), until the spans catch up. Record time
   * alone let them run thousands of runs ahead on a dense backlog — a fetch takes up to
   * maxBytesPerPartition of ~0.4 kB evaluations, ~2,500 a partition, before a hold can act, and a
   * backlog written at thousands of runs a second puts that many within ALIGN_SLACK_MS — and past
   * the limit the oldest verdicts were dropped and their runs closed without credit (20,000 runs
   * seeded by kafka:seed --from on the local broker: 2,882 of them).
   */
  private verdictsWaitingFull(now: number, stats: AssemblerStats | undefined): boolean {
    const max = this.assembler.options?.maxPendingEvaluations;
    if (max === undefined) return false;
    return (stats?.pendingEvaluations ?? 0) >= max / 2 && this.leftToRead(now, (topic) => topic === this.config.source.spansTopic);
  }

  /**
   * Whether the open runs fill half of what the assembler keeps open (`episodes.maxOpenEpisodes`
   * or `maxBufferedBytes`) while a logs or evaluations partition still has records to read: then
   * the spans partitions wait (alignInputs) and the verdicts are read, ahead of the spans in record
   * time. The mirror of `verdictsWaitingFull`: a backlog whose verdicts were written after their
   * runs (a logs topic exported or seeded seconds behind the spans) was read in record time, every
   * run before its verdict, and past the caps the oldest runs were evicted without credit while
   * their verdicts waited in the logs topic (20,000 runs with verdicts ~20 s behind: 5,131 lost,
   * at maxBufferedBytes with ~7,000 open). Not only runs waiting past grace for their verdict
   * (`awaitingEvaluation`): on a backlog the bytes fill within the grace. Reading verdicts early
   * costs nothing when the runs open are still running: they wait for their spans
   * (`maxPendingEvaluations`, and `rewoundForVerdicts` past it).
   */
  private runsWaitingFull(now: number, stats: AssemblerStats | undefined): boolean {
    const o = this.assembler.options;
    if (o === undefined || stats === undefined) return false;
    const full = (o.maxOpenEpisodes !== undefined && (stats.open ?? 0) >= o.maxOpenEpisodes / 2) || (o.maxBufferedBytes !== undefined && (stats.bufferedBytes ?? 0) >= o.maxBufferedBytes / 2);
    return full && this.leftToRead(now, (topic) => topic !== this.config.source.spansTopic);
  }

  /**
   * Whether a partition of a topic `which` picks may still have records to read: as for the
   * frontier, one not read yet, or read and still behind, within ALIGN_STALL_MS of its last read
   * — or held ahead (alignInputs), which is why it reads nothing.
   */
  private leftToRead(now: number, which: (topic: string) => boolean): boolean {
    for (const st of this.partitions.values()) if (!st.fenced && which(st.topic) && this.hasLeftToRead(now, st)) return true;
    return false;
  }

  /** `leftToRead` of one partition. */
  private hasLeftToRead(now: number, st: PartitionState): boolean {
    const since = st.readAtMs ?? st.alignFromMs;
    const toRead = st.readAtMs === undefined ? !st.prepared || hasUnread(st) : hasUnread(st);
    return toRead && (now - since <= ALIGN_STALL_MS || this.source.isHeldAhead(st));
  }

  /**
   * A logs or evaluations record whose `count` evaluations would push the verdicts waiting for
   * their spans past `episodes.maxPendingEvaluations` while spans are left to read is not taken:
   * its partition moves back to it (read again from there; nothing of it was used) and
   * `alignInputs` holds the partition until the spans have caught up (`verdictsWaitingFull`).
   * Taken, the assembler dropped the oldest waiting verdict — the one whose run was read next —
   * and its run closed without credit: on a backlog whose logs were fetched ahead of their runs
   * (a fetch takes ~2,500 evaluation records a partition before any hold acts) that lost
   * thousands of runs. The record is taken anyway when nothing waits (a record of more verdicts
   * than the limit would never fit), when the spans are read up (live: a verdict whose run never
   * comes must not stall the topic — it is dropped by the limit as before). Returns whether the
   * record was left.
   */
  private rewoundForVerdicts(st: PartitionState, offset: string, count: number): boolean {
    const max = this.assembler.options?.maxPendingEvaluations;
    if (max === undefined || count === 0) return false;
    const stats = this.assembler.stats?.();
    const waiting = stats?.pendingEvaluations ?? 0;
    // past the limit, and held by alignInputs until the spans catch up
    if (waiting + count <= max || !this.verdictsWaitingFull(this.wall(), stats)) return false;
    const tp = { topic: st.topic, partition: st.partition };
    this.source.seek(tp, offset);
    this.seekedPartitions.add(`${st.topic}/${st.partition}`);
    this.counters.verdictRewinds++;
    this.log.debug({ ...tp, offset, waiting, maxPendingEvaluations: max }, 'verdicts waiting for their spans are full: this record is read again once the spans catch up');
    return true;
  }

  /** Warns once per topic when a record's spans or log records have a trace id that is not its key (trace-keyed episodes; sources/kafka/unkeyed.ts says why it matters). */
  private warnUnkeyed(record: ConsumedRecord, items: readonly { readonly traceId?: string | undefined }[]): void {
    if (this.unkeyedWarned.has(record.topic) || (this.assembler.options?.keyBy ?? 'trace') !== 'trace') return;
    const key = recordKeyText(record);
    const traceId = traceNotKeyed(key, items);
    if (traceId === undefined) return;
    this.unkeyedWarned.add(record.topic);
    const logs = record.topic !== this.config.source.spansTopic;
    this.log.warn(
      { topic: record.topic, partition: record.partition, offset: record.offset, key: key === '' ? null : key, traceId },
      unkeyedAdvice(record.topic, logs, key, traceId),
    );
  }

  /** Evaluations from a logs or evaluations record at `offset` → the assembler (replay-filtered, held for the watermark metadata). */
  private addEvaluations(st: PartitionState, offset: string, position: SourcePosition, all: readonly Evaluation[]): void {
    const evaluations: Evaluation[] = [];
    for (const given of all) {
      // An evaluation that names a response id takes its LLM span's trace id when the span has
      // been seen. Whether it has depends on timing (partitions are read concurrently, also on
      // replay), so it is held under both ids, and kept on replay if either is held.
      const e = this.assembler.resolveEvaluation ? this.assembler.resolveEvaluation(given) : given;
      const keys = heldKeysOf(given, e);
      const keep = keys.length === 0 ? replayKeeps(st.replay, offset, undefined) : keys.some((k) => replayKeeps(st.replay, offset, k));
      if (!keep) {
        this.counters.evaluationsSkippedOnReplay++;
        this.log.debug({ topic: st.topic, partition: st.partition, offset, keys }, 'evaluation of a committed episode skipped on replay');
        continue;
      }
      evaluations.push(e);
      for (const k of keys) this.held.note(st.key, k, offset);
    }
    this.counters.evaluationsIn += evaluations.length;
    if (evaluations.length === 0) return;
    this.reportTimeUnits(evaluations, `topic ${st.topic}`);
    this.assembler.addEvaluations(evaluations, position);
  }

  private onTick(): void {
    if (this.stopping) return;
    try {
      this.enqueue(this.assembler.tick());
      this.alignInputs();
      // an expired evaluation (or content event) feeds nothing to rebuild: named in the replay
      // metadata, a replay read it again, waited out its TTL again and counted it expired again (at
      // every rebalance while the committed offset stayed below it, e.g. held by another run still open)
      const dropped = this.assembler.takeDroppedWaiting?.() ?? [];
      for (const d of dropped) {
        const key = tpKey(d.topic, d.partition);
        const before = this.held.size(key);
        this.held.releaseOn(key, [d.key]);
        // the metadata committed last still names it: the next commit writes it without
        const st = this.partitions.get(key);
        if (st && this.held.size(key) < before && st.processedNext !== undefined) st.dirty = true;
      }
      const stats = this.assembler.stats?.();
      this.reportExpired(expiredPastTtl(stats));
      this.reportOverLimit(stats?.evaluationsDroppedOverLimit);
      this.reportOtherNames(stats?.lateEvaluationsOtherName);
      this.reportUnjoinable(stats?.unjoinableEvaluations);
      this.reportDeadLetterCount(0); // held-back counts go out even when no more come
      this.reportTooLargeCount(0);
      this.markReleasedPartitions();
    } catch (err) {
      this.log.error({ err }, 'assembler tick failed');
    }
  }

  /**
   * Marks dirty every partition whose offset could move past our last commit without a record of
   * its own or an episode of ours being published: an evaluation waiting there for its spans
   * expired (tick) or was dropped over the count limit (while another partition was read), which
   * releases its record inside the assembler. Left clean, an idle partition's committed offset
   * stayed at that record — not even stop()'s final commit moved it — and a restart read it again.
   * Only partitions committed below their processed position are looked at (nothing else can move).
   */
  private markReleasedPartitions(): void {
    for (const st of this.partitions.values()) {
      if (st.dirty || st.fenced || st.processedNext === undefined) continue;
      // a correction opened or published since the last commit: its records' hold goes in (or out)
      if (correctionsSignature(this.pendingCorrections(st, NO_WORK)) !== st.correctionsWritten) {
        st.dirty = true;
        continue;
      }
      if (st.committedOffset === st.processedNext) continue;
      let offset = commitOffsetFor(st.processedNext, this.assembler.lowWatermark(st.topic, st.partition));
      for (const w of this.work) offset = minOffset(offset, w.holds.get(st.key));
      if (offset !== st.committedOffset) st.dirty = true;
    }
  }

  // ---- credit work ---------------------------------------------------------------------------

  /**
   * Wall-clock ms at which a closed episode this pipeline handed to `processEpisode` closed: its
   * `closedAtMs` is on the assembler clock, which leaves out the time ingestion was held.
   */
  closedAtWallMs(episode: Episode): number | undefined {
    return this.closedAtWall.get(episode);
  }

  private enqueue(episodes: readonly Episode[]): void {
    for (const episode of episodes) {
      this.counters.episodesClosed++;
      const released = episodeHeldKeys(episode);
      this.held.release(released);
      // a compact filter (watermark.ts compactOrAll) names them by key. A key of an `ac4` filter (the
      // hashes' first bits) often stands for several held traces: handing one on must not drop the
      // others' records from the next commit's filter (lost, were the next owner to skip them), so
      // such keys stay owed until the replay passes the previous owner's position.
      for (const st of this.partitions.values()) if (st.replayOwed && st.replay?.keyBits === undefined) for (const k of released) st.replayOwed.delete(replayKeyOf(st.replay, k));
      this.log.debug({ episodeId: episode.episodeId, closeReason: episode.closeReason, released, sources: episode.sources }, 'episode closed');
      const spansSource = episode.sources.find((s) => s.topic === this.config.source.spansTopic) ?? episode.sources[0];
      const owner = spansSource ? tpKey(spansSource.topic, spansSource.partition) : undefined;
      if (owner === undefined || !this.partitions.has(owner)) {
        // No partition of ours fed it (revoked meanwhile): its new owner rebuilds it.
        this.counters.episodesDropped++;
        continue;
      }
      const holds = new Map<string, string>();
      for (const s of episode.sources) {
        const k = tpKey(s.topic, s.partition);
        holds.set(k, minOffset(holds.get(k), s.firstOffset)!);
      }
      const base = episode.revision > 0 ? this.assembler.correctionBase?.(episode) : undefined;
      const w: CreditWork = { episode, generation: this.generation, owner, holds, ...(base ? { base } : {}), status: 'queued', records: [], recordBytes: 0 };
      this.closedAtWall.set(episode, this.wall()); // closed in the call that hands it over
      this.work.add(w);
      this.queue.push(w);
    }
    if ((this.unpublished() >= this.config.creditQueueMax || this.unpublishedBytes() >= this.config.creditQueueMaxBytes) && !this.source.isPaused()) {
      this.counters.pauses++;
      this.source.pause();
    }
    this.pump();
  }

  /**
   * Backpressure counts every closed episode not yet published (`work`), not only those waiting
   * for credit: while transactions or sends keep failing, credited episodes pile up as `ready`,
   * and ingestion must not go on closing more. Called wherever work ends (credit done, published).
   */
  private maybeResume(): void {
    if (this.source.isPaused() && !this.stopping && this.unpublished() <= this.config.creditQueueMax / 2 && this.unpublishedBytes() <= this.config.creditQueueMaxBytes / 2) this.source.resume();
  }

  /** Bytes of the closed episodes not yet published (Episode.bytes, and their events once credited): backpressure's other measure. */
  private unpublishedBytes(): number {
    let bytes = 0;
    for (const w of this.work) bytes += w.episode.bytes + w.recordBytes;
    return bytes;
  }

  /**
   * What backpressure counts: closed episodes and dead letters not yet published. Dead letters too:
   * input that is all undecodable closes no episode, and while publishing failed each record read
   * was held as its dead letter (a copy of it) — the whole topic, read on into memory.
   */
  private unpublished(): number {
    let n = this.work.size;
    for (const st of this.partitions.values()) n += st.looseRecords.length;
    return n;
  }

  private pump(): void {
    while (this.running < this.config.creditConcurrency && this.queue.length > 0) {
      const w = this.queue.shift()!;
      this.running++;
      w.status = 'running';
      void this.runCredit(w).finally(() => {
        this.running--;
        this.maybeResume();
        this.pump();
      });
    }
  }

  private async runCredit(w: CreditWork): Promise<void> {
    const dlq = this.config.sink.topics.dlq;
    let records: OutgoingRecord[];
    await this.slicer.yieldIfDue();
    if (w.generation !== this.generation || !this.work.has(w)) return; // rebalanced meanwhile
    let computing: Promise<readonly CreditEvent[] | CreditedEvents> | undefined;
    let settled = false;
    try {
      computing = this.deps.processEpisode(w.episode);
      // before withTimeout's own handlers: when it rejects, `settled` says whether computing had
      computing.then(
        () => void (settled = true),
        () => void (settled = true),
      );
      const result = await withTimeout(
        computing,
        this.config.creditTimeoutMs,
        `processEpisode timed out after ${this.config.creditTimeoutMs} ms (runtime.creditTimeoutMs; raise it for slow value functions)`,
      );
      const credited = isEventList(result) ? creditedFromEvents(result) : result;
      const max = this.config.sink.maxRecordBytes;
      records = credited.facts.map((e, i) => {
        const { record, tooLargeBytes: bytes } = publishableFactsRecord(e, credited.value(i), this.config.sink.topics, max);
        if (bytes === undefined) return record;
        this.counters.eventsTooLarge++;
        this.reportTooLarge({ episodeId: w.episode.episodeId, eventId: e.event_id, eventType: e.event_type, bytes });
        return record;
      });
      this.counters.eventsOut += records.length;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.counters.creditFailures++;
      this.log.error({ episodeId: w.episode.episodeId, dlqTopic: dlq, reason }, `credit failed; episode sent to the dead-letter topic "${dlq}" (sinks.kafka.topics.dlq)`);
      records = [failedEpisodeRecord(w.episode, reason, dlq)];
      if (computing && !settled) this.holdOverdueSlot(w, computing);
    }
    if (w.generation !== this.generation || !this.work.has(w)) return; // rebalanced meanwhile
    w.records = records;
    // what backpressure counts by bytes: a credited run's events (a reward per message) are held
    // with it until published; string length, not byteLength (no second pass over each text)
    for (const r of records) w.recordBytes += (typeof r.value === 'string' ? r.value.length : r.value.byteLength) + (r.key === null ? 0 : typeof r.key === 'string' ? r.key.length : r.key.byteLength);
    w.status = 'ready';
    this.scheduleCommit();
  }

  /**
   * A computation that timed out keeps running (nothing can cancel it): it keeps its credit slot
   * until it settles, so a slow value function is not called more often than `creditConcurrency`
   * at once. At most `creditConcurrency - 1` slots are held that way: a value function that hangs
   * for good then still leaves one slot, each episode it hangs on reaches the DLQ after the
   * timeout, and the error log (and `creditOverdue` in the stats) says so.
   */
  private holdOverdueSlot(w: CreditWork, computing: Promise<unknown>): void {
    const cap = this.config.creditConcurrency - 1;
    if (this.overdue >= cap) {
      this.log.error(
        { episodeId: w.episode.episodeId, overdue: this.overdue, creditConcurrency: this.config.creditConcurrency, creditTimeoutMs: this.config.creditTimeoutMs },
        'processEpisode is still running past creditTimeoutMs while other overdue computations hold all but one credit slot (a value function that hangs?): its slot is released, so more computations than creditConcurrency now run at once',
      );
      return;
    }
    this.overdue++;
    this.running++;
    this.log.warn({ episodeId: w.episode.episodeId, overdue: this.overdue, creditConcurrency: this.config.creditConcurrency }, 'processEpisode is still running past creditTimeoutMs: it keeps its credit slot until it settles');
    const release = () => {
      this.overdue--;
      this.running--;
      this.pump();
    };
    computing.then(release, release);
  }

  // ---- commits -------------------------------------------------------------------------------

  private commitScheduled = false;

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.commitAll();
    });
  }

  /** Offset to commit for a partition, ignoring the holds of `excluding` (committed with it),
   *  and the replay metadata: the trace ids still held at that offset. */
  private watermarkFor(st: PartitionState, excluding: ReadonlySet<CreditWork>, commitTag?: string): CommitWatermark | undefined {
    const corrections = this.pendingCorrections(st, excluding);
    st.correctionsWritten = correctionsSignature(corrections);
    if (corrections.size === 0) return this.buildWatermark(st, excluding, commitTag) ?? undefined;
    const durable = this.buildWatermark(st, excluding, commitTag, corrections, true);
    if (durable !== null) return durable;
    this.warnCorrectionsNotHeld(st, corrections.size);
    return this.buildWatermark(st, excluding, commitTag, corrections, false) ?? undefined;
  }

  /**
   * Trace-keyed corrections (revision > 0) on the partition not yet published — open or closed in
   * the assembler, in credit, or owed by a replay still below the previous owner's position —, by
   * trace id: the revision and the first offset of the partition that any of its revisions read
   * (undefined for one owed whose records are not replayed yet: needed from the committed offset).
   * A crash before one is published replays it from there: the records of the revisions before it,
   * committed with those, would otherwise not come again, and the correction was lost.
   */
  private pendingCorrections(st: PartitionState, excluding: ReadonlySet<CreditWork>): Map<string, PendingCorrection> {
    const out = new Map<string, PendingCorrection>();
    const add = (id: string, revision: number, first: string | undefined, rebuilt: boolean) => {
      const had = out.get(id);
      if (had === undefined || revision > had.revision) out.set(id, { revision, first: minOffset(first, had?.first), rebuilt: rebuilt || had?.rebuilt === true });
      else {
        had.first = minOffset(first, had.first);
        had.rebuilt ||= rebuilt;
      }
    };
    for (const c of this.assembler.correctionsOn?.(st.topic, st.partition) ?? []) add(c.episodeId, c.revision, c.firstOffset, c.rebuilt);
    for (const w of this.work) {
      if (w.base === undefined || excluding.has(w)) continue;
      let first = w.holds.get(st.key);
      for (const r of w.base) if (r.topic === st.topic && r.partition === st.partition) first = minOffset(first, r.firstOffset);
      if (first !== undefined) add(w.episode.episodeId, w.episode.revision, first, w.base.length === 0);
    }
    const owed = st.replay?.revisions;
    if (owed && st.replayOwed && st.processedNext !== undefined && compareOffsets(st.processedNext, st.replay!.processedNext) < 0) {
      for (const [id, revision] of owed) if (st.replayOwed.has(id)) add(id, revision, undefined, true);
    }
    return out;
  }

  /**
   * The watermark with `corrections` held (`holdCorrections`: their first offsets lower the offset, their ids
   * are needed from there and named with their revisions) — null when that filter does not fit the
   * metadata whole (`encodeCorrectionFilter`) — or as without them (`holdCorrections` false, or no
   * `corrections`): each holds only its own records, and one rebuilt by a replay here is left out of
   * the replay below the processed position (lost, as before, rather than replayed as a revision 0
   * published again under that revision's event ids).
   */
  private buildWatermark(st: PartitionState, excluding: ReadonlySet<CreditWork>, commitTag: string | undefined, corrections?: ReadonlyMap<string, PendingCorrection>, holdCorrections = false): CommitWatermark | undefined | null {
    if (st.processedNext === undefined) return undefined;
    // one pass over the work, no copies: this runs per dirty partition at every commit
    const holding: CreditWork[] = [];
    let offset = commitOffsetFor(st.processedNext, this.assembler.lowWatermark(st.topic, st.partition));
    for (const w of this.work) {
      const hold = w.holds.get(st.key);
      if (hold === undefined || excluding.has(w)) continue;
      holding.push(w);
      offset = minOffset(offset, hold);
    }
    if (corrections && holdCorrections) for (const c of corrections.values()) offset = minOffset(offset, c.first);
    if (offset === undefined) return undefined;
    this.held.prune(st.key, offset);
    const heldTraces = this.held.get(st.key);
    // From which offset each id is needed: a trace seen again above the committed offset after its
    // episode closed (a late span or evaluation reopening it) must not take its earlier records
    // there on replay — they fed a revision already published, which would be rebuilt and
    // published again. Only such ids get an entry (the others are needed from `offset` on): each
    // one lengthens the metadata, and past its limit everything is replayed.
    const from = this.held.seenAgain(st.key, offset);
    /** `k` is needed from `o` too: the earlier of the two (no entry once that is `offset`). */
    const needFrom = (k: string, o: string) => {
      if (!heldTraces.has(k)) {
        heldTraces.add(k);
        if (compareOffsets(o, offset) > 0) from.set(k, o);
        return;
      }
      const had = from.get(k);
      if (had === undefined || compareOffsets(had, o) <= 0) return;
      if (compareOffsets(o, offset) > 0) from.set(k, o);
      else from.delete(k);
    };
    for (const w of holding) {
      // a correction (revision > 0) needs its own records; the earlier revision's are published,
      // or held by that revision's own work
      const o = w.episode.revision > 0 ? w.holds.get(st.key)! : offset;
      for (const k of episodeHeldKeys(w.episode)) needFrom(k, o);
    }
    // Still replaying below the previous owner's processed position P: records in [processedNext, P)
    // were read by it, not by us yet, and hold spans of episodes it committed. Writing our own
    // position would make the next owner take them whole and publish those episodes again
    // (partially rebuilt), so keep P and the ids it still held that we have not handed on since.
    let processedNext = st.processedNext;
    if (st.replay && st.replayOwed && compareOffsets(processedNext, st.replay.processedNext) < 0) {
      processedNext = st.replay.processedNext;
      // needed from where the previous owner's filter said (else from its committed offset: all of them)
      for (const k of st.replayOwed) needFrom(k, st.replay.heldFrom?.get(k) ?? offset);
    }
    if (corrections && !holdCorrections && compareOffsets(processedNext, offset) > 0) {
      for (const [k, c] of corrections) if (c.rebuilt && heldTraces.has(k)) from.set(k, processedNext);
    }
    if (corrections && holdCorrections) {
      // every record of a correction's trace from the committed offset on: the revisions before it too
      const revisions = new Map<string, number>();
      for (const [k, c] of corrections) {
        needFrom(k, offset);
        revisions.set(k, c.revision);
      }
      const metadata = encodeCorrectionFilter(processedNext, heldTraces, revisions, this.metadataMaxBytes, commitTag, from);
      return metadata === undefined ? null : { offset, metadata };
    }
    const side = this.replayFilterTopic;
    const write = encodeSpillableFilter(processedNext, heldTraces, this.metadataMaxBytes, commitTag, from, side?.maxBytes);
    if (write.hashed !== undefined) this.countSpillFallback(write.hashed);
    if (write.tooLarge !== undefined) this.warnSpillTooLarge(st, write.tooLarge);
    if (write.spill === undefined) return { offset, metadata: write.metadata };
    const value = write.spill;
    return {
      offset,
      metadata: '',
      spill: {
        // spilled only under a side topic's maxBytes
        record: { topic: side!.topic, key: replayFilterKey(this.config.source.groupId, st.topic, st.partition), value },
        processedNext,
        hash: spillHash(value),
        // a producer that cannot say where a record went: the filter as it was written before spilling
        fallback: () => encodeReplayMetadata(processedNext, heldTraces, this.metadataMaxBytes, commitTag, from),
      },
    };
  }

  /**
   * Sets `wm.metadata` of a spilled filter: its record sent with `send` (in exactly-once, within the
   * transaction that commits the offset: visible iff the commit is), then the pointer to where it
   * went. The pointer needs the record's offset, known once the send is acknowledged — so the record
   * goes before the offsets. `send` undefined (a producer without sendRecord): the filter hashed
   * into the metadata, as without a side topic.
   */
  private async spillFilter(wm: CommitWatermark, send: ((record: OutgoingRecord) => Promise<RecordPosition>) | undefined, commitTag: string | undefined): Promise<void> {
    if (wm.spill === undefined) return;
    if (send === undefined) {
      this.counters.replayFilterFallbacksNoRecordSend++;
      wm.metadata = wm.spill.fallback();
      return;
    }
    let at: RecordPosition;
    try {
      at = await send(wm.spill.record);
    } catch (err) {
      this.dropReplayFilterTopic(err);
      throw err;
    }
    this.counters.replayFiltersSpilled++;
    wm.metadata = encodeSpillPointer({ processedNext: wm.spill.processedNext, partition: at.partition, offset: at.offset, hash: wm.spill.hash }, commitTag);
  }

  /**
   * A side record refused for a reason that will not pass by retrying (the topic deleted, no Write
   * on it, a record over its max.message.bytes): every commit carrying a spilled filter would fail
   * the same way — in exactly-once the whole transaction, events included — and nothing would be
   * published on those partitions again. Spilling stops for the rest of the run (the filters are
   * hashed as without the topic) and a warn line says why and the fix; the failed commit is retried
   * without it.
   */
  private dropReplayFilterTopic(err: unknown): void {
    const side = this.replayFilterTopic;
    if (side === undefined || !isLastingSideRefusal(err)) return;
    this.replayFilterTopic = undefined;
    this.counters.replayFilterFallbacksTopicRefused++;
    this.log.warn(
      { replayFilterTopic: side.topic, err: errorMessage(err) },
      `sinks.kafka.replayFilterTopic: writing a replay filter to topic "${side.topic}" was refused (${errorMessage(err)}): replay filters are hashed into the offset metadata from now on, as without the topic — ${SHORT_REPLAY_FILTER_ADVICE.replace(/; raise .*$/, '')}; recreate the topic (compacted) or grant Write on it, and restart the job`,
    );
  }

  /** A commit's filter hashed into the metadata although the side topic was there (`encodeSpillableFilter`'s `hashed`), counted by why. */
  private countSpillFallback(reason: SpillFallbackReason): void {
    if (reason === 'too-large') this.counters.replayFilterFallbacksTooLarge++;
    else if (reason === 'pointer-too-long') this.counters.replayFilterFallbacksPointerTooLong++;
    else this.counters.replayFilterFallbacksUnwritableIds++;
  }

  /**
   * Corrections whose filter did not fit the offset metadata whole: committed as without them (only
   * their own records held — lost on a crash before they are published); said at most once a minute.
   */
  private warnCorrectionsNotHeld(st: PartitionState, corrections: number): void {
    const now = this.wall();
    if (this.correctionsWarnedAtMs !== undefined && now - this.correctionsWarnedAtMs < 60_000) return;
    this.correctionsWarnedAtMs = now;
    this.log.warn(
      { topic: st.topic, partition: st.partition, corrections, held: this.held.size(st.key), metadataMaxBytes: this.metadataMaxBytes },
      `${corrections} correction(s) on ${st.topic}/${st.partition} are not held for a restart: the replay filter naming them does not fit the offset metadata whole, so a crash or rebalance before they are published loses them (a revision 0 without a verdict then gets no credit); raise offset.metadata.max.bytes on the brokers or use more input partitions (fewer open runs per partition)`,
    );
  }

  /** A held set whose filter is over what the side topic takes: hashed into the metadata as before; said at most once a minute. */
  private warnSpillTooLarge(st: PartitionState, bytes: number): void {
    const now = this.wall();
    if (this.spillTooLargeWarnedAtMs !== undefined && now - this.spillTooLargeWarnedAtMs < 60_000) return;
    this.spillTooLargeWarnedAtMs = now;
    this.log.warn(
      { topic: st.topic, partition: st.partition, filterBytes: bytes, maxBytes: this.replayFilterTopic?.maxBytes, held: this.held.size(st.key) },
      `the replay filter of ${st.topic}/${st.partition} takes ${bytes} bytes, more than topic "${this.replayFilterTopic?.topic}" takes (${this.replayFilterTopic?.maxBytes}): it is hashed into the offset metadata instead — ${SHORT_REPLAY_FILTER_ADVICE.replace(/; raise .*$/, '')}; fewer open runs per partition (more input partitions) keep it whole`,
    );
  }

  /**
   * Sizes the replay filter to the brokers' offset.metadata.max.bytes, read once at start: under
   * Kafka's default (4096) it names the open runs of a partition whole up to ~115 and as coded
   * hashes up to ~950, past which a restart republishes a share of them; brokers set higher hold
   * more, up to what kafkajs can send (32 KiB or more: ~900 and ~9,000; replayMetadataBudget). Sized for the default before, whatever the brokers took,
   * and shortened only after a refused commit. When the brokers do not say (no DescribeConfigs
   * on the cluster, another client), the default sizing and the shortening on refusal stay.
   */
  private async sizeReplayMetadata(): Promise<void> {
    let limit: number | undefined;
    try {
      limit = await withAdmin(this.deps.client, async (admin) => admin.offsetMetadataMaxBytes?.());
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'reading the brokers\' offset.metadata.max.bytes failed; the replay filter is sized for Kafka\'s default (4096)');
    }
    if (limit === undefined || limit === KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES) return;
    this.metadataMaxBytes = replayMetadataBudget(limit);
    if (limit < KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES) {
      this.log.warn(
        { offsetMetadataMaxBytes: limit, metadataMaxBytes: this.metadataMaxBytes },
        `the brokers' offset.metadata.max.bytes is ${limit}, below Kafka's default 4096: the replay filter is written in at most ${this.metadataMaxBytes} bytes — ${SHORT_REPLAY_FILTER_ADVICE}`,
      );
    } else {
      this.log.info({ offsetMetadataMaxBytes: limit, metadataMaxBytes: this.metadataMaxBytes }, `the brokers' offset.metadata.max.bytes is ${limit}: the replay filter may take ${this.metadataMaxBytes} bytes`);
    }
  }

  /**
   * The brokers refused a commit for its offset metadata (their offset.metadata.max.bytes is below
   * what the replay filter may take, ~3.8 KB): every later commit carried metadata as long and was
   * refused too — exactly-once published nothing more, at-least-once never committed again — for
   * as long as the job ran. From now on the filter is written at most half as long as the refused
   * one (held ids as hashes, then coded, at the end "replay everything"), until the brokers take it.
   */
  private shortenReplayMetadata(refusedBytes: number): void {
    const limit = Math.max(1, Math.floor(Math.min(this.metadataMaxBytes ?? Number.POSITIVE_INFINITY, refusedBytes) / 2));
    if (this.metadataMaxBytes !== undefined && limit >= this.metadataMaxBytes) return;
    this.metadataMaxBytes = limit;
    this.log.warn(
      { refusedBytes, metadataMaxBytes: limit },
      `the brokers refused an offset commit's metadata of ${refusedBytes} bytes (their offset.metadata.max.bytes is below it; Kafka's default 4096): the replay filter is written in at most ${limit} bytes from now on — ${SHORT_REPLAY_FILTER_ADVICE}`,
    );
  }

  private commitAll(): Promise<void> {
    if (this.config.delivery === 'exactly-once') {
      // Spans partitions first: a logs or evaluations partition's transaction is chained behind its
      // spans partition's (commitPartitionTx), so queued first it would hold that one's events back
      // by a transaction — and once the spans transaction has carried its offsets (ridersOf), it
      // often has nothing left to commit.
      const all = [...this.partitions.values()];
      const spans = this.config.source.spansTopic;
      const ordered = [...all.filter((st) => st.topic === spans), ...all.filter((st) => st.topic !== spans)];
      return Promise.all(ordered.map((st) => this.commitPartitionTx(st))).then(() => undefined);
    }
    this.aloCommitting = this.aloCommitting
      .then(async () => {
        const sent = await this.commitAtLeastOnce();
        // nothing to send (right after a join, before the replay) is no success; nor, for a streak
        // carried over the join, an offsets-only commit while records were failing (see FailureStreak.carried)
        const f = this.aloFailures;
        if (sent === undefined || (f.carried && f.recordsFailed && sent === 0)) return;
        this.endStreak(f, {});
        this.aloFailedPartitions.clear();
      })
      .catch((err: unknown) => {
        this.counters.commitFailures++;
        this.log[this.aloFailures.count < FAILURES_BEFORE_ERROR - 1 ? 'warn' : 'debug']({ err: String(err) }, 'at-least-once commit failed; will retry');
        this.noteCommitFailure(this.aloFailures, {}, err);
        // Inside the chain, so no send uses the old producer meanwhile.
        if (isProducerStateError(err)) return this.replaceAloProducer(String(err));
      });
    return this.aloCommitting;
  }

  /**
   * Exactly-once: one transaction per partition with its ready events, dead letters and offset
   * (and the offsets of the partitions its episodes held: `ridersOf`). The partition's transactions
   * are chained one after the other, in one chain with those of the logs and evaluations partitions
   * of its number (`pairLeaderOf`), whose offsets its transactions commit too: two transactions
   * writing one partition's offset at once could land in either order, the older filter last. A
   * link that throws (a bug, a throwing assembler port or logger) is logged and counted here, so
   * the chain itself never rejects: a rejected link would skip every later one (the partition
   * never committed again until the next rebalance) and surface as an unhandled rejection.
   */
  private commitPartitionTx(st: PartitionState): Promise<void> {
    const chain = this.pairLeaderOf(st) ?? st;
    chain.committing = chain.committing
      .then(() => this.partitionTx(st))
      .catch((err: unknown) => {
        this.counters.commitFailures++;
        try {
          this.log.error({ topic: st.topic, partition: st.partition, err: errorMessage(err) }, 'commit failed unexpectedly; the partition\'s next commit tries again');
        } catch {
          /* a throwing logger must not reject the chain either */
        }
      });
    return chain.committing;
  }

  /**
   * The spans partition whose transactions commit `st`'s offset too (`ridersOf`): partition p of the
   * spans topic for partition p of the logs or evaluations topic, when this assignment holds it
   * (exactly-once). Undefined for a spans partition, or one this instance does not read.
   */
  private pairLeaderOf(st: PartitionState): PartitionState | undefined {
    if (this.config.delivery !== 'exactly-once' || st.topic === this.config.source.spansTopic) return undefined;
    const leader = this.partitions.get(tpKey(this.config.source.spansTopic, st.partition));
    return leader !== undefined && leader.generation === st.generation ? leader : undefined;
  }

  /**
   * The logs and evaluations partitions of spans partition `st`'s number whose offsets and replay
   * filters go in the transaction that publishes `batch`: those an episode of it held (its verdict's
   * record, its content events). In a transaction of their own, a step behind, their last commit
   * before a crash or rebalance still held those runs' traces: the new owner read their verdicts
   * again as waiting for runs already published, which never came — each waited out
   * `pendingEvaluationTtlMs` and counted as expired (212 over three kill -9s of a 3,000-run backlog
   * on the broker). Partitions of the same number only: the co-partitioned assignment gives
   * partition p of every input topic to one member, which claims the spans partition's
   * transactional id before it reads the others' offsets (preparePartition), so no earlier owner's
   * transaction lands behind that read. Another number's (conversation-keyed runs) still commits in
   * its own transaction.
   */
  private ridersOf(st: PartitionState, batch: ReadonlySet<CreditWork>): PartitionState[] {
    if (st.topic !== this.config.source.spansTopic || batch.size === 0) return [];
    const out: PartitionState[] = [];
    for (const r of this.partitions.values()) {
      if (r === st || r.partition !== st.partition || r.generation !== st.generation || r.fenced || !r.prepared) continue;
      for (const w of batch) {
        if (!w.holds.has(r.key)) continue;
        out.push(r);
        break;
      }
    }
    return out;
  }

  private async partitionTx(st: PartitionState): Promise<void> {
    if (st.fenced || st.generation !== this.generation || !st.producer) return;
    const batch = new Set<CreditWork>();
    for (const w of this.work) if (w.owner === st.key && w.status === 'ready') batch.add(w);
    if (batch.size === 0 && st.looseRecords.length === 0 && !st.dirty) return;
    // Snapshot synchronously: records, offset and replay metadata must describe the same moment.
    // The watermark first: until the snapshot is taken nothing is changed, so a throw here leaves
    // the records, the work and the dirty flag as they were for the next commit.
    const tag = `${this.instanceTag}.${st.generation}.${++this.txSeq}`;
    const wm = this.watermarkFor(st, batch, tag);
    const riding: Rider[] = [];
    for (const r of this.ridersOf(st, batch)) {
      const rwm = this.watermarkFor(r, batch, tag);
      if (rwm) riding.push({ st: r, wm: rwm, loose: [] });
    }
    // the riders' dead letters too: their offsets pass those records
    const records = [...st.looseRecords, ...riding.flatMap((r) => r.st.looseRecords), ...[...batch].flatMap((w) => w.records)];
    const loose = st.looseRecords.splice(0);
    for (const r of riding) {
      r.loose = r.st.looseRecords.splice(0);
      r.st.dirty = false;
    }
    for (const w of batch) w.status = 'committing';
    st.dirty = false;
    /** The riders' dead letters and offsets back for their next commit: this transaction did not commit. */
    const restoreRiders = () => {
      for (const r of riding) {
        r.st.looseRecords.unshift(...r.loose);
        r.st.dirty = true;
      }
    };
    const offsets = [...(wm ? [{ st, wm }] : []), ...riding];
    const producer = st.producer;
    const episodes = () => [...batch].map((w) => w.episode.episodeId);
    /** Set once the transaction is known to have committed: nothing may be retried after that. */
    let landed = false;
    try {
      const tx = await producer.transaction();
      try {
        await tx.send(records);
        if (offsets.length > 0) {
          for (const o of offsets) await this.spillFilter(o.wm, tx.sendRecord && ((r) => tx.sendRecord!(r)), tag);
          await tx.sendOffsets(
            this.config.source.groupId,
            offsets.map((o) => ({ topic: o.st.topic, partition: o.st.partition, offset: o.wm.offset, metadata: o.wm.metadata })),
          );
        }
        await tx.commit();
      } catch (err) {
        // kafkajs refuses to abort once EndTxn(commit) was sent (COMMITTING → ABORTING is not a
        // legal transition), so a failed abort means the commit's outcome is unknown.
        const aborted = await withTimeout(tx.abort(), 10_000, 'transaction abort timed out after 10000 ms').then(
          () => true,
          () => false,
        );
        if (!aborted && !isFence(err) && wm) {
          // e.g. the connection dropped after EndTxn(commit) left: the broker may have committed.
          // Retrying blindly would publish the events twice; ask the broker instead.
          const outcome = await this.resolveCommitOutcome(st, tag, err, riding.map((r) => r.st));
          if (outcome === 'committed') {
            landed = true;
            this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(err), episodes: episodes() }, 'transaction reported a failure but had committed (its offset commit is on the broker): not published again');
            this.committed(st, batch, loose, records, wm, tag, riding);
            return;
          }
          if (outcome === 'stale') {
            // Stopping, or the partition left this instance meanwhile: its next owner reads the
            // truth (it claims the transactional id before reading the offset) and replays what
            // is missing. No later transaction here: its watermark would still count this
            // batch's holds and could move the committed offset back below it.
            this.leavePartition(st);
            // the riders' offsets were in it: theirs to leave alike (the pair moves together)
            for (const r of riding) this.leavePartition(r.st);
            this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(err), episodes: episodes() }, 'transaction outcome unknown and the partition is no longer ours to commit: left to its next owner');
            return;
          }
          if (outcome === 'taken') {
            // Another owner committed on this partition since our last commit: the group moved
            // it while this instance did not notice (e.g. cut off longer than the session
            // timeout). Publishing the batch again would duplicate it and move the offset back.
            this.leavePartition(st);
            for (const r of riding) this.leavePartition(r.st);
            this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(err), episodes: episodes() }, 'transaction outcome unknown and another owner has committed on the partition since: leaving it to that owner');
            this.checkFence(st);
            return;
          }
        } else if (!aborted && !isFence(err) && st.generation === this.generation) {
          // A failed abort leaves the producer mid-transaction: replace it (re-initialising the
          // transactional id makes the broker abort the open transaction).
          await this.replaceProducer(st, true).catch(() => undefined);
        }
        throw err;
      }
      landed = true;
      this.committed(st, batch, loose, records, wm, tag, riding);
    } catch (err) {
      // The book-keeping after a commit failed: retrying would publish the batch again.
      if (landed) throw err;
      const msg = errorMessage(err);
      if (isFence(err)) {
        // Another owner took over this transactional id: it replays and publishes instead — or
        // the fence is our own (checkFence). The riders commit in their own next transaction,
        // fenced there too if their new owner has claimed them.
        restoreRiders();
        this.leavePartition(st);
        this.log.warn({ topic: st.topic, partition: st.partition, err: msg }, 'producer fenced; leaving the partition to its new owner');
        this.checkFence(st);
        return;
      }
      this.counters.commitFailures++;
      const longest = Math.max(0, ...offsets.map((o) => Buffer.byteLength(o.wm.metadata)));
      if (longest > 0 && isOffsetMetadataTooLarge(err)) this.shortenReplayMetadata(longest);
      // each attempt at warn only before the streak is logged at error (noteCommitFailure, at most every 30 s)
      this.log[st.failures.count < FAILURES_BEFORE_ERROR - 1 ? 'warn' : 'debug']({ topic: st.topic, partition: st.partition, err: msg, episodes: episodes() }, 'transaction failed (aborted); will retry');
      this.noteCommitFailure(st.failures, { topic: st.topic, partition: st.partition }, err);
      if (records.length > 0) st.failures.recordsFailed = true;
      st.looseRecords.unshift(...loose);
      restoreRiders();
      for (const w of batch) if (this.work.has(w)) w.status = 'ready';
      st.dirty = true;
      // isProducerStateError: the broker no longer knows the producer id kafkajs holds, e.g.
      // INVALID_PRODUCER_ID_MAPPING once transactional.id.expiration.ms (7 days) passed on an idle
      // partition. kafkajs aborts such a transaction locally (nothing was added to it) and keeps
      // the producer id, so retrying with the same producer failed the same way for ever; a fresh
      // claim (InitProducerId) gives the id a producer id again. (Fences returned above.)
      if ((isWedged(err) || isProducerStateError(err)) && st.generation === this.generation) {
        // The producer refuses every new transaction (its state machine is stuck, e.g. in
        // COMMITTING after an EndTxn it could not send): retrying with it would stall the
        // partition for good. A fresh claim of the id makes the broker finish whatever it still
        // holds open for the old one first.
        this.log.warn({ topic: st.topic, partition: st.partition, err: msg }, 'transactional producer stuck or unknown to the broker; replacing it');
        await this.replaceProducer(st, true).catch((e: unknown) => this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(e) }, 'replacing the stuck producer failed; the next commit tries again'));
      }
    }
  }

  /**
   * A publish or commit succeeded: the failure streak ends. When it had been logged at error
   * ("publishing has failed n times in a row"), a line says publishing works again — without it the
   * log of an outage showed when publishing stopped but never that it recovered.
   */
  private endStreak(streak: FailureStreak, where: object): void {
    if (streak.count === 0) return;
    if (streak.loggedAtMs !== undefined) {
      const since = streak.sinceMs;
      const failingMs = since !== undefined ? this.wall() - since : undefined;
      const count = streak.count;
      const line = () =>
        this.log.info(
          { ...where, failuresInARow: count, ...(failingMs !== undefined ? { failingMs } : {}) },
          `publishing works again, after ${count} failures in a row${failingMs !== undefined ? ` over ${(failingMs / 1000).toFixed(1)} s` : ''}`,
        );
      // the streak's error line waits for the missing-topics check (up to 5 s with the broker away):
      // written before it, this line was followed by "publishing has failed …, nothing is published meanwhile"
      if (streak.logging !== undefined) void streak.logging.then(line);
      else line();
    }
    streak.count = 0;
    streak.loggedAtMs = undefined; // a new streak is logged at its own 3rd failure
    streak.sinceMs = undefined;
    streak.logging = undefined;
    streak.carried = undefined;
    streak.recordsFailed = undefined;
  }

  /**
   * Counts a failed publish (transaction or send + offset commit) in a row. Retrying is right for
   * a broker that is away for a while, but some failures repeat until a setting or the cluster is
   * changed — a record over an output topic's max.message.bytes, a missing output topic, missing
   * ACLs — and meanwhile nothing is published (at-least-once: nothing at all; exactly-once: on
   * that partition). From the FAILURES_BEFORE_ERROR-th failure in a row they are logged at error
   * level with the reason and, when the error says, the fix (at most every ERROR_LOG_EVERY_MS);
   * `consecutiveCommitFailures` in the stats is the longest current streak.
   */
  private noteCommitFailure(streak: FailureStreak, where: object, err: unknown): void {
    if (streak.count === 0) streak.sinceMs = this.wall();
    streak.count++;
    streak.lastError = errorMessage(err);
    if (streak.count < FAILURES_BEFORE_ERROR) return;
    const now = this.wall();
    if (streak.loggedAtMs !== undefined && now - streak.loggedAtMs < ERROR_LOG_EVERY_MS) return;
    streak.loggedAtMs = now;
    const count = streak.count;
    const logging = this.missingOutputTopics().then((missing) => {
      const hint = publishFailureHint(err, this.config.sink, missing);
      this.log.error(
        { ...where, err: errorMessage(err), failuresInARow: count, ...(hint ? { fix: hint } : {}), ...(missing?.length ? { missingTopics: missing } : {}) },
        `publishing has failed ${count} times in a row, nothing is published meanwhile: ${hint ?? 'retrying (the output topics exist: a broker away? see err)'}`,
      );
    });
    const written = logging.catch(() => undefined);
    streak.logging = written;
    void written.then(() => {
      if (streak.logging === written) streak.logging = undefined;
    });
  }

  /**
   * The output topics that do not exist now (metadata), for the advice on a failing publish: a
   * topic deleted while running fails every transaction, most partitions with an error that does
   * not name it (OPERATION_NOT_ATTEMPTED). Undefined when the cluster cannot be asked.
   */
  private async missingOutputTopics(): Promise<string[] | undefined> {
    try {
      return await withTimeout(
        withAdmin(this.deps.client, (admin) => admin.missingTopics([...new Set(Object.values(this.config.sink.topics))])),
        5_000,
        'listing topics timed out',
      );
    } catch {
      return undefined;
    }
  }

  /**
   * This instance may no longer commit on the partition (fenced, or a lost commit left to its
   * next owner): no more transactions there, and no more fetching until the next assignment.
   */
  private leavePartition(st: PartitionState): void {
    st.fenced = true;
    if (st.generation === this.generation && !this.stopping) this.source.holdBack({ topic: st.topic, partition: st.partition });
  }

  /** Book-keeping once a partition's transaction is known to have committed. */
  private committed(st: PartitionState, batch: ReadonlySet<CreditWork>, loose: readonly OutgoingRecord[], records: readonly OutgoingRecord[], wm: { offset: string; metadata: string } | undefined, tag: string, riding: readonly Rider[] = []): void {
    if (wm) {
      st.lastCommittedTag = tag;
      st.committedOffset = wm.offset;
    }
    // the riders' offsets carry this transaction's tag: their own next lost answer is judged against it
    for (const r of riding) {
      r.st.lastCommittedTag = tag;
      r.st.committedOffset = r.wm.offset;
    }
    const ridden = new Set(riding.map((r) => r.st));
    const allLoose = riding.length === 0 ? loose : [...loose, ...riding.flatMap((r) => r.loose)];
    // a rider's failing streak ends here too: its offsets (and dead letters) went out in this transaction,
    // and it may commit none of its own for a long while — its streak kept /readyz failing
    for (const p of [st, ...ridden]) if (!p.failures.carried || !p.failures.recordsFailed || records.length > 0) this.endStreak(p.failures, { topic: p.topic, partition: p.partition });
    this.lastProgressMs = this.wall();
    for (const w of batch) {
      this.work.delete(w);
      // Other partitions this episode held (e.g. the logs partition of its evaluation) may move on now.
      // (not the riders: their offsets went in this transaction, past its episodes)
      for (const k of w.holds.keys()) {
        const other = this.partitions.get(k);
        if (other && other !== st && !ridden.has(other)) other.dirty = true;
      }
    }
    if (batch.size > 0 || allLoose.length > 0) this.maybeResume();
    if (batch.size > 0) this.scheduleCommit();
    this.log.debug(
      {
        topic: st.topic,
        partition: st.partition,
        offset: wm?.offset,
        metadata: wm?.metadata,
        ...(riding.length > 0 ? { riders: riding.map((r) => ({ topic: r.st.topic, partition: r.st.partition, offset: r.wm.offset, metadata: r.wm.metadata })) } : {}),
        episodes: [...batch].map((w) => w.episode.episodeId),
        records: records.length,
      },
      'transaction committed',
    );
    this.counters.transactions++;
    this.counters.recordsPublished += records.length;
    this.counters.dlqOut += allLoose.length;
    this.deadLettersPublished(allLoose);
  }

  /**
   * A transaction whose end could not be confirmed (EndTxn(commit) sent and no answer, or the
   * abort failed): reads the group's committed offset, claims the partition's transactional id
   * again unless another owner has committed since — the broker first finishes the open
   * transaction, either way — and reads the offset back. Its metadata carries the tag of the last
   * transaction that committed it:
   * - this transaction's tag: it committed;
   * - the tag of our previous commit on the partition (or of the commit read at assignment): it
   *   did not — read again a few times first, since a broker may apply a committed transaction's
   *   offsets a moment after finishing it (the classic group coordinator of Kafka 3.x does, which
   *   OffsetFetch `require_stable` exists for and kafkajs cannot ask);
   * - any other tag: another owner has committed since (`taken`).
   * Retries (backing off) while the broker is unreachable; gives up only when the partition is no
   * longer this instance's to commit (`stale`).
   *
   * `riders`: the partitions whose offsets went in the transaction too (`ridersOf`). Another tag on
   * any of them is another owner's commit as well (`taken`): the group moved the partition number,
   * and its new owner may have committed the logs partition (in a transaction of its own) but not
   * yet the spans partition. Judged by the spans partition alone, that read as ours to resolve: the
   * claim fenced the new owner's producer of the spans partition, and an `aborted` batch went out
   * from here, as it does from the new owner.
   *
   * Why not just retry the batch: kafkajs cannot resend EndTxn for the same transaction, so a
   * retry after a commit that did land publishes every event of the batch a second time
   * (test/integration/commit-answer-lost.test.ts shows both outcomes on the real broker).
   */
  private async resolveCommitOutcome(st: PartitionState, tag: string, cause: unknown, riders: readonly PartitionState[] = []): Promise<'committed' | 'aborted' | 'taken' | 'stale'> {
    this.counters.commitOutcomesUnknown++;
    this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(cause), tag }, 'transaction outcome unknown: reading the committed offset (and re-claiming the transactional id) to find out');
    const gone = () => this.stopping || st.generation !== this.generation;
    let delayMs = 250;
    for (;;) {
      if (gone()) return 'stale';
      try {
        return await this.withCommittedReads(st, async (read) => {
          // Look before claiming: when another owner has committed since, claiming the id would
          // fence that owner's producer (and cost it a rejoin).
          const seen = commitTagOf((await read())?.metadata);
          if (seen !== tag && seen !== st.lastCommittedTag) {
            this.log.info({ topic: st.topic, partition: st.partition, tag, found: seen, previous: st.lastCommittedTag }, 'unknown transaction outcome resolved: taken');
            return 'taken';
          }
          /**
           * A rider whose offset carries neither this transaction's tag, nor its last one, nor any of
           * this instance's (a commit of ours a broker applies a moment late): another owner committed it.
           */
          const riderTaken = async () => {
            for (const r of riders) {
              const found = commitTagOf((await read(r))?.metadata);
              if (found === tag || found === r.lastCommittedTag || found?.startsWith(`${this.instanceTag}.`)) continue;
              this.log.info({ topic: st.topic, partition: st.partition, tag, rider: { topic: r.topic, partition: r.partition, found, previous: r.lastCommittedTag } }, 'unknown transaction outcome resolved: taken (a partition whose offset it carried has another owner\'s commit)');
              return true;
            }
            return false;
          };
          if (await riderTaken()) return 'taken';
          // Our producer is mid-transaction either way: the claim replaces it, and the broker
          // finishes that transaction first.
          if (gone()) return 'stale';
          await this.replaceProducer(st, true);
          let found: string | undefined;
          let offset: string | undefined;
          let reads = 0;
          for (const settleMs of STABLE_OFFSET_REREADS_MS) {
            if (settleMs > 0) await sleep(settleMs);
            if (gone()) return 'stale';
            const mine = await read();
            reads++;
            found = commitTagOf(mine?.metadata);
            offset = mine?.offset;
            if (found !== st.lastCommittedTag) break; // moved: ours, or someone else's
          }
          let outcome: 'committed' | 'aborted' | 'taken' = found === tag ? 'committed' : found === st.lastCommittedTag ? 'aborted' : 'taken';
          // not ours to publish again if a rider's new owner committed it meanwhile (its own transaction: our claim does not fence that)
          if (outcome === 'aborted' && (await riderTaken())) outcome = 'taken';
          this.log.info({ topic: st.topic, partition: st.partition, tag, found, previous: st.lastCommittedTag, offset, reads }, `unknown transaction outcome resolved: ${outcome}`);
          return outcome;
        });
      } catch (err) {
        this.log.warn({ topic: st.topic, partition: st.partition, err: errorMessage(err), retryInMs: delayMs }, 'could not resolve the transaction outcome yet (broker unreachable?); retrying');
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }

  /**
   * After a fence, waits as long as the group needs to take a partition away from a live member
   * (session timeout + one heartbeat). If no rebalance came (same generation), nobody else owns
   * the partition: the fence was this instance's own, e.g. the producer it re-created after a
   * failed abort during a broker outage bumped the epoch under a transaction still in flight.
   * The partition would otherwise stay idle until the next rebalance, so the instance rejoins
   * the group: every partition is rebuilt from its committed offset (exactly-once is kept: the
   * new assignment claims each transactional id before reading the offset). It costs two group
   * rebalances (leave, join) and a replay; when another owner did exist after all (its assignment
   * raced this check), that is all it costs.
   */
  private checkFence(st: PartitionState): void {
    // A fence seen by a partition of a past generation (a commit in flight across a rebalance)
    // says nothing about the current assignment.
    if (this.stopping || st.generation !== this.generation) return;
    if (this.fenceCheck?.generation === this.generation) return; // armed for this generation
    clearTimeout(this.fenceCheck?.timer);
    const generation = this.generation;
    const waitMs = this.config.source.sessionTimeoutMs + this.config.source.heartbeatIntervalMs;
    const timer = setTimeout(() => {
      this.fenceCheck = undefined;
      if (this.stopping || this.generation !== generation) return; // the group moved: a real new owner
      const fenced = [...this.partitions.values()].filter((p) => p.fenced).map((p) => `${p.topic}[${p.partition}]`);
      if (fenced.length === 0) return;
      this.counters.fenceRejoins++;
      this.log.warn(
        { fenced, waitedMs: waitMs },
        'transactional producer fenced but the group kept the partition here: the fence was our own; rejoining the group to rebuild from committed offsets',
      );
      this.rejoining = this.source
        .rejoin()
        .catch((err: unknown) => {
          // Try again after another wait: a fenced partition's unfinished work holds back the
          // offsets of the partitions it read from (e.g. the logs partition) until a rejoin.
          this.log.error({ err: String(err) }, 'rejoining the group after a self-fence failed; checking again after another session timeout');
          const still = [...this.partitions.values()].find((p) => p.fenced);
          if (still) this.checkFence(still);
        })
        .finally(() => {
          this.rejoining = undefined;
        });
    }, waitMs);
    timer.unref?.();
    this.fenceCheck = { generation, timer };
  }

  /**
   * At-least-once: a new idempotent producer in place of one whose sequence state the broker no
   * longer accepts (src/kafka/producer-errors.ts). Its unacknowledged records are sent again by
   * the next commit: repeats are possible, as at-least-once allows (same event ids). If the new
   * producer cannot connect, the old one stays and the next failure tries again.
   */
  private async replaceAloProducer(reason: string): Promise<void> {
    const old = this.producer;
    if (!old || this.stopping) return;
    const fresh = this.deps.client.createProducer({ idempotent: true, compression: this.config.sink.compression });
    try {
      await fresh.connect();
    } catch (err) {
      this.log.warn({ err: String(err) }, 'replacing the at-least-once producer failed; will retry');
      return;
    }
    if (this.closed) {
      // stop() disconnected the producers while this one connected: it must not outlive the pipeline
      await fresh.disconnect().catch(() => undefined);
      return;
    }
    this.producer = fresh;
    this.counters.producerReplacements++;
    this.log.warn({ reason }, 'at-least-once producer replaced: its sequence state no longer matched the broker\'s');
    await old.disconnect().catch(() => undefined);
  }

  /**
   * At-least-once: publish every ready record (acks=all), then commit the watermarks — taken with
   * the records, before the send: what is read while it is under way (a dead letter, which
   * nothing else holds) is not in it, and an offset taken after it passed that record: a restart
   * or rebalance before the next send lost the dead letter for good. Resolves with the number of
   * records published, undefined when there was nothing to do.
   */
  private async commitAtLeastOnce(): Promise<number | undefined> {
    const producer = this.producer;
    if (!producer) return undefined;
    const generation = this.generation;
    // one pass over the work and one over the partitions (this runs after every credit computation)
    const batch = new Set<CreditWork>();
    const batchHolds = new Set<string>();
    for (const w of this.work) {
      if (w.status !== 'ready') continue;
      batch.add(w);
      for (const k of w.holds.keys()) batchHolds.add(k);
    }
    const dirty: PartitionState[] = [];
    for (const st of this.partitions.values()) if (st.dirty || batchHolds.has(st.key)) dirty.push(st);
    // The offsets first: until they are taken nothing is changed, so a throw here leaves the
    // records, the work and the dirty flags as they were for the next commit.
    const offsets: OffsetCommit[] = [];
    /** offsets whose filter is spilled: its record is sent (and the metadata set) before the commit */
    const spilled: [number, CommitWatermark][] = [];
    for (const st of dirty) {
      const wm = this.watermarkFor(st, batch);
      if (wm?.spill) spilled.push([offsets.length, wm]);
      if (wm) offsets.push({ topic: st.topic, partition: st.partition, offset: wm.offset, metadata: wm.metadata });
    }
    const loose: OutgoingRecord[] = [];
    for (const st of this.partitions.values()) {
      for (const r of st.looseRecords) loose.push(r);
      st.looseRecords.length = 0;
    }
    const records = loose.slice();
    for (const w of batch) for (const r of w.records) records.push(r);
    if (records.length === 0 && dirty.length === 0) return undefined;
    for (const w of batch) w.status = 'committing';
    for (const st of dirty) st.dirty = false;
    try {
      // the filters' records first (acks = all): a failure here has published nothing yet
      for (const [i, wm] of spilled) {
        await this.spillFilter(wm, producer.sendRecord && ((r) => producer.sendRecord!(r)), undefined);
        offsets[i] = { ...offsets[i]!, metadata: wm.metadata };
      }
      await producer.send(records);
    } catch (err) {
      for (const w of batch) if (this.work.has(w)) w.status = 'ready';
      if (generation === this.generation) for (const st of dirty) st.dirty = true;
      const byKey = new Map([...this.partitions.values()].map((s) => [s.key, s]));
      for (const r of loose) {
        const k = tpKey(String(r.headers?.['x-agent-credit-source-topic'] ?? ''), Number(r.headers?.['x-agent-credit-source-partition'] ?? -1));
        byKey.get(k)?.looseRecords.push(r);
        this.aloFailedPartitions.add(k);
      }
      for (const w of batch) this.aloFailedPartitions.add(w.owner);
      if (records.length > 0) this.aloFailures.recordsFailed = true;
      throw err;
    }
    this.counters.recordsPublished += records.length;
    this.counters.dlqOut += loose.length;
    this.deadLettersPublished(loose);
    if (records.length > 0) this.lastProgressMs = this.wall();
    for (const w of batch) this.work.delete(w);
    this.maybeResume();
    if (generation !== this.generation) return records.length;
    try {
      if (offsets.length > 0) {
        await this.source.commit(offsets);
        this.counters.commits++;
        for (const st of dirty) {
          const o = offsets.find((x) => x.topic === st.topic && x.partition === st.partition);
          if (o) st.committedOffset = o.offset;
        }
      }
    } catch (err) {
      // Dirty again, or these offsets would wait for new input on the partition (not even the
      // final commit at stop would make them): a restart then republished everything since.
      if (generation === this.generation) for (const st of dirty) st.dirty = true;
      if (offsets.length > 0 && isOffsetMetadataTooLarge(err)) this.shortenReplayMetadata(Math.max(...offsets.map((o) => Buffer.byteLength(o.metadata ?? ''))));
      throw err;
    }
    return records.length;
  }
}

/** Kafka errors of a side-record produce that retrying does not clear (`dropReplayFilterTopic`). */
const LASTING_SIDE_REFUSALS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'TOPIC_AUTHORIZATION_FAILED', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TOPIC_EXCEPTION']);

/** Whether `err` (or an error it wraps) is one of LASTING_SIDE_REFUSALS. */
function isLastingSideRefusal(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.type === 'string' && LASTING_SIDE_REFUSALS.has(e.type)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** A partition whose offset goes in another partition's transaction (`ridersOf`), with what it commits there. */
interface Rider {
  readonly st: PartitionState;
  readonly wm: CommitWatermark;
  /** Its dead letters published in that transaction. */
  loose: OutgoingRecord[];
}

/**
 * A commit's offset and replay filter (`watermarkFor`). With `spill`, the filter goes to the side
 * topic and `metadata` is '' until `spillFilter` sets the pointer, before the offsets are sent.
 */
interface CommitWatermark {
  readonly offset: string;
  metadata: string;
  readonly spill?: {
    readonly record: OutgoingRecord;
    readonly processedNext: string;
    /** `spillHash` of the record's value. */
    readonly hash: string;
    /** The metadata without a side record (a producer that cannot say where it went). */
    readonly fallback: () => string;
  };
}

/**
 * Ms a spilled replay filter's record is waited for at assignment: a transaction still open on its
 * side partition (another partition's commit under way, or one a killed instance left until it is
 * fenced) holds read_committed reads below it. Past it the partition is replayed without a filter.
 */
const SPILLED_FILTER_READ_TIMEOUT_MS = 30_000;
/** Ms between a batch's heartbeat calls while its partition is prepared (kafkajs sends one only when the heartbeat interval is due). */
const PREPARE_HEARTBEAT_CHECK_MS = 100;
/**
 * Bytes a spilled filter's read asks for. Kafka hands out the record batch at the fetch offset
 * whole whatever the limit (KIP-74; the record is its batch's only one), so this bounds only what
 * comes after it: the later filters of other partitions on the same side partition. Sized by the
 * side topic's largest record (16 MiB) it fetched up to that much per partition being assigned, at
 * once.
 */
const SPILLED_FILTER_READ_FETCH_BYTES = 64 * 1024;

/**
 * Reads of the committed offset before a transaction whose outcome was lost is taken as aborted
 * (ms to wait before each): a broker may apply a committed transaction's offsets just after it
 * finished the transaction (resolveCommitOutcome).
 */
const STABLE_OFFSET_REREADS_MS = [0, 100, 300, 900] as const;

/** At assignment (exactly-once): re-reads of the committed offset, this long apart, until two agree. */
const ASSIGNMENT_SETTLE_MS = 200;
const ASSIGNMENT_SETTLE_READS = 3;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** A promise with its settle functions; settling it again does nothing. Never an unhandled rejection. */
interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Runs `f` up to `attempts` times, waiting `delayMs` × attempt between failures. */
async function retry<T>(f: () => Promise<T>, attempts: number, delayMs: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(delayMs * i);
    }
  }
}

/**
 * The id an evaluation is held under for the watermark's replay metadata: its trace id, else
 * the conversation episode id it joins (`conv:<id>`, see episodeIdsOfEvaluation), else — waiting
 * for the LLM span of its response id — `resp:<id>` (pruned once the commit offset passes it).
 */
function heldKeyOf(e: Evaluation): string | undefined {
  if (e.traceId !== undefined) return e.traceId;
  if (e.conversationId !== undefined) return `conv:${e.conversationId}`;
  return e.responseId !== undefined ? `resp:${e.responseId}` : undefined;
}

/** Events (credit on this thread) rather than their packed form from a credit worker. */
function isEventList(r: readonly CreditEvent[] | CreditedEvents): r is readonly CreditEvent[] {
  return Array.isArray(r);
}

/**
 * The ids a closed episode's records are held under until its events are committed: its trace
 * ids, its episode id (`conv:<id>` for conversation-keyed episodes), and `resp:<id>` for each
 * evaluation that named a response id — on replay such a verdict may be read before its LLM
 * span, when `resp:<id>` is the only key it has.
 */
function episodeHeldKeys(episode: Episode): string[] {
  const keys = [...episode.traceIds, episode.episodeId];
  for (const e of episode.evaluations) if (e.responseId !== undefined) keys.push(`resp:${e.responseId}`);
  return keys;
}

/**
 * Every id an evaluation is held under: `heldKeyOf` its resolved form and, when it arrived
 * naming a response id but no span, also `resp:<id>` — the key it has while its LLM span is
 * unseen (released with its episode, see enqueue).
 */
function heldKeysOf(given: Evaluation, resolved: Evaluation): string[] {
  const keys: string[] = [];
  const k = heldKeyOf(resolved);
  if (k !== undefined) keys.push(k);
  if (given.responseId !== undefined && given.spanId === undefined && k !== `resp:${given.responseId}`) keys.push(`resp:${given.responseId}`);
  return keys;
}

/**
 * Kafka errors that say a transactional producer was fenced by a newer epoch of its
 * transactional id (another owner, or our own re-init): INVALID_PRODUCER_EPOCH (47, what brokers
 * answer kafkajs's request versions) and PRODUCER_FENCED (90, newer request versions; kafkajs
 * 2.2.4 does not know the code and reports it as `Unknown error code 90`). Not fences, though
 * their names or texts mention an epoch, "fenced" or "current": FENCED_LEADER_EPOCH and
 * UNKNOWN_LEADER_EPOCH (partition leadership, fetch/metadata), STALE_BROKER_EPOCH,
 * TRANSACTION_COORDINATOR_FENCED (between brokers), INVALID_PRODUCER_ID_MAPPING, and
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED (an ACL to fix, not another owner): those are retried.
 */
const FENCE_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const FENCE_CODES = new Set([47, 90]);
/** For errors without a Kafka type or code (another client, a wrapper): the Java client's names and kafkajs's texts. */
const FENCE_TEXT = /ProducerFenced|InvalidProducerEpoch|operation with an old epoch|newer producer with the same transactionalId|^Unknown error code 90$/i;

/** A producer fenced by a newer epoch of its transactional id: by Kafka error type/code, through `cause` chains. */
export function isFence(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if (typeof e !== 'object') return FENCE_TEXT.test(String(e));
    const typed = typeof e.type === 'string' && e.type !== 'KAFKAJS_UNKNOWN_ERROR_CODE';
    if (typed) {
      if (FENCE_TYPES.has(e.type as string)) return true;
    } else if (typeof e.code === 'number' && e.code !== -99) {
      if (FENCE_CODES.has(e.code)) return true;
    } else if ((typeof e.name === 'string' && FENCE_TEXT.test(e.name)) || (typeof e.message === 'string' && FENCE_TEXT.test(e.message))) {
      return true;
    }
  }
  return false;
}

/** kafkajs refusing a call because the producer's transaction state machine is in the wrong state. */
function isWedged(err: unknown): boolean {
  return /Transaction state exception/i.test(errorMessage(err));
}

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

/** Bytes as MiB for messages (one decimal). */
function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
