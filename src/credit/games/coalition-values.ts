/**
 * `CachedGame`'s store of coalition values: least recently used evicted past `maxEntries`.
 *
 * A plain Map while it holds few values, an lru-cache once it holds more than SMALL. Every
 * episode makes a CachedGame for its agent game, and the built-in game's closed form then stores
 * two values (v(N), v(∅)): an LRUCache per episode — its constructor's arrays, size tracking and
 * closures — was most of what the cache cost (~13 ms of CPU per pass of the 1,500-episode bench
 * fleet in lru-cache's own code). The Map keeps the order an LRU would: a read or write moves its
 * key to the end (delete, then set; a Map iterates in insertion order), so the entries go over to
 * the lru-cache oldest first, and what it evicts later is what it would have evicted from the start.
 */
import { LRUCache } from 'lru-cache';

/** Values held in the Map before they move to an lru-cache: an exact run of 6 players needs 64. */
const SMALL = 64;

export class CoalitionValues {
  private small: Map<string, number> | undefined;
  private lru: LRUCache<string, number> | undefined;

  constructor(private readonly maxEntries: number) {
    // maxSize, each entry size 1, rather than `max`: `max` preallocates that many slots at construction
    if (maxEntries <= SMALL) this.lru = new LRUCache({ maxSize: maxEntries, sizeCalculation: () => 1 });
    else this.small = new Map();
  }

  get size(): number {
    return this.small !== undefined ? this.small.size : this.lru!.size;
  }

  /** The value, made the most recently used; undefined when not held. */
  get(key: string): number | undefined {
    const small = this.small;
    if (small === undefined) return this.lru!.get(key);
    const v = small.get(key);
    if (v !== undefined) {
      small.delete(key);
      small.set(key, v);
    }
    return v;
  }

  /** Holds `v` under `key` as the most recently used; the least recently used goes past `maxEntries`. */
  set(key: string, v: number): void {
    const small = this.small;
    if (small === undefined) {
      this.lru!.set(key, v);
      return;
    }
    small.delete(key);
    small.set(key, v);
    if (small.size > SMALL) {
      const lru = new LRUCache<string, number>({ maxSize: this.maxEntries, sizeCalculation: () => 1 });
      for (const [k, x] of small) lru.set(k, x);
      this.lru = lru;
      this.small = undefined;
    }
  }

  /** The values held, in no particular order. */
  values(): IterableIterator<number> {
    return this.small !== undefined ? this.small.values() : this.lru!.values();
  }
}
