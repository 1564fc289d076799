/**
 * The trainer's side of the event contract (README, Events), as code: feed it the events of the
 * three output topics in any order, with re-deliveries, and it hands out each episode once it is
 * final — its latest revision's credit and message rewards, and the preference pairs a trainer
 * keeps. The rules it applies, which a consumer otherwise re-implements from prose:
 *
 * - de-duplicate on `event_id`;
 * - key an episode on (`episode_id`, `trace_ids[0]`): in conversation mode an episode re-opened
 *   after a restart has the same id and another first trace;
 * - a higher `episode_revision` replaces the credit and the rewards of the lower ones, and a lower
 *   one arriving late (another topic, a replayed partition) is ignored;
 * - preference pairs: a revision for the same turns (the same number of `trace_ids`: a correction)
 *   replaces the pairs of the earlier one; a revision for a next turn (one more trace) keeps the
 *   earlier turns' pairs — a passing later turn re-credits every turn without repeating them — and
 *   a pair with the same steps is taken from the highest revision that has it;
 * - an episode is final `finalAfterMs` after its first event was emitted: the job's
 *   `episodes.correctionWindowMs` + `maxDurationMs` (1 h 5 min by default), after which it makes
 *   no more revisions (within one job process: after a restart a correction can still come, and
 *   is handed out again marked `supersedes_released_revision`).
 *
 * Memory is bounded: beyond `maxEpisodes` held or `maxHeldBytes` of their events (estimated), the
 * oldest is handed out before it is final (`early`). Unknown event types (a later minor version) are skipped and counted. Pure: no I/O,
 * time comes in as an argument.
 */
import { didYouMean } from '../config/errors.js';
import { EVENT_TYPES, isThisMajorVersion, type CreditEvent, type EpisodeCredit, type MessageReward, type PreferencePair } from './schemas.js';

export interface TrainingLedgerOptions {
  /**
   * Ms after an episode's first event (`emitted_at_ms`) when it is final: the job's
   * `episodes.correctionWindowMs` + `episodes.maxDurationMs`. Default 3,900,000 (1 h 5 min, their defaults).
   */
  readonly finalAfterMs?: number;
  /** Episodes held at once; beyond it the oldest is handed out early. Default 100,000. */
  readonly maxEpisodes?: number;
  /**
   * Estimated heap of the held events; beyond it the oldest episodes are handed out early. An event
   * is charged 1.5 × the length of its JSON text when `add` is given it (the heap a parsed event
   * takes, measured: ~24 KB for a 17-event generated episode), else 1,500 bytes. Default 256 MiB
   * (~11,000 such episodes): raise it with Node's heap (`--max-old-space-size`).
   */
  readonly maxHeldBytes?: number;
  /** Handed-out episodes remembered, to recognise a re-delivery or a later correction of one. Default 100,000. */
  readonly maxReleased?: number;
}

/** One episode as a trainer takes it. */
export interface TrainingEpisode {
  readonly episode_id: string;
  /** `trace_ids[0]`: with `episode_id`, the episode's key. */
  readonly first_trace_id: string;
  /** Revision of `credit` and `rewards`. */
  readonly revision: number;
  readonly trace_ids: readonly string[];
  /** The revision's `episode_credit`; undefined when it did not arrive. */
  readonly credit: EpisodeCredit | undefined;
  /** The revision's `message_reward` events, in arrival order. */
  readonly rewards: readonly MessageReward[];
  /** Every turn's pairs: this revision's, and earlier turns' that a later turn did not replace (each carries its own `episode_revision`); by revision, then event id. */
  readonly pairs: readonly PreferencePair[];
  /**
   * True when the revision is whole: its `episode_credit` arrived and its counts (`messages`,
   * `preference_pairs`) match the rewards and this revision's pairs received. False = events are
   * missing (not yet published, or lost upstream of this consumer).
   */
  readonly complete: boolean;
  /** Earliest `emitted_at_ms` of its events. */
  readonly first_emitted_ms: number;
  /** Handed out before it was final, to stay within `maxEpisodes` / `maxHeldBytes`. */
  readonly early: boolean;
  /** Set when an earlier revision of this episode was already handed out: this one replaces it. */
  readonly supersedes_released_revision?: number;
}

