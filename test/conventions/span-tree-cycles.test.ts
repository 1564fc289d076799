/**
 * Parent cycles in span ids (corrupt or hostile telemetry) are broken at their earliest span,
 * which becomes a root; every other parent link is kept, so the episode is a forest again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpanTree } from '../../src/conventions/span-tree.js';

const id = (i: number) => i.toString(16).padStart(16, '0');
function span(i: number, parent: number | undefined, start: bigint) {
  return {
    traceId: '0'.repeat(32),
    spanId: id(i),
    ...(parent !== undefined ? { parentSpanId: id(parent) } : {}),
    name: 's',
    kind: 1,
    startTimeUnixNano: start,
    endTimeUnixNano: start,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0 as const },
    resource: { attributes: {} },
    scope: { name: 'x' },
  };
}

/** Brute force: the cycles of a functional graph, as sets of members. */
function cyclesOf(parent: readonly (number | undefined)[]): number[][] {
  const found = new Map<string, number[]>();
  for (let i = 0; i < parent.length; i++) {
    const seen: number[] = [];
    let cur: number | undefined = i;
    while (cur !== undefined && !seen.includes(cur)) {
      seen.push(cur);
      cur = parent[cur];
    }
    if (cur === undefined) continue;
    const loop = seen.slice(seen.indexOf(cur)).sort((a, b) => a - b);
    found.set(loop.join(','), loop);
  }
  return [...found.values()];
}

describe('SpanTree parent cycles', () => {
  it('breaks each cycle at its earliest span and keeps every other link', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(fc.array(fc.option(fc.nat(n - 1), { nil: undefined }), { minLength: n, maxLength: n }), fc.array(fc.bigInt({ min: 0n, max: 5n }), { minLength: n, maxLength: n })),
        ),
        ([parentRaw, starts]) => {
          const parent = parentRaw.map((p, i) => (p === i ? undefined : p)); // self-parents are roots already
          const tree = new SpanTree(parent.map((p, i) => span(i, p, starts[i]!)));
          const cycles = cyclesOf(parent);
          expect(tree.cyclesBroken).toBe(cycles.length);
          const cutAt = new Set(
            cycles.map((c) => c.reduce((best, i) => (starts[i]! < starts[best]! || (starts[i] === starts[best] && id(i) < id(best)) ? i : best))),
          );
          for (let i = 0; i < parent.length; i++) {
            const want = parent[i] === undefined || cutAt.has(i) ? undefined : id(parent[i]!);
            expect(tree.parentOf(id(i))).toBe(want);
            // a forest: every walk reaches a root
            expect([...tree.ancestors(id(i))].length).toBe(tree.depth(id(i)));
          }
        },
      ),
    );
  });

  it('counts no cycle in a tree', () => {
    const tree = new SpanTree([span(0, undefined, 1n), span(1, 0, 2n), span(2, 1, 3n), span(3, 0, 2n)]);
    expect(tree.cyclesBroken).toBe(0);
    expect(tree.isRoot(id(0))).toBe(true);
  });

  it('breaks a cycle above a chain deeper than the walks go (10,000 ancestors)', () => {
    // spans 0..2 form a cycle (0 the earliest), 3..10,202 hang below it one under the other, given deepest first
    const n = 10_203;
    const spans = [];
    for (let i = n - 1; i >= 3; i--) spans.push(span(i, i - 1, BigInt(i)));
    spans.push(span(0, 2, 0n), span(1, 0, 1n), span(2, 1, 2n));
    const tree = new SpanTree(spans);
    expect(tree.cyclesBroken).toBe(1);
    expect(tree.isRoot(id(0))).toBe(true);
    expect(tree.parentOf(id(2))).toBe(id(1));
    expect(tree.depth(id(2))).toBe(2);
    expect(tree.depth(id(100))).toBe(100);
    expect(tree.ordered.length).toBe(n);
  });
});
