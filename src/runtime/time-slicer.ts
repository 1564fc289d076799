/**
 * Cooperative time slicing for CPU work on the event-loop thread.
 *
 * Credit runs on the consumer's thread by default, and a closed batch of episodes is a chain of
 * promise continuations (microtasks): without a break, socket I/O waits until the whole chain is
 * done. On the Kafka pipeline that held the producer's acknowledgements back by 200–450 ms, so
 * its events went out in one burst after the input was read, with the broker's share of the work
 * no longer overlapping the pipeline's own. `yieldIfDue()` ends the current turn of the event
 * loop once it has run for `sliceMs`, so I/O callbacks (produce acks, fetch responses,
 * heartbeats) run between slices.
 */

/**
 * Longest stretch of credit work on the event-loop thread before I/O gets a turn (ms). Measured
 * on the bench fleet through the Kafka pipeline (4 runs each, credit on the consumer thread):
 * event-loop delay p99 200–230 → 36–63 ms, max 243–364 → 52–88 ms; throughput unchanged within
 * the machine's noise. 5 ms cut produce requests smaller and cost CPU.
 */
export const CREDIT_SLICE_MS = 10;

/** Yields to the event loop when the current turn has lasted `sliceMs` or more. */
export class TimeSlicer {
  /** Start of the current event-loop turn as seen by this slicer; -1 when none is open. */
  private sliceStart = -1;
  private yields = 0;

  /** @param sliceMs longest stretch of work between turns of the event loop; 0 yields every time. */
  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Resolves at once while the current turn is younger than `sliceMs`; otherwise after the event
   * loop has polled for I/O (a `setImmediate`, which runs after the poll phase).
   */
  yieldIfDue(): Promise<void> | undefined {
    const now = this.now();
    if (this.sliceStart < 0) {
      this.openSlice(now);
      return undefined;
    }
    if (now - this.sliceStart < this.sliceMs) return undefined;
    this.yields++;
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** How many times `yieldIfDue` has given the event loop a turn. */
  get yieldCount(): number {
    return this.yields;
  }

  private openSlice(now: number): void {
    this.sliceStart = now;
    // Runs first in the next check phase: whatever runs after it starts a new slice.
    setImmediate(() => {
      this.sliceStart = -1;
    });
  }
}
