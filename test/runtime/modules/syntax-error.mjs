// a syntax error on line 3
export function value(coalition) {
  return coalition.length +;
}
