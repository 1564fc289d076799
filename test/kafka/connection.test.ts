/** TLS/SASL settings → kafkajs options (src/kafka/connection.ts); the broker handshakes are in test/integration/kafka-security.test.ts. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { KafkaConnectionConfigError, explainConnectionError, resolveKafkaConnection } from '../../src/kafka/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'conn-'));
const FIXTURES = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const kafkaConfig = (kafka: string) => loadConfig({ text: `source:\n  kind: kafka\n  kafka:\n    brokers: [b:9093]\n${kafka}`, env: {} }).config.source.kafka!;

describe('source.kafka.ssl / sasl', () => {
  it('defaults to plaintext without SASL', () => {
    const k = kafkaConfig('');
    expect(k.ssl).toBe(false);
    expect(k.sasl).toBeUndefined();
    expect(resolveKafkaConnection(k)).toEqual({});
  });

  it('ssl: true uses the trusted CAs; PEM files are read at start', () => {
    expect(resolveKafkaConnection(kafkaConfig('    ssl: true\n'))).toEqual({ ssl: true });
    const ca = join(FIXTURES, 'ca.pem');
    const k = kafkaConfig(`    ssl: { ca: ${ca}, servername: kafka.internal }\n    sasl: { mechanism: scram-sha-256, username: u, password: p }\n`);
    expect(resolveKafkaConnection(k)).toEqual({ ssl: { rejectUnauthorized: true, ca: readFileSync(ca, 'utf8'), servername: 'kafka.internal' }, sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } });
  });

  it('an unreadable or non-PEM file names its key and what to give', () => {
    expect(() => resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${join(dir, 'missing.pem')} }\n`))).toThrow(KafkaConnectionConfigError);
    expect(() => resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${join(dir, 'missing.pem')} }\n`))).toThrow(/^source\.kafka\.ssl\.ca: cannot read .*missing\.pem \(ENOENT\); give the path of the CA certificate/);
    const der = join(dir, 'cert.der');
    writeFileSync(der, Buffer.from([0x30, 0x82, 0x01]));
    expect(() => resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${der} }\n`))).toThrow(/source\.kafka\.ssl\.ca: .*cert\.der is not PEM/);
  });

  it('a CA file without a readable certificate fails at start naming ssl.ca (Node would accept it and distrust every broker)', () => {
    const attempt = (file: string) => () => resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${file} }\n`));
    // a private key given as the CA
    expect(attempt(join(FIXTURES, 'server-key.pem'))).toThrow(/^source\.kafka\.ssl\.ca: .*server-key\.pem holds no certificate \(its PEM block is (ENCRYPTED )?PRIVATE KEY\); give the CA certificate/);
    // a damaged certificate block, alone and after a good one (OpenSSL would skip it silently)
    const damaged = join(dir, 'damaged.pem');
    writeFileSync(damaged, PEM);
    expect(attempt(damaged)).toThrow(/^source\.kafka\.ssl\.ca: .*damaged\.pem has certificates that cannot be read \(certificate 1 of 1: .*asn1/);
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, readFileSync(join(FIXTURES, 'ca.pem'), 'utf8') + PEM);
    expect(attempt(bundle)).toThrow(KafkaConnectionConfigError);
    expect(attempt(bundle)).toThrow(/certificate 2 of 2/);
    // OpenSSL's TRUSTED CERTIFICATE label (RHEL's ca-bundle.trust.crt) is a certificate too
    expect(resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${join(FIXTURES, 'ca-trusted.pem')} }\n`)).ssl).toMatchObject({ ca: expect.stringContaining('BEGIN TRUSTED CERTIFICATE') });
    // a bundle of readable certificates passes
    const two = join(dir, 'two.pem');
    writeFileSync(two, readFileSync(join(FIXTURES, 'ca.pem'), 'utf8') + readFileSync(join(FIXTURES, 'server.pem'), 'utf8'));
    expect(resolveKafkaConnection(kafkaConfig(`    ssl: { ca: ${two} }\n`)).ssl).toMatchObject({ ca: expect.stringContaining('BEGIN CERTIFICATE') });
  });

  it('mutual TLS needs cert and key together; SASL needs a known mechanism', () => {
    expect(() => kafkaConfig('    ssl: { cert: /c.pem }\n')).toThrow(/source\.kafka\.ssl\.key: mutual TLS needs both cert and key/);
    expect(() => kafkaConfig('    sasl: { mechanism: gssapi, username: u, password: p }\n')).toThrow(/source\.kafka\.sasl\.mechanism: expected one of "plain" \| "scram-sha-256" \| "scram-sha-512" \| "oauthbearer", got "gssapi"/);
  });

  it('a client key that does not decrypt or does not belong to the certificate fails at start naming ssl.key', () => {
    const f = (name: string) => join(FIXTURES, name);
    const good = kafkaConfig(`    ssl: { ca: ${f('ca.pem')}, cert: ${f('client.pem')}, key: ${f('client-key.pem')}, passphrase: right-passphrase }\n`);
    expect(resolveKafkaConnection(good).ssl).toMatchObject({ passphrase: 'right-passphrase' });
    for (const [settings, code] of [
      [`cert: ${f('client.pem')}, key: ${f('client-key.pem')}, passphrase: wrong`, /bad decrypt/],
      [`cert: ${f('client.pem')}, key: ${f('client-key.pem')}`, /bad decrypt/],
      [`cert: ${f('server.pem')}, key: ${f('client-key.pem')}, passphrase: right-passphrase`, /key values mismatch/],
    ] as const) {
      const attempt = () => resolveKafkaConnection(kafkaConfig(`    ssl: { ${settings} }\n`));
      expect(attempt).toThrow(KafkaConnectionConfigError);
      expect(attempt).toThrow(/^source\.kafka\.ssl\.key: the client key cannot be used with source\.kafka\.ssl\.cert: .*source\.kafka\.ssl\.passphrase/);
      expect(attempt).toThrow(code);
    }
  });

  it('ssl keys are settings like any other: environment overrides, unknown keys named; secrets never echoed', () => {
    expect(loadConfig({ text: 'source:\n  kind: kafka\n  kafka:\n    brokers: [b:9093]\n', env: { AGENT_CREDIT_SOURCE_KAFKA_SSL_CA: '/etc/kafka/ca.pem' } }).config.source.kafka!.ssl).toEqual({ ca: '/etc/kafka/ca.pem', rejectUnauthorized: true });
    expect(() => kafkaConfig('    ssl: { ca: /c.pem, caa: /d.pem, passphrase: hunter2 }\n')).toThrow(/source\.kafka\.ssl\.caa: unknown key — accepted keys here: ca, cert, key, passphrase, rejectUnauthorized, servername/);
    const err = (() => {
      try {
        kafkaConfig('    sasl: { mechanism: plain, username: u, password: 12345678 }\n');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/source\.kafka\.sasl\.password: expected a string, got a number \(value hidden: a secret\)/);
    expect(err?.message).not.toContain('12345678');
  });

  // fetch refuses such a URL ("Request cannot be constructed from a URL that includes credentials: <the URL>"):
  // every token fetch failed, and the error quoting the URL put the password in the job's log
  it('an oauthbearer tokenEndpoint with user:password@ is refused at start, without echoing the password', () => {
    const err = (() => {
      try {
        kafkaConfig('    ssl: true\n    sasl: { mechanism: oauthbearer, tokenEndpoint: "https://client:s3cr3t@idp.example/token", clientId: c, clientSecret: x }\n');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toContain('source.kafka.sasl.tokenEndpoint: a URL with user:password@ is refused by fetch: give the client credentials as clientId and clientSecret');
    expect(err?.message).not.toContain('s3cr3t');
    expect(kafkaConfig('    ssl: true\n    sasl: { mechanism: oauthbearer, tokenEndpoint: "https://idp.example/token", clientId: c, clientSecret: x }\n').sasl?.tokenEndpoint).toBe('https://idp.example/token');
  });

  it('handshake errors get the key to check', () => {
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN'), { name: 'KafkaJSSASLAuthenticationError' });
    expect(explainConnectionError(sasl).message).toMatch(/check source\.kafka\.sasl/);
    expect(explainConnectionError(sasl).name).toBe('KafkaJSSASLAuthenticationError');
    expect(explainConnectionError(new Error('Connection error: self-signed certificate')).message).toMatch(/set source\.kafka\.ssl\.ca/);
    expect(explainConnectionError(new Error('Connection error: certificate has expired')).message).toMatch(/outside its validity period/);
    expect(explainConnectionError(new Error("Connection error: Hostname/IP does not match certificate's altnames")).message).toMatch(/set source\.kafka\.ssl\.servername/);
    expect(explainConnectionError(new Error('Connection error: write EPROTO ... wrong version number')).message).toMatch(/does the listener speak TLS/);
    // a broker host named for its listener: the broker list to check, not the SASL password
    for (const host of ['kafka-sasl.example.com', 'kafka-sasl', 'broker-oauthbearer.internal']) {
      const notFound = Object.assign(new Error(`Connection error: getaddrinfo ENOTFOUND ${host}`), { name: 'KafkaJSNumberOfRetriesExceeded' });
      expect(explainConnectionError(notFound).message).toBe(`Connection error: getaddrinfo ENOTFOUND ${host} — check source.kafka.brokers (host:port of a listener this client can reach)`);
    }
    const scram = new Error('SASL SCRAM SHA512 authentication failed: broker kafka-plain.example:9094: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
    expect(explainConnectionError(scram).message).toMatch(/check source\.kafka\.sasl \(mechanism/);
    const other = new Error('source.kafka.spansTopic: topic "x" does not exist');
    expect(explainConnectionError(other)).toBe(other);
  });
});
