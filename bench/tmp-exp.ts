import { buildGames, repSeeds, runOurs } from './credit/accuracy.js';
import { provenanceGames } from './credit/provenance-games.js';
import { TreeMsrEstimator } from '../src/credit/index.js';
const seed = 20261125;
const sizes = (process.env.SIZES ?? '10,20').split(',').map(Number);
const config = { sizes, families: ['random unanimity', 'weighted voting', 'glove', 'airport'] as const, instances: 1, reps: 4, budgetMultiples: [4, 10, 20, 40], seed };
const prov = await provenanceGames(config.sizes, seed);
const games = buildGames(config as any, prov.specs);
const seeds = repSeeds(config as any);
const est = [{ name: 'tree', estimate: (g: any, o: any) => new TreeMsrEstimator({ fit: (process.env.FIT as any) ?? 'in-sample' }).estimate(g, o) }];
const runs = await runOurs(games, est, seeds);
const cells = new Map<string, number[]>();
for (const r of runs) { const k = `${r.game} ${r.budget}`; (cells.get(k) ?? cells.set(k, []).get(k)!).push(r.mse ?? NaN); }
for (const [k, v] of cells) console.log(k, (v.reduce((a, b) => a + b, 0) / v.length).toExponential(2));
