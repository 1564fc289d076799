import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filterAbortedMessages, kafkajsAbortedFilterReport, type FetchedMessage } from '../../src/kafka/kafkajs-aborted-filter.js';
import '../../src/kafka/kafkajs-module.js';

const require = createRequire(import.meta.url);
const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** kafkajs 2.2.4's own filter, compiled from its source (the module cache holds ours). */
function kafkajsOriginal(): (a: { messages: FetchedMessage[]; abortedTransactions: { producerId: string; firstOffset: string }[] }) => FetchedMessage[] {
  const file = join(dirname(require.resolve('kafkajs/package.json')), 'src/consumer/filterAbortedMessages.js');
  const mod = { exports: {} as unknown };
  const req = createRequire(file);
  new Function('require', 'module', 'exports', readFileSync(file, 'utf8'))(req, mod, mod.exports);
  return mod.exports as ReturnType<typeof kafkajsOriginal>;
}

const rec = (offset: number, producerId: string, inTransaction = true): FetchedMessage => ({ offset: String(offset), key: Buffer.from(producerId), batchContext: { producerId, inTransaction } });
const marker = (offset: number, producerId: string, key: Buffer): FetchedMessage => ({ offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true } });

describe('read_committed filter (kafkajs-aborted-filter.ts)', () => {
  it('is what the product loads kafkajs with', () => {
    expect(kafkajsAbortedFilterReport()).toEqual({ installed: true });
    const file = join(dirname(require.resolve('kafkajs/package.json')), 'src/consumer/filterAbortedMessages.js');
    expect(require(file)).toBe(filterAbortedMessages);
  });

  // A fetch from offset 2: producers 10 (records 0-1) and 17 (records 2-3) both aborted, 14 committed.
  const fetched = [rec(2, '17'), rec(3, '17'), rec(4, '14'), marker(5, '10', ABORT), marker(6, '17', ABORT), marker(7, '14', COMMIT), rec(8, '14')];
  const aborted = [{ producerId: '10', firstOffset: '0' }, { producerId: '17', firstOffset: '2' }];

  it('drops the first record of the second of two interleaved aborted transactions (kafkajs 2.2.4 delivers it)', () => {
    const ours = filterAbortedMessages({ messages: fetched, abortedTransactions: aborted }).filter((m) => !m.isControlRecord);
    expect(ours.map((m) => m.offset)).toEqual(['4', '8']);
    const theirs = kafkajsOriginal()({ messages: fetched, abortedTransactions: aborted }).filter((m) => !m.isControlRecord);
    expect(theirs.map((m) => m.offset)).toEqual(['2', '4', '8']);
  });

  it('keeps non-transactional records and records of other producers; a producer is aborted only until its ABORT marker', () => {
    const msgs = [rec(0, '5'), rec(1, '9', false), rec(2, '5'), marker(3, '5', ABORT), rec(4, '5'), marker(5, '5', COMMIT)];
    const out = filterAbortedMessages({ messages: msgs, abortedTransactions: [{ producerId: '5', firstOffset: '0' }] }).filter((m) => !m.isControlRecord);
    expect(out.map((m) => m.offset)).toEqual(['1', '4']);
    expect(filterAbortedMessages({ messages: msgs, abortedTransactions: [] })).toBe(msgs);
  });

  it('a data record keyed with four zero bytes (an integer key 0) does not end its aborted transaction (kafkajs 2.2.4: it does)', () => {
    const zeroKeyed: FetchedMessage = { offset: '1', key: Buffer.from([0, 0, 0, 0]), batchContext: { producerId: '3', inTransaction: true } };
    const msgs = [rec(0, '3'), zeroKeyed, rec(2, '3'), marker(3, '3', ABORT)];
    const aborted3 = [{ producerId: '3', firstOffset: '0' }];
    expect(filterAbortedMessages({ messages: msgs, abortedTransactions: aborted3 }).filter((m) => !m.isControlRecord)).toEqual([]);
    expect(kafkajsOriginal()({ messages: msgs, abortedTransactions: aborted3 }).filter((m) => !m.isControlRecord).map((m) => m.offset)).toEqual(['1', '2']);
  });

  it('matches a reference model on random interleavings of transactions', () => {
    // Model: a log of transactions (producer, records, committed?) interleaved, then markers; a
    // fetch from any offset with the broker's aborted list (transactions whose marker is at or
    // after the fetch offset) must yield exactly the committed and non-transactional records.
    const txs = fc.array(fc.record({ producer: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 3 }), commit: fc.boolean() }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(txs, fc.nat(), (spec, startSeed) => {
        const log: (FetchedMessage & { committed: boolean })[] = [];
        const list: { producerId: string; firstOffset: string; end: number }[] = [];
        let off = 0;
        // one open transaction per producer at a time: end each producer's open one before its next
        const open = new Map<number, { first: number; commit: boolean }>();
        const end = (p: number) => {
          const t = open.get(p)!;
          log.push({ ...marker(off, String(p), t.commit ? COMMIT : ABORT), committed: false });
          if (!t.commit) list.push({ producerId: String(p), firstOffset: String(t.first), end: off });
          off++;
          open.delete(p);
        };
        for (const t of spec) {
          if (open.has(t.producer)) end(t.producer);
          open.set(t.producer, { first: off, commit: t.commit });
          for (let i = 0; i < t.n; i++) log.push({ ...rec(off++, String(t.producer)), committed: t.commit });
        }
        for (const p of [...open.keys()]) end(p);
        const start = startSeed % log.length;
        const messages = log.filter((m) => Number(m.offset) >= start);
        const abortedTransactions = list.filter((t) => t.end >= start).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
        const got = filterAbortedMessages({ messages, abortedTransactions }).filter((m) => !m.isControlRecord).map((m) => m.offset);
        expect(got).toEqual(messages.filter((m) => !m.isControlRecord && m.committed).map((m) => m.offset));
      }),
    );
  });
});
