/**
 * README's metrics reference (the table under "#### Metrics reference") and the metrics the code
 * defines, for test/telemetry/metrics-reference.test.ts and the Kafka job's and view's scrape in
 * test/integration/metrics-reference.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { creditEpisode } from '../../src/credit/index.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { episode, threeAgentSteps } from '../credit/episode-builder.js';

/** The processes README's "exposed by" column names. */
export type JobKind = 'OTLP/HTTP' | 'Kafka' | 'view';

export interface ReferenceRow {
  type: string;
  labels: string;
  exposedBy: ReadonlySet<string>;
}

/** README's table: metric name → its row. Throws on a name listed twice. */
export function metricsReference(): Map<string, ReferenceRow> {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = /^#### Metrics reference\n([^]*?)^#/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "#### Metrics reference" section');
  const rows = new Map<string, ReferenceRow>();
  for (const m of section.matchAll(/^\| `([a-z_]+)` \| (\w+) \| ([^|]*) \| ([^|]*) \|/gm)) {
    if (rows.has(m[1]!)) throw new Error(`README's metrics reference lists ${m[1]} twice`);
    rows.set(m[1]!, { type: m[2]!, labels: m[3]!.trim(), exposedBy: new Set(m[4]!.split(',').map((s) => s.trim())) });
  }
  return rows;
}

/** Metric families of a Prometheus text scrape: name → type, from its `# TYPE` lines (a histogram by its base name). */
export function scrapedMetrics(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * Every metric family the code can expose: a SelfTelemetry with every instrument touched once —
 * counters added to, the histogram recorded, every observed stat answering 1 — and the per-agent
 * series of a board with one credited episode (an empty board has none).
 */
export async function definedMetrics(): Promise<Map<string, string>> {
  const telemetry = new SelfTelemetry();
  try {
    for (const v of Object.values(telemetry)) {
      if (v && typeof v === 'object' && 'add' in v && typeof v.add === 'function') (v as { add(n: number): void }).add(1);
      if (v && typeof v === 'object' && 'record' in v && typeof v.record === 'function') (v as { record(n: number): void }).record(1);
    }
    telemetry.observe(() => new Proxy({}, { get: () => 1 }) as never);
    const board = new AgentBoard();
    telemetry.observeAgents(() => board.snapshot({ totals: true }));
    const out = outcomeToEvents(await creditEpisode(episode(threeAgentSteps({ toolFails: true }), 0.1), {}), { emittedAtMs: 0 });
    board.add([out.episode, ...out.rewards, ...out.pairs]);
    return scrapedMetrics(await telemetry.metricsText());
  } finally {
    await telemetry.shutdown();
  }
}
