// A value function module that allocates (and keeps) without bound as it loads: its worker runs
// out of memory before it is ready, whatever heap limit it has.
const kept = [];
for (;;) kept.push(new Array(1 << 16).fill(kept.length));

export function value(coalition) {
  return coalition.length;
}
