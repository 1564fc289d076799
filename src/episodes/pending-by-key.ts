/**
 * Items that arrived before any span of their episode — evaluations, and the GenAI content
 * events of a trace (content spans, src/conventions/content-events.ts) — held by join key
 * (episode id or trace id) until the first span comes, bounded by count (oldest dropped first)
 * and by age (`ttlMs`). Both drops are counted by the caller via the returned numbers. Their
 * source positions hold the Kafka offset watermark (`lowWatermark`).
 *
 * Entries are kept in arrival order in one Map (insertion order), so expiry pops from the front.
 */
import type { Episode, SourcePosition } from '../model/episode.js';
import { PartitionOffsets } from './offsets.js';

export interface PendingItem<T> {
  item: T;
  position: SourcePosition | undefined;
  arrivedAtMs: number;
  /** `bytesOf(item)` when it arrived (0 without `bytesOf`): estimated once, not again on removal. */
  bytes: number;
}

export interface PendingByKeyOptions<T> {
  /** Most items held; the oldest key goes first beyond it. */
  readonly max: number;
  /** Ms a key waits (see `refreshOnAdd`) before its items are dropped. */
  readonly ttlMs: number;
  /**
   * The TTL counts from the key's latest item, not its first: content events of a trace keep
   * coming while its first LLM call runs, and the trace's spans come only when calls end.
   */
  readonly refreshOnAdd?: boolean;
  /** With `maxBytes`: estimated bytes of an item; the oldest key goes first beyond the total. */
  readonly bytesOf?: (item: T) => number;
  readonly maxBytes?: number;
  /**
   * Remember the key and source position of each item dropped by age or count (`takeDropped`):
   * the Kafka runtime stops naming such a key in its replay metadata, so a replay does not read
   * the dropped item again (and count it dropped again). Items without a position are not kept.
   */
  readonly keepDropped?: boolean;
  /**
   * Remember why the items of this many of the latest dropped keys were dropped (`takeWhyDropped`),
   * oldest forgotten first; 0 (default): none. The assembler tells a run whose verdict came before
   * its spans and was dropped from one for which none came: both closed "no evaluation joined it".
   */
  readonly rememberDropped?: number;
}

/**
 * Why a key's items were dropped: `over-limit` — `max` (or `maxBytes`) was full and the key was
 * the oldest; `expired` — it waited `ttlMs`. A revoked partition's items are not lost (the new
 * owner reads them): not remembered.
 */
export type DropCause = NonNullable<Episode['evaluationDropped']>; // the episode carries it: one definition, the schema's

/** Most dropped items remembered between two `takeDropped` calls (the rest are not). */
const MAX_KEPT_DROPPED = 100_000;

export class PendingByKey<T> {
  /** key → items waiting under it (arrival order); Map order = first arrival per key (latest with `refreshOnAdd`). */
  private readonly byKey = new Map<string, PendingItem<T>[]>();
  private count = 0;
  private bytesHeld = 0;
  /**
   * Offsets of the items held, per source partition (`topic/partition`; partitions holding none
   * have no entry): `lowWatermark` is asked for every partition at every commit and tick, and a
   * scan of every item held made each commit O(items waiting) — the content store may hold tens
   * of thousands of items, and evaluations waiting for their spans pile up under load.
   */
  private readonly offsets = new PartitionOffsets();
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly refreshOnAdd: boolean;
  private readonly bytesOf: ((item: T) => number) | undefined;
  private readonly maxBytes: number;
  private readonly keepDropped: boolean;
  private dropped: { key: string; position: SourcePosition }[] = [];
  private readonly rememberDropped: number;
  /** The latest dropped keys and why (`rememberDropped`); Map order = order dropped. */
  private readonly whyDropped = new Map<string, DropCause>();

  constructor(options: PendingByKeyOptions<T>) {
    this.max = options.max;
    this.ttlMs = options.ttlMs;
    this.refreshOnAdd = options.refreshOnAdd ?? false;
    this.bytesOf = options.bytesOf;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.keepDropped = options.keepDropped ?? false;
    this.rememberDropped = options.rememberDropped ?? 0;
  }

  /** Some dropped key is remembered (`rememberDropped`): callers skip `takeWhyDropped` when not. */
  get remembersDropped(): boolean {
    return this.whyDropped.size > 0;
  }

  /** Why `key`'s items were dropped, if it is remembered; forgotten once asked (the caller keeps the answer). */
  takeWhyDropped(key: string): DropCause | undefined {
    const why = this.whyDropped.get(key);
    if (why !== undefined) this.whyDropped.delete(key);
    return why;
  }

