/** Kafka offsets as decimal strings (int64, non-negative, no leading zeros). */
import type { Episode } from '../model/episode.js';


/** Numeric order of two offset strings without BigInt: shorter is smaller, else lexicographic. */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The smaller of two offsets (numeric order); undefined only when both are. */
export function lowerOffset(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  return b === undefined || compareOffsets(a, b) <= 0 ? a : b;
}

/** First and last offsets one episode read from one partition (the `Episode.sources` element). */
export type SourceRange = Episode['sources'][number];

/**
 * Widens the matching range in `ranges` to include `offset`, or appends a new range. `firsts`, when
 * given, holds the first offsets of `ranges` and is kept in step (a new range's first offset is
 * added, a lowered one replaced).
 */
export function recordPosition(ranges: SourceRange[], topic: string, partition: number, offset: string, firsts?: PartitionOffsets): void {
  for (const r of ranges) {
    if (r.partition === partition && r.topic === topic) {
      if (compareOffsets(offset, r.firstOffset) < 0) {
        if (firsts !== undefined) {
          firsts.remove(topic, partition, r.firstOffset);
          firsts.add(topic, partition, offset);
        }
        r.firstOffset = offset;
      }
      if (compareOffsets(offset, r.lastOffset) > 0) r.lastOffset = offset;
      return;
    }
  }
  ranges.push({ topic, partition, firstOffset: offset, lastOffset: offset });
  firsts?.add(topic, partition, offset);
}

/** Smallest first offset of `ranges` on the partition, or undefined. */
export function firstOffsetOn(ranges: readonly SourceRange[], topic: string, partition: number): string | undefined {
  for (const r of ranges) if (r.partition === partition && r.topic === topic) return r.firstOffset;
  return undefined;
}

export function readsPartition(ranges: readonly SourceRange[], topic: string, partition: number): boolean {
  return firstOffsetOn(ranges, topic, partition) !== undefined;
}

/**
 * A multiset of offsets (one partition's) that answers its smallest member at once: the distinct
 * offsets in ascending order, with how many items hold each. Items arrive in read order and mostly
 * leave in it, so an add is almost always an append (or a count at the last offset: a Kafka record
 * holds many items) and a removal a count or a shift at the front; otherwise a binary search and a
 * splice over the distinct offsets — instead of a scan of every item held for each minimum.
 */
export class OffsetMultiset {
  /** Distinct offsets held, ascending (compareOffsets). */
  private readonly offsets: string[] = [];
  /** How many items hold `offsets[i]` (> 0). */
  private readonly counts: number[] = [];

  /** Distinct offsets held. */
  get size(): number {
    return this.offsets.length;
  }

  /** The smallest offset held, or undefined when empty. */
  min(): string | undefined {
    return this.offsets[0];
  }

  add(offset: string): void {
    const last = this.offsets.length - 1;
    const order = last < 0 ? 1 : compareOffsets(offset, this.offsets[last]!);
    if (order > 0) {
      this.offsets.push(offset);
      this.counts.push(1);
    } else if (order === 0) this.counts[last]!++;
    else {
      const i = this.indexOf(offset);
      if (this.offsets[i] === offset) this.counts[i]!++;
      else {
        this.offsets.splice(i, 0, offset);
        this.counts.splice(i, 0, 1);
      }
    }
  }

  /** Removes `n` items at `offset` (it must hold them). */
  remove(offset: string, n = 1): void {
    const i = this.offsets[0] === offset ? 0 : this.indexOf(offset);
    if ((this.counts[i]! -= n) > 0) return;
    if (i === 0) {
      this.offsets.shift();
      this.counts.shift();
    } else {
      this.offsets.splice(i, 1);
      this.counts.splice(i, 1);
    }
  }

  /** Index of `offset` in `offsets`, or where it would go (binary search). */
  private indexOf(offset: string): number {
    let lo = 0;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOffsets(this.offsets[mid]!, offset) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Offsets held per source partition (`OffsetMultiset`s by topic and partition; a partition holding
 * none has no entry): the smallest one of a partition at once, for the Kafka offset watermark,
 * which is asked for every partition at every commit and tick.
 */
export class PartitionOffsets {
  private readonly perPartition = new Map<string, Map<number, OffsetMultiset>>();

  /** The smallest offset held on the partition, or undefined. */
  min(topic: string, partition: number): string | undefined {
    return this.perPartition.get(topic)?.get(partition)?.min();
  }

  /** Source partitions (`topic/partition`) holding an offset, sorted. */
  partitionsHeld(): string[] {
    const held: string[] = [];
    for (const [topic, partitions] of this.perPartition) for (const partition of partitions.keys()) held.push(`${topic}/${partition}`);
    return held.sort();
  }

  add(topic: string, partition: number, offset: string): void {
    let partitions = this.perPartition.get(topic);
    if (partitions === undefined) this.perPartition.set(topic, (partitions = new Map()));
    let offsets = partitions.get(partition);
    if (offsets === undefined) partitions.set(partition, (offsets = new OffsetMultiset()));
    offsets.add(offset);
  }

  /** Removes `n` holds of `offset` on the partition (it must hold them). */
  remove(topic: string, partition: number, offset: string, n = 1): void {
    const partitions = this.perPartition.get(topic)!;
    const offsets = partitions.get(partition)!;
    offsets.remove(offset, n);
    if (offsets.size > 0) return;
    partitions.delete(partition);
    if (partitions.size === 0) this.perPartition.delete(topic);
  }

  /** Releases the first offset of each range (held through `recordPosition`). */
  removeFirsts(ranges: readonly SourceRange[]): void {
    for (const r of ranges) this.remove(r.topic, r.partition, r.firstOffset);
  }

  /** Forgets every offset held on the partition. */
  dropPartition(topic: string, partition: number): void {
    const partitions = this.perPartition.get(topic);
    partitions?.delete(partition);
    if (partitions?.size === 0) this.perPartition.delete(topic);
  }
}
