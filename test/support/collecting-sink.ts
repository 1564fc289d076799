import type { CreditEvent } from '../../src/events/schemas.js';
import type { EventSink } from '../../src/sinks/types.js';

/** An EventSink that keeps every event it is given, in order (replay tests). */
export class CollectingSink implements EventSink {
  readonly name = 'collect';
  events: CreditEvent[] = [];
  async start() {}
  publish(events: readonly CreditEvent[]) {
    this.events.push(...events);
  }
  async flush() {}
  async close() {}
}
