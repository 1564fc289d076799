/**
 * The Kafka client's TLS files renewed while running (renewableKafkaTls, src/kafka/connection.ts):
 * kafkajs keeps the `ssl` object it was given and uses it for every later connection, so the
 * renewed client certificate is what the next connection presents. A TLS server stands in for the
 * broker's listener (mutual TLS): it records the client certificate of each handshake.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialFileWatcher } from '../../src/http/credential-renewal.js';
import { renewableKafkaTls, resolveKafkaConnection } from '../../src/kafka/connection.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls.js';
import { tempDir } from '../support/temp-dir.js';

let first: TlsMaterial;
let second: TlsMaterial;
let server: Server;
let port: number;
const presented: string[] = [];

beforeAll(async () => {
  first = makeTlsMaterial();
  second = makeTlsMaterial();
  server = createServer({ cert: first.read(first.serverCert), key: first.read(first.serverKey), requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
    presented.push(socket.getPeerCertificate().fingerprint256 ?? 'none');
    socket.destroy(); // not a broker: the handshake is what this test looks at
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server?.close();
  first.remove();
  second.remove();
});

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

/** One connection attempt of a fresh kafkajs admin (no retries), as the job's clients open them. */
async function connectOnce(ssl: ReturnType<typeof resolveKafkaConnection>['ssl']): Promise<void> {
  const kafka = new Kafka({ clientId: 'tls-renewal-test', brokers: [`localhost:${port}`], ssl: ssl!, connectionTimeout: 2_000, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
}

describe('source.kafka.ssl files renewed while running', () => {
  it('the next connection presents the renewed client certificate; unusable files leave the earlier one in use', async () => {
    const dir = tempDir('ac-kafka-tls-');
    const file = (name: string) => join(dir, name);
    copyFileSync(first.serverCert, file('ca.pem'));
    copyFileSync(first.clientCert, file('client.crt'));
    copyFileSync(first.clientKey, file('client.key'));
    const settings = { ssl: { ca: file('ca.pem'), cert: file('client.crt'), key: file('client.key'), rejectUnauthorized: true } };
    const connection = resolveKafkaConnection(settings);
    const warnings: string[] = [];
    const watcher = new CredentialFileWatcher([renewableKafkaTls(settings, connection)], { log: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) } });
    expect(watcher.files).toEqual([file('ca.pem'), file('client.crt'), file('client.key')]);

    await connectOnce(connection.ssl);
    expect(presented.at(-1)).toBe(fingerprintOf(first.read(first.clientCert)));

    copyFileSync(second.clientCert, file('client.crt'));
    copyFileSync(second.clientKey, file('client.key'));
    expect(watcher.check()).toEqual([{ name: 'source.kafka', outcome: 'renewed' }]);
    await connectOnce(connection.ssl);
    expect(presented.at(-1)).toBe(fingerprintOf(second.read(second.clientCert)));

    // half a rotation: a key that is not the certificate's — refused, the renewed pair stays
    copyFileSync(first.clientKey, file('client.key'));
    expect(watcher.check()).toEqual([{ name: 'source.kafka', outcome: 'failed' }]);
    expect(watcher.unusable).toBe(1);
    expect(warnings.join('\n')).toMatch(/source\.kafka\.ssl\.key: the client key cannot be used with source\.kafka\.ssl\.cert/);
    await connectOnce(connection.ssl);
    expect(presented.at(-1)).toBe(fingerprintOf(second.read(second.clientCert)));
    writeFileSync(file('client.key'), second.read(second.clientKey));
    expect(watcher.check()).toEqual([{ name: 'source.kafka', outcome: 'renewed' }]);
    expect(watcher.unusable).toBe(0);
  });

  it('renews files changed after they were read at start but before the watcher was made', () => {
    const dir = tempDir('ac-kafka-tls-');
    const file = (name: string) => join(dir, name);
    copyFileSync(first.clientCert, file('client.crt'));
    copyFileSync(first.clientKey, file('client.key'));
    const settings = { ssl: { cert: file('client.crt'), key: file('client.key'), rejectUnauthorized: true } };
    const connection = resolveKafkaConnection(settings);
    copyFileSync(second.clientCert, file('client.crt'));
    copyFileSync(second.clientKey, file('client.key'));
    const watcher = new CredentialFileWatcher([renewableKafkaTls(settings, connection)], { log: { info: () => undefined, warn: () => undefined } });
    expect(watcher.check()).toEqual([{ name: 'source.kafka', outcome: 'renewed' }]);
    expect((connection.ssl as { cert: string }).cert).toBe(second.read(second.clientCert));
  });

  it('watches nothing for ssl: true (the system CAs, no files)', () => {
    expect(renewableKafkaTls({ ssl: true }, resolveKafkaConnection({ ssl: true })).files).toEqual([]);
  });
});
