import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { KafkaSinkConfigSchema } from '../../src/sinks/kafka/config.js';
import { publishableEventRecord } from '../../src/sinks/kafka/event-records.js';

const topics = KafkaSinkConfigSchema.parse({}).topics;

async function failedRunEvents(): Promise<CreditEvent[]> {
  const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 4 });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [episode] = asm.flush('shutdown');
  return processEpisode(episode!, {});
}

describe('the dead letter of an event too large to publish says what to change', () => {
  it('a message_reward (no text: names are cut at 256 bytes) grows with a long conversation’s trace_ids, not with conventions.maxTextBytes', async () => {
    const reward = (await failedRunEvents()).find((e) => e.event_type === 'message_reward')!;
    // a conversation episode of 3,000 turns: every event carries every turn's trace id
    const traceIds = Array.from({ length: 3_000 }, (_, i) => i.toString(16).padStart(32, '0'));
    const big = { ...reward, episode_id: 'conv:c1', trace_ids: traceIds } as CreditEvent;
    const { record, tooLargeBytes } = publishableEventRecord(big, topics, 64 * 1024);
    expect(tooLargeBytes).toBeGreaterThan(100_000);
    const reason = record.headers!['x-agent-credit-error'] as string;
    expect(reason).not.toMatch(/maxTextBytes/);
    expect(reason).toMatch(/episodes\.maxSpansPerEpisode/);
  });

  it('a preference_pair grows with its texts: conventions.maxTextBytes', async () => {
    const pair = (await failedRunEvents()).find((e) => e.event_type === 'preference_pair')!;
    const big = { ...pair, context: { ...(pair as { context: object }).context, input: 'x'.repeat(100_000) } } as CreditEvent;
    const { record, tooLargeBytes } = publishableEventRecord(big, topics, 64 * 1024);
    expect(tooLargeBytes).toBeGreaterThan(100_000);
    expect(record.headers!['x-agent-credit-error']).toMatch(/lower conventions\.maxTextBytes/);
  });
});
