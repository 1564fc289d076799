/**
 * The TLS preflight against local servers: certificates from test/kafka/fixtures/tls (a test CA,
 * a server certificate for 127.0.0.1, an expired one), a plaintext server that answers, one that
 * closes the connection on the ClientHello as a Kafka PLAINTEXT listener does, a refused port,
 * a server that never answers, and servers that require a client certificate (mutual TLS; one
 * speaks only TLS 1.2). A Node server drops an untrusted client certificate without an alert, unlike
 * a Kafka broker: that case is tested on the real broker (test/integration/kafka-security.test.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { explainConnectionError } from '../../src/kafka/connection.js';
import { TlsPreflightError, tlsPreflight } from '../../src/kafka/tls-preflight.js';
import { REFUSED_PORT } from '../support/ports.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');
const ca = fixture('ca.pem');
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}


let good: string;
let expired: string;
let answersPlaintext: string;
let closesOnHello: string;
let silent: string;
let mutual: string;
let mutualTls12: string;
let handshakesThenSilent: string;
let helloCount = 0;
/** Called when `handshakesThenSilent` reads from a client (the preflight's ApiVersions request). */
let silentRead: (() => void) | undefined;

beforeAll(async () => {
  const key = fixture('server-key.pem');
  good = await listen(createTlsServer({ key, cert: fixture('server.pem') }, (s) => s.end()));
  expired = await listen(createTlsServer({ key, cert: fixture('expired.pem') }, (s) => s.end()));
  answersPlaintext = await listen(createNetServer((s) => s.end('this is not TLS\n'.repeat(8))));
  closesOnHello = await listen(
    createNetServer((s) =>
      s.once('data', () => {
        helloCount++;
        s.destroy(); // Kafka reads the ClientHello as an oversized request and drops the connection
      }),
    ),
  );
  silent = await listen(createNetServer(() => undefined));
  // Mutual TLS: the broker-side of ssl.client.auth=required. Answers whatever it reads, as a broker
  // answers ApiVersions.
  const answer = (s: import('node:tls').TLSSocket) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end(Buffer.alloc(8)));
  };
  const requireClient = { key, cert: fixture('server.pem'), requestCert: true, rejectUnauthorized: true };
  mutual = await listen(createTlsServer({ ...requireClient, ca }, answer).on('tlsClientError', () => undefined));
  handshakesThenSilent = await listen(createTlsServer({ key, cert: fixture('server.pem') }, (s) => s.on('error', () => undefined).on('data', () => silentRead?.())));
  mutualTls12 = await listen(createTlsServer({ ...requireClient, ca, maxVersion: 'TLSv1.2' }, answer).on('tlsClientError', () => undefined));
});

afterAll(() => {
  for (const s of servers) s.close();
});

async function failure(p: Promise<void>): Promise<Error | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
}

