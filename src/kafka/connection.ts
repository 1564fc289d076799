/**
 * How the Kafka client connects: TLS and SASL, as managed Kafka services require (Amazon MSK,
 * Confluent Cloud, Aiven, Redpanda Cloud: TLS, usually with SASL PLAIN or SCRAM). The settings
 * live in `source.kafka.ssl` / `source.kafka.sasl` and apply to every connection of the job —
 * the consumer, the producers and the admin client.
 *
 * `resolveKafkaConnection` turns the settings into kafkajs options, reading the PEM files; each
 * problem names its key and what to change. `explainConnectionError` adds that key to the
 * errors kafkajs gives for a failed handshake (a wrong password, an untrusted certificate).
 */
import { readFileSync } from 'node:fs';
import { filesStamp } from '../http/file-stamp.js';
import type { RenewableFiles } from '../http/credential-renewal.js';
import { fetchBlockedPort } from '../http/fetch-ports.js';
import { pemCertificates } from '../tls/pem-certificates.js';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { oauthBearerAuthenticator, oauthBearerSource, oauthBearerTokenProvider, type OAuthBearerProvider } from './oauthbearer.js';

export const KafkaTlsSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      ca: z.string().min(1).optional().describe("PEM file of the CA(s) that signed the brokers' certificates; default: Node's trusted CAs"),
      cert: z.string().min(1).optional().describe('client certificate PEM file, for mutual TLS (with key)'),
      key: z.string().min(1).optional().describe('client private key PEM file, for mutual TLS (with cert)'),
      passphrase: z.string().optional().describe("the client key's passphrase"),
      rejectUnauthorized: z.boolean().default(true).describe('false accepts any broker certificate: for tests only'),
      servername: z.string().min(1).optional().describe('TLS server name (SNI) when it differs from the broker host'),
    }),
  ])
  .superRefine((tls, ctx) => {
    if (typeof tls === 'object' && (tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [tls.cert === undefined ? 'cert' : 'key'], message: 'mutual TLS needs both cert and key (PEM files)' });
    }
  })
  .describe('TLS to the brokers: true (trusted CAs), or ca/cert/key PEM files');

const OAUTH_KEYS = ['tokenEndpoint', 'clientId', 'clientSecret', 'scope', 'audience', 'tokenCommand', 'tokenFile', 'extensions'] as const;

