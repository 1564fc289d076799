/**
 * The replay summary: episodes, agents, mean credit per agent, failures — computed from the
 * published events, rendered as a fixed-width text table (stderr).
 */
import type { CreditEvent } from '../events/schemas.js';

export interface AgentSummary {
  agentId: string;
  agentName: string;
  episodes: number;
  meanCredit: number;
  totalCredit: number;
  firstErrors: number;
}

export interface ReplaySummary {
  episodes: number;
  failures: number;
  meanSystemValue: number;
  messageRewards: number;
  preferencePairs: number;
  agents: AgentSummary[];
}

export class SummaryCollector {
  private episodes = 0;
  private failures = 0;
  private systemValueSum = 0;
  private rewards = 0;
  private pairs = 0;
  private readonly agents = new Map<string, { name: string; episodes: number; credit: number; firstErrors: number }>();

  add(events: readonly CreditEvent[]): void {
    for (const e of events) {
      if (e.event_type === 'message_reward') this.rewards++;
      else if (e.event_type === 'preference_pair') this.pairs++;
      else {
        this.episodes++;
        if (e.outcome === 'failure') this.failures++;
        this.systemValueSum += e.system_value;
        for (const a of e.agents) {
          const s = this.agents.get(a.agent_id) ?? { name: a.agent_name, episodes: 0, credit: 0, firstErrors: 0 };
          s.episodes++;
          s.credit += a.credit;
          if (e.first_error?.agent_id === a.agent_id) s.firstErrors++;
          this.agents.set(a.agent_id, s);
        }
      }
    }
  }

  summary(): ReplaySummary {
    return {
      episodes: this.episodes,
      failures: this.failures,
      meanSystemValue: this.episodes ? this.systemValueSum / this.episodes : 0,
      messageRewards: this.rewards,
      preferencePairs: this.pairs,
      agents: [...this.agents.entries()]
        .map(([agentId, s]) => ({ agentId, agentName: s.name, episodes: s.episodes, meanCredit: s.credit / s.episodes, totalCredit: s.credit, firstErrors: s.firstErrors }))
        .sort((a, b) => b.totalCredit - a.totalCredit || a.agentId.localeCompare(b.agentId)),
    };
  }
}

export function renderSummary(s: ReplaySummary): string {
  const rows = [['agent', 'episodes', 'mean credit', 'total credit', 'first errors'], ...s.agents.map((a) => [a.agentName === a.agentId ? a.agentName : `${a.agentName} (${a.agentId})`, String(a.episodes), a.meanCredit.toFixed(4), a.totalCredit.toFixed(4), String(a.firstErrors)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    `episodes: ${s.episodes}   failures: ${s.failures}   mean system value: ${s.meanSystemValue.toFixed(4)}   agents: ${s.agents.length}   message rewards: ${s.messageRewards}   preference pairs: ${s.preferencePairs}`,
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}
