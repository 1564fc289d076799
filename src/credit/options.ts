/**
 * Options of `creditEpisode`: one zod schema, defaults in one place. Every option is a named design
 * choice (docs/credit.md has the table). Parse with `CreditOptionsSchema.parse(partial)`.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../config/defaults.js';
import { DEFAULT_SUCCESS_THRESHOLD } from '../conventions/evaluations.js';
import { DEFAULT_LABEL_SCORES } from '../conventions/labels.js';
import type { AgentStep } from '../model/agents.js';
import type { Game } from './types.js';
import type { CreditInput } from './input.js';
import { SAMPLERS, TREE_MSR_FITS } from './shapley/samplers.js';

/** What a pluggable game source returns for an episode (http judge, user module, ...). */
export interface EpisodeGames {
  agentGame: Game;
  /** Players = the episode's messages (step ids); gives δ_m. Without it δ_m = 0 for every message. */
  messageGame?: Game;
  /** Game kind reported in events. Default: the `game` option. */
  kind?: 'provenance' | 'http' | 'module';
  /** The removal protocol the game applies, reported in events. Default: the `removalProtocol` option. */
  removalProtocol?: 'mask' | 'null' | 'replay';
  /**
   * Told once the episode's credit is done, when its games answered values off R's scale (the
   * episode's "outside the score's scale" warning; `anchor` on): how many. The runtime counts them
   * for /metrics (`value_function_out_of_scale_total`).
   */
  onValuesOutOfScale?: (count: number) => void;
}

/**
 * `context.signal` aborts when the episode's credit gives up (`timeoutMs`): a game that calls out
 * (the http judge) cuts its requests with it, so an abandoned episode does not hold the service.
 */
export type GameFactory = (input: CreditInput, context: { messages: readonly AgentStep[]; agentIds: readonly string[]; systemValue: number; baseline: number; signal?: AbortSignal }) => EpisodeGames | Promise<EpisodeGames>;

/** Prefix values v_≤t for the messages in causal order (see firstErrorStep). */
export type PrefixScorer = (messages: readonly AgentStep[]) => readonly number[] | Promise<readonly number[]>;

/**
 * The raw score range of one evaluation name. `min` is the lowest score the evaluator gives and
 * `max` the highest, whatever their meaning; `higherIsBetter: false` says the lowest is the best
 * (DeepEval's hallucination, toxicity and bias; Phoenix's hallucination and toxicity scores, where
 * `hallucinated` / `toxic` is 1). An explicit flag rather than a reversed `{min: 1, max: 0}`: a
 * range typed the wrong way round stays an error instead of silently inverting every verdict.
 */
const RangeSchema = z
  .object({ min: z.number(), max: z.number(), higherIsBetter: z.boolean().optional() })
  .superRefine((r, ctx) => {
    if (Number.isFinite(r.min) && Number.isFinite(r.max) && r.max < r.min) {
      ctx.addIssue({
        code: 'custom',
        message: `needs min < max: min is the lowest score the evaluator gives, max the highest; for a score where lower is better (e.g. DeepEval hallucination, toxicity or bias, 0 = best) write { min: ${r.max}, max: ${r.min}, higherIsBetter: false }`,
      });
    } else if (!(Number.isFinite(r.min) && Number.isFinite(r.max) && r.max > r.min)) {
      ctx.addIssue({ code: 'custom', message: 'normalization range needs finite min < max' });
    } else if (!Number.isFinite(r.max - r.min)) {
      // R = (score − min) / (max − min): a width past the double range (±1e308) made every R 0 —
      // every run a failure — or NaN (the episode failed), without a word
      ctx.addIssue({ code: 'custom', message: `normalization range is too wide: max − min (${r.max} − ${r.min}) overflows a double; give the range your evaluator's scores really span` });
    }
  });
export type ScoreRange = z.infer<typeof RangeSchema>;

/**
 * A raw score turned the right way up: itself, or — with `higherIsBetter: false` — reflected within
 * its range (`min + max − score`: the best score becomes `max`). Everything that reads a score as
 * "higher is better" (R, the success threshold, step flags) reads this. Units are kept.
 */
export function orientedScore(raw: number, range: { readonly min: number; readonly max: number; readonly higherIsBetter?: boolean | undefined } | undefined): number {
  return range?.higherIsBetter === false ? range.min + range.max - raw : raw;
}

