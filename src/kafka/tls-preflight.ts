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
 * Brokers that refuse the connection or do not answer are left to kafkajs (they may be starting);
 * the whole preflight takes at most `timeoutMs`. Client-certificate refusals (mutual TLS) arrive
 * after the handshake and are kafkajs's to report; unreadable client keys are caught earlier, when
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

const RETRY_CLOSED_MS = 300;

export class TlsPreflightError extends Error {
  override readonly name = 'TlsPreflightError';
}

type Outcome = { kind: 'ok' } | { kind: 'final' | 'closed' | 'other'; error: Error & { code?: string } };

function handshake(host: string, port: number, options: ConnectionOptions, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    // SNI as kafkajs sends it (socketFactory.js): the host name, never an IP literal.
    const sni = options.servername === undefined && isIP(host) === 0 ? { servername: host } : {};
    const socket: TLSSocket = connect({ ...options, host, port, ...sni });
    const done = (o: Outcome) => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.on('error', () => undefined); // errors of the socket being torn down
      socket.destroy();
      resolve(o);
    };
    const onSecure = () => done({ kind: 'ok' });
    const onError = (error: Error & { code?: string }) => {
      const kind = VERIFY_CODES.has(error.code ?? '') || PLAINTEXT_ANSWER.test(error.message) ? 'final' : CLOSED_IN_HANDSHAKE.test(`${error.code ?? ''} ${error.message}`) ? 'closed' : 'other';
      done({ kind, error });
    };
    const timer = setTimeout(() => done({ kind: 'other', error: new Error(`no TLS handshake within ${timeoutMs} ms`) }), timeoutMs);
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
  });
}

/** `host:port` → parts (IPv6 in brackets, as Kafka writes it). */
function hostPort(broker: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(broker.trim());
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

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
    const why = outcome.kind === 'closed' ? `the broker closed the connection during the TLS handshake twice (${error.message})` : error.message;
    first ??= new TlsPreflightError(`TLS handshake with ${broker} failed${error.code ? ` (${error.code})` : ''}: ${why}`, { cause: error });
  }
  if (first) throw first;
}