export const KafkaSaslSchema = z
  .strictObject({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).describe('SASL mechanism the listener enables'),
    username: z.string().min(1).optional().describe('plain, scram-*'),
    password: z.string().min(1).optional().describe('plain, scram-*; keep it out of the file: AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD'),
    tokenEndpoint: z.url({ protocol: /^https?$/ }).optional().describe('oauthbearer: OIDC token endpoint (client credentials grant, with clientId and clientSecret); https, or http on a loopback address'),
    clientId: z.string().min(1).optional().describe('oauthbearer with tokenEndpoint'),
    clientSecret: z.string().min(1).optional().describe('oauthbearer with tokenEndpoint; keep it out of the file: AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_SECRET'),
    scope: z.string().min(1).optional().describe('oauthbearer with tokenEndpoint: the scope to ask for'),
    audience: z.string().min(1).optional().describe('oauthbearer with tokenEndpoint: the audience to ask for (some providers need it)'),
    tokenCommand: z.array(z.string().min(1)).min(1).optional().describe('oauthbearer: command (argv) printing a token, or JSON with access_token [and expires_in]'),
    tokenFile: z.string().min(1).optional().describe('oauthbearer: file holding the token, read again for every connection'),
    extensions: z
      // RFC 7628 §3.1: key = 1*ALPHA (not "auth"), value = printable ASCII, space and tabs/line breaks
      .record(z.string(), z.string().regex(/^[\x21-\x7E \t\r\n]*$/, 'an extension value is printable ASCII (RFC 7628)'))
      .optional()
      .describe('oauthbearer: SASL extensions (e.g. logicalCluster, identityPoolId for Confluent Cloud)'),
  })
  .superRefine((s, ctx) => {
    if (s.mechanism !== 'oauthbearer') {
      for (const k of ['username', 'password'] as const) if (s[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `required with mechanism ${s.mechanism}` });
      for (const k of OAUTH_KEYS) if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `only for mechanism oauthbearer (this is ${s.mechanism}): remove it` });
      return;
    }
    for (const k of ['username', 'password'] as const) if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'not used with mechanism oauthbearer: remove it (the token carries the identity)' });
    for (const k of Object.keys(s.extensions ?? {})) {
      if (!/^[A-Za-z]+$/.test(k)) ctx.addIssue({ code: 'custom', path: ['extensions', k], message: 'an extension key is letters only (RFC 7628)' });
      else if (k === 'auth') ctx.addIssue({ code: 'custom', path: ['extensions', k], message: 'the extension key "auth" is reserved (RFC 7628)' });
    }
    const sources = (['tokenEndpoint', 'tokenCommand', 'tokenFile'] as const).filter((k) => s[k] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({ code: 'custom', path: sources.length === 0 ? [] : [sources[1]!], message: `mechanism oauthbearer needs exactly one token source: tokenEndpoint (with clientId, clientSecret), tokenCommand or tokenFile${sources.length > 1 ? ` (got ${sources.join(', ')})` : ''}` });
    }
    const blocked = s.tokenEndpoint !== undefined ? fetchBlockedPort(s.tokenEndpoint) : undefined;
    if (blocked !== undefined) ctx.addIssue({ code: 'custom', path: ['tokenEndpoint'], message: blocked });
    if (s.tokenEndpoint !== undefined && /^http:/i.test(s.tokenEndpoint) && !/^http:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/i.test(s.tokenEndpoint)) {
      ctx.addIssue({ code: 'custom', path: ['tokenEndpoint'], message: 'use https: the client secret goes to the token endpoint (http only on a loopback address)' });
    }
    // fetch refuses such a URL, and its error quoted it — password included — at every token fetch
    if (s.tokenEndpoint !== undefined && URL.canParse(s.tokenEndpoint) && (new URL(s.tokenEndpoint).username !== '' || new URL(s.tokenEndpoint).password !== '')) {
      ctx.addIssue({ code: 'custom', path: ['tokenEndpoint'], message: 'a URL with user:password@ is refused by fetch: give the client credentials as clientId and clientSecret (sent as HTTP Basic) and remove them from the URL' });
    }
    if (s.tokenEndpoint !== undefined) {
      for (const k of ['clientId', 'clientSecret'] as const) if (s[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `required with tokenEndpoint${k === 'clientSecret' ? ' (best from AGENT_CREDIT_SOURCE_KAFKA_SASL_CLIENT_SECRET)' : ''}` });
    } else {
      for (const k of ['clientId', 'clientSecret', 'scope', 'audience'] as const) if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only used with tokenEndpoint: remove it' });
    }
  })
  .describe('SASL authentication: PLAIN or SCRAM (username, password), or OAUTHBEARER (a token from an OIDC endpoint, a command or a file); use with ssl, or credentials cross the network in clear');

export type KafkaTlsSetting = z.infer<typeof KafkaTlsSchema>;
export type KafkaSaslSetting = z.infer<typeof KafkaSaslSchema>;

/** What kafkajs's `ssl` and `sasl` options take. */
export interface KafkaConnectionOptions {
  ssl?: boolean | ConnectionOptions;
  sasl?:
    | { mechanism: 'plain'; username: string; password: string }
    | { mechanism: 'scram-sha-256'; username: string; password: string }
    | { mechanism: 'scram-sha-512'; username: string; password: string }
    | { mechanism: 'oauthbearer'; oauthBearerProvider: OAuthBearerProvider; authenticationProvider: ReturnType<typeof oauthBearerAuthenticator> };
}

/** Error in the connection settings; the message starts with the key. */
export class KafkaConnectionConfigError extends Error {
  override readonly name = 'KafkaConnectionConfigError';
}

