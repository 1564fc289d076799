/**
 * The credit stage alone, as the Kafka pipeline runs it on its consumer thread: `processEpisode`
 * over the benchmark's fleet (1,500 generated episodes, decoded and assembled before each pass, not
 * timed), PASSES times, for A/B comparisons of that stage's CPU and for profiles of it without a
 * broker:
 *
 *   node --import tsx --import ./bench/lib/use-build.mjs bench/pipeline/process-loop.ts
 *
 * Prints the minimum and median CPU of a pass (this process, all threads: the garbage collector's
 * helper threads count — they take the core the broker needs), the main thread's own CPU (Linux
 * /proc) and the other threads' (mostly the collector's). Environment: PASSES (default 12),
 * EPISODES (default 1500), PROFILE=<file> (a .cpuprofile of the last 3 passes: ./profile-summary.ts),
 * HEAP=<file> (a .heapprofile of the last 3 passes' allocations, collected ones included:
 * ./heap-summary.ts), EVENTS=<file> (the first pass's events as JSON lines, emitted_at_ms zeroed:
 * compare two builds' files to show a change leaves the output byte-identical).
 */
import { writeFileSync } from 'node:fs';
import { loopProfiles } from './loop-profiles.js';

const { fleetRecords } = await import('./data.js');
const { mainThreadCpuSeconds } = await import('../lib/cpu.js');
const { processCheckedEpisode } = await import('../../src/runtime/process-episode.js');
const { EpisodeAssembler } = await import('../../src/episodes/index.js');
const { evaluationsFromLogs } = await import('../../src/conventions/index.js');
const { decodeLogs, decodeTraces } = await import('../../src/otlp/index.js');

const passes = Math.max(3, Number(process.env.PASSES ?? 12));
const fleet = await fleetRecords(Number(process.env.EPISODES ?? 1500), 20261125, 'otlp_proto');

function episodes() {
  const assembler = new EpisodeAssembler({ maxOpenEpisodes: 1_000_000 });
  for (const r of fleet.spanRecords) assembler.addSpans(decodeTraces(r.value, fleet.encoding));
  for (const l of fleet.logRecords) assembler.addEvaluations(evaluationsFromLogs(decodeLogs(l.value, fleet.encoding)));
  return assembler.flush('shutdown');
}

const profiles = loopProfiles();

const cpu: number[] = [];
const main: number[] = [];
let events = 0;
const lines: string[] = [];
for (let pass = 0; pass < passes; pass++) {
  const batch = episodes();
  if (pass === passes - 3) await profiles.start();
  const main0 = mainThreadCpuSeconds();
  const cpu0 = process.cpuUsage();
  events = 0;
  for (const episode of batch) {
    const out = await processCheckedEpisode(episode);
    events += out.length;
    if (pass === 0 && process.env.EVENTS) for (const e of out) lines.push(JSON.stringify({ ...e, emitted_at_ms: 0 }));
  }
  const used = process.cpuUsage(cpu0);
  cpu.push((used.user + used.system) / 1000);
  const main1 = mainThreadCpuSeconds();
  if (main0 !== undefined && main1 !== undefined) main.push((main1 - main0) * 1000);
}
await profiles.write();
if (process.env.EVENTS) writeFileSync(process.env.EVENTS, lines.join('\n') + '\n');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `${passes} passes of ${fleet.spanRecords.length} traces → ${events} events; CPU per pass: min ${ms(Math.min(...cpu))}, median ${ms(median(cpu))}` +
    (main.length === cpu.length
      ? `; main thread median ${ms(median(main))}, other threads median ${ms(median(cpu.map((c, i) => c - main[i]!)))}`
      : ''),
);
