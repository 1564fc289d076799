/**
 * A recorded run and its verdict through what the job does with them: an assembler that closes the
 * episode when the verdict arrives, then conventions → credit → events. Shared by the tests of
 * where a run-level verdict belongs (HTTP server roots, web framework spans).
 */
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';

/** How the episode closed (undefined: it did not close on the verdict) and its credit events. */
export async function creditOnVerdict(spans: readonly Span[], verdict: Evaluation): Promise<{ closeReason: string | undefined; events: CreditEvent[] }> {
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(spans);
  asm.addEvaluations([verdict]);
  const [episode] = asm.tick();
  return { closeReason: episode?.closeReason, events: episode ? await processEpisode(episode) : [] };
}

/** Agent name → credit, from an episode_credit event. */
export const creditByAgent = (event: CreditEvent | undefined): Record<string, number> =>
  Object.fromEntries((event as { agents: { agent_name: string; credit: number }[] }).agents.map((a) => [a.agent_name, a.credit]));
