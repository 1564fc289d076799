/** Coalition helpers: a coalition is a 0/1 `Uint8Array` indexed like the game's players. */

/**
 * Hex bitmask of a coalition (player 0 = lowest bit), the cache-key part that names the coalition;
 * a non-zero entry counts as a member (CachedGame refuses such entries instead: `coalitionKeyIfBinary`).
 */
export function coalitionKey(coalition: Uint8Array): string {
  return coalitionKeyIfBinary(coalition) ?? coalitionKeyIfBinary(coalition.map((x) => (x ? 1 : 0)))!;
}

/**
 * `coalitionKey` of a coalition whose entries are all 0 or 1, else undefined — in the same single
 * pass (the entries are OR-ed as the key is built), for `CachedGame`'s every look-up.
 */
export function coalitionKeyIfBinary(coalition: Uint8Array): string | undefined {
  let out = '';
  let seen = 0;
  for (let i = 0; i < coalition.length; i += 4) {
    const a = coalition[i]!;
    const b = coalition[i + 1] ?? 0;
    const c = coalition[i + 2] ?? 0;
    const d = coalition[i + 3] ?? 0;
    seen |= a | b | c | d;
    out = (a | (b << 1) | (c << 2) | (d << 3)).toString(16) + out;
  }
  if (seen > 1) return undefined;
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

/** A value as an error message shows it: its type, and the value when short. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'number' || typeof v === 'boolean' ? `${typeof v} ${String(v)}` : typeof v;
}

/**
 * Throws a `TypeError` when `game` is not a `Game` ({ id, players, value }): a JavaScript caller's
 * `estimateShapley({})` threw "Cannot read properties of undefined (reading 'length')", a game
 * without `value` gave an equal split marked partial (the note naming a TypeError), and `players`
 * given as a string ("abc") was read as one player per character.
 */
function checkGameShape(game: unknown): void {
  const shape = 'a Game { id: string, players: string[], value(coalition: Uint8Array) => number | Promise<number> }';
  if (game === null || typeof game !== 'object') throw new TypeError(`Shapley estimation needs ${shape}, got ${describeValue(game)}`);
  const g = game as { id?: unknown; players?: unknown; value?: unknown };
  if (typeof g.id !== 'string') throw new TypeError(`game.id is ${describeValue(g.id)}; it needs a string (it keys the game's cached values, e.g. the episode id), in ${shape}`);
  if (!Array.isArray(g.players)) throw new TypeError(`game ${g.id}: players is ${describeValue(g.players)}; it needs an array of distinct player names (strings)`);
  if (typeof g.value !== 'function') throw new TypeError(`game ${g.id}: value is ${describeValue(g.value)}; it needs a function (coalition: Uint8Array, 1 = player in) => number | Promise<number>`);
}

/**
 * Throws a `TypeError` when `game` is not a Game (`checkGameShape`), and a `RangeError` when two players of `game` have one name. Results are keyed by name — an
 * estimate's `players`, creditEpisode's credit per agent id, the names a module game's value
 * function or an http judge is given for a coalition — so two players of one name cannot be told
 * apart: creditEpisode gave the agent the second one's credit and dropped the first's (credits no
 * longer summed to R − b), and a module game saw both coalitions as the same list of names.
 */
export function checkDistinctPlayers(game: { readonly id: string; readonly players: readonly string[] }): void {
  checkGameShape(game);
  const players = game.players;
  // A few players (an episode's agents) are compared with the earlier ones; a Map of them was made
  // for every CachedGame, i.e. every episode. Past 16 the scan would be quadratic: a Map.
  const first = players.length > 16 ? new Map<string, number>() : undefined;
  for (let i = 0; i < players.length; i++) {
    const p = players[i]!;
    if (typeof p !== 'string') throw new TypeError(`game ${game.id}: players[${i}] is ${describeValue(p)}; players are distinct names (strings), e.g. the agents' ids`);
    const at = first !== undefined ? first.get(p) : earlierIndex(players, p, i);
    if (at !== undefined) {
      throw new RangeError(
        `game ${game.id}: player ${JSON.stringify(p)} appears twice in players (indices ${at} and ${i}); results are keyed by player name, so give every player a distinct name (e.g. ${JSON.stringify(`${p}#${i}`)})`,
      );
    }
    first?.set(p, i);
  }
}

/** The first index before `end` at which `players` holds `p`, or undefined. */
function earlierIndex(players: readonly string[], p: string, end: number): number | undefined {
  for (let j = 0; j < end; j++) if (players[j] === p) return j;
  return undefined;
}
