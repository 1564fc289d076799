/**
 * A credit worker's value-function counters, kept in memory the pool's thread shares with it (one
 * SharedArrayBuffer per worker). The worker writes a counter the moment it changes; the pool reads
 * them when metrics are collected, and once more after the worker has stopped. What a worker
 * counted therefore survives its death however it dies — out of memory (no JavaScript runs any
 * more), a crash, terminated at runtime.creditTimeoutMs — where counters sent with each episode's
 * reply lost everything the worker had counted since its last reply: the calls of the episode it
 * died in and of those beside it, a judge's retries and timeouts. And nothing crosses per episode.
 *
 * Each counter is one BigInt64 element written and read with Atomics: never torn (a Float64
 * element may be, by the memory model), and a worker stopped between two writes leaves each
 * counter at a value it had. The counters are independent Prometheus counters, so no snapshot of
 * all of them together is needed.
 */
import type { ObservedStats } from '../../telemetry/self-metrics.js';

/** The value-function counters a worker's game keeps (src/runtime/local-stages.ts `gameFactoryOf`). */
export const SHARED_STAT_KEYS = [
  'valueFunctionCalls',
  'valueFunctionCacheHits',
  'valueFunctionFailures',
  'valueFunctionTimeouts',
  'valueFunctionRetries',
  'valueFunctionOutOfScale',
] as const satisfies readonly (keyof ObservedStats)[];

type SharedStatKey = (typeof SHARED_STAT_KEYS)[number];

/** Not written: a counter the worker's game does not keep (a module game has no cache hits or retries) is left out, as in the main thread. */
const UNSET = -1n;

/** A block for one worker's counters, none written yet. */
export function sharedStatsBuffer(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(SHARED_STAT_KEYS.length * BigInt64Array.BYTES_PER_ELEMENT);
  new BigInt64Array(buffer).fill(UNSET);
  return buffer;
}

/**
 * The worker's side: `write` stores the counters that changed since the last write (usually one:
 * a BigInt and an atomic store), so calling it after every value-function call stays cheap.
 */
export class SharedStatsWriter {
  private readonly cells: BigInt64Array;
  private readonly last: (number | undefined)[] = SHARED_STAT_KEYS.map(() => undefined);

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
  }

  /** `stats` are cumulative counts (non-negative integers); a missing one is left as it is. */
  write(stats: ObservedStats): void {
    for (let i = 0; i < SHARED_STAT_KEYS.length; i++) {
      const v = stats[SHARED_STAT_KEYS[i]!];
      if (v === undefined || v === this.last[i]) continue;
      this.last[i] = v;
      // rounded: BigInt throws on a fraction, and a metric must never end a worker
      Atomics.store(this.cells, i, BigInt(Math.round(v)));
    }
  }
}

/** The counters in `buffer` as they are now: those the worker has written. */
export function readSharedStats(buffer: SharedArrayBuffer): Pick<ObservedStats, SharedStatKey> {
  const cells = new BigInt64Array(buffer);
  const out: Pick<ObservedStats, SharedStatKey> = {};
  SHARED_STAT_KEYS.forEach((k, i) => {
    const v = Atomics.load(cells, i);
    if (v !== UNSET) out[k] = Number(v);
  });
  return out;
}
