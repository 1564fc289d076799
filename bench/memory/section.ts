/** Section 4: heap per buffered span / open episode, and heap under a never-closing flood. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchCodeImports } from '../lib/code.js';
import { bytes, int, num, table } from '../lib/markdown.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { linePlot } from '../lib/svg.js';

const execFileP = promisify(execFile);
const BYTES_PER_SPAN_GOAL = 1536; // 1.5 KB per buffered span

interface ProbeOutput {
  args: { held: number; flood: number; maxOpen: number; templates: number };
  baseline: { spans: number; episodes: number; bytes: number; bytesPerSpan: number };
  missing?: string;
  ours?: {
    wide: { episodes: number; spans: number; overheadBytes: number };
    narrow: { episodes: number; spans: number; overheadBytes: number };
    overheadPerSpan: number;
    perOpenEpisode: number;
    bufferedSpanTotal: number;
  };
  flood: { traces: number; ours?: number; baseline: number }[];
  floodClosedByCaps: number;
}

export async function memorySection(ctx: BenchContext): Promise<SectionResult> {
  const t0 = performance.now();
  const args = ctx.quick
    ? { seed: ctx.seed, templates: 10, held: 200, flood: 2000, samples: 8, maxOpen: 100 }
    : { seed: ctx.seed, templates: 60, held: 5000, flood: 200000, samples: 25, maxOpen: 2000 };
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--import', 'tsx', ...benchCodeImports(ctx.repo), join(ctx.repo, 'bench', 'memory', 'probe.ts'), JSON.stringify(args)], {
    cwd: ctx.repo,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  const p = JSON.parse(stdout) as ProbeOutput;
  const headline: Record<string, number> = { baseline_bytes_per_span: p.baseline.bytesPerSpan };
  const rows: string[][] = [['baseline: decoded Span objects held in an array', int(p.baseline.spans), bytes(p.baseline.bytesPerSpan), '—', '']];
  if (p.ours) {
    headline.assembler_overhead_bytes_per_span = p.ours.overheadPerSpan;
    headline.assembler_bytes_per_open_episode = p.ours.perOpenEpisode;
    headline.buffered_span_total_bytes = p.ours.bufferedSpanTotal;
    rows.push([
      'ours: EpisodeAssembler overhead per buffered span (beyond the Span object)',
      int(p.ours.wide.spans),
      bytes(p.ours.overheadPerSpan),
      num(p.ours.bufferedSpanTotal / p.baseline.bytesPerSpan),
      `total ${bytes(p.ours.bufferedSpanTotal)}/span ${p.ours.bufferedSpanTotal <= BYTES_PER_SPAN_GOAL ? '✓' : '✗'} (goal ≤ 1.5 KB)`,
    ]);
    rows.push(['ours: per open episode (fixed cost)', int(p.ours.wide.episodes), bytes(p.ours.perOpenEpisode), '—', '']);
  }
  const floodPlot = linePlot(
    [
      ...(p.ours ? [{ name: `EpisodeAssembler (max ${int(p.args.maxOpen)} open)`, points: p.flood.map((f) => [f.traces, (f.ours ?? Number.NaN) / 2 ** 20] as const) }] : []),
      { name: 'baseline: uncapped Map', dashed: true, points: p.flood.map((f) => [f.traces, f.baseline / 2 ** 20] as const) },
    ],
    { title: 'Heap growth under a flood of never-closing traces', xLabel: 'traces ingested', yLabel: 'heap delta after gc (MiB)' },
  );
  const oursOnlyPlot = p.ours
    ? linePlot([{ name: `EpisodeAssembler (max ${int(p.args.maxOpen)} open)`, points: p.flood.map((f) => [f.traces, (f.ours ?? Number.NaN) / 2 ** 20] as const) }], {
        title: 'Assembler heap under the flood (own scale)',
        xLabel: 'traces ingested',
        yLabel: 'heap delta after gc (MiB)',
      })
    : undefined;
  const last = p.flood[p.flood.length - 1];
  const mid = p.flood[Math.floor(p.flood.length / 2)];
  let floodVerdict = 'Assembler not measured.';
  if (p.ours && last?.ours !== undefined && mid?.ours !== undefined) {
    const growth = last.ours - mid.ours;
    headline.flood_heap_end_bytes = last.ours;
    const plateau = p.flood.find((f) => f.ours !== undefined && last.ours! - f.ours <= 0.05 * last.ours!);
    if (plateau && plateau !== last) headline.flood_plateau_from_traces = plateau.traces;
    floodVerdict = `${plateau && plateau !== last ? `Levels off: within 5% of its final value from ${int(plateau.traces)} traces on. ` : 'Still growing at the end of the flood (no plateau within 5%). '}Heap delta at the end ${bytes(last.ours)} vs ${bytes(mid.ours)} halfway (growth over the second half ${bytes(growth)}, ${num((100 * growth) / Math.max(1, last.ours))}%); the uncapped baseline ended at ${bytes(last.baseline)} (ours ÷ baseline ${num(last.ours / last.baseline)}). Episodes closed by caps during the flood: ${int(p.floodClosedByCaps)}.`;
  }
  const md = [
    `Measured in a separate \`node --expose-gc\` process: heap used after two \`gc()\` calls, before and after. Spans are copies (fresh trace ids) of ${p.args.templates} decoded scenario traces; attribute objects are copied, string values shared (as the decoder's string interning shares them).`,
    p.missing ? `- Assembler not measured: ${p.missing}.` : '',
    table(['what', 'spans', 'bytes', 'total ÷ baseline', 'verdict'], rows),
    `### Flood: ${int(p.args.flood)} traces whose root never arrives`,
    floodVerdict,
    '![heap under flood](plots/memory-flood.svg)',
    oursOnlyPlot ? '![assembler heap under flood](plots/memory-flood-assembler.svg)' : '',
    'What bounds the assembler here (src/episodes defaults except `maxOpenEpisodes`): `maxOpenEpisodes` (one more closes the oldest, `evicted`), then its memory of closed episodes (`closedEpisodeMemory` = 100,000 ids, LRU) and the closed episodes kept for late-span corrections (`retainClosedBytes` = 32 MiB): the heap grows until those fill, so the plateau only shows after about 100k evicted traces.',
  ].filter(Boolean);
  return {
    title: 'Memory',
    status: p.ours ? 'ran' : 'partial',
    markdown: md.join('\n\n'),
    plots: [{ file: 'memory-flood.svg', svg: floodPlot, alt: 'heap under flood' }, ...(oursOnlyPlot ? [{ file: 'memory-flood-assembler.svg', svg: oursOnlyPlot, alt: 'assembler heap under flood' }] : [])],
    data: p,
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
