/**
 * The consumer thread's work before the credit stage: decoding the benchmark fleet's OTLP/proto
 * records (1,500 generated episodes: one spans record per trace, one logs record per verdict) and
 * assembling them into episodes, PASSES times, for A/B comparisons of src/otlp and src/episodes
 * without a broker (process-loop.ts times the stage after it):
 *
 *   node --import tsx --import ./bench/lib/use-build.mjs bench/pipeline/assemble-loop.ts
 *
 * Each pass feeds a fresh assembler as the Kafka pipeline does: each spans record decoded and added
 * with its position, its trace's verdict (logs record, `evaluationsFromLogs`) right after it — the
 * collector partitions both by trace id —, a `tick()` per record to hand out the closed episodes,
 * which are dropped (retained revisions stay in the assembler, as in the pipeline). Prints min and
 * median CPU of a pass (this process, all threads: the garbage collector's helpers count — the
 * decoded spans live until their episode leaves the assembler's memory, so most of them are
 * copied by the young-generation collector), and a digest of the
 * episodes (ids, revisions, close reasons, traces, span and evaluation counts, bytes, sources,
 * span ids, names and attribute counts) that two builds must print alike — their events are
 * process-loop.ts's to compare (EVENTS=). Environment:
 * PASSES (default 12), EPISODES (default 1500), PROFILE=<file> (a .cpuprofile of the last 3
 * passes: ./profile-summary.ts), HEAP=<file> (a .heapprofile of the last 3 passes' allocations:
 * ./heap-summary.ts).
 */
import { createHash } from 'node:crypto';
import { loopProfiles } from './loop-profiles.js';
import type { Episode } from '../../src/model/episode.js';

const { fleetRecords } = await import('./data.js');
const { EpisodeAssembler } = await import('../../src/episodes/index.js');
const { evaluationsFromLogs } = await import('../../src/conventions/index.js');
const { decodeLogs, decodeTraces } = await import('../../src/otlp/index.js');

const passes = Math.max(3, Number(process.env.PASSES ?? 12));
const fleet = await fleetRecords(Number(process.env.EPISODES ?? 1500), 20261125, 'otlp_proto');
const logsByKey = new Map<string, Uint8Array[]>();
for (const l of fleet.logRecords) {
  const list = logsByKey.get(l.key);
  if (list === undefined) logsByKey.set(l.key, [l.value]);
  else list.push(l.value);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One pass: a fresh assembler fed every record as the pipeline feeds them; returns the closed episodes when `keep`. */
function pass(keep: boolean): Episode[] {
  const assembler = new EpisodeAssembler({ maxOpenEpisodes: 1_000_000 });
  const episodes: Episode[] = [];
  fleet.spanRecords.forEach((r, i) => {
    assembler.addSpans(decodeTraces(r.value, fleet.encoding), { topic: 'otlp_spans', partition: i % 4, offset: String(i >> 2) });
    for (const value of logsByKey.get(r.key) ?? []) {
      assembler.addEvaluations(evaluationsFromLogs(decodeLogs(value, fleet.encoding)), { topic: 'otlp_logs', partition: i % 4, offset: String(i >> 2) });
    }
    for (const e of assembler.tick()) if (keep) episodes.push(e);
  });
  for (const e of assembler.flush('shutdown')) if (keep) episodes.push(e);
  return episodes;
}

/** What two builds must assemble alike (the spans' content is checked by process-loop.ts's events). */
function digest(episodes: readonly Episode[]): string {
  const h = createHash('sha1');
  for (const e of episodes) {
    h.update(`${e.episodeId} ${e.revision} ${e.closeReason} ${e.traceIds.join(',')} ${e.spans.length} ${e.evaluations.length} ${e.bytes} ${e.duplicateSpans} ${e.lateSpans} `);
    for (const s of e.sources) h.update(`${s.topic}/${s.partition}:${s.firstOffset}-${s.lastOffset} `);
    for (const s of e.spans) h.update(`${s.spanId}<${s.parentSpanId ?? ''} ${s.name} ${Object.keys(s.attributes).length}\n`);
  }
  return h.digest('hex').slice(0, 12);
}

const profiles = loopProfiles();

const total: number[] = [];
let last = '';
let count = 0;
for (let p = 0; p < passes; p++) {
  if (p === passes - 3) await profiles.start();
  const t0 = cpuMs();
  const episodes = pass(p === 0);
  total.push(cpuMs() - t0);
  if (p === 0) {
    last = digest(episodes);
    count = episodes.length;
  }
}
await profiles.write();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `${passes} passes of ${fleet.spanRecords.length} traces → ${count} episodes (digest ${last}); CPU per pass: min ${ms(Math.min(...total))}, median ${ms(median(total))}`,
);