export interface TrainingLedgerStats {
  /** Events taken (not duplicates, not stale). */
  readonly events: number;
  /** Events whose `event_id` was seen before. */
  readonly duplicates: number;
  /** Events of a revision older than the one held or handed out. */
  readonly stale: number;
  /** Events of the revision already handed out: a re-delivery, or a part that came after the release (then it went out incomplete). */
  readonly after_release: number;
  /** Events with an `event_type` this version does not know (skipped). */
  readonly unknown_types: number;
  /** Records of another major `schema_version`, or without the event header (skipped). */
  readonly unsupported: number;
  /** Revisions replaced by a later one while held. */
  readonly revisions_replaced: number;
  /** Episodes held now. */
  readonly held: number;
  /** Their estimated heap (maxHeldBytes). */
  readonly held_bytes: number;
  readonly released: number;
  readonly released_early: number;
  readonly released_incomplete: number;
  /** Episodes handed out again with a later revision. */
  readonly released_again: number;
}

/** What `add` did with an event. */
export type LedgerOutcome = 'added' | 'duplicate' | 'stale' | 'after-release' | 'unknown-type' | 'unsupported';

interface Held {
  readonly episodeId: string;
  readonly firstTraceId: string;
  revision: number;
  traceIds: readonly string[];
  credit: EpisodeCredit | undefined;
  rewards: MessageReward[];
  /** every revision's pairs not yet known to be replaced; settled at release (settledPairs) */
  pairs: PreferencePair[];
  /** number of trace_ids → highest revision seen with that many (a turn group) */
  groupRevision: Map<number, number>;
  seen: Set<string>;
  firstEmittedMs: number;
  supersedes: number | undefined;
  /** Charged bytes of its events (maxHeldBytes). */
  bytes: number;
}


export class TrainingLedger {
  private readonly finalAfterMs: number;
  private readonly maxEpisodes: number;
  private readonly maxHeldBytes: number;
  /** Σ of the held episodes' charged bytes. */
  private heldBytes = 0;
  private readonly maxReleased: number;
  /** Insertion order = first seen: the oldest are handed out first. */
  private readonly held = new Map<string, Held>();
  /** key → revision handed out (insertion order = release order, bounded by maxReleased). */
  private readonly released = new Map<string, number>();
  private counts = { events: 0, duplicates: 0, stale: 0, afterRelease: 0, unknownTypes: 0, unsupported: 0, revisionsReplaced: 0, released: 0, releasedEarly: 0, releasedIncomplete: 0, releasedAgain: 0 };
  private readonly early: TrainingEpisode[] = [];

  constructor(options: TrainingLedgerOptions = {}) {
    // a misspelt option (finalAfterMS, maxEpisode — a JavaScript consumer has no type check) was
    // ignored: the ledger ran on the default, handing episodes out an hour later or early
    const unknown = Object.keys(options).find((k) => !LEDGER_OPTIONS.includes(k));
    if (unknown !== undefined) throw new RangeError(`TrainingLedger: unknown option ${unknown}${didYouMean(unknown, LEDGER_OPTIONS)} — accepted: ${LEDGER_OPTIONS.join(', ')}`);
    this.finalAfterMs = nonNegative(options.finalAfterMs ?? 3_900_000, 'finalAfterMs');
    this.maxEpisodes = positiveInt(options.maxEpisodes ?? 100_000, 'maxEpisodes');
    this.maxHeldBytes = positiveInt(options.maxHeldBytes ?? 256 * 1024 * 1024, 'maxHeldBytes');
    this.maxReleased = positiveInt(options.maxReleased ?? 100_000, 'maxReleased');
  }

