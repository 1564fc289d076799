/**
 * The replay summary: episodes, agents, mean credit per agent, failures — computed from the
 * published events, rendered as a fixed-width text table (stderr). A correction (a later revision
 * of an episode, after late spans or a late evaluation) replaces the episode's earlier revision in
 * every figure: each episode counts once, as its latest revision says.
 */
import { eastAsianWidth } from 'get-east-asian-width';
import { AgentBoard } from '../events/agent-board.js';
import type { EventFacts } from '../events/credited-events.js';

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
  /** Episodes whose estimate is partial (budget or time ran out, value function failed): credit that is a best guess. */
  partialEstimates: number;
  messageRewards: number;
  preferencePairs: number;
  /** Revisions superseded by a later one (corrections), not counted above. */
  corrections: number;
  /**
   * Of those, corrections of an episode the summary no longer remembered (more than
   * SUMMARY_EPISODE_MEMORY episodes later): the earlier revision is counted too.
   */
  correctionsUnmatched: number;
  agents: AgentSummary[];
}

/**
 * Episodes the replay summary remembers for corrections (~1 KB each). A correction comes within
 * `episodes.correctionWindowMs` (1 h by default) of data time after its episode's first credit, so
 * in a replay in data-time order far fewer episodes lie between the two; one that comes later
 * still is counted (`correctionsUnmatched`), its earlier revision not taken back.
 */
const SUMMARY_EPISODE_MEMORY = 200_000;

/**
 * The replay's figures, from the events as they are written: the fleet board
 * (src/events/agent-board.ts), so that a correction replaces its episode's earlier revision.
 * Without de-duplication: a replay publishes every event once, and the ids would cost memory.
 */
export class SummaryCollector {
  private readonly board = new AgentBoard({ maxEpisodes: SUMMARY_EPISODE_MEMORY, maxAgents: Number.MAX_SAFE_INTEGER, deduplicate: false });

  add(events: readonly EventFacts[]): void {
    this.board.add(events);
  }

  summary(): ReplaySummary {
    const b = this.board.snapshot();
    return {
      episodes: b.episodes,
      failures: b.failures,
      meanSystemValue: b.system_value_mean,
      partialEstimates: b.partial_estimates,
      messageRewards: b.message_rewards,
      preferencePairs: b.preference_pairs,
      corrections: b.corrections,
      correctionsUnmatched: b.corrections_unmatched,
      agents: b.agents
        .filter((a) => a.episodes > 0)
        .map((a) => ({ agentId: a.agent_id, agentName: a.agent_name, episodes: a.episodes, meanCredit: a.credit_mean, totalCredit: a.credit_sum, firstErrors: a.first_errors })),
    };
  }
}

/** What the replay itself counted (not visible in the events): see src/runtime/local-replay.ts `ReplayStats`. */
export interface ReplayCounts {
  /** Closed episode revisions that gave no credit events (no evaluation, bad score…). */
  episodesSkipped: number;
  /** Of those, the ones without any agent or LLM span (health checks, start-up traces): nothing to credit. */
  episodesWithoutAgents?: number;
  /** Closed episode revisions whose credit threw or timed out. */
  creditFailures: number;
  unmatchedEvaluations: { expired: number; pendingAtEnd: number; unjoinable: number };
  /** Requests (files, .jsonl lines) skipped as undecodable. */
  undecodable: number;
  /** Evaluation records refused (invalid, or naming nothing to join on); shown when there are some. */
  evaluationRecordsRefused?: number;
}

/** The summary's line of replay counts: skipped episodes, unmatched evaluations, undecodable requests. */
function renderReplayCounts(c: ReplayCounts): string {
  const u = c.unmatchedEvaluations;
  const unmatched = u.expired + u.pendingAtEnd + u.unjoinable;
  const why = [u.expired ? `${u.expired} expired waiting for spans` : '', u.pendingAtEnd ? `${u.pendingAtEnd} with no spans of their trace in the input` : '', u.unjoinable ? `${u.unjoinable} unjoinable` : ''].filter(Boolean).join(', ');
  return [
    `skipped episodes (closed without credit): ${c.episodesSkipped}${c.episodesWithoutAgents ? ` (${c.episodesWithoutAgents} without agent or LLM spans: nothing to credit)` : ''}`,
    `credit failures: ${c.creditFailures}`,
    `unmatched evaluations: ${unmatched}${why ? ` (${why})` : ''}`,
    `undecodable requests skipped: ${c.undecodable}`,
    ...(c.evaluationRecordsRefused ? [`evaluation records refused: ${c.evaluationRecordsRefused}`] : []),
  ].join('   ');
}

/**
 * An agent's name or id as the table prints it: control characters as `\uXXXX`. They come from
 * telemetry, and written raw to the terminal an ESC started an escape sequence (colours, a cleared
 * screen, a window title) and a CR or LF broke the row.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Combining marks and zero-width format characters (U+200B…, ZWJ, U+FEFF): no column of their own. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Terminal columns of `text` (padding by UTF-16 length shifted every column after a CJK name: 客服代理 is 4 units, 8 columns). */
function columns(text: string): number {
  let n = 0;
  // East Asian wide and fullwidth characters and emoji take two columns (Unicode's EastAsianWidth, ambiguous ones narrow as terminals default to)
  for (const ch of text) n += ZERO_WIDTH.test(ch) ? 0 : eastAsianWidth(ch.codePointAt(0)!);
  return n;
}

export function renderSummary(s: ReplaySummary, counts?: ReplayCounts): string {
  const rows = [['agent', 'episodes', 'mean credit', 'total credit', 'first errors'], ...s.agents.map((a) => [printable(a.agentName === a.agentId ? a.agentName : `${a.agentName} (${a.agentId})`), String(a.episodes), a.meanCredit.toFixed(4), a.totalCredit.toFixed(4), String(a.firstErrors)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => columns(r[c]!))));
  const pad = (cell: string, width: number) => ' '.repeat(Math.max(0, width - columns(cell)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell + pad(cell, widths[c]!) : pad(cell, widths[c]!) + cell)).join('  ');
  // With no episode there is no mean: the board's 0 read as every run scoring 0
  const meanSystemValue = s.episodes > 0 ? s.meanSystemValue.toFixed(4) : '—';
  return [
    `episodes: ${s.episodes}   failures: ${s.failures}   mean system value: ${meanSystemValue}   agents: ${s.agents.length}   message rewards: ${s.messageRewards}   preference pairs: ${s.preferencePairs}${s.partialEstimates > 0 ? `   partial estimates: ${s.partialEstimates} (budget or time ran out, or the value function failed: weight them less; their episode_credit's diagnostics.warnings say why)` : ''}${s.corrections > 0 ? `   corrections: ${s.corrections} (each episode counted once, as its latest revision${s.correctionsUnmatched > 0 ? `; ${s.correctionsUnmatched} of an episode ${SUMMARY_EPISODE_MEMORY} or more episodes back, whose earlier revision is counted too` : ''})` : ''}`,
    ...(counts ? [renderReplayCounts(counts)] : []),
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}
