/**
 * Training records instead of events (`agent-credit replay --episodes`): the events go through a
 * `TrainingLedger`, and each episode is written once, as one JSON line (src/events/training-record.ts),
 * when the replay ends — its last revision, the pairs to keep, `complete` when its counts match.
 * Beyond the ledger's `maxEpisodes` or `maxHeldBytes` the oldest are written as they are pushed out (`early`), so a
 * long replay's memory stays bounded; a later revision of one of those is written again
 * (`supersedes_revision`).
 */
import { TrainingLedger, type TrainingLedgerOptions, type TrainingLedgerStats } from '../../events/training-ledger.js';
import { trainingRecord } from '../../events/training-record.js';
import { eventJson } from '../../events/event-json.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { EventSink } from '../types.js';
import { StdoutSink, type StdoutSinkOptions } from './stdout-sink.js';

export interface TrainingRecordSinkOptions extends Omit<StdoutSinkOptions, 'eventTypes' | 'onWritten'> {
  /** The ledger's bounds (finalAfterMs plays no part: everything is written at close). */
  ledger?: Omit<TrainingLedgerOptions, 'finalAfterMs'>;
  /** Called with the events taken in (the replay summary counts events, not records). */
  onEvents?: (events: readonly CreditEvent[]) => void;
}

export class TrainingRecordSink implements EventSink {
  readonly name = 'training-records';
  private readonly out: StdoutSink;
  private readonly ledger: TrainingLedger;

  constructor(private readonly options: TrainingRecordSinkOptions = {}) {
    this.out = new StdoutSink(options);
    this.ledger = new TrainingLedger(options.ledger ?? {});
  }

  async start(): Promise<void> {}

  publish(events: readonly CreditEvent[]): Promise<void> {
    for (const e of events) this.ledger.add(e, eventJson(e).length);
    this.options.onEvents?.(events);
    // nothing is final before the end (-Infinity): only episodes pushed out by maxEpisodes
    return this.write(Number.NEGATIVE_INFINITY);
  }

  stats(): TrainingLedgerStats {
    return this.ledger.stats();
  }

  flush(): Promise<void> {
    return this.out.flush();
  }

  async close(): Promise<void> {
    await this.write(Number.POSITIVE_INFINITY);
    await this.out.close();
  }

  private write(nowMs: number): Promise<void> {
    return this.out.writeLines(this.ledger.release(nowMs).map((e) => JSON.stringify(trainingRecord(e))));
  }
}
