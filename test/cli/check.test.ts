/** `agent-credit check` paths that need no broker (src/cli/check.ts); the broker-backed ones are in test/integration/check-command.test.ts. */
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/index.js';
import { FakeKafka } from '../kafka/fake-kafka.js';

function kafkaConfig() {
  return loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null } }, sinks: { live: { enabled: false } } } }).config;
}

describe('agent-credit check (no broker)', () => {
  it('--sample: a topic that holds records none of which can be read (e.g. an ACL) fails, naming what to check', async () => {
    const fake = new FakeKafka(); // its consumer never delivers anything
    const admin = await fake.admin();
    const client = Object.assign(Object.create(fake) as FakeKafka, {
      admin: async () => ({ ...admin, partitionCounts: async () => new Map([['spans', 1]]), fetchEndOffsets: async () => [{ partition: 0, offset: '5', low: '0' }] }),
    });
    const report = await runChecks(kafkaConfig(), { kafkaClient: async () => client, sample: true, sampleTimeoutMs: 200 });
    expect(report.ok).toBe(false);
    expect(renderCheckReport(report)).toMatch(/✗ source\.kafka\.spansTopic: "spans" holds records but none could be read within 0\.2 s — check that this principal may Read the topic and use consumer groups/);
  });

  it('--sample: a topic emptied by retention (high = low) is not sampled', async () => {
    const fake = new FakeKafka();
    const admin = await fake.admin();
    const client = Object.assign(Object.create(fake) as FakeKafka, {
      admin: async () => ({ ...admin, partitionCounts: async () => new Map([['spans', 1]]), fetchEndOffsets: async () => [{ partition: 0, offset: '5', low: '5' }] }),
    });
    const report = await runChecks(kafkaConfig(), { kafkaClient: async () => client, sample: true, sampleTimeoutMs: 200 });
    expect(report.ok).toBe(true);
    expect(renderCheckReport(report)).toContain('· source.kafka.spansTopic: "spans" holds no records now: nothing to sample');
  });
});
