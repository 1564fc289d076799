/** Timing helpers (wall clock, performance.now()). */
import { median } from './stats.js';

export interface Throughput {
  /** Items per second: median over rounds. */
  perSecond: number;
  rounds: number[];
  items: number;
}

/**
 * Calls `pass()` (which processes a fixed workload and returns its item count) repeatedly: one
 * warm-up pass, then `rounds` rounds of at least `minMs` each. Reports items/s per round.
 */
export function throughput(pass: () => number, minMs: number, rounds = 3): Throughput {
  pass(); // warm-up: JIT, caches
  const perRound: number[] = [];
  let items = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      n += pass();
      t = performance.now();
    } while (t - t0 < minMs);
    items += n;
    perRound.push((n * 1000) / (t - t0));
  }
  return { perSecond: median(perRound), rounds: perRound, items };
}
