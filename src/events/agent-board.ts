/**
 * The fleet's standings, from the published events: per agent, how many credited episodes it took
 * part in, how they ended, its Shapley credit summed over them, and what its steps were in those
 * runs (first errors, harmful and redundant steps, repairs). The live page's agent table and the
 * replay summary read it; it sees only events, so any consumer of the output topics could keep
 * the same table.
 *
 * Incremental, so a live stream never re-reads its history: each episode's contribution is kept
 * and taken back when a later revision (a correction) replaces it, or ignored when it is an older
 * revision arriving late. Events seen twice (at-least-once delivery, a replayed partition) count
 * once. Bounded: the oldest-seen episodes are forgotten beyond `maxEpisodes` (their contribution
 * stays; a correction of one of them then adds without taking back, counted in
 * `corrections_unmatched`), and the least recently seen agents beyond `maxAgents`.
 *
 * Beside each standing, totals that only go up (src/events/agent-totals.ts) for the counters on
 * `/metrics`: the standings fall when a correction takes a revision back, which Prometheus's
 * delta() cannot tell from a restart.
 */
import type { EventFacts } from './credited-events.js';
import { addCount, addCredit, emptyTotals, Replaced, type AgentTotals } from './agent-totals.js';

export interface AgentBoardOptions {
  /** Episodes whose contribution is remembered for corrections and de-duplication. Default 10,000. */
  readonly maxEpisodes?: number;
  /** Agents kept (least recently seen dropped first). Default 1,000. */
  readonly maxAgents?: number;
  /**
   * Count an event seen twice once (default true). Costs the step and event ids of every
   * remembered episode (~2 KB an episode): a replay, whose output holds no duplicates, turns it off
   * to keep a long replay's summary small. A second episode_credit of a revision is ignored either way.
   */
  readonly deduplicate?: boolean;
}

/** One agent's standing: sums over the latest revision of every credited episode it took part in. */
export interface AgentStanding {
  readonly agent_id: string;
  readonly agent_name: string;
  /** Credited episodes with this agent among their players. */
  readonly episodes: number;
  readonly successes: number;
  readonly failures: number;
  /** Σ φ_i over those episodes. */
  readonly credit_sum: number;
  /** credit_sum / episodes (0 with none). */
  readonly credit_mean: number;
  /** Failed episodes whose first error is this agent's step. */
  readonly first_errors: number;
  /** Rewarded steps (message_reward events) of the agent. */
  readonly steps: number;
  /** Steps with a sabotage component (δ_m < 0, or flagged harmful). */
  readonly harmful_steps: number;
  /** Steps with a redundancy component (no effect, or duplicate content). */
  readonly redundant_steps: number;
  /** Steps of failed runs in the `repair` role (corrective attempts). */
  readonly repairs: number;
  /** Latest `emitted_at_ms` of an event naming the agent. */
  readonly last_seen_ms: number;
  /**
   * The figures that only go up (src/events/agent-totals.ts), for the counters on `/metrics`; only
   * in `snapshot({ totals: true })`: they depend on how the events were batched (a correction is
   * netted within its batch), so the live page's JSON, which a view compares with a job's, leaves them out.
   */
  readonly totals?: Readonly<AgentTotals>;
}

export interface AgentBoardSnapshot {
  /** Credited episodes (each counted once, as its latest revision). */
  readonly episodes: number;
  readonly successes: number;
  readonly failures: number;
  /** Mean system value R over those episodes (0 with none). */
  readonly system_value_mean: number;
  /**
   * Of the credited episodes, those whose estimate is `partial` (estimator.status: the budget or
   * time ran out, or the value function failed — their credit is a best guess; their episode_credit's diagnostics.warnings say why).
   */
  readonly partial_estimates: number;
  readonly message_rewards: number;
  readonly preference_pairs: number;
  /** Revisions replaced by a later one. */
  readonly corrections: number;
  /** Corrections of episodes already forgotten (`maxEpisodes`): added without taking the old revision back. */
  readonly corrections_unmatched: number;
  /**
   * Events seen before (same episode revision and step, or same event id), and events of a
   * forgotten episode's revision or an older one: not counted again.
   */
  readonly duplicates: number;
  /** Agents dropped to stay within `maxAgents`. */
  readonly agents_dropped: number;
  /** Every agent, by credit_sum (highest first), then agent id. */
  readonly agents: AgentStanding[];
}