  /** Takes one event (any order, re-deliveries allowed); `jsonBytes`: the length of its JSON text, when known (memory bound). */
  add(event: CreditEvent, jsonBytes?: number): LedgerOutcome {
    // another major version may mean something else by the same fields (README, Events: versions),
    // and a record without the header is not an event: neither is taken, both are counted
    const e = event as Partial<CreditEvent> & { schema_version?: unknown };
    if (!isThisMajorVersion(e.schema_version)) {
      this.counts.unsupported++;
      return 'unsupported';
    }
    if (typeof e.episode_id !== 'string' || typeof e.event_id !== 'string' || !Array.isArray(e.trace_ids) || !Number.isInteger(e.episode_revision) || typeof e.emitted_at_ms !== 'number') {
      this.counts.unsupported++;
      return 'unsupported';
    }
    const type: string = event.event_type;
    if (!EVENT_TYPES.has(type)) {
      this.counts.unknownTypes++;
      return 'unknown-type';
    }
    const firstTrace = event.trace_ids[0] ?? '';
    const key = `${event.episode_id}\u0000${firstTrace}`;
    const revision = event.episode_revision;
    let h = this.held.get(key);
    // a revision handed out already (a re-delivery, or a part that came too late), or an older one:
    // the same whether or not a later revision of the episode is held meanwhile — taken into that
    // one, a re-delivered earlier turn's pair went out a second time with it
    const out = h === undefined ? this.released.get(key) : h.supersedes;
    if (out !== undefined && revision <= out) return this.count(revision === out ? 'after-release' : 'stale');
    if (h === undefined) {
      h = {
        episodeId: event.episode_id,
        firstTraceId: firstTrace,
        revision,
        traceIds: event.trace_ids,
        credit: undefined,
        rewards: [],
        pairs: [],
        groupRevision: new Map(),
        seen: new Set(),
        firstEmittedMs: event.emitted_at_ms,
        supersedes: out,
        bytes: 0,
      };
      this.held.set(key, h);
      if (this.held.size > this.maxEpisodes) this.releaseOldestEarly();
    }
    if (h.seen.has(event.event_id)) return this.count('duplicate');
    h.firstEmittedMs = Math.min(h.firstEmittedMs, event.emitted_at_ms);
    const turns = event.trace_ids.length;
    // Every event counts for its turn group, a stale one too: a correction of earlier turns
    // (revision 1, [T1]) that arrives after the next turn's events (revision 2, [T1, T2]) still
    // replaces the pairs of the revision it corrects (revision 0, [T1]), whatever the order.
    const groupBefore = h.groupRevision.get(turns) ?? -1;
    h.groupRevision.set(turns, Math.max(groupBefore, revision));
    if (type === 'preference_pair') {
      // an earlier turn's pair stays while no later revision of the same turns replaced it
      if (revision < groupBefore) return this.count('stale');
      h.pairs.push(event as PreferencePair);
    } else if (revision < h.revision) return this.count('stale');
    if (revision > h.revision) {
      // a later revision: its credit and rewards replace the earlier one's
      h.revision = revision;
      h.traceIds = event.trace_ids;
      h.credit = undefined;
      h.rewards = [];
      this.counts.revisionsReplaced++;
    }
    if (type === 'episode_credit') h.credit = event as EpisodeCredit;
    else if (type === 'message_reward') h.rewards.push(event as MessageReward);
    h.seen.add(event.event_id);
    // charged while held (events a later revision replaced included: an over-estimate, never under)
    const charge = jsonBytes !== undefined && jsonBytes > 0 ? Math.ceil(1.5 * jsonBytes) : 1_500;
    h.bytes += charge;
    this.heldBytes += charge;
    while (this.heldBytes > this.maxHeldBytes && this.held.size > 1) this.releaseOldestEarly();
    return this.count('added');
  }

