/**
 * OpenInference session-scoped feedback (`session.{annotations,evaluations}.<i>.…`, spec/annotations.md)
 * judges the conversation the carrying span's `session.id` names (src/conventions/README.md). A
 * conversation-keyed episode takes it as its verdict; a trace-keyed one (episodes.keyBy trace) is
 * not that conversation — as an evaluation record naming only a conversation never joins a trace.
 * Spans made by the real OTel JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import type { DegenerateEpisodeError } from '../../src/credit/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, recordSpans } from '../conventions/sdk.js';

/** A support run of session `sess-1` whose LLM span carries a session-level verdict. */
function run() {
  return recordSpans((r) => {
    const root = r.start('support run', 0, { 'openinference.span.kind': 'CHAIN', 'session.id': 'sess-1' });
    const agent = r.start('support', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'support', 'session.id': 'sess-1' }, root);
    r.start('generation', 2, {
      'openinference.span.kind': 'LLM',
      'session.id': 'sess-1',
      'output.value': 'Refunds take 14 days.',
      'session.evaluations.0.evaluation.name': 'user_satisfaction',
      'session.evaluations.0.evaluation.score': 0,
    }, agent).end(at(3));
    agent.end(at(4));
    root.end(at(5));
  });
}

async function credit(keyBy: 'trace' | 'conversation') {
  const asm = new EpisodeAssembler({ keyBy });
  asm.addSpans(run());
  const [episode] = asm.flush('idle');
  let skipped: DegenerateEpisodeError | undefined;
  const events = await processEpisode(episode!, { onSkipped: (_e, err) => (skipped = err) });
  return { episode: episode!, events, skipped };
}

describe('session-scoped OpenInference feedback', () => {
  it('is the verdict of the conversation-keyed episode of its session', async () => {
    const { episode, events } = await credit('conversation');
    expect(episode.episodeId).toBe('conv:sess-1');
    expect(events.find((e) => e.event_type === 'episode_credit')).toMatchObject({ evaluation: { name: 'user_satisfaction', score: 0 } });
  });

  it('does not score a trace-keyed episode: the trace is not the session', async () => {
    const { episode, events, skipped } = await credit('trace');
    expect(episode.keyMode).toBe('trace');
    expect(events).toEqual([]);
    expect(skipped?.reason).toBe('no-evaluation');
  });
});
