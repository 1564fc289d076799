/**
 * Items that arrived before any span of their episode — evaluations, and the GenAI content
 * events of a trace (content spans, src/conventions/content-events.ts) — held by join key
 * (episode id or trace id) until the first span comes, bounded by count (oldest dropped first)
 * and by age (`ttlMs`). Both drops are counted by the caller via the returned numbers. Their
 * source positions hold the Kafka offset watermark (`lowWatermark`).
 *
 * Entries are kept in arrival order in one Map (insertion order), so expiry pops from the front.
 */
import type { SourcePosition } from '../model/episode.js';
import { compareOffsets } from './offsets.js';

export interface PendingItem<T> {
  item: T;
  position: SourcePosition | undefined;
  arrivedAtMs: number;
}

export class PendingByKey<T> {
  /** key → items waiting under it (arrival order); Map order = first arrival per key. */
  private readonly byKey = new Map<string, PendingItem<T>[]>();
  private count = 0;

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Holds an item; returns how many old ones were dropped to stay within `max`. */
  add(key: string, item: T, position: SourcePosition | undefined, nowMs: number): number {
    let list = this.byKey.get(key);
    if (list === undefined) {
      list = [];
      this.byKey.set(key, list);
    }
    // copy the position: callers may pass their whole source record (with its bytes)
    const pos = position === undefined ? undefined : { topic: position.topic, partition: position.partition, offset: position.offset };
    list.push({ item, position: pos, arrivedAtMs: nowMs });
    this.count++;
    let dropped = 0;
    while (this.count > this.max) dropped += this.dropOldestKey();
    return dropped;
  }

  private dropOldestKey(): number {
    const first = this.byKey.keys().next();
    if (first.done) return 0;
    const n = this.byKey.get(first.value)!.length;
    this.byKey.delete(first.value);
    this.count -= n;
    return n;
  }

  /** Removes and returns the items waiting under `key`. */
  take(key: string): PendingItem<T>[] | undefined {
    const list = this.byKey.get(key);
    if (list === undefined) return undefined;
    this.byKey.delete(key);
    this.count -= list.length;
    return list;
  }

  /** Drops keys whose first item is older than the TTL; returns how many items. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const [key, list] of this.byKey) {
      if (nowMs - list[0]!.arrivedAtMs < this.ttlMs) break; // map order = age order of first arrival
      this.byKey.delete(key);
      this.count -= list.length;
      dropped += list.length;
    }
    return dropped;
  }

  /** Drops items read from a partition (revoked); returns how many. */
  dropPartition(topic: string, partition: number): number {
    let dropped = 0;
    for (const [key, list] of this.byKey) {
      const kept = list.filter((p) => !(p.position?.topic === topic && p.position.partition === partition));
      if (kept.length === list.length) continue;
      dropped += list.length - kept.length;
      this.count -= list.length - kept.length;
      if (kept.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, kept);
    }
    return dropped;
  }

  /** Smallest offset of a waiting item on the partition (the watermark must hold it). */
  lowWatermark(topic: string, partition: number): string | undefined {
    let low: string | undefined;
    for (const list of this.byKey.values()) {
      for (const p of list) {
        if (p.position?.topic === topic && p.position.partition === partition && (low === undefined || compareOffsets(p.position.offset, low) < 0)) low = p.position.offset;
      }
    }
    return low;
  }
}
