/**
 * Time per episode through conventions → credit as agents and messages grow, on traces recorded
 * with the OTel SDK (bench/data/agent-traces.ts, GenAI conventions). Needs src/credit
 * `creditEpisode` (loaded at run time); the reference column is the same episode's decode +
 * `stepsFromSpans` time.
 */
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { recordAgentTraces } from '../data/agent-traces.js';
import { int, num, table } from '../lib/markdown.js';
import { loadOptional } from '../lib/optional.js';
import type { BenchContext, Plot } from '../lib/section.js';
import { median } from '../lib/stats.js';
import { linePlot } from '../lib/svg.js';

export interface EpisodeScaling {
  ran: boolean;
  markdown: string;
  plots: Plot[];
  notes: string[];
  data: unknown;
}

interface Point {
  agents: number;
  messages: number;
  spans: number;
  ingestMs: number;
  creditMs: number;
  estimator: string;
  evaluations: number | undefined;
}

type CreditEpisode = (input: unknown, options: unknown) => Promise<Record<string, unknown>>;

/** Which estimator an outcome says it used, wherever the credit engine puts it. */
function estimatorOf(outcome: Record<string, unknown>): { name: string; evaluations?: number } {
  const e = (outcome.estimate ?? outcome.agentEstimate ?? outcome.estimator) as { estimator?: string; name?: string; evaluations?: number } | undefined;
  return { name: e?.estimator ?? e?.name ?? 'unknown', evaluations: e?.evaluations };
}

export async function episodeScaling(ctx: BenchContext): Promise<EpisodeScaling> {
  const credit = await loadOptional<Record<string, unknown>>('../src/credit/index.js');
  if ('missing' in credit || typeof credit.mod.creditEpisode !== 'function') {
    return { ran: false, markdown: 'Not run: src/credit does not export `creditEpisode` yet.', plots: [], notes: [], data: {} };
  }
  const creditEpisode = credit.mod.creditEpisode as CreditEpisode;
  const agentGrid = ctx.quick ? [2, 5] : [2, 3, 5, 10, 20, 35, 50];
  const messageGrid = ctx.quick ? [10, 50] : [10, 50, 100, 250, 500, 1000, 2000, 4000, 8000];
  const reps = ctx.quick ? 1 : 3;
  const points: Point[] = [];
  const notes: string[] = [];
  const measure = async (agents: number, messages: number) => {
    const recs = recordAgentTraces({ traces: reps, agents, messages, seed: ctx.seed + agents * 10_000 + messages, encodings: ['otlp_proto'] });
    const ingest: number[] = [];
    const creditMs: number[] = [];
    let est: { name: string; evaluations?: number } = { name: 'unknown' };
    for (const r of recs) {
      const t0 = performance.now();
      const spans = decodeTraces(r.proto!, 'otlp_proto');
      const { steps, agents: agentList } = stepsFromSpans(spans);
      const evaluation = evaluationsFromLogs(decodeLogs(r.logsProto!, 'otlp_proto'))[0];
      const t1 = performance.now();
      const outcome = await creditEpisode(
        { episodeId: r.traceId, revision: 0, traceIds: [r.traceId], steps, agents: agentList, evaluation, closeReason: 'root-ended', lateSpans: 0, duplicateSpans: 0 },
        {},
      );
      creditMs.push(performance.now() - t1);
      ingest.push(t1 - t0);
      est = estimatorOf(outcome);
    }
    points.push({ agents, messages, spans: recs[0]!.spanCount, ingestMs: median(ingest), creditMs: median(creditMs), estimator: est.name, evaluations: est.evaluations });
  };
  try {
    for (const a of agentGrid) await measure(a, ctx.quick ? 20 : 100);
    for (const m of messageGrid) await measure(5, m);
  } catch (err) {
    notes.push(`Episode scaling stopped: ${(err as Error).message.split('\n')[0]}`);
  }
  const used = [...new Set(points.map((p) => p.estimator))];
  const usedText =
    used.length === 1 && used[0] === 'closed-form'
      ? 'With default options (built-in provenance game) the credit engine used its closed form at every size, so the exact and sampled paths — which serve http-judge and module games — are timed in (a), not here.'
      : `Estimators the engine chose: ${used.join(', ')}.`;
  const rows = points.map((p) => [String(p.agents), String(p.messages), int(p.spans), num(p.ingestMs), num(p.creditMs), num(p.creditMs / p.ingestMs), p.estimator, p.evaluations === undefined ? '' : int(p.evaluations)]);
  const byAgents = points.slice(0, agentGrid.length);
  const byMessages = points.slice(agentGrid.length);
  const plots: Plot[] = [
    {
      file: 'scaling-episodes.svg',
      alt: 'time per episode vs agents and messages',
      svg: linePlot(
        [
          { name: 'credit, vs agents (100 msgs)', points: byAgents.map((p) => [p.agents, p.creditMs] as const) },
          { name: 'credit, vs messages (5 agents)', points: byMessages.map((p) => [p.messages, p.creditMs] as const) },
          { name: 'decode+conventions, vs messages', dashed: true, points: byMessages.map((p) => [p.messages, p.ingestMs] as const) },
        ],
        { title: 'Time per episode', xLabel: 'agents or messages', yLabel: 'ms per episode', logX: true, logY: true, width: 860 },
      ),
    },
  ];
  return {
    ran: points.length > 0,
    markdown: [
      notes.map((n) => `- ${n}`).join('\n'),
      `\`creditEpisode\` with default options; median of ${reps} episodes per point. Reference: the same episode's decode + \`stepsFromSpans\` + evaluation join. ${usedText}`,
      table(['agents', 'messages', 'spans', 'decode+conventions ms', 'credit ms', 'credit ÷ reference', 'estimator used', 'evaluations'], rows),
      '![time per episode](plots/scaling-episodes.svg)',
    ]
      .filter(Boolean)
      .join('\n\n'),
    plots,
    notes,
    data: points,
  };
}
