/**
 * EpisodeAssembler options: one zod schema, defaults in one place (like the collector's
 * `factory.go`). The config module embeds this schema under `episodes`.
 */
import { z } from 'zod';
import { didYouMean } from '../config/errors.js';
import { EpisodeKeyModeSchema } from '../model/episode.js';

const MiB = 1024 * 1024;
const ms = () => z.number().int().min(0);
const count = () => z.number().int().min(1);

export const LateSpanPolicySchema = z.enum(['count', 'correct']);
export type LateSpanPolicy = z.infer<typeof LateSpanPolicySchema>;

export const EpisodeAssemblerOptionsSchema = z
  .object({
    /**
     * `trace`: one episode per trace id. `conversation`: one episode per conversation id
     * (`conv:<id>`, id from the injected `conversationIdOf(span)`); spans of a trace that has no
     * conversation id stay keyed by their trace id. The collector's kafka exporter partitions
     * spans by trace id, so conversation keying over Kafka needs a topic re-keyed by conversation
     * id or a single partition, else one conversation's traces are read by different consumers.
     */
    keyBy: EpisodeKeyModeSchema.default('trace'),
    /** Ms without a new span after the root span ended before the episode closes (`root-ended`). */
    graceMs: ms().default(2000),
    /**
     * Close at once (`evaluation-arrived`) when the root has ended and a system-level evaluation is
     * joined — unless the episode holds no agent work yet (its verdict came before the agents'
     * spans: `awaitEvaluationMs`).
     */
    closeOnEvaluation: z.boolean().default(true),
    /**
     * Ms after its last span that an episode whose root ended but that has no system-level
     * evaluation yet stays open for one (instead of closing `graceMs` after it), while evaluations
     * are arriving at all (one accepted by `evaluation.name` in the last `evaluationsArrivingMs`;
     * the assembler's start counts as one, so runs replayed after a crash wait for their verdicts).
     * An LLM judge answers seconds after the run: closing at `graceMs` gave a revision without
     * credit and then a correction, and a crash between the two lost the credit (the spans'
     * offsets were committed with the first revision). The evaluation closes it at once
     * (`closeOnEvaluation`); when none comes it closes `root-ended` at this age. Not for
     * corrections, nor for episodes whose spans carry their score (root score attribute,
     * evaluation span events, OpenInference evaluator spans). ≤ `graceMs` turns it off (`run` and
     * `check` warn unless it is 0: src/config/advice.ts); `idleMs`
     * and `maxDurationMs` still close a waiting episode first when they are shorter (reason `idle`
     * / `max-duration`). Fleets that judge only a sample of runs keep every unjudged run open this
     * long: size `maxOpenEpisodes` / `maxBufferedBytes` for ~awaitEvaluationMs of traffic, or
     * episodes are `evicted` (not kept for corrections).
     * The other way round too: an episode that has its verdict but holds no agent work yet (a
     * front end's SERVER root exported before the agents' service's spans, or a collector that
     * batches logs faster than traces) stays open for its agent spans up to this long after its
     * last span, then closes on its verdict (`evaluation-arrived`, or `root-ended` with
     * `closeOnEvaluation` off) — with no agents if none came. ≤ `graceMs`: closed on it at once.
     */
    awaitEvaluationMs: ms().default(10_000),
    /**
     * How long after the last evaluation arrived (or the start) runs still wait for theirs
     * (`awaitEvaluationMs`): a fleet that sends none stops paying the wait after this. 15 min, so a
     * fleet whose judged runs are minutes apart still waits (with 60 s, a run after a quiet spell
     * closed without credit and came back as a correction).
     */
    evaluationsArrivingMs: ms().default(900_000),
    /** Ms without a new span before an episode closes whatever its root (`idle`). */
    idleMs: ms().default(30_000),
    /** Ms after the first span arrived (assembler clock) at which the episode closes (`max-duration`). */
    maxDurationMs: ms().default(300_000),
    /** The span that makes an episode reach this count closes it (`max-spans`). */
    maxSpansPerEpisode: count().default(10_000),
    /** Estimated bytes (see span-bytes.ts) at which an episode closes (`max-bytes`). */
    maxBytesPerEpisode: count().default(32 * MiB),
    /** Open episodes; one more closes the oldest with reason `evicted`. */
    maxOpenEpisodes: count().default(10_000),
    /** Estimated bytes of all open episodes; above it the oldest are closed with reason `evicted`. */
    maxBufferedBytes: count().default(256 * MiB),
    /** Evaluations held while their episode has no span yet (oldest dropped first, counted). */
    maxPendingEvaluations: count().default(10_000),
    /** Ms an evaluation (or GenAI content event) waits for its first span before it is dropped (counted as expired). */
    pendingEvaluationTtlMs: ms().default(60_000),
    /**
     * GenAI content events (message contents logged instead of set on the LLM span,
     * src/conventions/content-events.ts) held while no episode holds their trace yet — their
     * logs came first (prompt events are logged when an LLM call starts, its span arrives when it
     * ends), or their spans never come (sampled out at the collector): oldest trace dropped
     * first, counted. They never open an episode; they wait up to `maxDurationMs` from their
     * trace's latest event.
     */
    maxPendingContentEvents: count().default(50_000),
    /** Estimated bytes of waiting content events (span-bytes.ts); the oldest trace's go first beyond it. They wait up to `maxDurationMs` from their trace's latest event. */
    maxPendingContentBytes: count().default(64 * MiB),
    /**
     * What a span or evaluation for an already-closed episode does. `count`: counted only.
     * `correct`: the episode is reopened as a correction (same id, revision + 1, `correction: true`)
     * holding the spans and evaluations of the last revision plus the late ones, and closes again
     * by the usual rules. Needs the last revision retained (`retainClosedBytes`); if it was
     * already evicted from that memory the late record is only counted (`lateUncorrectable`).
     */
    lateSpanPolicy: LateSpanPolicySchema.default('correct'),
    /**
     * Ms after an episode's first credited close (the first that carried a system verdict credit
     * scores — a finite score, or a label the label table scores —, so emitted events) during which a late span or evaluation may still reopen it (`lateSpanPolicy:
     * correct`); later ones are only counted (`lateUncorrected`). Bounds how late a revision can
     * come, so an online trainer knows when an episode's events are final: a correction opened
     * inside the window closes by the usual rules, so the last revision is published at most
     * `correctionWindowMs + maxDurationMs` (plus credit time) after the first. Not applied to an
     * episode that closed without its verdict (that emitted nothing: the late verdict is its first
     * credit) nor, in conversation mode, to a new trace (the conversation's next turn). The
     * memory is per process: after a restart or rebalance it starts empty. 0: no bound.
     */
    correctionWindowMs: ms().default(3_600_000),
    /**
     * `gen_ai.response.id`s of LLM spans remembered (oldest forgotten first) with their trace and span id, to join
     * evaluation events that name only the response id (no span context). Also after the
     * episode closed, so a late verdict still finds its episode. 0 turns the join off (saves an
     * array append per LLM span, and a Map insert once such evaluations come; they are then
     * counted as unjoinable).
     */
    responseIdMemory: z.number().int().min(0).default(100_000),
    /** Ids of recently closed episodes remembered (LRU) to recognise late spans and evaluations. */
    closedEpisodeMemory: count().default(100_000),
    /** Estimated bytes of closed episodes kept for corrections (`lateSpanPolicy: correct` only). */
    retainClosedBytes: z.number().int().min(0).default(32 * MiB),
  })
  .strict()
  .refine((o) => o.maxBytesPerEpisode <= o.maxBufferedBytes, {
    // named with its section: the message reads "episodes.maxBytesPerEpisode: <this>, got <value>"
    message: 'must not exceed episodes.maxBufferedBytes (the bytes of all open episodes) — lower it, or raise episodes.maxBufferedBytes',
    path: ['maxBytesPerEpisode'],
  });