function pem(path: string, key: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new KafkaConnectionConfigError(`${key}: cannot read ${path} (${code}); give the path of ${what}`);
  }
  if (!text.includes('-----BEGIN ')) throw new KafkaConnectionConfigError(`${key}: ${path} is not PEM (no "-----BEGIN" line); convert it, e.g. openssl x509 -in cert.der -inform der -out cert.pem`);
  return text;
}

/**
 * The CA file must hold at least one certificate Node can read. Node's TLS accepts a CA file
 * without one silently (a key, a CSR, a damaged block) and every broker then looks untrusted, which
 * sends the user after the broker's certificate instead of this file. Blocks that do not parse
 * beside ones that do are named too: OpenSSL skips them, so a CA the user counted on is missing.
 */
function caBundle(text: string, path: string, key: string): string {
  const c = pemCertificates(text);
  if (c.count === 0) {
    throw new KafkaConnectionConfigError(`${key}: ${path} holds no certificate (its PEM block is ${c.otherwise}); give the CA certificate that signed the brokers' certificates (-----BEGIN CERTIFICATE-----)`);
  }
  if (c.unreadable.length > 0) {
    throw new KafkaConnectionConfigError(`${key}: ${path} has certificates that cannot be read (${c.unreadable.join('; ')}); replace the damaged block(s) with the CA certificate, e.g. openssl x509 -in ca.crt -out ca.pem`);
  }
  return text;
}

/**
 * Builds a TLS context from the client's key and certificate once, so a key that does not decrypt
 * (passphrase) or does not belong to the certificate fails at start naming its key — not as an
 * OpenSSL error at every connection attempt.
 */
function checkTlsMaterial(o: ConnectionOptions, prefix: string): void {
  if (o.cert === undefined || o.key === undefined) return;
  try {
    createSecureContext({ cert: o.cert, key: o.key, ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}) });
  } catch (err) {
    throw new KafkaConnectionConfigError(
      `${prefix}.ssl.key: the client key cannot be used with ${prefix}.ssl.cert: check that the two files belong together, and ${prefix}.ssl.passphrase if the key is encrypted (${(err as Error).message})`,
    );
  }
}

/**
 * kafkajs connection options from `source.kafka.ssl` / `sasl` (`prefix` = their parent key).
 * Reads the PEM files now, so a wrong path fails at start with its key, not at the first connect.
 */
export function resolveKafkaConnection(settings: { ssl?: KafkaTlsSetting | undefined; sasl?: KafkaSaslSetting | undefined }, prefix = 'source.kafka'): KafkaConnectionOptions {
  const out: KafkaConnectionOptions = {};
  const tls = settings.ssl;
  // before reading: renewableKafkaTls, made later, then renews files that change from here on
  tlsReadStamps.set(out, filesStamp(kafkaTlsFiles(tls)));
  if (tls === true) out.ssl = true;
  else if (tls && typeof tls === 'object') {
    const o: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
    if (tls.ca !== undefined) o.ca = caBundle(pem(tls.ca, `${prefix}.ssl.ca`, "the CA certificate that signed the brokers' certificates"), tls.ca, `${prefix}.ssl.ca`);
    if (tls.cert !== undefined) o.cert = pem(tls.cert, `${prefix}.ssl.cert`, 'the client certificate');
    if (tls.key !== undefined) o.key = pem(tls.key, `${prefix}.ssl.key`, 'the client private key');
    if (tls.passphrase !== undefined) o.passphrase = tls.passphrase;
    if (tls.servername !== undefined) o.servername = tls.servername;
    checkTlsMaterial(o, prefix);
    out.ssl = o;
  }
  const sasl = settings.sasl;
  if (sasl?.mechanism === 'oauthbearer') {
    const provider = oauthBearerTokenProvider(sasl, `${prefix}.sasl`);
    // our authenticator reads the broker's refusal, which kafkajs's built-in one ignores
    out.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: provider, authenticationProvider: oauthBearerAuthenticator(provider, `${prefix}.sasl.${oauthBearerSource(sasl)}`) };
  } else if (sasl) {
    // the schema requires both for these mechanisms
    const username = sasl.username!;
    const password = sasl.password!;
    out.sasl = sasl.mechanism === 'plain' ? { mechanism: 'plain', username, password } : sasl.mechanism === 'scram-sha-256' ? { mechanism: 'scram-sha-256', username, password } : { mechanism: 'scram-sha-512', username, password };
  }
  return out;
}

