/**
 * The option schemas of the stages the config file configures but does not own. They are
 * imported from their stages (single source of truth) — this file is the one place that
 * binds them into the configuration.
 */
import { z } from 'zod';
import { ConventionsOptionsSchema as ConventionsSchema } from '../conventions/options.js';
import { HttpJudgeOptionsSchema } from '../credit/games/http-judge.js';
import { CreditOptionsSchema as CreditEngineOptionsSchema } from '../credit/options.js';
import { EpisodeAssemblerOptionsSchema } from '../episodes/options.js';

/** EpisodeAssembler options (src/episodes): close policy, caps, late-span policy. */
export const EpisodesOptionsSchema = EpisodeAssemblerOptionsSchema;

/** Convention mapping options (src/conventions): text caps, placeholder agent names. */
export const ConventionsOptionsSchema = ConventionsSchema;

/** `credit.module`: a user's value function `value(coalition, episode)` (src/credit module game). */
const ModuleGameConfigSchema = z.strictObject({
  /** .js/.mjs/.ts file, absolute or relative to the working directory. */
  path: z.string().min(1),
  exportName: z.string().min(1).default('value'),
  /**
   * `agents`: value() gets agent coalitions only (message rewards split φ_i without δ_m).
   * `messages`: also message coalitions (episode.playerKind 'messages', coalition = step ids) for
   * δ_m — the function must handle both.
   */
  players: z.enum(['agents', 'messages']).default('agents'),
});

/** The removal protocols the http judge applies (`credit.judge.removalProtocol`): mask and null, not replay. */
const JUDGE_PROTOCOLS: readonly string[] = HttpJudgeOptionsSchema.shape.removalProtocol.unwrap().options;

/**
 * Where a removal protocol other than mask is applied, for the fix of an error: the http judge
 * applies null; replay only a module game's value function can do (its events report
 * `credit.removalProtocol`). Both errors below named `credit.judge.removalProtocol replay`, which
 * the judge refuses — the user was sent from one error to the other.
 */
const gameApplying = (protocol: string) =>
  JUDGE_PROTOCOLS.includes(protocol) ? `credit.game http with credit.judge.removalProtocol ${protocol}` : `credit.game module, whose value function does the ${protocol}`;

/**
 * Credit engine options (src/credit `CreditOptions`) as a file can state them: the game factory is
 * built by the runtime from `judge` (game: http, the counterfactual judge client's own options) or
 * `module` (game: module). `prefixScorer` (a function giving prefix values) is a library option
 * only; from a file, `prefixValues: message-game` takes them from the judge's or module's message
 * game (`players: messages`).
 *
 * `removalProtocol` is what events report the game to do, so it must be what the game does: the
 * provenance game masks; the http judge applies its own `judge.removalProtocol`.
 */
export const CreditOptionsSchema = CreditEngineOptionsSchema.omit({ gameFactory: true, prefixScorer: true })
  .extend({
    judge: HttpJudgeOptionsSchema.optional(),
    module: ModuleGameConfigSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.game === 'http' && !c.judge) ctx.addIssue({ code: 'custom', path: ['judge'], message: 'credit.game is http: set credit.judge.url (the counterfactual judge endpoint)' });
    if (c.game === 'module' && !c.module) ctx.addIssue({ code: 'custom', path: ['module'], message: 'credit.game is module: set credit.module.path (a file exporting value(coalition, episode))' });
    // A judge or module the game does not use would be ignored without a word (the run credits with
    // another value function than the file describes).
    if (c.judge && c.game !== 'http') ctx.addIssue({ code: 'custom', path: ['judge'], message: `credit.judge is set but credit.game is ${c.game}, which does not call it: set credit.game: http to use the judge, or remove credit.judge` });
    if (c.module && c.game !== 'module') ctx.addIssue({ code: 'custom', path: ['module'], message: `credit.module is set but credit.game is ${c.game}, which does not load it: set credit.game: module to use it, or remove credit.module` });
    // The provenance game has no v(∅) of its own to ask for: it used 0 and wrote a warning into
    // every episode's events, where the loader refuses every other setting the game ignores.
    if (c.game === 'provenance' && c.baseline === 'game') {
      ctx.addIssue({ code: 'custom', path: ['baseline'], message: `baseline game asks the value function for v(∅), which the provenance game does not have (it credits from 0): leave credit.baseline out (0), or use credit.game http or module` });
    }
    if (c.game === 'provenance' && c.removalProtocol !== 'mask') {
      ctx.addIssue({ code: 'custom', path: ['removalProtocol'], message: `the provenance game removes agents by masking their messages, so it can only be mask (got ${c.removalProtocol}): leave credit.removalProtocol out, or use ${gameApplying(c.removalProtocol)}` });
    }
    if (c.prefixValues === 'message-game') {
      const messageGame = (c.game === 'http' && c.judge?.players === 'messages') || (c.game === 'module' && c.module?.players === 'messages');
      if (!messageGame) {
        ctx.addIssue({ code: 'custom', path: ['prefixValues'], message: `prefixValues message-game scores the run cut after each message with the message game, which ${c.game === 'provenance' ? 'the provenance game does not offer for this (it is built from the located error)' : `credit.${c.game === 'http' ? 'judge' : 'module'}.players: messages builds`}: ${c.game === 'provenance' ? 'use credit.game http or module with players: messages, or leave credit.prefixValues out' : `set credit.${c.game === 'http' ? 'judge' : 'module'}.players: messages`}` });
      }
    }
    // mask is the default: a judge configured for another protocol is reported as that one.
    if (c.game === 'http' && c.judge && !JUDGE_PROTOCOLS.includes(c.removalProtocol)) {
      ctx.addIssue({ code: 'custom', path: ['removalProtocol'], message: `the http judge applies ${JUDGE_PROTOCOLS.join(' or ')} (credit.judge.removalProtocol), not ${c.removalProtocol}: leave credit.removalProtocol out, or use ${gameApplying(c.removalProtocol)}` });
    } else if (c.game === 'http' && c.judge && c.removalProtocol !== 'mask' && c.removalProtocol !== c.judge.removalProtocol) {
      ctx.addIssue({ code: 'custom', path: ['removalProtocol'], message: `credit.removalProtocol is ${c.removalProtocol} but the judge applies credit.judge.removalProtocol (${c.judge.removalProtocol}): set credit.judge.removalProtocol to ${c.removalProtocol} (events report the protocol the judge applies)` });
    }
  });