interface Standing {
  name: string;
  episodes: number;
  successes: number;
  failures: number;
  credit: number;
  firstErrors: number;
  steps: number;
  harmful: number;
  redundant: number;
  repairs: number;
  lastSeen: number;
  totals: AgentTotals;
}

/** What one episode revision added, so that it can be taken back. */
interface StepTally {
  steps: number;
  harmful: number;
  redundant: number;
  repairs: number;
}

interface EpisodeRecord {
  revision: number;
  /** `standing`: the agent's standing that was credited (taken back only from that one, not from a later one after a drop) */
  credit?: { success: boolean; partial: boolean; systemValue: number; agents: { id: string; credit: number; standing: Standing }[]; firstErrorAgent: string | undefined };
  /** agent id → its steps' tallies in this revision, and the standing they were added to */
  steps: Map<string, { tally: StepTally; standing: Standing }>;
  /** step ids (message rewards) and event ids (pairs) seen in this revision; undefined when not de-duplicating */
  seen: Set<string> | undefined;
  rewards: number;
  pairs: number;
  /** When this revision replaced another: per standing, what was taken back from it, for the totals to net against. */
  replaced?: Map<Standing, Replaced>;
}

const emptyStanding = (name: string): Standing => ({ name, episodes: 0, successes: 0, failures: 0, credit: 0, firstErrors: 0, steps: 0, harmful: 0, redundant: 0, repairs: 0, lastSeen: 0, totals: emptyTotals() });

export class AgentBoard {
  private readonly maxEpisodes: number;
  private readonly maxAgents: number;
  private readonly deduplicate: boolean;
  /** Insertion order = first seen: the oldest are forgotten first. */
  private readonly episodes = new Map<string, EpisodeRecord>();
  /** Re-inserted on every touch: the least recently seen are dropped first. */
  private readonly agents = new Map<string, Standing>();
  private totals = { episodes: 0, successes: 0, failures: 0, partial: 0, systemValue: 0, rewards: 0, pairs: 0, corrections: 0, correctionsUnmatched: 0, duplicates: 0, agentsDropped: 0 };
  /** Revision of forgotten episodes, so their corrections are told from new episodes (bounded with them). */
  private readonly forgotten = new Map<string, number>();
  /** Corrections of the current `add` whose replaced credit may still wait for the new revision's. */
  private readonly corrected: EpisodeRecord[] = [];
  private version = 0;

  constructor(options: AgentBoardOptions = {}) {
    this.maxEpisodes = positiveInt(options.maxEpisodes ?? 10_000, 'maxEpisodes');
    this.maxAgents = positiveInt(options.maxAgents ?? 1_000, 'maxAgents');
    this.deduplicate = options.deduplicate ?? true;
  }

  /** Changes with every event that changed a figure: a cheap "anything new?" for periodic pushes. */
  get changes(): number {
    return this.version;
  }

  add(events: readonly EventFacts[]): void {
    try {
      for (const e of events) this.addOne(e);
    } finally {
      // nothing reads the board during an add: the totals need to agree with the sums only after it
      for (const r of this.corrected) for (const x of r.replaced?.values() ?? []) x.settle();
      this.corrected.length = 0;
    }
  }

  /** `totals`: with each agent's totals (AgentStanding.totals). */
  snapshot(options: { totals?: boolean } = {}): AgentBoardSnapshot {
    const t = this.totals;
    const agents = [...this.agents.entries()]
      .map(([id, s]): AgentStanding => ({
        agent_id: id,
        agent_name: s.name,
        episodes: s.episodes,
        successes: s.successes,
        failures: s.failures,
        credit_sum: clean(s.credit),
        credit_mean: s.episodes > 0 ? clean(s.credit) / s.episodes : 0,
        first_errors: s.firstErrors,
        steps: s.steps,
        harmful_steps: s.harmful,
        redundant_steps: s.redundant,
        repairs: s.repairs,
        last_seen_ms: s.lastSeen,
        ...(options.totals ? { totals: { ...s.totals } } : {}),
      }))
      .sort((a, b) => b.credit_sum - a.credit_sum || (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0));
    return {
      episodes: t.episodes,
      successes: t.successes,
      failures: t.failures,
      system_value_mean: t.episodes > 0 ? t.systemValue / t.episodes : 0,
      partial_estimates: t.partial,
      message_rewards: t.rewards,
      preference_pairs: t.pairs,
      corrections: t.corrections,
      corrections_unmatched: t.correctionsUnmatched,
      duplicates: t.duplicates,
      agents_dropped: t.agentsDropped,
      agents,
    };
  }

