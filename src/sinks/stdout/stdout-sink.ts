/**
 * JSON-lines sink: one CreditEvent per line on stdout (or any writable, e.g. a `--out` file).
 * bigint-free by construction (events are plain JSON per src/events/schemas.ts).
 *
 * Backpressure: when the stream's buffer is full, `publish` waits for `drain` before writing
 * more, so a slow consumer of stdout slows credit down instead of growing memory.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { creditedFromEvents, type CreditedEvents, type EventFacts } from '../../events/credited-events.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { EventSink } from '../types.js';

export interface StdoutSinkOptions {
  /** Default process.stdout. */
  stream?: Writable;
  /** Only these event types; empty/undefined = all. */
  eventTypes?: readonly CreditEvent['event_type'][];
  /** End the stream on close (files yes, stdout no). */
  endOnClose?: boolean;
  /** Called with the number of events written (metrics). */
  onWritten?: (events: readonly EventFacts[]) => void;
}

export class StdoutSink implements EventSink {
  readonly name = 'stdout';
  private readonly stream: Writable;
  private readonly types: ReadonlySet<string> | undefined;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  /** First write error (e.g. EPIPE when the reader of stdout went away); later publishes reject with it. */
  private failure: Error | undefined;

  constructor(private readonly options: StdoutSinkOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.types = options.eventTypes?.length ? new Set(options.eventTypes) : undefined;
    // Without a listener a closed pipe (EPIPE) would crash the process from an 'error' event.
    this.stream.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  async start(): Promise<void> {}

  publish(events: readonly CreditEvent[]): Promise<void> {
    return this.publishCredited(creditedFromEvents(events));
  }

  publishCredited(credited: CreditedEvents): Promise<void> {
    if (this.closed) return Promise.reject(new Error('StdoutSink is closed'));
    if (this.failure) return Promise.reject(new Error(`cannot write events: ${this.failure.message}`, { cause: this.failure }));
    const selected: EventFacts[] = [];
    const lines: string[] = [];
    credited.facts.forEach((e, i) => {
      if (this.types && !this.types.has(e.event_type)) return;
      selected.push(e);
      lines.push(credited.text(i));
    });
    if (selected.length === 0) return this.chain;
    return this.writeLines(lines, () => this.options.onWritten?.(selected));
  }

  /**
   * Writes JSON lines in order with the events (other records on the same stream, e.g. training
   * records: src/sinks/stdout/training-record-sink.ts), waiting for `drain` when the buffer is full.
   */
  writeLines(lines: readonly string[], onWritten?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('StdoutSink is closed'));
    if (lines.length === 0) return this.chain;
    const text = lines.join('\n') + '\n';
    const written = this.chain.then(async () => {
      if (this.failure) throw new Error(`cannot write events: ${this.failure.message}`, { cause: this.failure });
      // events.once rejects if the stream emits 'error' while we wait.
      if (!this.stream.write(text)) await once(this.stream, 'drain');
      onWritten?.();
    });
    // The chain itself never rejects, so one failed write does not block flush/close.
    this.chain = written.catch(() => undefined);
    return written;
  }

  async flush(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.options.endOnClose) {
      const s = this.stream;
      await new Promise<void>((resolve) => s.end(() => resolve()));
    }
  }
}