  /** The keys and positions of the items dropped by age or count since the last call (`keepDropped`). */
  takeDropped(): { key: string; position: SourcePosition }[] {
    const out = this.dropped;
    this.dropped = [];
    return out;
  }

  private noteDropped(key: string, list: readonly PendingItem<T>[], why: DropCause): void {
    if (this.rememberDropped > 0) {
      this.whyDropped.delete(key); // to the back: dropped again
      this.whyDropped.set(key, why);
      if (this.whyDropped.size > this.rememberDropped) this.whyDropped.delete(this.whyDropped.keys().next().value!);
    }
    if (!this.keepDropped) return;
    for (const p of list) if (p.position !== undefined && this.dropped.length < MAX_KEPT_DROPPED) this.dropped.push({ key, position: p.position });
  }

  get size(): number {
    return this.count;
  }

  /** Source partitions (`topic/partition`) some waiting item was read from. */
  partitionsHeld(): string[] {
    return this.offsets.partitionsHeld();
  }

  /** Estimated bytes held (0 without `bytesOf`). */
  get bytes(): number {
    return this.bytesHeld;
  }

  private static bytesOfList(list: readonly PendingItem<unknown>[]): number {
    let n = 0;
    for (const p of list) n += p.bytes;
    return n;
  }

  private remove(key: string, list: readonly PendingItem<T>[]): void {
    this.byKey.delete(key);
    this.count -= list.length;
    this.bytesHeld -= PendingByKey.bytesOfList(list);
    // items of one key mostly come from one record: one removal per run of equal positions
    for (let i = 0; i < list.length; ) {
      const at = list[i]!.position;
      let j = i + 1;
      while (j < list.length && samePosition(list[j]!.position, at)) j++;
      if (at !== undefined) this.offsets.remove(at.topic, at.partition, at.offset, j - i);
      i = j;
    }
  }

  /** Holds an item; returns how many old ones were dropped to stay within `max`. */
  add(key: string, item: T, position: SourcePosition | undefined, nowMs: number): number {
    let list = this.byKey.get(key);
    if (list === undefined) {
      list = [];
      this.byKey.set(key, list);
    } else if (this.refreshOnAdd) {
      // to the back: Map order stays the order of the keys' latest arrivals (expire pops the front)
      this.byKey.delete(key);
      this.byKey.set(key, list);
    }
    // copy the position: callers may pass their whole source record (with its bytes)
    const pos = position === undefined ? undefined : { topic: position.topic, partition: position.partition, offset: position.offset };
    const bytes = this.bytesOf === undefined ? 0 : this.bytesOf(item);
    list.push({ item, position: pos, arrivedAtMs: nowMs, bytes });
    this.count++;
    if (pos !== undefined) this.offsets.add(pos.topic, pos.partition, pos.offset);
    this.bytesHeld += bytes;
    let dropped = 0;
    while (this.count > this.max || this.bytesHeld > this.maxBytes) {
      const n = this.dropOldestKey();
      if (n === 0) break;
      dropped += n;
    }
    return dropped;
  }

  private dropOldestKey(): number {
    const first = this.byKey.keys().next();
    if (first.done) return 0;
    const list = this.byKey.get(first.value)!;
    this.remove(first.value, list);
    this.noteDropped(first.value, list, 'over-limit');
    return list.length;
  }

  /** Whether items wait under `key`. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Removes and returns the items waiting under `key`. */
  take(key: string): PendingItem<T>[] | undefined {
    const list = this.byKey.get(key);
    if (list === undefined) return undefined;
    this.remove(key, list);
    return list;
  }

  /** Drops keys whose first item is older than the TTL; returns how many items. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const [key, list] of this.byKey) {
      // map order = age order of the first arrival (of the latest with refreshOnAdd)
      const since = this.refreshOnAdd ? list[list.length - 1]!.arrivedAtMs : list[0]!.arrivedAtMs;
      if (nowMs - since < this.ttlMs) break;
      this.remove(key, list);
      this.noteDropped(key, list, 'expired');
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
      this.bytesHeld -= PendingByKey.bytesOfList(list) - PendingByKey.bytesOfList(kept);
      if (kept.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, kept);
    }
    this.offsets.dropPartition(topic, partition);
    return dropped;
  }

  /** Smallest offset of a waiting item on the partition (the watermark must hold it). */
  lowWatermark(topic: string, partition: number): string | undefined {
    return this.offsets.min(topic, partition);
  }
}

function samePosition(a: SourcePosition | undefined, b: SourcePosition | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.offset === b.offset && a.partition === b.partition && a.topic === b.topic);
}
