/**
 * TLS and SASL, as managed Kafka services require, on a broker of this test's own with a SASL_SSL
 * listener (certificate from the JDK's keytool; PLAIN and SCRAM-SHA-512 users) beside PLAINTEXT,
 * through which the test writes the input and reads the output:
 * - `agent-credit run` on Kafka (startKafkaJob) with `source.kafka.ssl.ca` + `sasl` (the password
 *   from AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD) consumes, credits and publishes over TLS;
 * - SCRAM-SHA-512 authenticates too;
 * - a wrong password and an untrusted certificate fail the start naming the key to fix;
 * - mutual TLS (a third listener, SSL with ssl.client.auth=required, truststore = the test CA of
 *   test/kafka/fixtures/tls): no client certificate, or one the broker does not trust, fails the
 *   start at once naming ssl.cert/ssl.key; the fixtures' client certificate connects.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { javaTool, startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { resolveKafkaConnection } from '../../src/kafka/connection.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';

let kafka: RunningKafka;
let dir: string;
let caFile: string;
const TLS_FIXTURES = fileURLToPath(new URL('../kafka/fixtures/tls/', import.meta.url));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
  const keystore = join(dir, 'broker.p12');
  caFile = join(dir, 'ca.pem');
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', 'changeit'];
  execFileSync(javaTool('keytool'), ['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3', '-dname', 'CN=127.0.0.1', '-ext', 'SAN=IP:127.0.0.1,DNS:localhost', '-keypass', 'changeit', ...store], { stdio: 'pipe' });
  execFileSync(javaTool('keytool'), ['-exportcert', '-rfc', '-alias', 'broker', '-file', caFile, ...store], { stdio: 'pipe' });
  kafka = await startKafka({
    extraListeners: [
      { name: 'SECURE', protocol: 'SASL_SSL' },
      { name: 'MTLS', protocol: 'SSL' },
    ],
    formatArgs: ['--add-scram', 'SCRAM-SHA-512=[name=bob,password=bob-secret]'],
    extraProperties: {
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
      'listener.name.secure.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
      'listener.name.secure.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.location': keystore,
      'ssl.keystore.password': 'changeit',
      'ssl.key.password': 'changeit',
      'ssl.keystore.type': 'PKCS12',
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.truststore.type': 'PEM',
      'listener.name.mtls.ssl.truststore.location': join(TLS_FIXTURES, 'ca.pem'),
    },
  });
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Client on the PLAINTEXT listener, for the test's own input and output. */
const plain = () => new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' });

