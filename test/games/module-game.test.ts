import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModuleGame, ModuleGameError } from '../../src/credit/games/module-game.js';
import { allCoalitions, exactShapley } from './episode.js';

const dir = fileURLToPath(new URL('./modules/', import.meta.url));
const episode = { episodeId: 'ep-m', players: ['planner', 'coder', 'reviewer'], steps: [], agents: [] };

describe('module game', () => {
  it('loads a JS module by relative path and uses its value(coalition, episode)', async () => {
    const make = await loadModuleGame('additive.mjs', { baseDir: dir });
    const game = make(episode);
    expect(game.id).toBe('ep-m');
    const values = await Promise.all(allCoalitions(3).map((c) => game.value(c)));
    expect(values[0]).toBe(0);
    expect(values[7]).toBeCloseTo(1);
    // Additive game: Shapley = the weights.
    const phi = exactShapley(3, (m) => values[m]!);
    expect(phi.map((x) => Number(x.toFixed(10)))).toEqual([0.2, 0.5, 0.3]);
  });

  it('loads a TypeScript module with the function on its default export (async)', async () => {
    const game = (await loadModuleGame(`${dir}async-default.ts`))(episode);
    expect(await game.value(Uint8Array.from([0, 1, 1]))).toBe(1);
    expect(await game.value(Uint8Array.from([1, 1, 0]))).toBe(0);
  });

  it('says what is wrong when the file is missing', async () => {
    await expect(loadModuleGame('nope.mjs', { baseDir: dir })).rejects.toThrow(/file not found: "nope.mjs" \(resolved to .*nope\.mjs\); set credit\.module\.path/);
  });

  it('says what is wrong when the export is missing, listing the exports found', async () => {
    const err = await loadModuleGame('wrong-export.mjs', { baseDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModuleGameError);
    expect((err as Error).message).toMatch(/no exported function "value" \(exports found: name, score\)/);
    // The export name is configurable.
    const game = (await loadModuleGame('wrong-export.mjs', { baseDir: dir, exportName: 'score' }))(episode);
    expect(await game.value(Uint8Array.from([1, 0, 0]))).toBe(1);
  });

  // it read "has no exported function "name" (exports found: name, score)": found, and not found
  it('says what an export of that name is when it is not a function', async () => {
    const err = await loadModuleGame('wrong-export.mjs', { baseDir: dir, exportName: 'name' }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/no exported function "name" \(exports found: name, score\) — its "name" is a string \("not a value function"\), not a function; export function name\(coalition, episode\)/);
  });

  it('reports a module that fails to load with the cause', async () => {
    await expect(loadModuleGame('broken.mjs', { baseDir: dir })).rejects.toThrow(/cannot load .*broken\.mjs/);
  });

  it('rejects non-finite values and wrong-sized coalitions', async () => {
    const game = (await loadModuleGame('returns-nan.mjs', { baseDir: dir }))(episode);
    await expect(game.value(Uint8Array.from([1, 0, 0]))).rejects.toThrow(/must return a finite number/);
    await expect(game.value(Uint8Array.from([1, 0]))).rejects.toThrow(/2 entries, the game has 3 players/);
  });

  // String(v) showed the text "0.5" as 0.5 — "returned 0.5; it must return a finite number" — and an object as [object Object]
  it('shows what a wrong-typed value is: text as text, an object as JSON', async () => {
    const game = (await loadModuleGame('returns-wrong-type.mjs', { baseDir: dir }))(episode);
    await expect(game.value(Uint8Array.from([1, 0, 0]))).rejects.toThrow('value([planner]) returned a string ("0.5"); it must return a finite number');
    await expect(game.value(Uint8Array.from([1, 1, 0]))).rejects.toThrow('value([planner, coder]) returned an object ({"score":1}); it must return a finite number');
  });
});

describe('examples/module-game/value.mjs on a generated run', () => {
  it('credits the checklist authors through the conventions stage', async () => {
    const { generateScenario } = await import('../../src/scenarios/index.js');
    const { decodeTraces } = await import('../../src/otlp/index.js');
    const { stepsFromSpans } = await import('../../src/conventions/index.js');
    const run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 3 });
    const { steps, agents } = stepsFromSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    const players = agents.map((a) => a.agentId);
    const make = await loadModuleGame(fileURLToPath(new URL('../../examples/module-game/value.mjs', import.meta.url)));
    const game = make({ episodeId: run.traceId, players, steps, agents });
    const values = await Promise.all(allCoalitions(players.length).map((c) => game.value(c)));
    expect(values.at(-1)).toBe(1);
    const phi = exactShapley(players.length, (m) => values[m]!);
    const by = Object.fromEntries(agents.map((a, i) => [a.agentName, phi[i]!]));
    // planner writes `Plan:`, coder's run_tests yields `tests passed`, reviewer says LGTM (and also runs tests).
    expect(by.planner).toBeCloseTo(1 / 3, 12);
    expect(by.coder! + by.reviewer!).toBeCloseTo(2 / 3, 12);
    expect(by.reviewer!).toBeGreaterThan(by.coder!);
  });
});
