export function score() {
  return 1;
}
export const name = 'not a value function';