export type EpisodeAssemblerOptions = z.infer<typeof EpisodeAssemblerOptionsSchema>;
export type EpisodeAssemblerOptionsInput = z.input<typeof EpisodeAssemblerOptionsSchema>;

/** Thrown for invalid options; the message names every bad key as `episodes.<key>`. */
export class EpisodeOptionsError extends Error {
  override readonly name = 'EpisodeOptionsError';
}

/** Applies defaults and validates; throws `EpisodeOptionsError` naming the offending keys. */
export function resolveEpisodeAssemblerOptions(input: unknown = {}): EpisodeAssemblerOptions {
  const parsed = EpisodeAssemblerOptionsSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  // a misspelt key said only 'Unrecognized key: "grace"', where the processor's own options and
  // the config file name the key meant and the accepted ones
  const accepted = Object.keys(EpisodeAssemblerOptionsSchema.shape);
  let unknown = false;
  const lines = parsed.error.issues.flatMap((i) => {
    if (i.code !== 'unrecognized_keys') return [`episodes.${i.path.join('.')}: ${i.message}`];
    unknown = true;
    return i.keys.map((k) => `episodes.${k}: unknown option${didYouMean(k, accepted)}`);
  });
  throw new EpisodeOptionsError(`invalid episode assembler options (fix these keys): ${lines.join('; ')}${unknown ? ` — accepted: ${accepted.join(', ')}` : ''}`);
}
