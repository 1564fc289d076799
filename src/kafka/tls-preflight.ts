/**
 * One TLS handshake per bootstrap broker (until one succeeds) before kafkajs connects, so a TLS
 * setting that cannot work fails the start at once instead of after kafkajs's retries (~10 s,
 * measured on the local broker: kafkajs treats an untrusted certificate like a broker that is down).
 *
 * Final — retrying cannot fix them:
 * - the broker's certificate is not trusted, expired, or does not name the host (Node's
 *   verification codes);
 * - the listener does not speak TLS: it answers in plaintext ("wrong version number"), or — what a
 *   Kafka PLAINTEXT listener does, reading the ClientHello as an oversized request — closes the
 *   connection during the handshake, twice in a row (once could be a broker going down).
 * Like kafkajs, which moves to the next bootstrap broker when one fails, the preflight passes as
 * soon as any broker completes a handshake, and throws the first final failure only when none did.
 * - the broker refuses the client: a TLS alert such as "certificate required", "bad certificate",
 *   "unknown CA" (mutual TLS: the listener has ssl.client.auth=required and no certificate, or one
 *   it does not trust, was given). In TLS 1.3 that alert comes after the client's side of the
 *   handshake is done, so the preflight then sends one Kafka ApiVersions request (which brokers
 *   answer before any SASL exchange) and waits for its answer or the alert; before, kafkajs took
 *   ~10 s of retries to report a refused client certificate as a lost connection.
 * Brokers that refuse the connection or do not answer are left to kafkajs (they may be starting);
 * the whole preflight takes at most `timeoutMs`. Unreadable client keys are caught earlier, when
 * connection.ts reads the settings.
 */
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** Node's certificate verification failures (`err.code`), all final for a given configuration. */
const VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** OpenSSL's words for a peer that answered, but not in TLS. */
const PLAINTEXT_ANSWER = /wrong version number|packet length too long/i;
/** The peer closed the TCP connection before the handshake completed. */
const CLOSED_IN_HANDSHAKE = /disconnected before secure TLS connection|ECONNRESET|socket hang up/i;

/**
 * TLS alerts by which a broker refuses this client (its certificate, or the handshake's terms):
 * final — the same settings get the same alert. OpenSSL codes as Node reports them.
 */
const REFUSAL_ALERT = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE|PROTOCOL_VERSION|INSUFFICIENT_SECURITY|DECRYPT_ERROR)/;

const RETRY_CLOSED_MS = 300;
/** Wait for the ApiVersions answer after the handshake; silence is left to kafkajs (the broker may be slow). */
const PROBE_WAIT_MS = 2_000;

/** A Kafka ApiVersions v0 request (size, api key 18, version 0, correlation id 1, client id). */
function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from('agent-credit-tls-preflight', 'utf8');
  const b = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt16BE(18, 4);
  b.writeInt16BE(0, 6);
  b.writeInt32BE(1, 8);
  b.writeInt16BE(clientId.length, 12);
  clientId.copy(b, 14);
  return b;
}

export class TlsPreflightError extends Error {
  override readonly name = 'TlsPreflightError';
}

type Outcome = { kind: 'ok' } | { kind: 'final' | 'refused' | 'closed' | 'other'; error: Error & { code?: string } };

function handshake(host: string, port: number, options: ConnectionOptions, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    // SNI as kafkajs sends it (socketFactory.js): the host name, never an IP literal.
    const sni = options.servername === undefined && isIP(host) === 0 ? { servername: host } : {};
    const socket: TLSSocket = connect({ ...options, host, port, ...sni });
    let handshaken = false;
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Only our own listeners: Node's (close → SSL teardown) must stay for destroy() to free it.
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.on('error', () => undefined); // errors of the socket being torn down
      socket.destroy();
      resolve(o);
    };
    const onError = (error: Error & { code?: string }) => {
      const text = `${error.code ?? ''} ${error.message}`;
      const kind = REFUSAL_ALERT.test(text)
        ? 'refused'
        : handshaken
          ? 'ok' // the handshake worked and no refusal came: anything else is kafkajs's to retry
          : VERIFY_CODES.has(error.code ?? '') || PLAINTEXT_ANSWER.test(error.message)
            ? 'final'
            : CLOSED_IN_HANDSHAKE.test(text)
              ? 'closed'
              : 'other';
      done(kind === 'ok' ? { kind } : { kind, error });
    };
    const onData = () => done({ kind: 'ok' });
    // A close without an answer is not a refusal unless an alert came with it: Node may report the
    // end of the stream before the alert's error, so the close waits one turn for it.
    const onClose = () => setImmediate(() => done({ kind: 'ok' }));
    const onSecure = () => {
      // The client's side is done; a TLS 1.3 broker refuses a client certificate only now, in
      // answer to the first bytes it reads. Any answer, or silence, means it took this client.
      handshaken = true;
      clearTimeout(timer);
      timer = setTimeout(() => done({ kind: 'ok' }), Math.max(1, Math.min(PROBE_WAIT_MS, deadline - Date.now())));
      socket.once('data', onData);
      socket.once('close', onClose);
      socket.write(apiVersionsRequest());
    };
    let timer = setTimeout(() => done({ kind: 'other', error: new Error(`no TLS handshake within ${timeoutMs} ms`) }), timeoutMs);
    socket.once('secureConnect', onSecure);
    socket.on('error', onError);
  });
}

/** `host:port` → parts (IPv6 in brackets, as Kafka writes it). */
function hostPort(broker: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(broker.trim());
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

const firstLine = (text: string) => text.split('\n')[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[a-z0-9_]+:/, '').replace(/:\.\.\/deps\/openssl.*$/, '');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * See the file header. Throws a TlsPreflightError naming the broker, Node's reason and code, which
 * connection.ts `explainConnectionError` turns into the setting to change.
 */
export async function tlsPreflight(brokers: readonly string[], ssl: true | ConnectionOptions, timeoutMs = 5_000): Promise<void> {
  const options: ConnectionOptions = ssl === true ? {} : ssl;
  const deadline = Date.now() + timeoutMs;
  let first: TlsPreflightError | undefined;
  for (const broker of brokers) {
    const at = hostPort(broker);
    if (!at) continue; // malformed addresses are kafkajs's to report
    let outcome: Outcome = { kind: 'other', error: new Error('preflight time used up') };
    let closes = 0;
    while (Date.now() < deadline) {
      outcome = await handshake(at.host, at.port, options, Math.max(1, deadline - Date.now()));
      if (outcome.kind !== 'closed' || ++closes === 2) break;
      await sleep(Math.min(RETRY_CLOSED_MS, Math.max(0, deadline - Date.now())));
    }
    if (outcome.kind === 'ok') return;
    if (outcome.kind === 'other' || (outcome.kind === 'closed' && closes < 2)) continue;
    const { error } = outcome;
    const why =
      outcome.kind === 'closed'
        ? `the broker closed the connection during the TLS handshake twice (${error.message})`
        : outcome.kind === 'refused'
          ? `the broker refused this client with a TLS alert (${firstLine(error.message)})`
          : error.message;
    first ??= new TlsPreflightError(`TLS handshake with ${broker} failed${error.code ? ` (${error.code})` : ''}: ${why}`, { cause: error });
  }
  if (first) throw first;
}
