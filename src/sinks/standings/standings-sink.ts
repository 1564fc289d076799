/**
 * Keeps the fleet's standings (src/events/agent-board.ts) from every event the job publishes, for
 * the live page's agent table and the per-agent gauges and counters on `/metrics` — whichever of
 * them is on, so that a job with the live page off still exports them. In memory only: a restart
 * starts the standings empty (the output topics hold the history).
 */
import { AgentBoard } from '../../events/agent-board.js';
import type { CreditedEvents } from '../../events/credited-events.js';
import type { CreditEvent } from '../../events/schemas.js';
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
