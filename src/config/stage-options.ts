/**
 * The option schemas of the stages the config file configures but does not own. They are
 * imported from their stages (single source of truth) — this file is the one place that
 * binds them into the configuration.
 *
 * `episodes` and `credit`: the EpisodeAssembler (src/episodes) and the credit engine
 * (src/credit) publish their zod option schemas; until a stage exports one, its section is
 * accepted here as a plain object and the stage validates it when it is constructed (the
 * error then names the stage option). Swap in the import when it lands — do not copy the
 * stage's fields here.
 */
import { z } from 'zod';
import { ConventionsOptionsSchema as ConventionsSchema } from '../conventions/options.js';
import { EpisodeAssemblerOptionsSchema } from '../episodes/options.js';

/** EpisodeAssembler options (src/episodes): close policy, caps, late-span policy. */
export const EpisodesOptionsSchema = EpisodeAssemblerOptionsSchema;

/** Credit engine options (`CreditOptions`, src/credit). Placeholder until src/credit exports its schema. */
export const CreditOptionsSchema = z.record(z.string(), z.unknown());

/** Convention mapping options (src/conventions): text caps, placeholder agent names. */
export const ConventionsOptionsSchema = ConventionsSchema;
