/**
 * Seeded pseudo-random numbers and OpenTelemetry ids for the scenario generator.
 *
 * Determinism is the contract: the same seed yields the same sequence on every platform
 * (pure 32-bit integer arithmetic, no `Math.random`, no clock).
 */
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { hash32 } from '../credit/hash32.js';

/** A deterministic PRNG (mulberry32). `next()` returns a float in [0, 1). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Mix the seed once so that nearby seeds (1, 2, 3...) do not start on nearby states.
    this.state = hash32(seed >>> 0 ^ 0x9e3779b9);
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('SeededRandom.pick: empty array');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i += 4) {
      out += this.nextUint32().toString(16).padStart(8, '0');
    }
    return out.slice(0, bytes * 2);
  }
}


/** Derives the seed of the `index`-th child run from a parent seed (fleets). */
export function childSeed(seed: number, index: number): number {
  return hash32((hash32(seed >>> 0) ^ Math.imul(index + 1, 0x27d4eb2d)) >>> 0);
}

/**
 * OpenTelemetry `IdGenerator` driven by a seed, for reproducible trace and span ids.
 * Never yields the invalid all-zero id.
 */
export class SeededIdGenerator implements IdGenerator {
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  generateTraceId(): string {
    return this.nonZero(16);
  }

  generateSpanId(): string {
    return this.nonZero(8);
  }

  private nonZero(bytes: number): string {
    for (;;) {
      const id = this.random.hex(bytes);
      if (!/^0+$/.test(id)) return id;
    }
  }
}