/**
 * The error with a sentence naming the setting to check, for the handshake failures whose kafkajs
 * message does not (authentication, certificate, TLS against a plaintext listener and back).
 */
export function explainConnectionError(err: unknown, prefix = 'source.kafka', connection?: KafkaConnectionOptions): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const text = `${e.name} ${e.message} ${String((e as { cause?: unknown }).cause ?? '')} ${(e as { code?: string }).code ?? ''}`;
  let hint: string | undefined;
  if (e.name === 'TlsPreflightError') {
    // only TLS can be at fault (and the message carries the broker's name, which may say "sasl")
    hint = tlsHint(text, prefix);
  } else if (text.includes(`${prefix}.sasl.`)) {
    // a token provider's own error (oauthbearer.ts) already names its key
  } else if (/ILLEGAL_SASL_STATE|current SASL state/i.test(text)) {
    // Kafka's ILLEGAL_SASL_STATE to the SASL handshake: the listener does not use SASL at all (a
    // PLAINTEXT or SSL listener). "Check the password" sent users to the wrong setting.
    hint = `this listener does not use SASL (a PLAINTEXT or SSL listener answers the SASL handshake so): give ${prefix}.brokers the port of the SASL listener (SASL_PLAINTEXT / SASL_SSL in the broker's listeners), or remove ${prefix}.sasl`;
  } else if (/OAUTHBEARER|invalid_token|oauthbearer/i.test(withoutHosts(text))) {
    hint = `check ${prefix}.sasl: the broker refused the OAUTHBEARER token (issuer, audience, scope, expiry: see the broker's sasl.oauthbearer.* settings)`;
  } else if (/SASL|Authentication failed|authentication/i.test(withoutHosts(text))) {
    hint = `check ${prefix}.sasl (mechanism, username, password — AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD) against the listener's SASL settings`;
  } else if ((hint = tlsHint(text, prefix)) !== undefined) {
    // a TLS failure kafkajs reported
  } else if (connection?.sasl?.mechanism === 'oauthbearer' && connection.sasl.oauthBearerProvider.handedOut() > 0 && /No brokers in the broker pool|Connection closed|Closed connection|ECONNRESET|socket hang up/i.test(text)) {
    // kafkajs does not read the broker's OAUTHBEARER error (RFC 7628 §3.2.2): a refused token shows
    // as a closed connection, retried until it gives up. A token was sent, so SASL was reached.
    hint = `check ${prefix}.sasl: the broker refused the OAUTHBEARER token, or closed the connection after it (kafkajs does not report the broker's reason): check the token's expiry, issuer, audience and scope against the listener's sasl.oauthbearer.* settings`;
  } else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|Connection timeout/i.test(text)) {
    // nothing answered at the address (or the name does not resolve): the broker list is the setting
    hint = `check ${prefix}.brokers (host:port of a listener this client can reach)`;
  }
  if (!hint) return e;
  const wrapped = new Error(`${e.message} — ${hint}`, { cause: e });
  wrapped.name = e.name;
  return wrapped;
}

/**
 * `text` without the host names it quotes ("getaddrinfo ENOTFOUND kafka-sasl.example", "host:port"),
 * for the SASL patterns: a broker named for its listener (kafka-sasl, …-oauthbearer) that does not
 * resolve was sent to check the SASL password instead of the broker list.
 */
