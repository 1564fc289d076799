/**
 * ResponseIndex logs generating spans and indexes them only when asked: it must answer exactly as
 * an eager Map (set on an LLM span unless a generating span holds the id — the first stays —, a
 * fetch never replacing a generating span, the oldest id forgotten beyond the memory), for any
 * interleaving of notes and lookups.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResponseIndex, type ResponseSpan } from '../../src/episodes/response-index.js';

/** The eager Map of EpisodeAssembler before the log (its noteResponse and lookups), keeping the first generating span of an id. */
class EagerResponses {
  private readonly responses = new Map<string, ResponseSpan>();
  constructor(private readonly memory: number) {}
  note(responseId: string, traceId: string, spanId: string, fetch: boolean): boolean {
    const known = this.responses.get(responseId);
    if (fetch && known !== undefined && !known.fetch) return false;
    if (known !== undefined && !known.fetch) return true; // the first generating span stays
    this.responses.set(responseId, { traceId, spanId, fetch });
    if (this.responses.size > this.memory) this.responses.delete(this.responses.keys().next().value!);
    return true;
  }
  get(responseId: string): ResponseSpan | undefined {
    return this.responses.get(responseId);
  }
}

describe('ResponseIndex', () => {
  it('answers as the eager Map for any notes (generating and fetch spans, repeated ids) and lookups, at any memory', () => {
    const id = fc.integer({ min: 0, max: 12 }).map((n) => `resp_${n}`);
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('note' as const), id, span: fc.nat(1000), fetch: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), id }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 80 }), (memory, ops) => {
        const index = new ResponseIndex(memory);
        const eager = new EagerResponses(memory);
        for (const o of ops) {
          if (o.kind === 'note') expect(index.note(o.id, `t${o.span}`, `s${o.span}`, o.fetch)).toBe(eager.note(o.id, `t${o.span}`, `s${o.span}`, o.fetch));
          else expect(index.get(o.id)).toEqual(eager.get(o.id));
        }
        for (let n = 0; n <= 12; n++) expect(index.get(`resp_${n}`)).toEqual(eager.get(`resp_${n}`));
      }),
      { numRuns: 500 },
    );
  });

  it('bounds its log at the memory: the oldest ids are forgotten without a lookup', () => {
    const index = new ResponseIndex(2);
    for (let n = 0; n < 5; n++) index.note(`resp_${n}`, `t${n}`, `s${n}`, false);
    expect((index as unknown as { log: string[] }).log.length).toBeLessThan(3 * 2);
    expect([0, 1, 2, 3, 4].map((n) => index.get(`resp_${n}`)?.spanId)).toEqual([undefined, undefined, undefined, 's3', 's4']);
  });
});
