/**
 * A retry by another agent after t* was already repaired answers no error (trainer pass): in the
 * generated error-retry run judged as failed, the coder's run_tests crashes, the coder retries it
 * (the repair), then hands over; the reviewer's own run_tests (another input, the crash in its
 * history) was counted as a second repair of the crash.
 */
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../src/otlp/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

async function judgedFailed(convention: 'genai' | 'openinference' | 'openllmetry'): Promise<{ events: CreditEvent[]; fixSpanId: string | undefined }> {
  const run = await generateScenario({ kind: 'error-retry', convention, seed: 100 });
  const asm = new EpisodeAssembler({}, new ManualClock(0));
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations([{ name: 'task_success', score: 0.1, label: 'fail', traceId: run.traceId, source: 'evaluations-stream', timeUnixNano: 1n }]);
  const [episode] = asm.flush('shutdown');
  return { events: await processEpisode(episode!), fixSpanId: run.expected.fixSpanId };
}

describe.each(['genai', 'openinference', 'openllmetry'] as const)('an error-retry run judged as failed (%s)', (convention) => {
  it('the coder’s retry is the one repair; the reviewer’s later test run is not', async () => {
    const { events, fixSpanId } = await judgedFailed(convention);
    const rewards = events.filter((e) => e.event_type === 'message_reward');
    const repairs = rewards.filter((r) => r.failure_role === 'repair');
    expect(repairs.map((r) => r.step_id)).toEqual([fixSpanId]);
    const reviewerTests = rewards.filter((r) => r.agent_name === 'reviewer' && r.name.includes('run_tests'));
    expect(reviewerTests.length).toBeGreaterThan(0);
    for (const r of reviewerTests) expect(r.failure_role).not.toBe('repair');
  });
});