  private addOne(e: EventFacts): void {
    // conversation mode: a conversation's episode id names every turn; trace_ids[0] tells an
    // episode that was split off (README, Events) — keyed on both, as consumers are told to
    const key = `${e.episode_id}\u0000${e.trace_ids[0] ?? ''}`;
    let r = this.episodes.get(key);
    if (r !== undefined && e.episode_revision < r.revision) return; // an older revision, arriving late
    if (r === undefined || e.episode_revision > r.revision) {
      let replaced: Map<Standing, Replaced> | undefined;
      if (r !== undefined) {
        replaced = this.takeBack(r);
        this.totals.corrections++;
      } else {
        const before = this.forgotten.get(key);
        if (before !== undefined) {
          // its revision `before` is counted and can no longer be told apart event by event: an
          // older or equal revision is not counted again, a later one adds without taking back
          if (e.episode_revision <= before) return this.duplicate();
          this.totals.corrections++;
          this.totals.correctionsUnmatched++;
          this.forgotten.delete(key);
        }
      }
      this.episodes.delete(key);
      r = { revision: e.episode_revision, steps: new Map(), seen: this.deduplicate ? new Set() : undefined, rewards: 0, pairs: 0, replaced };
      if (replaced !== undefined) this.corrected.push(r);
      this.remember(key, r);
    }
    if (e.event_type === 'episode_credit') {
      if (r.credit !== undefined) return this.duplicate();
      const firstErrorAgent = e.first_error?.agent_id;
      const credited: { id: string; credit: number; standing: Standing }[] = [];
      r.credit = { success: e.outcome === 'success', partial: e.estimator.status === 'partial', systemValue: e.system_value, agents: credited, firstErrorAgent };
      for (const a of e.agents) {
        const s = this.touch(a.agent_id, a.agent_name, e.emitted_at_ms);
        const replaced = r.replaced?.get(s);
        credited.push({ id: a.agent_id, credit: a.credit, standing: s });
        s.episodes++;
        addCount(s.totals, 'episodes', 1, replaced);
        if (r.credit.success) s.successes++;
        else {
          s.failures++;
          addCount(s.totals, 'failures', 1, replaced);
        }
        s.credit += a.credit;
        if (replaced?.unsettled) replaced.netCredit(a.credit);
        else addCredit(s.totals, a.credit);
        if (firstErrorAgent === a.agent_id) {
          s.firstErrors++;
          addCount(s.totals, 'firstErrors', 1, replaced);
        }
      }
      // the replaced revision's agents that this one does not name: their credit was taken back
      for (const x of r.replaced?.values() ?? []) x.settle();
      this.totals.episodes++;
      if (r.credit.success) this.totals.successes++;
      else this.totals.failures++;
      if (r.credit.partial) this.totals.partial++;
      this.totals.systemValue += e.system_value;
    } else if (e.event_type === 'message_reward') {
      if (r.seen?.has(e.step_id)) return this.duplicate();
      r.seen?.add(e.step_id);
      const tally: StepTally = {
        steps: 1,
        harmful: e.components.sabotage < 0 ? 1 : 0,
        redundant: e.components.redundancy < 0 ? 1 : 0,
        repairs: e.failure_role === 'repair' ? 1 : 0,
      };
      const standing = this.touch(e.agent_id, e.agent_name, e.emitted_at_ms);
      let mine = r.steps.get(e.agent_id);
      if (mine === undefined || mine.standing !== standing) {
        // first step of the agent in this revision, or its standing was dropped and started afresh since
        mine = { tally: { steps: 0, harmful: 0, redundant: 0, repairs: 0 }, standing };
        r.steps.set(e.agent_id, mine);
      }
      addTally(mine.tally, tally, 1);
      addTally(standing, tally, 1);
      const replaced = r.replaced?.get(standing);
      addCount(standing.totals, 'harmful', tally.harmful, replaced);
      addCount(standing.totals, 'redundant', tally.redundant, replaced);
      addCount(standing.totals, 'repairs', tally.repairs, replaced);
      r.rewards++;
      this.totals.rewards++;
    } else {
      if (r.seen?.has(e.event_id)) return this.duplicate();
      r.seen?.add(e.event_id);
      r.pairs++;
      this.totals.pairs++;
    }
    this.version++;
  }

