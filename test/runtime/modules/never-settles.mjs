// A value function whose calls never settle for a non-empty coalition (a stuck call: neither a
// value nor a throw), 0 for the empty one.
export function value(coalition) {
  return coalition.length === 0 ? 0 : new Promise(() => undefined);
}
