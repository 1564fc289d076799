/**
 * Per-agent totals that only go up, beside the standings (src/events/agent-board.ts), for the
 * Prometheus counters on `/metrics`: Prometheus's increase() and rate() read a counter's drop as
 * a process restart and go on counting, where delta() over the standings' gauges reads every
 * restart as a fall.
 *
 * The credit sum can fall (credit is negative for agents that cost the fleet, and a correction
 * takes an earlier revision's credit back), so it is split in two: every rise of an agent's sum
 * is added to `creditGained`, every fall to `creditLost` — gained − lost is the sum. A correction
 * is netted per agent: what its new revision gives minus what the replaced one had gave, so a
 * re-evaluation that lowers an agent's credit by 0.1 adds 0.1 to lost, not the whole old credit
 * to lost and the whole new one to gained.
 *
 * The counts (episodes, failures, first errors, harmful and redundant steps, repairs) go up by
 * what a revision adds beyond the revision it replaces, and never down: an episode re-evaluated
 * with the same players is not counted twice, and what a correction withdraws (a failure that
 * turned into a pass, a first error moved to another agent) stays counted. So increase() over
 * them counts attributions as they were made; the gauges hold what stands now.
 */

export interface AgentTotals {
  creditGained: number;
  creditLost: number;
  episodes: number;
  failures: number;
  firstErrors: number;
  harmful: number;
  redundant: number;
  repairs: number;
}

export type CountField = 'episodes' | 'failures' | 'firstErrors' | 'harmful' | 'redundant' | 'repairs';

export const emptyTotals = (): AgentTotals => ({ creditGained: 0, creditLost: 0, episodes: 0, failures: 0, firstErrors: 0, harmful: 0, redundant: 0, repairs: 0 });

/** Records a change of the agent's credit sum: a rise adds to gained, a fall to lost. */
export function addCredit(t: AgentTotals, change: number): void {
  if (change > 0) t.creditGained += change;
  else if (change < 0) t.creditLost -= change;
}

/**
 * What a correction took back from one agent (the replaced revision's contribution), set against
 * what the new revision gives it.
 */
export class Replaced {
  /** The replaced revision's credit, until the new one's is netted against it (or the batch ends without it). */
  private credit: number | undefined;
  private readonly counts: Record<CountField, number> = { episodes: 0, failures: 0, firstErrors: 0, harmful: 0, redundant: 0, repairs: 0 };

  constructor(readonly totals: AgentTotals) {}

  takeCredit(credit: number): void {
    this.credit = (this.credit ?? 0) + credit;
  }

  takeCount(field: CountField, n: number): void {
    this.counts[field] += n;
  }

  /** The new revision's credit for the agent: only the difference to the replaced one is recorded. */
  netCredit(credit: number): void {
    addCredit(this.totals, credit - (this.credit ?? 0));
    this.credit = undefined;
  }

  /**
   * The replaced credit with nothing (yet) to net against — the agent is not in the new revision,
   * or its credit event did not come in the same batch: recorded as taken back, so that gained −
   * lost equals the sum whenever the metrics are read.
   */
  settle(): void {
    if (this.credit !== undefined) addCredit(this.totals, -this.credit);
    this.credit = undefined;
  }

  get unsettled(): boolean {
    return this.credit !== undefined;
  }

  /** Carries the counts a replaced revision had not used up yet over to the next correction (counts follow the highest revision count). */
  inherit(from: Replaced): void {
    for (const f of Object.keys(this.counts) as CountField[]) this.counts[f] += from.counts[f];
  }

  /** Counts `n` more of `field` for the agent, beyond what the replaced revision had counted already. */
  count(field: CountField, n: number): void {
    const covered = Math.min(this.counts[field], n);
    this.counts[field] -= covered;
    this.totals[field] += n - covered;
  }
}

/** Counts `n` more of `field`, netted against a replaced revision's when there is one. */
export function addCount(t: AgentTotals, field: CountField, n: number, replaced: Replaced | undefined): void {
  if (replaced !== undefined) replaced.count(field, n);
  else t[field] += n;
}