  /**
   * Hands out the episodes final at `nowMs` (ms since the epoch, on the clock of `emitted_at_ms`)
   * and those released early since the last call, oldest first. `Infinity` hands out everything
   * held (the end of a replay); `-Infinity` only those released early, without looking at the held
   * ones (a consumer takes them after each `add`).
   */
  release(nowMs: number): TrainingEpisode[] {
    const out = this.early.splice(0);
    if (nowMs === Number.NEGATIVE_INFINITY) return out;
    for (const [key, h] of this.held) {
      if (nowMs - h.firstEmittedMs < this.finalAfterMs) continue;
      out.push(this.releaseOne(key, h, false));
    }
    return out;
  }

  stats(): TrainingLedgerStats {
    const c = this.counts;
    return {
      events: c.events,
      duplicates: c.duplicates,
      stale: c.stale,
      after_release: c.afterRelease,
      unknown_types: c.unknownTypes,
      unsupported: c.unsupported,
      revisions_replaced: c.revisionsReplaced,
      held: this.held.size,
      held_bytes: this.heldBytes,
      released: c.released,
      released_early: c.releasedEarly,
      released_incomplete: c.releasedIncomplete,
      released_again: c.releasedAgain,
    };
  }

  private count(outcome: Exclude<LedgerOutcome, 'unknown-type' | 'unsupported'>): LedgerOutcome {
    if (outcome === 'added') this.counts.events++;
    else if (outcome === 'duplicate') this.counts.duplicates++;
    else if (outcome === 'stale') this.counts.stale++;
    else this.counts.afterRelease++;
    return outcome;
  }

  /**
   * The pairs a trainer keeps: of each turn group (number of trace ids) those of its highest
   * revision; of pairs with the same steps, the highest revision's. Settled at release, so the
   * result does not depend on the order the events came in.
   */
  private settledPairs(h: Held): PreferencePair[] {
    const byKey = new Map<string, PreferencePair>();
    for (const p of h.pairs) {
      if (p.episode_revision < h.groupRevision.get(p.trace_ids.length)!) continue;
      const k = `${p.rejected.step_id}\u0000${p.chosen?.step_id ?? ''}`;
      const old = byKey.get(k);
      if (old === undefined || p.episode_revision > old.episode_revision) byKey.set(k, p);
    }
    return [...byKey.values()].sort((a, b) => a.episode_revision - b.episode_revision || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
  }

  private releaseOne(key: string, h: Held, early: boolean): TrainingEpisode {
    this.held.delete(key);
    this.heldBytes -= h.bytes;
    this.released.delete(key);
    this.released.set(key, h.revision);
    if (this.released.size > this.maxReleased) this.released.delete(this.released.keys().next().value!);
    const pairs = this.settledPairs(h);
    const ownPairs = pairs.filter((p) => p.episode_revision === h.revision).length;
    const complete = h.credit !== undefined && h.credit.messages === h.rewards.length && h.credit.preference_pairs === ownPairs;
    this.counts.released++;
    if (early) this.counts.releasedEarly++;
    if (!complete) this.counts.releasedIncomplete++;
    if (h.supersedes !== undefined) this.counts.releasedAgain++;
    return {
      episode_id: h.episodeId,
      first_trace_id: h.firstTraceId,
      revision: h.revision,
      trace_ids: h.traceIds,
      credit: h.credit,
      rewards: h.rewards,
      pairs,
      complete,
      first_emitted_ms: h.firstEmittedMs,
      early,
      ...(h.supersedes !== undefined ? { supersedes_released_revision: h.supersedes } : {}),
    };
  }

  private releaseOldestEarly(): void {
    const [key, h] = this.held.entries().next().value!;
    this.early.push(this.releaseOne(key, h, true));
  }
}

const LEDGER_OPTIONS: readonly string[] = ['finalAfterMs', 'maxEpisodes', 'maxHeldBytes', 'maxReleased'] satisfies readonly (keyof TrainingLedgerOptions)[];

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`TrainingLedger: ${name} must be a positive integer, got ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!(n >= 0)) throw new RangeError(`TrainingLedger: ${name} must be ≥ 0 ms, got ${n}`);
  return n;
}
