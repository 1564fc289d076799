/**
 * The Kafka job's transactional ids (exactly-once) are per consumer group: two deployments on the
 * same input topics in different groups used the same ids (`agent-credit-<topic>-<partition>`)
 * and fenced each other's producers at every transaction (on the broker: each took the fence for
 * its own and rejoined its group, a session timeout without publishing each time).
 */
import { describe, expect, it } from 'vitest';
import { kafkaPipelineConfigOf } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { KafkaPipelineConfigSchema } from '../../src/runtime/kafka-pipeline.js';

function prefixFor(groupId: string | undefined): string {
  const config = loadConfig({
    env: {},
    overrides: { source: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:1'], ...(groupId ? { groupId } : {}), spansTopic: 's', logsTopic: 'l' } }, sinks: { kafka: { delivery: 'exactly-once' } } },
  }).config;
  const { clientId: _c, ssl: _s, sasl: _a, ...source } = config.source.kafka!;
  return KafkaPipelineConfigSchema.parse(kafkaPipelineConfigOf(config, source, { creditConcurrency: 1, creditTimeoutMs: 1_000 })).transactionalIdPrefix;
}

describe('Kafka job: transactional ids', () => {
  it('are prefixed with the consumer group id, so two groups on the same input topics do not fence each other', () => {
    expect(prefixFor('blue')).toBe('blue');
    expect(prefixFor('green')).toBe('green');
    expect(prefixFor('blue')).not.toBe(prefixFor('green'));
  });

  it('are unchanged for the default group (agent-credit)', () => {
    expect(prefixFor(undefined)).toBe('agent-credit');
  });
});
