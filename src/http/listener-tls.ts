/**
 * TLS for agent-credit's own listeners (the OTLP/HTTP receiver, the live page), as the
 * OpenTelemetry Collector's `confighttp` server `tls` block has it: a certificate and key (PEM
 * files), and optionally a client CA — then every client must present a certificate signed by it
 * (mutual TLS). The files are read at start (`resolveListenerTls`): a missing, unreadable or
 * invalid file fails the start with a ConfigError naming its key. A running job reads them again
 * when they change (src/http/credential-renewal.ts) and serves new connections with the renewed
 * certificate through `TlsUpdates`, as cert-manager or a Kubernetes Secret update expects.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { pemCertificates } from '../tls/pem-certificates.js';

export const ListenerTlsSchema = z
  .strictObject({
    certFile: z.string().min(1).describe("PEM file of the server's certificate (its chain may follow it in the same file)"),
    keyFile: z.string().min(1).describe("PEM file of the server certificate's private key (not encrypted)"),
    clientCaFile: z.string().min(1).optional().describe('PEM file of the CA(s) that sign client certificates: set = mutual TLS, every client must present a certificate signed by one'),
  })
  .describe('serve https: certFile and keyFile (PEM); clientCaFile for mutual TLS. Unset = plain http');

export type ListenerTlsSetting = z.infer<typeof ListenerTlsSchema>;

/** What node:https `createServer` takes, read from the files. */
export interface ListenerTls {
  cert: string;
  key: string;
  /** Set = mutual TLS: clients without a certificate signed by it are refused in the handshake. */
  ca?: string;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** The file's text, or a problem line naming `key`. */
function readPem(path: string, key: string, what: string, problems: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    problems.push(`${key}: cannot read ${path} (${code}) — give the path of ${what} (PEM), readable by this process`);
    return undefined;
  }
  if (!text.includes('-----BEGIN ')) {
    problems.push(`${key}: ${path} is not PEM (no "-----BEGIN" line) — give ${what} in PEM, e.g. convert DER with openssl x509 -inform der -in cert.der -out cert.pem`);
    return undefined;
  }
  return text;
}

/** Every certificate block of `text` must parse (src/tls/pem-certificates.ts); a problem line otherwise. */
function checkCertificates(text: string, path: string, key: string, what: string, problems: string[]): boolean {
  const c = pemCertificates(text);
  if (c.count === 0) {
    problems.push(`${key}: ${path} holds no certificate (its PEM block is ${c.otherwise}) — give ${what} (-----BEGIN CERTIFICATE-----)`);
    return false;
  }
  if (c.unreadable.length > 0) {
    problems.push(`${key}: ${path} has certificates that cannot be read (${c.unreadable.join('; ')}) — replace the damaged block(s) with ${what} in PEM`);
    return false;
  }
  return true;
}

/**
 * Reads the PEM files of a listener's `tls` setting (`prefix` = its key, e.g. `source.http.tls`).
 * Problems (each naming its key and the fix) are appended to `problems`; undefined when any.
 */
export function resolveListenerTls(setting: ListenerTlsSetting, prefix: string, problems: string[]): ListenerTls | undefined {
  const before = problems.length;
  const cert = readPem(setting.certFile, `${prefix}.certFile`, "the server's certificate", problems);
  if (cert !== undefined) checkCertificates(cert, setting.certFile, `${prefix}.certFile`, "the server's certificate", problems);
  const key = readPem(setting.keyFile, `${prefix}.keyFile`, "the server certificate's private key", problems);
  if (key !== undefined) {
    try {
      createPrivateKey(key);
    } catch (err) {
      const encrypted = /ENCRYPTED|passphrase|bad decrypt/i.test(`${key.slice(0, 64)} ${(err as Error).message}`);
      problems.push(
        `${prefix}.keyFile: ${setting.keyFile} holds no usable private key (${(err as Error).message}) — ${encrypted ? 'it is encrypted: give it decrypted, e.g. openssl pkey -in key.pem -out key-plain.pem' : "give the server certificate's private key in PEM (-----BEGIN PRIVATE KEY-----)"}`,
      );
    }
  }
  let ca: string | undefined;
  if (setting.clientCaFile !== undefined) {
    ca = readPem(setting.clientCaFile, `${prefix}.clientCaFile`, 'the CA certificate that signs the client certificates', problems);
    if (ca !== undefined) checkCertificates(ca, setting.clientCaFile, `${prefix}.clientCaFile`, 'the CA certificate that signs the client certificates', problems);
  }
  if (problems.length > before) return undefined;
  // The key must belong to the certificate: a mismatch found now names the keys, not an OpenSSL error at the first connection.
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    problems.push(`${prefix}.keyFile: the key in ${setting.keyFile} does not belong to the certificate in ${prefix}.certFile ${setting.certFile} (${(err as Error).message}) — give the key the certificate was issued for`);
    return undefined;
  }
  return { cert: cert!, key: key!, ...(ca !== undefined ? { ca } : {}), requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined };
}

/**
 * The https servers of one listener, followed until they close, so a renewed certificate (and
 * client CA) reaches them: `apply` sets the secure context of new connections; open ones keep the
 * certificate they were made with. Whether a client certificate is asked for cannot change.
 */
export class TlsUpdates {
  private readonly servers = new Set<HttpsServer>();
  /** Other TLS holders of the listener (the OTLP/gRPC receiver's credentials, which share source.http.tls). */
  private readonly others = new Set<{ apply(tls: ListenerTls): void }>();

  follow(server: Server): void {
    const https = server as unknown as HttpsServer;
    if (typeof https.setSecureContext !== 'function') return; // plain http: nothing to renew
    this.servers.add(https);
    server.once('close', () => this.servers.delete(https));
  }

  /** Follows another holder of the listener's certificate until the returned function is called. */
  add(target: { apply(tls: ListenerTls): void }): () => void {
    this.others.add(target);
    return () => this.others.delete(target);
  }

  apply(tls: ListenerTls): void {
    for (const s of this.servers) s.setSecureContext({ cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}) });
    for (const o of this.others) o.apply(tls);
  }

  /** Servers (and other holders) followed now (for tests and stats). */
  get size(): number {
    return this.servers.size + this.others.size;
  }
}
