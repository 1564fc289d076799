/**
 * Keeps the fleet's standings (src/events/agent-board.ts) from every event the job publishes, for
 * the live page's agent table and the per-agent gauges and counters on `/metrics` — whichever of
 * them is on, so that a job with the live page off still exports them. In memory only: a restart
 * starts the standings empty (the output topics hold the history).
 */
import { AgentBoard } from '../../events/agent-board.js';
import type { CreditedEvents } from '../../events/credited-events.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { AgentBoardSnapshot } from '../../events/agent-board.js';
import type { EventSink } from '../types.js';

export class StandingsSink implements EventSink {
  readonly name = 'standings';

  constructor(readonly board: AgentBoard = new AgentBoard()) {}

  async start(): Promise<void> {}

  publish(events: readonly CreditEvent[]): void {
    this.board.add(events);
  }

  publishCredited(credited: CreditedEvents): void {
    this.board.add(credited.facts);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * A job's standings: at most `maxAgents` agents (telemetry.maxAgents), read by the job's /metrics
 * at each collection (the per-agent series and agent_credit_agents_dropped_total). One place for
 * the receiver job, the Kafka job and `view`, which each built and registered them alike.
 */
export function jobStandings(maxAgents: number, telemetry: { observeAgents(read: () => AgentBoardSnapshot): unknown }): StandingsSink {
  const standings = new StandingsSink(new AgentBoard({ maxAgents }));
  telemetry.observeAgents(() => standings.board.snapshot({ totals: true }));
  return standings;
}
