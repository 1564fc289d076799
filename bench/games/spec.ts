/**
 * JSON game specs shared by the TypeScript harness and the Python baseline runner
 * (bench/games/games.py reads the same files). Players are 0..n-1; a coalition is a 0/1 mask.
 * Every game here has v(∅) = 0, so Shapley values sum to v(N).
 *
 * - `unanimity`: v(S) = Σ_T weight_T · [T ⊆ S]   (the provenance game is one of these)
 * - `voting`:    v(S) = [Σ_{i∈S} weights_i ≥ quota]   (integer weights: the DP oracle needs them)
 * - `glove`:     v(S) = min(|S ∩ left|, |S ∩ right|)   (left, right partition the players)
 * - `airport`:   v(S) = max_{i∈S} costs_i   (0 for ∅)
 */
import { z } from 'zod';

export const GAME_SPEC_FORMAT = 'agent-credit-bench-game/1';

const Player = z.number().int().min(0);

const Common = {
  format: z.literal(GAME_SPEC_FORMAT),
  /** Unique within a run, e.g. `voting-n20-i1`. */
  id: z.string().min(1),
  /** Family label used in tables (`random unanimity`, `provenance`, ...). */
  family: z.string().min(1),
  n: z.number().int().min(1).max(64),
  /** Where the game came from (generator + seed, or scenario name). */
  source: z.string(),
};

export const UnanimityGameSpecSchema = z.object({
  ...Common,
  kind: z.literal('unanimity'),
  terms: z.array(z.object({ members: z.array(Player).min(1), weight: z.number() })),
});

export const VotingGameSpecSchema = z.object({
  ...Common,
  kind: z.literal('voting'),
  weights: z.array(z.number().int().min(0)),
  quota: z.number().int().min(1),
});

export const GloveGameSpecSchema = z.object({
  ...Common,
  kind: z.literal('glove'),
  left: z.array(Player),
  right: z.array(Player),
});

export const AirportGameSpecSchema = z.object({
  ...Common,
  kind: z.literal('airport'),
  costs: z.array(z.number().min(0)),
});

export const GameSpecSchema = z
  .discriminatedUnion('kind', [UnanimityGameSpecSchema, VotingGameSpecSchema, GloveGameSpecSchema, AirportGameSpecSchema])
  .superRefine((spec, ctx) => {
    const inRange = (p: number) => p < spec.n;
    switch (spec.kind) {
      case 'unanimity':
        if (!spec.terms.every((t) => t.members.every(inRange)))
          ctx.addIssue({ code: 'custom', message: 'terms[].members: player index ≥ n' });
        break;
      case 'voting':
        if (spec.weights.length !== spec.n) ctx.addIssue({ code: 'custom', message: 'weights: length must equal n' });
        break;
      case 'glove': {
        const all = [...spec.left, ...spec.right].sort((a, b) => a - b);
        if (all.length !== spec.n || !all.every((p, i) => p === i))
          ctx.addIssue({ code: 'custom', message: 'left/right: must partition players 0..n-1' });
        break;
      }
      case 'airport':
        if (spec.costs.length !== spec.n) ctx.addIssue({ code: 'custom', message: 'costs: length must equal n' });
        break;
    }
  });

export type GameSpec = z.infer<typeof GameSpecSchema>;
export type UnanimityGameSpec = z.infer<typeof UnanimityGameSpecSchema>;
export type VotingGameSpec = z.infer<typeof VotingGameSpecSchema>;
export type GloveGameSpec = z.infer<typeof GloveGameSpecSchema>;
export type AirportGameSpec = z.infer<typeof AirportGameSpecSchema>;