  /**
   * Takes an episode revision's contribution back out of the totals (a correction replaces it).
   * Returns, per standing, what was taken back: the agents' totals net the new revision against it.
   */
  private takeBack(r: EpisodeRecord): Map<Standing, Replaced> {
    const replaced = new Map<Standing, Replaced>();
    const of = (s: Standing): Replaced => {
      let x = replaced.get(s);
      if (x === undefined) replaced.set(s, (x = new Replaced(s.totals)));
      return x;
    };
    // a correction of a correction: what the first one had not counted again yet still is counted
    for (const [s, x] of r.replaced ?? []) {
      x.settle();
      of(s).inherit(x);
    }
    const c = r.credit;
    if (c !== undefined) {
      for (const a of c.agents) {
        const s = this.agents.get(a.id);
        // dropped (maxAgents), perhaps started afresh since: nothing of this revision to take back from it
        if (s === undefined || s !== a.standing) continue;
        const x = of(s);
        s.episodes--;
        x.takeCount('episodes', 1);
        if (c.success) s.successes--;
        else {
          s.failures--;
          x.takeCount('failures', 1);
        }
        s.credit -= a.credit;
        x.takeCredit(a.credit);
        if (s.episodes === 0) s.credit = 0; // no float residue on an agent with no episode left
        if (c.firstErrorAgent === a.id) {
          s.firstErrors--;
          x.takeCount('firstErrors', 1);
        }
      }
      this.totals.episodes--;
      if (c.success) this.totals.successes--;
      else this.totals.failures--;
      if (c.partial) this.totals.partial--;
      this.totals.systemValue = this.totals.episodes === 0 ? 0 : this.totals.systemValue - c.systemValue;
    }
    for (const [id, { tally, standing }] of r.steps) {
      if (this.agents.get(id) !== standing) continue;
      addTally(standing, tally, -1);
      const x = of(standing);
      x.takeCount('harmful', tally.harmful);
      x.takeCount('redundant', tally.redundant);
      x.takeCount('repairs', tally.repairs);
    }
    this.totals.rewards -= r.rewards;
    this.totals.pairs -= r.pairs;
    return replaced;
  }

  private remember(key: string, r: EpisodeRecord): void {
    this.episodes.set(key, r);
    if (this.episodes.size <= this.maxEpisodes) return;
    const [oldKey, old] = this.episodes.entries().next().value as [string, EpisodeRecord];
    this.episodes.delete(oldKey);
    this.forgotten.set(oldKey, old.revision);
    if (this.forgotten.size > this.maxEpisodes) this.forgotten.delete(this.forgotten.keys().next().value as string);
  }

  private touch(id: string, name: string, at: number): Standing {
    let s = this.agents.get(id);
    if (s === undefined) {
      s = emptyStanding(name);
    } else {
      this.agents.delete(id);
      s.name = name;
    }
    s.lastSeen = Math.max(s.lastSeen, at);
    this.agents.set(id, s);
    if (this.agents.size > this.maxAgents) {
      this.agents.delete(this.agents.keys().next().value as string);
      this.totals.agentsDropped++;
    }
    return s;
  }

  private duplicate(): void {
    this.totals.duplicates++;
  }
}

function addTally(into: StepTally, t: StepTally, sign: 1 | -1): void {
  into.steps += sign * t.steps;
  into.harmful += sign * t.harmful;
  into.redundant += sign * t.redundant;
  into.repairs += sign * t.repairs;
}

/** Rounds away float residue of add-then-subtract (credits are in units of R ≤ 1). */
function clean(x: number): number {
  return Math.abs(x) < 1e-12 ? 0 : x;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`AgentBoard option ${name} must be an integer ≥ 1, got ${n}`);
  return n;
}