export const CreditOptionsSchema = z.object({
  /** Value function source; `provenance` is built in, others need `gameFactory`. */
  game: z.enum(['provenance', 'http', 'module']).default('provenance'),
  /** Removal protocol of the game (reported; the provenance game implements `mask`). */
  removalProtocol: z.enum(['mask', 'null', 'replay']).default('mask'),
  /** b = v(∅): a constant (the runtime may pass a running mean per workflow) or `game` (the game's own v(∅), e.g. a judge scoring the empty run). */
  baseline: z.union([z.number(), z.literal('game')]).default(0),
  /**
   * Success threshold τ per evaluation name (normalized scale); `defaultSuccessThreshold` otherwise.
   * The run fails when R < τ; a span-level evaluation of a name listed here or in `normalization`
   * flags its step by the same rule (other names: only a score ≤ 0, or a failing label)
   * (conventions/evaluations.ts `isFailingEvaluation`, passed by processEpisode).
   */
  successThreshold: z.record(z.string(), z.number()).default({}),
  defaultSuccessThreshold: z.number().default(DEFAULT_SUCCESS_THRESHOLD),
  /**
   * Raw score range per evaluation name, mapped to [0,1]; default [0,1]. Scores outside are clamped
   * (warning). `higherIsBetter: false` (default true) for a score where lower is better: it is
   * reflected within the range first (`orientedScore`), so DeepEval hallucination 0.9 in [0, 1] is R = 0.1.
   */
  normalization: z.record(z.string(), RangeSchema).default({}),
  /** Normalize scores to [0,1]. When false R is the raw score and the bound uses the configured range. */
  normalize: z.boolean().default(true),
  /**
   * Score of label-only evaluations (label, case-insensitive → normalized score). The default is
   * the table decoding uses (src/conventions/labels.ts); a table given here replaces it.
   */
  labelScores: z.record(z.string(), z.number()).default({ ...DEFAULT_LABEL_SCORES }),
  /**
   * Agent-credit estimator: `auto` = closed form if offered, else exact up to maxExactPlayers, else
   * stratified SVARM (permutation when the budget is under 4 evaluations per agent).
   * `permutation`, `kernel` (paired KernelSHAP), `unbiased-kernel` (Covert & Lee's unbiased
   * KernelSHAP), `regression-adjusted` (regression-adjusted MSR, linear surrogate), `tree-msr`
   * (regression-adjusted MSR, tree surrogate: point in-sample, interval cross-fitted) and `svarm` always sample
   * (docs/credit.md compares them).
   */
  estimator: z.enum(['auto', 'exact', ...SAMPLERS]).default('auto'),
  /**
   * With `estimator: tree-msr`: `in-sample` (default) reports the tree fitted on every coalition
   * evaluated (lower error where the game is tree-like, biased where it is not); `cross-fitted`
   * the unbiased cross-fitted mean. Both report the cross-fitted interval (widened to reach the
   * in-sample point). docs/credit.md, Tree-MSR.
   */
  treeMsrFit: z.enum(TREE_MSR_FITS).default('in-sample'),
  /** Max value-function evaluations per episode (agent game). */
  budget: z.number().int().positive().default(2000),
  targetHalfWidth: z.number().positive().default(0.02),
  confidence: z.number().gt(0).lt(1).default(0.95),
  maxExactPlayers: z.number().int().min(1).max(24).default(14),
  /** Sampler seed, mixed with the episode id (episode-seed.ts): reproducible per episode, independent across episodes. */
  seed: z.number().int().default(1),
  /** Wall-clock limit of all game evaluations of one episode; then the result is partial. */
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(10_000),
  /** Max concurrent in-flight evaluations of an async game. */
  concurrency: z.number().int().positive().default(8),
  /** Force v(N) = R and v(∅) = b on pluggable games so credits sum to R - b. */
  anchor: z.boolean().default(true),
  /** C in |r_m| ≤ C·(R_max − R_min). */
  boundC: z.number().positive().default(1),
  /** Provenance game: total harm weight relative to the score scale. */
  harmWeight: z.number().min(0).default(1),
  /** Failure case: blame of the first error (score units, before balancing). */
  blameWeight: z.number().min(0).default(0.5),
  /** Failure case: per-edge decay of blame on dependent steps. */
  blameDecay: z.number().min(0).lt(1).default(0.5),
  /** Failure case: repair reward relative to the blame. */
  repairWeight: z.number().min(0).default(1),
  /** Failure case: reward of a critic (a step between the error and its fix that passed it on) relative to the blame. */
  criticWeight: z.number().min(0).default(0.5),
  /** Failure case: significant prefix-value drop. */
  prefixDropThreshold: z.number().positive().default(0.2),
  /**
   * Failure case: where prefix values v_≤t come from when no `prefixScorer` is given. `message-game`:
   * the message game's value of the first t messages (a pluggable game with a message game: the
   * judge or function scores the run cut after each message; |M| − 1 more evaluations per failed
   * episode). `off`: none (first error from error status and evaluator flags only).
   */
  prefixValues: z.enum(['off', 'message-game']).default('off'),
  /**
   * δ_m, a message's own marginal effect in the message game: `leave-one-out` v(M) − v(M∖{m})
   * (|M|+1 evaluations; the schema's `marginal_effect`) or `shapley` (message-level Shapley: exact
   * from the closed form of the provenance game, estimated within the budget for other games).
   */
  messageDelta: z.enum(['leave-one-out', 'shapley']).default('leave-one-out'),
  /** Report v(N) − v(N∖{i}) beside Shapley (n+1 evaluations). */
  leaveOneOut: z.boolean().default(true),
  gameFactory: z.custom<GameFactory>((v) => typeof v === 'function', { message: 'gameFactory must be a function (input) => { agentGame, messageGame? }' }).optional(),
  prefixScorer: z.custom<PrefixScorer>((v) => typeof v === 'function', { message: 'prefixScorer must be a function' }).optional(),
});
export type CreditOptions = z.infer<typeof CreditOptionsSchema>;
export type CreditOptionsInput = z.input<typeof CreditOptionsSchema>;
