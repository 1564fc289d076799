// A value function that fails on every call (a broken user module).
export function value() {
  throw new Error('value function exploded');
}
