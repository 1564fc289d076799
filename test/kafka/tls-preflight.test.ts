/**
 * The TLS preflight against local servers: a self-signed certificate (made with the openssl CLI),
 * a plaintext listener, a refused port and a server that never answers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainConnectionError } from '../../src/kafka/connection.js';
import { TlsPreflightError, tlsPreflight } from '../../src/kafka/tls-preflight.js';

let dir: string;
let cert: string;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port that was just free: nothing listens on it. */
async function closedPort(): Promise<string> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return `127.0.0.1:${port}`;
}

let tlsBroker: string;
let plainBroker: string;
let silentBroker: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-preflight-'));
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile, '-days', '2', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  cert = readFileSync(certFile, 'utf8');
  tlsBroker = await listen(createTlsServer({ key: readFileSync(keyFile, 'utf8'), cert }, (s) => s.end()));
  plainBroker = await listen(createNetServer((s) => s.end('this is not TLS\n'.repeat(8))));
  silentBroker = await listen(createNetServer(() => undefined));
});

afterAll(() => {
  for (const s of servers) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<void>): Promise<Error | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
}

describe('tlsPreflight', () => {
  it('passes with the CA that signed the certificate', async () => {
    await expect(tlsPreflight([tlsBroker], { ca: cert })).resolves.toBeUndefined();
  });

  it('fails at once on an untrusted certificate, and the hint names source.kafka.ssl.ca', async () => {
    const err = await failure(tlsPreflight([tlsBroker], true));
    expect(err).toBeInstanceOf(TlsPreflightError);
    expect(err!.message).toMatch(new RegExp(`TLS handshake with ${tlsBroker} failed \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\\)`));
    expect(explainConnectionError(err).message).toMatch(/set source\.kafka\.ssl\.ca to the PEM file of the CA/);
  });

  it('fails on a certificate that does not name the host, and on a listener that does not speak TLS', async () => {
    const misnamed = await failure(tlsPreflight([tlsBroker], { ca: cert, servername: 'kafka.example.com' }));
    expect(misnamed!.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(explainConnectionError(misnamed).message).toMatch(/does not name the host/);
    const plaintext = await failure(tlsPreflight([plainBroker], true));
    expect(plaintext).toBeInstanceOf(TlsPreflightError);
    expect(explainConnectionError(plaintext).message).toMatch(/does the listener speak TLS\?/);
  });

  it('leaves brokers that refuse or do not answer to kafkajs, and tries the next one', async () => {
    const refused = await closedPort();
    await expect(tlsPreflight([refused], true)).resolves.toBeUndefined();
    await expect(tlsPreflight([silentBroker], true, 300)).resolves.toBeUndefined();
    await expect(tlsPreflight([refused, silentBroker, tlsBroker], { ca: cert }, 300)).resolves.toBeUndefined();
    const err = await failure(tlsPreflight([refused, tlsBroker], true, 300));
    expect(err).toBeInstanceOf(TlsPreflightError);
    expect(err!.message).toContain(tlsBroker);
  });
});
