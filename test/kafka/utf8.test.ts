import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeUtf8 } from '../../src/kafka/utf8.js';

describe('writeUtf8', () => {
  it("writes the bytes Buffer#write writes, around them nothing: ASCII ids and names (copied in JavaScript), and long, non-ASCII and lone-surrogate strings (Node's writer)", () => {
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom('a', 'é', '✓', '\ud83d', '\ude00', '😀', '\u007f', '\u0080'), maxLength: 80 }),
      fc.constantFrom('application/json', 'x-agent-credit-event-id', 'a'.repeat(64), 'a'.repeat(65), ''),
    );
    fc.assert(
      fc.property(strings, fc.nat(16), (s, offset) => {
        const size = Buffer.byteLength(s);
        const want = Buffer.alloc(offset + size + 8, 0xaa);
        want.write(s, offset, size, 'utf8');
        const got = Buffer.alloc(offset + size + 8, 0xaa);
        writeUtf8(got, s, offset, size);
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });
});
