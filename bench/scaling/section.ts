/**
 * Section 5: scaling. (a) Shapley paths vs number of players on benchmark games, against shapiq's
 * ExactComputer / KernelSHAP timed in the same run; (b) time per episode through conventions +
 * credit as agents (2…50) and messages (10…8000) grow, on SDK-recorded traces.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureShapiqVenv } from '../credit/baseline.js';
import { randomUnanimityGame, weightedVotingGame } from '../games/generate.js';
import type { GameSpec } from '../games/spec.js';
import { int, num, table } from '../lib/markdown.js';
import { createRng } from '../lib/rng.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { linePlot } from '../lib/svg.js';
import { episodeScaling, type EpisodeScaling } from './episodes.js';
import { timePaths, type PathTiming } from './estimators.js';

const execFileP = promisify(execFile);

interface ShapiqTiming {
  game: string;
  n: number;
  exact_seconds?: number;
  kernel_seconds: number;
}

export async function scalingSection(ctx: BenchContext): Promise<SectionResult> {
  const t0 = performance.now();
  const sizes = ctx.quick ? [2, 4, 8] : [2, 4, 6, 8, 10, 12, 14, 16, 20, 30, 40, 50];
  const budget = ctx.quick ? 200 : 2000;
  const maxExact = ctx.quick ? 8 : 16;
  const reps = ctx.quick ? 1 : 3;
  const notes: string[] = [];
  const rng = createRng(ctx.seed).fork('scaling');
  const voting: GameSpec[] = sizes.map((n) => weightedVotingGame(n, rng.fork(`v${n}`), `scaling-voting-n${n}`));
  const unanimity: GameSpec[] = sizes.map((n) => randomUnanimityGame(n, rng.fork(`u${n}`), `scaling-unanimity-n${n}`));
  const timings: PathTiming[] = [];
  for (let i = 0; i < sizes.length; i++) {
    ctx.log(`scaling: n = ${sizes[i]}`);
    timings.push(...(await timePaths(voting[i]!, unanimity[i]!, budget, maxExact, reps)));
  }

  let shapiq: ShapiqTiming[] = [];
  if (ctx.baseline) {
    try {
      const env = await ensureShapiqVenv(join(ctx.repo, 'bench', '.venv'));
      const jobFile = join(ctx.workDir, 'scaling-shapiq-job.json');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(jobFile, JSON.stringify({ games: voting, budget, max_exact: maxExact, reps }));
      const { stdout } = await execFileP(env.python, [join(ctx.repo, 'bench', 'scaling', 'shapiq_timing.py'), jobFile], {
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      });
      shapiq = (JSON.parse(stdout) as { results: ShapiqTiming[] }).results;
    } catch (err) {
      notes.push(`shapiq timing baseline failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else notes.push('shapiq timing baseline not run (no venv in --quick, or --no-baseline).');

  const episodes: EpisodeScaling = await episodeScaling(ctx);
  notes.push(...episodes.notes);

  const at = (n: number, path: PathTiming['path']) => timings.find((t) => t.n === n && t.path === path);
  const rows = sizes.map((n) => {
    const s = shapiq.find((x) => x.n === n);
    const ex = at(n, 'exact');
    const ke = at(n, 'kernel');
    const def = at(n, 'estimateShapley (default)');
    return [
      String(n),
      ex ? num(ex.ms) : '—',
      s?.exact_seconds !== undefined ? num(s.exact_seconds * 1000) : '—',
      ex && s?.exact_seconds ? num(ex.ms / (s.exact_seconds * 1000)) : '—',
      at(n, 'permutation') ? `${num(at(n, 'permutation')!.ms)} (${int(at(n, 'permutation')!.evaluations)} evals)` : '—',
      ke ? `${num(ke.ms)} (${int(ke.evaluations)} evals)` : '—',
      s ? num(s.kernel_seconds * 1000) : '—',
      ke && s ? num(ke.ms / (s.kernel_seconds * 1000)) : '—',
      num(at(n, 'closed-form')?.ms),
      def ? `${def.chosen} (${int(def.evaluations)} evals, ${num(def.ms)} ms)` : '—',
    ];
  });
  const headline: Record<string, number> = {};
  const last = sizes[sizes.length - 1] as number;
  headline[`permutation_ms_n${last}`] = at(last, 'permutation')?.ms ?? Number.NaN;
  headline[`closed_form_ms_n${last}`] = at(last, 'closed-form')?.ms ?? Number.NaN;
  const exactStops = timings.filter((t) => t.path === 'estimateShapley (default)' && t.chosen === 'exact').map((t) => t.n);
  const series = (['exact', 'permutation', 'kernel', 'closed-form'] as const).map((p) => ({ name: `ours ${p}`, points: timings.filter((t) => t.path === p).map((t) => [t.n, t.ms] as const) }));
  if (shapiq.length) {
    series.push({ name: 'shapiq ExactComputer', points: shapiq.filter((s) => s.exact_seconds !== undefined).map((s) => [s.n, (s.exact_seconds as number) * 1000] as const) });
    series.push({ name: `shapiq KernelSHAP (${budget})`, points: shapiq.map((s) => [s.n, s.kernel_seconds * 1000] as const) });
  }
  const plot = linePlot(
    series.map((s) => ({ ...s, dashed: s.name.startsWith('shapiq') })),
    { title: 'Time per Shapley estimate vs players', xLabel: 'players n', yLabel: 'ms per estimate', logY: true, width: 860 },
  );
  const md = [
    `(a) Shapley paths vs players n on weighted voting games (closed form: random unanimity games offering \`closedForm()\`, as the provenance game does). Sampled paths at a fixed budget of ${int(budget)} evaluations; exact enumeration up to n = ${maxExact} here. Median of ${reps} runs, wall clock, one thread; value functions are cheap, so this is the estimators' own cost. **Where the exact path stops:** \`estimateShapley\` chose exact enumeration for n ∈ {${exactStops.join(', ')}} (its default \`maxExactPlayers\` = 14 and 2^n ≤ budget), sampling above.`,
    notes.map((n) => `- ${n}`).join('\n'),
    table(['n', 'exact ms', 'shapiq ExactComputer ms', 'ours ÷ shapiq', `permutation ms (${budget})`, `kernel ms (${budget})`, `shapiq KernelSHAP ms (${budget})`, 'ours ÷ shapiq', 'closed-form ms', 'estimateShapley default chose'], rows),
    '![time per estimate vs players](plots/scaling-players.svg)',
    '(b) Time per episode through conventions → credit (`creditEpisode`), on SDK-recorded GenAI traces.',
    episodes.markdown,
  ].filter((x) => x !== '');
  return {
    title: 'Scaling',
    status: episodes.ran ? 'ran' : 'partial',
    markdown: md.join('\n\n'),
    plots: [{ file: 'scaling-players.svg', svg: plot, alt: 'time per estimate vs players' }, ...episodes.plots],
    data: { sizes, budget, maxExact, timings, shapiq, episodes: episodes.data },
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
