// Returns what is not a number: the text of one for a single member, an object for two.
export function value(coalition) {
  if (coalition.length === 1) return '0.5';
  if (coalition.length === 2) return { score: 1 };
  return 0;
}
