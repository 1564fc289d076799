/**
 * Diagnostic, not part of `npm run bench`: what handing episodes to a credit worker by structured
 * clone costs next to crediting them (README, Limits: Kafka throughput).
 *
 *   node --import tsx bench/pipeline/clone-cost.ts
 *
 * Per round: `processEpisode` over 1,500 freshly assembled fleet episodes, over 1,500 cloned
 * ones, and `structuredClone` of 1,500 episodes (serialize + deserialize, what postMessage does
 * on its two threads). The first round warms the JIT.
 */
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
// what a credit worker runs (the runtimes skip processEpisode's episode check for library callers)
import { processCheckedEpisode as processEpisode } from '../../src/runtime/process-episode.js';
import { fleetRecords } from './data.js';

const PER_ROUND = 1500;
const fleet = await fleetRecords(2 * PER_ROUND, 20261125, 'otlp_proto');

function episodesOf(from: number, to: number): Episode[] {
  const asm = new EpisodeAssembler({ maxOpenEpisodes: 2 * to });
  const recs = fleet.spanRecords.slice(from, to);
  const ids = new Set(recs.map((r) => r.key));
  for (const r of recs) asm.addSpans(decodeTraces(r.value, fleet.encoding));
  for (const l of fleet.logRecords) if (ids.has(l.key)) asm.addEvaluations(evaluationsFromLogs(decodeLogs(l.value, fleet.encoding)));
  return asm.flush('shutdown');
}

async function creditMs(episodes: readonly Episode[]): Promise<number> {
  const t0 = performance.now();
  let events = 0;
  for (const e of episodes) events += (await processEpisode(e, {})).length;
  if (events === 0) throw new Error('no events: the fleet did not credit');
  return performance.now() - t0;
}

for (let round = 1; round <= 4; round++) {
  const fresh = episodesOf(0, PER_ROUND);
  const other = episodesOf(PER_ROUND, 2 * PER_ROUND);
  const t0 = performance.now();
  const cloned = other.map((e) => structuredClone(e));
  const cloneMs = performance.now() - t0;
  const freshMs = await creditMs(fresh);
  const clonedMs = await creditMs(cloned);
  process.stdout.write(`round ${round}: credit ${freshMs.toFixed(0)} ms (fresh episodes), ${clonedMs.toFixed(0)} ms (cloned); structuredClone ${cloneMs.toFixed(0)} ms — ${PER_ROUND} episodes each\n`);
}
