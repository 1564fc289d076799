/**
 * Arrival orders for property tests of stream consumers: every item, plus some delivered again,
 * in a seeded shuffle (fast-check shrinks the `repeats` and the `seed`).
 */
export function redeliveredShuffle<T>(all: readonly T[], repeats: readonly number[], seed: number): T[] {
  const order = [...all, ...repeats.map((i) => all[i]!)];
  let x = seed;
  for (let i = order.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
