import fc from 'fast-check';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { CoalitionValues } from '../../src/credit/games/coalition-values.js';

/** The store CachedGame had before: an lru-cache of `maxEntries` entries of size 1. */
const reference = (maxEntries: number) => new LRUCache<string, number>({ maxSize: maxEntries, sizeCalculation: () => 1 });

describe('CoalitionValues (CachedGame’s store: a Map while small, then an lru-cache)', () => {
  it('holds and evicts what an lru-cache of maxEntries holds and evicts, across its move from the Map (reads and writes in any order)', () => {
    const op = fc.tuple(fc.constantFrom('get', 'set'), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1000 }));
    fc.assert(
      fc.property(fc.constantFrom(1, 3, 64, 65, 70, 100, 65_536), fc.array(op, { minLength: 150, maxLength: 400 }), (maxEntries, ops) => {
        const store = new CoalitionValues(maxEntries);
        const lru = reference(maxEntries);
        for (const [what, k, v] of ops) {
          const key = `g:${k.toString(16)}`;
          if (what === 'get') expect(store.get(key)).toBe(lru.get(key));
          else {
            store.set(key, v);
            lru.set(key, v);
          }
          expect(store.size).toBe(lru.size);
        }
        // every key held by one is held by the other, with the same value
        for (let k = 0; k <= 100; k++) expect(store.get(`g:${k.toString(16)}`)).toBe(lru.get(`g:${k.toString(16)}`));
        expect([...store.values()].sort((a, b) => a - b)).toEqual([...lru.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('evicts the least recently read value, reads while it was a Map included', () => {
    const store = new CoalitionValues(66);
    for (let k = 0; k < 10; k++) store.set(`k${k}`, k);
    expect(store.get('k0')).toBe(0); // read while in the Map: k1 is now the least recently used
    for (let k = 10; k < 67; k++) store.set(`k${k}`, k); // the 65th moves them to the lru-cache, the 67th evicts one
    expect(store.size).toBe(66);
    expect(store.get('k1')).toBeUndefined();
    expect(store.get('k0')).toBe(0);
  });
});