describe('tlsPreflight', () => {
  it('passes with the CA that signed the certificate', async () => {
    await expect(tlsPreflight([good], { ca })).resolves.toBeUndefined();
  });

  it('fails at once on an untrusted certificate; the hint names source.kafka.ssl.ca, even for a broker named "sasl"', async () => {
    const err = await failure(tlsPreflight([good], true));
    expect(err).toBeInstanceOf(TlsPreflightError);
    expect(err!.message).toMatch(new RegExp(`^TLS handshake with ${good} failed \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)`));
    expect(explainConnectionError(err).message).toMatch(/set source\.kafka\.ssl\.ca to the PEM file of the CA/);
    const named = new TlsPreflightError(err!.message.replace('127.0.0.1', 'kafka-sasl.corp'), { cause: err });
    expect(explainConnectionError(named).message).toMatch(/set source\.kafka\.ssl\.ca/);
  });

  it('fails on an expired certificate and on one that does not name the host', async () => {
    const old = await failure(tlsPreflight([expired], { ca }));
    expect(old!.message).toMatch(/CERT_HAS_EXPIRED/);
    expect(explainConnectionError(old).message).toMatch(/outside its validity period/);
    const misnamed = await failure(tlsPreflight([good], { ca, servername: 'kafka.example.com' }));
    expect(misnamed!.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(explainConnectionError(misnamed).message).toMatch(/does not name the host/);
  });

  it('fails on a listener that does not speak TLS: one that answers in plaintext, one that closes twice on the ClientHello', async () => {
    const plaintext = await failure(tlsPreflight([answersPlaintext], true));
    expect(plaintext).toBeInstanceOf(TlsPreflightError);
    expect(explainConnectionError(plaintext).message).toMatch(/does the listener speak TLS\?/);
    const before = helloCount;
    const closed = await failure(tlsPreflight([closesOnHello], { ca }));
    expect(helloCount - before).toBe(2);
    expect(closed!.message).toMatch(/closed the connection during the TLS handshake twice/);
    expect(explainConnectionError(closed).message).toMatch(/does the listener speak TLS\?/);
  });

  it('a broker that handshakes and then says nothing passes, within the preflight\'s deadline (the ApiVersions wait is bounded by it)', async () => {
    // The deadline and the waits run on a fake clock (setTimeout, Date) the test moves; the sockets
    // stay real. Timed on the wall clock (under 1.5 s, against the 2 s probe wait) it left a loaded
    // machine 1.1 s, and a handshake slower than the deadline passed without reaching the probe.
    const probed = new Promise<void>((r) => (silentRead = r));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let passed = false;
      const preflight = tlsPreflight([handshakesThenSilent], { ca }, 400).then(() => void (passed = true));
      // the broker read the ApiVersions request: the handshake is done and the wait for its answer armed, at 0 ms
      await probed;
      await vi.advanceTimersByTimeAsync(399);
      expect(passed).toBe(false); // an answer or a refusal may still come
      await vi.advanceTimersByTimeAsync(1);
      expect(passed).toBe(true); // at the deadline, not the 2 s probe wait
      await preflight;
    } finally {
      vi.useRealTimers();
      silentRead = undefined;
    }
  });

  it('like kafkajs, passes when any bootstrap broker handshakes; throws the first final failure when none does', async () => {
    await expect(tlsPreflight([expired, good], { ca })).resolves.toBeUndefined();
    const refused = `127.0.0.1:${REFUSED_PORT}`; // nothing listens there
    await expect(tlsPreflight([refused], true)).resolves.toBeUndefined();
    await expect(tlsPreflight([silent], true, 300)).resolves.toBeUndefined();
    await expect(tlsPreflight([refused, silent, good], { ca }, 1_000)).resolves.toBeUndefined();
    const err = await failure(tlsPreflight([refused, expired, good], true, 1_000));
    expect(err).toBeInstanceOf(TlsPreflightError);
    expect(err!.message).toContain(`with ${expired} failed (CERT_HAS_EXPIRED)`);
  });

  it('mutual TLS: a refused client certificate fails at once naming ssl.cert and ssl.key (TLS 1.3 refuses after the handshake: the ApiVersions probe reads the alert)', async () => {
    const client = { ca, cert: fixture('client.pem'), key: fixture('client-key.pem'), passphrase: 'right-passphrase' };
    await expect(tlsPreflight([mutual], client)).resolves.toBeUndefined();
    const err = await failure(tlsPreflight([mutual], { ca }));
    expect(err).toBeInstanceOf(TlsPreflightError);
    expect(err!.message).toMatch(new RegExp(`^TLS handshake with ${mutual} failed \\(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\\): the broker refused this client with a TLS alert \\(tlsv13 alert certificate required\\)$`));
    expect(explainConnectionError(err).message).toMatch(/the broker refused this client's certificate \(mutual TLS.*set source\.kafka\.ssl\.cert and source\.kafka\.ssl\.key to a client certificate signed by a CA in the broker's truststore/);
    // TLS 1.2 refuses inside the handshake, with a generic alert
    const tls12 = await failure(tlsPreflight([mutualTls12], { ca }));
    expect(tls12!.message).toMatch(/alert handshake failure/);
    expect(explainConnectionError(tls12).message).toMatch(/the broker refused the TLS handshake: if its listener requires client certificates \(ssl\.client\.auth=required\), set source\.kafka\.ssl\.cert and source\.kafka\.ssl\.key/);
  });
});
