/**
 * The per-agent series on `/metrics` as Prometheus text, from the standings' rows
 * (src/events/agent-board.ts): `<prefix>_agent_<figure>` gauges — what stands now — and
 * `<prefix>_agent_<figure>_total` counters (src/events/agent-totals.ts) — what only goes up, for
 * increase() and rate(), which read a process restart's drop to 0 as a reset where delta() over
 * the gauges reads it as a fall.
 *
 * Written here rather than through OpenTelemetry instruments: the SDK's cumulative reader keeps
 * reporting every attribute set ever observed with its last value, so an agent dropped from the
 * board (or renamed) would stay on /metrics for good, stale, and the series would grow with every
 * agent ever seen. The counters are rendered as the Prometheus exporter renders the SDK's
 * counters (`# TYPE <name>_total counter`, samples named `<name>_total`), so a query names them
 * the same way.
 */
import type { AgentStanding } from '../events/agent-board.js';
import type { AgentTotals } from '../events/agent-totals.js';

type Figure<T> = readonly [name: string, help: string, pick: (a: T) => number];

/** The per-agent gauges (`<prefix>_agent_<name>`). */
export const AGENT_GAUGES: readonly Figure<AgentStanding>[] = [
  ['episodes', 'Credited episodes the agent took part in (each as its latest revision)', (a) => a.episodes],
  ['failures', 'Of those, the failed ones', (a) => a.failures],
  ['credit_sum', "The agent's Shapley credit summed over those episodes (units of R; negative for agents that cost the fleet)", (a) => a.credit_sum],
  ['first_errors', 'Failed episodes whose first error was a step of the agent', (a) => a.first_errors],
  ['harmful_steps', "The agent's steps with a sabotage component (negative marginal effect, or flagged harmful)", (a) => a.harmful_steps],
  ['redundant_steps', "The agent's steps with a redundancy component (no effect, or duplicate content)", (a) => a.redundant_steps],
  ['repairs', "The agent's steps in the repair role of failed runs (corrective attempts)", (a) => a.repairs],
];

const COUNTED = ' as first counted: a correction adds what its revision has beyond the one it replaces and withdraws nothing (the gauge of the same name without _total is what stands now)';

/** The per-agent counters (`<prefix>_agent_<name>_total`, name given without `_total`). */
export const AGENT_COUNTERS: readonly Figure<AgentTotals>[] = [
  ['credit_gained', "Rises of the agent's credit sum (units of R): positive credit of its episodes, and what corrections raised it by. credit_gained − credit_lost is agent_credit_sum", (t) => t.creditGained],
  ['credit_lost', "Falls of the agent's credit sum (units of R, positive): negative credit of its episodes, and what corrections lowered it by", (t) => t.creditLost],
  ['episodes', `Credited episodes the agent took part in,${COUNTED}`, (t) => t.episodes],
  ['failures', `Failed episodes the agent took part in,${COUNTED}`, (t) => t.failures],
  ['first_errors', `Failed episodes whose first error was a step of the agent,${COUNTED}`, (t) => t.firstErrors],
  ['harmful_steps', `The agent's steps with a sabotage component,${COUNTED}`, (t) => t.harmful],
  ['redundant_steps', `The agent's steps with a redundancy component,${COUNTED}`, (t) => t.redundant],
  ['repairs', `The agent's steps in the repair role of failed runs,${COUNTED}`, (t) => t.repairs],
];

/** Every per-agent metric name as Prometheus sees it, with `prefix` (the deploy files' checks use it). */
export function agentMetricNames(prefix: string): { gauges: string[]; counters: string[] } {
  return { gauges: AGENT_GAUGES.map(([n]) => `${prefix}_agent_${n}`), counters: AGENT_COUNTERS.map(([n]) => `${prefix}_agent_${n}_total`) };
}

/**
 * The rows as Prometheus text: a gauge family per figure, and a counter family per total for the
 * rows that carry totals. `standings` is the label telling a job's standings from a view's.
 */
export function agentMetricsText(rows: readonly AgentStanding[], prefix: string, standings: string): string {
  if (rows.length === 0) return '';
  const labels = rows.map((a) => `{agent_id="${promLabel(a.agent_id)}",agent_name="${promLabel(a.agent_name)}",standings="${promLabel(standings)}"}`);
  let out = '';
  const family = (metric: string, help: string, type: 'gauge' | 'counter') => `# HELP ${metric} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${metric} ${type}\n`;
  for (const [name, help, pick] of AGENT_GAUGES) {
    const metric = `${prefix}_agent_${name}`;
    out += family(metric, help, 'gauge');
    rows.forEach((a, i) => (out += `${metric}${labels[i]} ${promNumber(pick(a))}\n`));
  }
  if (!rows.some((a) => a.totals !== undefined)) return out;
  for (const [name, help, pick] of AGENT_COUNTERS) {
    const metric = `${prefix}_agent_${name}_total`;
    out += family(metric, help, 'counter');
    rows.forEach((a, i) => {
      if (a.totals !== undefined) out += `${metric}${labels[i]} ${promNumber(pick(a.totals))}\n`;
    });
  }
  return out;
}

/**
 * Agents the standings dropped to stay within `telemetry.maxAgents` (least recently credited
 * first): their per-agent series left /metrics. Without it a fleet of more agents than the cap
 * lost series with nothing saying so; alert on its increase().
 */
export function agentsDroppedText(dropped: number, prefix: string, standings: string): string {
  const metric = `${prefix}_agents_dropped_total`;
  return `# HELP ${metric} Drops of an agent from the standings to stay within telemetry.maxAgents (least recently credited first; an agent that comes back and is dropped again counts again): their per-agent series left /metrics and their standings start afresh; raise telemetry.maxAgents\n# TYPE ${metric} counter\n${metric}{standings="${promLabel(standings)}"} ${promNumber(dropped)}\n`;
}

/** A label value in the Prometheus text format: backslash, double quote and line feed escaped. */
function promLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value in the Prometheus text format. */
function promNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
