/**
 * The benchmark's ground truth must itself be right: every closed form and the voting DP are
 * checked against brute-force enumeration, and the Python evaluator (which the shapiq baseline
 * plays) must give the same v(S) as the TypeScript one.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { valueOf } from '../../bench/games/evaluate.js';
import { airportShapley, enumerationShapley, exactShapley, gloveShapley, unanimityShapley, votingShapleyDP } from '../../bench/games/exact.js';
import { airportGame, gloveGame, randomUnanimityGame, weightedVotingGame } from '../../bench/games/generate.js';
import { GAME_SPEC_FORMAT, GameSpecSchema, type GameSpec } from '../../bench/games/spec.js';
import { createRng } from '../../bench/lib/rng.js';
import { tempDir } from '../support/temp-dir.js';

const GAMES_PY = join(import.meta.dirname, '../../bench/games/games.py');

function closeTo(a: readonly number[], b: readonly number[], tol = 1e-9) {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - (b[i] as number))).toBeLessThan(tol * Math.max(1, Math.abs(b[i] as number))));
}

const grand = (spec: GameSpec) => valueOf(spec)(new Uint8Array(spec.n).fill(1));

describe('exact Shapley oracles agree with enumeration', () => {
  const rng = createRng(7);
  for (let k = 0; k < 3; k++) {
    it(`random unanimity closed form (instance ${k})`, () => {
      const g = randomUnanimityGame(9, rng.fork(`u${k}`), 'u');
      if (g.kind !== 'unanimity') throw new Error('kind');
      closeTo(unanimityShapley(g), enumerationShapley(g.n, valueOf(g)));
    });
    it(`glove closed form (instance ${k})`, () => {
      const g = gloveGame(10, rng.fork(`g${k}`), 'g');
      if (g.kind !== 'glove') throw new Error('kind');
      closeTo(gloveShapley(g), enumerationShapley(g.n, valueOf(g)));
    });
    it(`airport closed form (instance ${k})`, () => {
      const g = airportGame(9, rng.fork(`a${k}`), 'a');
      if (g.kind !== 'airport') throw new Error('kind');
      closeTo(airportShapley(g), enumerationShapley(g.n, valueOf(g)));
    });
    it(`weighted voting DP (instance ${k})`, () => {
      const g = weightedVotingGame(12, rng.fork(`v${k}`), 'v');
      if (g.kind !== 'voting') throw new Error('kind');
      closeTo(votingShapleyDP(g), enumerationShapley(g.n, valueOf(g)));
    });
  }

  it('glove with unequal sides: the scarce side gets more than 1/2 each, efficiency holds', () => {
    const g: GameSpec = { format: GAME_SPEC_FORMAT, id: 'g', family: 'glove', n: 5, source: 't', kind: 'glove', left: [0, 1], right: [2, 3, 4] };
    const phi = gloveShapley(g as Extract<GameSpec, { kind: 'glove' }>);
    expect(phi[0]).toBeGreaterThan(0.5);
    expect(phi[2]).toBeLessThan(0.5);
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 12);
  });

  it('efficiency at n = 50 for every family (DP and closed forms)', () => {
    const r = createRng(3);
    for (const gen of [randomUnanimityGame, weightedVotingGame, gloveGame, airportGame]) {
      const g = gen(50, r.fork(gen.name), gen.name);
      const { values, method } = exactShapley(g);
      expect(method).not.toBe('enumeration');
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(grand(g), 8);
    }
  });

  it('voting DP = enumeration at n = 20 (where the benchmark switches oracles)', () => {
    const g = weightedVotingGame(20, createRng(11), 'v20');
    if (g.kind !== 'voting') throw new Error('kind');
    closeTo(votingShapleyDP(g), exactShapley(g).values, 1e-9);
  });
});

describe('game specs', () => {
  it('generated specs validate against the JSON schema and survive a JSON round trip', () => {
    const r = createRng(5);
    for (const gen of [randomUnanimityGame, weightedVotingGame, gloveGame, airportGame]) {
      const g = gen(20, r.fork(gen.name), gen.name);
      expect(GameSpecSchema.parse(JSON.parse(JSON.stringify(g)))).toEqual(g);
    }
  });

  it('rejects a glove spec whose sides do not partition the players', () => {
    const bad = { format: GAME_SPEC_FORMAT, id: 'x', family: 'glove', n: 3, source: 't', kind: 'glove', left: [0], right: [0, 1] };
    expect(GameSpecSchema.safeParse(bad).success).toBe(false);
  });

  it('the same seed gives the same games', () => {
    expect(weightedVotingGame(20, createRng(9), 'a')).toEqual(weightedVotingGame(20, createRng(9), 'a'));
    expect(randomUnanimityGame(20, createRng(9), 'a')).not.toEqual(randomUnanimityGame(20, createRng(10), 'a'));
  });
});

describe('Python evaluator (bench/games/games.py) plays the same games', () => {
  it('gives the same v(S) as evaluate.ts on random coalitions of every family', () => {
    const dir = tempDir('bench-games-');
    const r = createRng(13);
    for (const gen of [randomUnanimityGame, weightedVotingGame, gloveGame, airportGame]) {
      const g = gen(15, r.fork(gen.name), gen.name);
      const coalitions = Array.from({ length: 40 }, () => Array.from({ length: g.n }, () => (r.next() < 0.5 ? 1 : 0)));
      coalitions.push(new Array(g.n).fill(0), new Array(g.n).fill(1));
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(g));
      writeFileSync(join(dir, 'coalitions.json'), JSON.stringify(coalitions));
      const py = JSON.parse(execFileSync('python3', [GAMES_PY, join(dir, 'spec.json'), join(dir, 'coalitions.json')], { encoding: 'utf8' })) as number[];
      const v = valueOf(g);
      closeTo(py, coalitions.map((c) => v(Uint8Array.from(c))), 1e-12);
    }
  });
});
