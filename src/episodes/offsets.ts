/** Kafka offsets as decimal strings (int64, non-negative, no leading zeros). */
import type { Episode } from '../model/episode.js';


/** Numeric order of two offset strings without BigInt: shorter is smaller, else lexicographic. */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First and last offsets one episode read from one partition (the `Episode.sources` element). */
export type SourceRange = Episode['sources'][number];

/** Widens the matching range in `ranges` to include `offset`, or appends a new range. */
export function recordPosition(ranges: SourceRange[], topic: string, partition: number, offset: string): void {
  for (const r of ranges) {
    if (r.partition === partition && r.topic === topic) {
      if (compareOffsets(offset, r.firstOffset) < 0) r.firstOffset = offset;
      if (compareOffsets(offset, r.lastOffset) > 0) r.lastOffset = offset;
      return;
    }
  }
  ranges.push({ topic, partition, firstOffset: offset, lastOffset: offset });
}

/** Smallest first offset of `ranges` on the partition, or undefined. */
export function firstOffsetOn(ranges: readonly SourceRange[], topic: string, partition: number): string | undefined {
  for (const r of ranges) if (r.partition === partition && r.topic === topic) return r.firstOffset;
  return undefined;
}

export function readsPartition(ranges: readonly SourceRange[], topic: string, partition: number): boolean {
  return firstOffsetOn(ranges, topic, partition) !== undefined;
}