function jobConfig(base: string, kafkaSection: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, live: Record<string, unknown> = { enabled: false }) {
  // The source as a configuration file (JSON is YAML), so AGENT_CREDIT_* variables apply over it.
  const file = { source: { kind: 'kafka', kafka: { brokers: [kafka.listeners.SECURE!], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs`, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, ...kafkaSection } } };
  return loadConfig({
    text: JSON.stringify(file),
    env,
    overrides: {
      sinks: { stdout: { enabled: false }, live, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      episodes: { graceMs: 300, idleMs: 2_000 },
    },
  }).config;
}

describe('Kafka over TLS + SASL', () => {
  it('the Kafka job consumes, credits and publishes through a SASL_SSL listener (PLAIN, CA from a PEM file, password from the environment)', async () => {
    const base = unique('tls');
    const c = plain();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 2);
    const runs = await generateFleet({ episodes: 6, seed: 31 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    await produce(c, [...gen.spans.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value })), ...gen.logs.map((r) => ({ topic: `${base}.logs`, key: r.key, value: r.value }))]);

    const config = jobConfig(base, { ssl: { ca: caFile }, sasl: { mechanism: 'plain', username: 'alice' } }, { AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD: 'alice-secret' }, { enabled: true, host: '127.0.0.1', port: 0 });
    expect(config.source.kafka!.sasl!.password).toBe('alice-secret');
    const job = await startKafkaJob(config, silentLogger());
    let events: CreditEvent[];
    try {
      const records = await readTopics(c, [`${base}.e`], (rs) => rs.length >= runs.length, 60_000, 200);
      events = parseEvents(records);
      // the job's /metrics carries the Kafka runtime's counters and gauges
      const metrics = await (await fetch(`${job.liveUrl}/metrics`)).text();
      expect(metrics).toMatch(/^agent_credit_kafka_assigned_partitions(\{[^}]*\})? 4$/m);
      expect(metrics).toMatch(/^agent_credit_kafka_rebalances_total(\{[^}]*\})? [1-9]/m);
    } finally {
      await job.stop();
    }
    expect(new Set(events.map((e) => e.episode_id)).size).toBe(runs.length);
    expect(events.every((e) => e.event_type === 'episode_credit')).toBe(true);
  });

  it('SCRAM-SHA-512 authenticates (a user created at format time)', async () => {
    const c = new KafkajsClient({ brokers: [kafka.listeners.SECURE!], clientId: 'it-scram', ...resolveKafkaConnection({ ssl: { ca: caFile, rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'bob-secret' } }) });
    const admin = await c.admin();
    try {
      expect(await admin.missingTopics(['no-such-topic-here'])).toEqual(['no-such-topic-here']);
    } finally {
      await admin.disconnect();
    }
  });

  it('a wrong password fails the start and names source.kafka.sasl', async () => {
    const base = unique('tlsbad');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const config = jobConfig(base, { ssl: { ca: caFile }, sasl: { mechanism: 'plain', username: 'alice', password: 'not-alices-password-7' } });
    const err = await startKafkaJob(config, silentLogger()).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/check source\.kafka\.sasl \(mechanism, username, password/);
    expect(err?.message).not.toContain('not-alices-password-7'); // the password is not echoed
  });

  it('agent-credit check connects over SASL_SSL, and names source.kafka.sasl when the password is wrong', async () => {
    const { runChecks, renderCheckReport } = await import('../../src/cli/check.js');
    const base = unique('tlscheck');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const good = await runChecks(jobConfig(base, { ssl: { ca: caFile }, sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'bob-secret' } }));
    expect(renderCheckReport(good)).toContain(`✓ kafka: connected to ${kafka.listeners.SECURE} (TLS, SASL scram-sha-512 as bob)`);
    expect(good.ok).toBe(true);
    const bad = await runChecks(jobConfig(base, { ssl: { ca: caFile }, sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'not-bobs-password-3' } }));
    expect(bad.ok).toBe(false);
    expect(renderCheckReport(bad)).toMatch(/✗ kafka: cannot connect to .*check source\.kafka\.sasl/);
    expect(renderCheckReport(bad)).not.toContain('not-bobs-password-3');
  });

  it("a broker certificate not signed by a trusted CA fails the start and names source.kafka.ssl.ca", async () => {
    const base = unique('tlsca');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const config = jobConfig(base, { ssl: true, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } });
    const err = await startKafkaJob(config, silentLogger()).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/set source\.kafka\.ssl\.ca to the PEM file of the CA/);
    // from the TLS preflight (src/kafka/tls-preflight.ts), not from kafkajs after its retries
    expect(err?.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)/);
    const { runChecks, renderCheckReport } = await import('../../src/cli/check.js');
    const report = renderCheckReport(await runChecks(config));
    expect(report).toMatch(/✗ kafka: cannot connect to .*TLS handshake with .* failed .*set source\.kafka\.ssl\.ca/);
  });

  it('ssl set for a PLAINTEXT listener fails the start at once: the broker drops the ClientHello, twice', async () => {
    const base = unique('tlsplain');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const config = jobConfig(base, { brokers: [kafka.brokers], ssl: { ca: caFile } });
    const err = await startKafkaJob(config, silentLogger()).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed .*closed the connection during the TLS handshake twice/);
    expect(err?.message).toMatch(/does the listener speak TLS\? Set source\.kafka\.ssl only for SSL\/SASL_SSL listeners/);
  });

  it('mutual TLS: no client certificate, or an untrusted one, fails the start at once naming ssl.cert and ssl.key; a trusted one connects', async () => {
    const base = unique('mtls');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const f = (name: string) => join(TLS_FIXTURES, name);
    const mtls = (ssl: Record<string, unknown>) => jobConfig(base, { brokers: [kafka.listeners.MTLS!], ssl: { ca: caFile, ...ssl } });
    for (const ssl of [{}, { cert: f('stranger.pem'), key: f('stranger-key.pem') }]) {
      const t0 = performance.now();
      const err = await startKafkaJob(mtls(ssl), silentLogger()).then(() => undefined, (e: unknown) => e as Error);
      // from the TLS preflight's ApiVersions probe (TLS 1.3: the broker's alert follows the handshake)
      expect(err?.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed \(ERR_SSL_\w+\): the broker refused this client with a TLS alert \(/);
      expect(err?.message).toMatch(/set source\.kafka\.ssl\.cert and source\.kafka\.ssl\.key to a client certificate signed by a CA in the broker's truststore/);
      // before the preflight read the alert, kafkajs retried for ~10 s
      expect(performance.now() - t0).toBeLessThan(5_000);
    }
    const { runChecks, renderCheckReport } = await import('../../src/cli/check.js');
    const good = await runChecks(mtls({ cert: f('client.pem'), key: f('client-key.pem'), passphrase: 'right-passphrase' }));
    expect(renderCheckReport(good)).toContain(`✓ kafka: connected to ${kafka.listeners.MTLS}`);
    expect(good.ok).toBe(true);
  });
});
