/** Time source of the assembler, in milliseconds. Injected so replays and tests are deterministic. */
export interface Clock {
  /** Milliseconds; must not go backwards. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests, deterministic replay by record timestamps). */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number {
    return this.ms;
  }
  /** Moves forward by `ms` (≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be ≥ 0, got ${ms}`);
    this.ms += ms;
  }
  /** Sets the time; never earlier than now. */
  set(ms: number): void {
    if (ms < this.ms) throw new RangeError(`ManualClock.set: ${ms} is before now (${this.ms})`);
    this.ms = ms;
  }
}