function withoutHosts(text: string): string {
  return text.replace(/\b(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME) \S+/g, '$1').replace(/\b[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(\.[A-Za-z0-9-]+|:\d+)\b/g, '<host>');
}

/** The setting to check for a TLS failure (Node's message or code in `text`), or undefined. */
function tlsHint(text: string, prefix: string): string | undefined {
  // TLS alerts from the broker come first: their text ("alert certificate expired", "alert unknown
  // ca") is about this client's certificate and would read as one of the broker-certificate cases.
  if (/alert (handshake failure|protocol version|insufficient security)/i.test(text)) {
    return `the broker refused the TLS handshake: if its listener requires client certificates (ssl.client.auth=required), set ${prefix}.ssl.cert and ${prefix}.ssl.key; otherwise its TLS versions or ciphers do not match this client's (Node 20: TLS 1.2–1.3)`;
  }
  if (/certificate required|bad certificate|alert unknown ca|certificate unknown|alert certificate (expired|revoked)|unsupported certificate|alert access denied/i.test(text)) {
    return `the broker refused this client's certificate (mutual TLS: its listener requires one, ssl.client.auth=required): set ${prefix}.ssl.cert and ${prefix}.ssl.key to a client certificate signed by a CA in the broker's truststore, valid now`;
  }
  if (/self[- ]signed|unable to verify|unable to get (local )?issuer|UNABLE_TO_GET_ISSUER|SELF_SIGNED|CERT_UNTRUSTED|CERT_REJECTED|CERT_SIGNATURE_FAILURE|certificate signature failure|certificate not trusted|certificate rejected/i.test(text)) {
    return `the broker's TLS certificate is not trusted: set ${prefix}.ssl.ca to the PEM file of the CA that signed it`;
  }
  if (/certificate has expired|CERT_HAS_EXPIRED|not yet valid/i.test(text)) return `the broker's TLS certificate is outside its validity period (or this machine's clock is wrong)`;
  if (/does not match certificate|ALTNAME_INVALID|Hostname\/IP/i.test(text)) {
    return `the broker's certificate does not name the host connected to: list the brokers by a name it carries, or set ${prefix}.ssl.servername`;
  }
  if (/wrong version number|EPROTO|packet length too long|socket disconnected before secure TLS|closed the connection during the TLS handshake/i.test(text)) {
    return `TLS handshake failed: does the listener speak TLS? Set ${prefix}.ssl only for SSL/SASL_SSL listeners (and leave it out for PLAINTEXT/SASL_PLAINTEXT)`;
  }
  return undefined;
}

/** The files `ssl` names: ca, cert, key. */
function kafkaTlsFiles(tls: KafkaTlsSetting | undefined): string[] {
  return tls && typeof tls === 'object' ? [tls.ca, tls.cert, tls.key].filter((f): f is string => f !== undefined) : [];
}

/**
 * The state of the TLS files just before `resolveKafkaConnection` read them, by the options it
 * returned (kept beside them: the options object goes to kafkajs as it is).
 */
const tlsReadStamps = new WeakMap<KafkaConnectionOptions, string>();

/**
 * The Kafka client's TLS files (`<prefix>.ssl.ca`, `cert`, `key`) as a group the credential file
 * watcher renews (src/http/credential-renewal.ts): read and checked again as at start, then put into
 * `connection.ssl` in place — kafkajs keeps that very object and hands it to every connection it
 * opens later, so reconnections present the renewed client certificate and trust the renewed CA.
 * Open connections keep theirs (a broker does not re-check a certificate after the handshake).
 */
export function renewableKafkaTls(settings: { ssl?: KafkaTlsSetting | undefined }, connection: KafkaConnectionOptions, prefix = 'source.kafka'): RenewableFiles {
  const files = kafkaTlsFiles(settings.ssl);
  const readStamp = tlsReadStamps.get(connection);
  return {
    name: prefix,
    files,
    ...(readStamp !== undefined ? { readStamp } : {}),
    renew() {
      let fresh: KafkaConnectionOptions;
      try {
        fresh = resolveKafkaConnection({ ssl: settings.ssl }, prefix);
      } catch (err) {
        if (err instanceof KafkaConnectionConfigError) return [err.message];
        throw err;
      }
      const target = connection.ssl;
      if (target && typeof target === 'object' && fresh.ssl && typeof fresh.ssl === 'object') Object.assign(target, fresh.ssl);
      return [];
    },
  };
}
