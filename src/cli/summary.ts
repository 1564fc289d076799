/**
 * The replay summary: episodes, agents, mean credit per agent, failures — computed from the
 * published events, rendered as a fixed-width text table (stderr). A correction (a later revision
 * of an episode, after late spans or a late evaluation) replaces the episode's earlier revision in
 * every figure: each episode counts once, as its latest revision says.
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
  /** Revisions superseded by a later one (corrections), not counted above. */
  corrections: number;
  agents: AgentSummary[];
}

/** What the summary needs of an episode's latest revision (not its whole event: replays can be long). */
interface EpisodeFigures {
  revision: number;
  credit?: { failure: boolean; systemValue: number; agents: { id: string; name: string; credit: number }[]; firstErrorAgent: string | undefined };
  rewards: number;
  pairs: number;
}

export class SummaryCollector {
  private readonly byEpisode = new Map<string, EpisodeFigures>();
  private corrections = 0;

  add(events: readonly CreditEvent[]): void {
    for (const e of events) {
      let f = this.byEpisode.get(e.episode_id);
      if (f !== undefined && e.episode_revision < f.revision) continue; // an older revision, late
      if (f === undefined || e.episode_revision > f.revision) {
        if (f !== undefined) this.corrections++;
        f = { revision: e.episode_revision, rewards: 0, pairs: 0 };
        this.byEpisode.set(e.episode_id, f);
      }
      if (e.event_type === 'message_reward') f.rewards++;
      else if (e.event_type === 'preference_pair') f.pairs++;
      else f.credit = { failure: e.outcome === 'failure', systemValue: e.system_value, agents: e.agents.map((a) => ({ id: a.agent_id, name: a.agent_name, credit: a.credit })), firstErrorAgent: e.first_error?.agent_id };
    }
  }

  summary(): ReplaySummary {
    let episodes = 0;
    let failures = 0;
    let systemValueSum = 0;
    let rewards = 0;
    let pairs = 0;
    const agents = new Map<string, { name: string; episodes: number; credit: number; firstErrors: number }>();
    for (const f of this.byEpisode.values()) {
      rewards += f.rewards;
      pairs += f.pairs;
      const e = f.credit;
      if (e === undefined) continue;
      episodes++;
      if (e.failure) failures++;
      systemValueSum += e.systemValue;
      for (const a of e.agents) {
        const s = agents.get(a.id) ?? { name: a.name, episodes: 0, credit: 0, firstErrors: 0 };
        s.episodes++;
        s.credit += a.credit;
        if (e.firstErrorAgent === a.id) s.firstErrors++;
        agents.set(a.id, s);
      }
    }
    return {
      episodes,
      failures,
      meanSystemValue: episodes ? systemValueSum / episodes : 0,
      messageRewards: rewards,
      preferencePairs: pairs,
      corrections: this.corrections,
      agents: [...agents.entries()]
        .map(([agentId, s]) => ({ agentId, agentName: s.name, episodes: s.episodes, meanCredit: s.credit / s.episodes, totalCredit: s.credit, firstErrors: s.firstErrors }))
        .sort((a, b) => b.totalCredit - a.totalCredit || a.agentId.localeCompare(b.agentId)),
    };
  }
}

/** What the replay itself counted (not visible in the events): see src/runtime/local-replay.ts `ReplayStats`. */
export interface ReplayCounts {
  /** Closed episode revisions that gave no credit events (no evaluation, bad score…). */
  episodesSkipped: number;
  /** Closed episode revisions whose credit threw or timed out. */
  creditFailures: number;
  unmatchedEvaluations: { expired: number; pendingAtEnd: number; unjoinable: number };
  /** Requests (files, .jsonl lines) skipped as undecodable. */
  undecodable: number;
}

/** The summary's line of replay counts: skipped episodes, unmatched evaluations, undecodable requests. */
export function renderReplayCounts(c: ReplayCounts): string {
  const u = c.unmatchedEvaluations;
  const unmatched = u.expired + u.pendingAtEnd + u.unjoinable;
  const why = [u.expired ? `${u.expired} expired waiting for spans` : '', u.pendingAtEnd ? `${u.pendingAtEnd} with no spans of their trace in the input` : '', u.unjoinable ? `${u.unjoinable} unjoinable` : ''].filter(Boolean).join(', ');
  return [
    `skipped episodes (closed without credit): ${c.episodesSkipped}`,
    `credit failures: ${c.creditFailures}`,
    `unmatched evaluations: ${unmatched}${why ? ` (${why})` : ''}`,
    `undecodable requests skipped: ${c.undecodable}`,
  ].join('   ');
}

export function renderSummary(s: ReplaySummary, counts?: ReplayCounts): string {
  const rows = [['agent', 'episodes', 'mean credit', 'total credit', 'first errors'], ...s.agents.map((a) => [a.agentName === a.agentId ? a.agentName : `${a.agentName} (${a.agentId})`, String(a.episodes), a.meanCredit.toFixed(4), a.totalCredit.toFixed(4), String(a.firstErrors)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    `episodes: ${s.episodes}   failures: ${s.failures}   mean system value: ${s.meanSystemValue.toFixed(4)}   agents: ${s.agents.length}   message rewards: ${s.messageRewards}   preference pairs: ${s.preferencePairs}${s.corrections > 0 ? `   corrections: ${s.corrections} (each episode counted once, as its latest revision)` : ''}`,
    ...(counts ? [renderReplayCounts(counts)] : []),
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}
