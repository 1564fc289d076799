/**
 * The sink interface (docs/contracts.md): explicit lifecycle like OpenTelemetry's exporters.
 * `publish` may be called only between `start` and `close`; `flush` resolves once everything
 * published so far has left the process (written, sent or acknowledged); `close` flushes first.
 */
import type { CreditedEvents } from '../events/credited-events.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Episode } from '../model/episode.js';

/** Optional context of a publish: the closed episode the events were computed from. */
export interface PublishContext {
  episode?: Episode;
}

export interface EventSink {
  readonly name: string;
  start(): Promise<void>;
  publish(events: readonly CreditEvent[], ctx?: PublishContext): void | Promise<void>;
  /**
   * `publish` for a sink that reads only each event's facts and JSON (src/events/credited-events.ts):
   * the Kafka job hands it the events in that form, as a credit worker sends them, and never
   * builds the event objects on its consumer thread.
   */
  publishCredited?(credited: CreditedEvents, ctx?: PublishContext): void | Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}
