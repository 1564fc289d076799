/**
 * SASL/OAUTHBEARER on a broker of this test's own: a SASL_PLAINTEXT listener with OAUTHBEARER and
 * Kafka's built-in (unsecured-JWS) token validator, which checks the token's expiry and subject.
 * Tokens come from a local OIDC-style token endpoint (client credentials grant, HTTP Basic) that
 * the test runs, or from a file:
 * - `agent-credit run` on Kafka authenticates every connection with one token from the endpoint,
 *   consumes, credits and publishes;
 * - `agent-credit check` reports the token source;
 * - a wrong client secret, and a token the broker refuses (expired), fail the start naming the key
 *   — the latter with the broker's reason, read by our authenticator (kafkajs's drops it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';

let kafka: RunningKafka;
let idp: Server;
let tokenUrl: string;
let dir: string;
const tokenRequests: string[] = [];

/** An unsecured JWS (alg none), the form Kafka's built-in OAUTHBEARER validator accepts. */
const unsecuredJwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-oauth-'));
  idp = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      tokenRequests.push(body);
      const expected = `Basic ${Buffer.from('agent-credit:idp-secret').toString('base64')}`;
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: unsecuredJwt({ sub: 'agent-credit', iat: now, exp: now + 3_600, scope: form.get('scope') }), token_type: 'bearer', expires_in: 3_600 }));
    });
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  tokenUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/oauth2/token`;
  kafka = await startKafka({
    extraListeners: [{ name: 'OAUTH', protocol: 'SASL_PLAINTEXT' }],
    extraProperties: {
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    },
  });
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
  await new Promise<void>((r) => (idp ? idp.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const plain = () => new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-plain' });

function jobConfig(base: string, sasl: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const file = { source: { kind: 'kafka', kafka: { brokers: [kafka.listeners.OAUTH!], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs`, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, sasl } } };
  return loadConfig({
    text: JSON.stringify(file),
    env,
    overrides: {
      sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      episodes: { graceMs: 300, idleMs: 2_000 },
    },
  }).config;
}

describe('Kafka over SASL/OAUTHBEARER', () => {
  it('the Kafka job authenticates with a client-credentials token (secret from the environment), consumes, credits and publishes', async () => {
    const base = unique('oauth');
    const c = plain();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 2);
    const runs = await generateFleet({ episodes: 5, seed: 43 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    await produce(c, [...gen.spans.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value })), ...gen.logs.map((r) => ({ topic: `${base}.logs`, key: r.key, value: r.value }))]);
    const before = tokenRequests.length;
    const config = jobConfig(base, { mechanism: 'oauthbearer', tokenEndpoint: tokenUrl, clientId: 'agent-credit', scope: 'kafka' }, { AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_SECRET: 'idp-secret' });
    const job = await startKafkaJob(config, silentLogger());
    let records;
    try {
      records = await readTopics(c, [`${base}.e`], (rs) => rs.length >= runs.length, 60_000, 200);
    } finally {
      await job.stop();
    }
    const events = parseEvents(records);
    expect(new Set(events.map((e) => e.episode_id)).size).toBe(runs.length);
    // consumer, producers and admin connections all authenticated with the one cached token
    expect(tokenRequests.length - before).toBe(1);
    expect(new URLSearchParams(tokenRequests.at(-1)!).get('scope')).toBe('kafka');
  });

  it('agent-credit check connects with a token from a file and says where the token comes from', async () => {
    const { runChecks, renderCheckReport } = await import('../../src/cli/check.js');
    const base = unique('oauthcheck');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const tokenFile = join(dir, 'token');
    const now = Math.floor(Date.now() / 1000);
    writeFileSync(tokenFile, `${unsecuredJwt({ sub: 'from-file', iat: now, exp: now + 600 })}\n`);
    const report = await runChecks(jobConfig(base, { mechanism: 'oauthbearer', tokenFile }));
    expect(renderCheckReport(report)).toContain(`✓ kafka: connected to ${kafka.listeners.OAUTH} (plaintext, SASL oauthbearer with a token from ${tokenFile})`);
    expect(report.ok).toBe(true);
  });

  it('a wrong client secret fails the start, naming the keys to check and not echoing the secret', async () => {
    const base = unique('oauthbad');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const config = jobConfig(base, { mechanism: 'oauthbearer', tokenEndpoint: tokenUrl, clientId: 'agent-credit', clientSecret: 'not-the-secret-5' });
    const err = await startKafkaJob(config, silentLogger()).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/source\.kafka\.sasl\.tokenEndpoint: .* answered 401: .*check source\.kafka\.sasl\.clientId and source\.kafka\.sasl\.clientSecret/);
    expect(err?.message).not.toContain('not-the-secret-5');
  });

  it('a token the broker refuses (expired) fails the start, naming source.kafka.sasl', async () => {
    const base = unique('oauthexp');
    await createTopics(plain(), [`${base}.spans`, `${base}.logs`], 1);
    const tokenFile = join(dir, 'expired');
    const now = Math.floor(Date.now() / 1000);
    writeFileSync(tokenFile, unsecuredJwt({ sub: 'late', iat: now - 7_200, exp: now - 3_600 }));
    const err = await startKafkaJob(jobConfig(base, { mechanism: 'oauthbearer', tokenFile }), silentLogger()).then(() => undefined, (e: unknown) => e as Error);
    // the broker's own reason (RFC 7628 error challenge), which kafkajs's built-in authenticator drops
    expect(err?.message).toMatch(/^source\.kafka\.sasl\.tokenFile: the broker at 127\.0\.0\.1:\d+ refused the OAUTHBEARER token: \{"status":"invalid_token"\}; check the token's expiry/);
  });
});
