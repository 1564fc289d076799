/** Coalition helpers: a coalition is a 0/1 `Uint8Array` indexed like the game's players. */

/** Hex bitmask of a coalition (player 0 = lowest bit), the cache-key part that names the coalition. */
export function coalitionKey(coalition: Uint8Array): string {
  let out = '';
  for (let i = 0; i < coalition.length; i += 4) {
    const nib = (coalition[i] ? 1 : 0) | (coalition[i + 1] ? 2 : 0) | (coalition[i + 2] ? 4 : 0) | (coalition[i + 3] ? 8 : 0);
    out = nib.toString(16) + out;
  }
  return out === '' ? '0' : out;
}

/** Coalition from an integer bitmask (n <= 31). */
export function coalitionFromMask(mask: number, n: number): Uint8Array {
  const c = new Uint8Array(n);
  for (let i = 0; i < n; i++) c[i] = (mask >>> i) & 1;
  return c;
}

export function fullCoalition(n: number): Uint8Array {
  return new Uint8Array(n).fill(1);
}

export function emptyCoalition(n: number): Uint8Array {
  return new Uint8Array(n);
}

/** Coalition holding every player except `i`. */
export function allBut(n: number, i: number): Uint8Array {
  const c = fullCoalition(n);
  c[i] = 0;
  return c;
}
