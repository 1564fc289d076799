/**
 * `agent-credit check --sample` joins its throwaway group with run's session timeout
 * (source.kafka.sessionTimeoutMs). It joined with a fixed 10 s: brokers whose
 * group.min.session.timeout.ms is above that (here 15 s) refused the sample's join while they
 * accept run's (the default 30 s), and check failed with "holds records but none could be read
 * … check that this principal may Read the topic" — an ACL blamed for a setting run does not have.
 */
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/index.js';
import { createTopics, fleetRecords, produce, unique } from './support/kafka-io.js';
import { useOwnBroker } from './support/own-broker.js';

const { broker, clientOf } = useOwnBroker({ 'group.min.session.timeout.ms': '15000' });

describe('agent-credit check --sample on brokers with a 15 s minimum session timeout', () => {
  it("samples with run's session timeout: accepted where run's is, refused (naming the setting) where run's is", async () => {
    const base = unique('check-sample-session');
    const c = clientOf('check-sample-session');
    await createTopics(c, [`${base}.spans`], 1);
    await produce(c, (await fleetRecords({ spans: `${base}.spans`, logs: `${base}.logs` }, { episodes: 2, seed: 3 })).spans);
    const config = (kafka: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number }) =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [broker().brokers], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null, ...kafka } }, sinks: { live: { enabled: false } } } }).config;

    // the defaults (30 s): run joins, and so does the sample
    const good = await runChecks(config({}), { sample: true, sampleTimeoutMs: 10_000 });
    const text = renderCheckReport(good);
    expect(text).toMatch(/✓ source\.kafka\.spansTopic: 2 sample record\(s\) \(partition 0, offsets 0–1\) decode as otlp_proto/);
    expect(good.ok).toBe(true);

    // 10 s, below the brokers' minimum: run's join is refused, and the sample's too, saying why
    const low = renderCheckReport(await runChecks(config({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000 }), { sample: true, sampleTimeoutMs: 3_000 }));
    expect(low).toMatch(/^✗ source\.kafka\.sessionTimeoutMs 10000 is outside the brokers' group\.min\.session\.timeout\.ms 15000 … group\.max\.session\.timeout\.ms \d+/m);
    expect(low).toMatch(/^✗ source\.kafka\.spansTopic: "[^"]+" holds records but none could be read within 3 s \(kafka: .*\) — source\.kafka\.sessionTimeoutMs 10000 is outside the brokers' group\.min\.session\.timeout\.ms 15000/m);
    expect(low).not.toContain('check that this principal may Read the topic');
    // the refused join made no group: nothing to delete, not "could not be deleted (no DELETE permission on it?)"
    expect(low).not.toContain('could not be deleted');
  }, 60_000);
});
