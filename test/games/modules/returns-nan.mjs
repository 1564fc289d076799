export function value() {
  return Number.NaN;
}
