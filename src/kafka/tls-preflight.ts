/**
 * One TLS handshake with a bootstrap broker before kafkajs connects, so a TLS setting that cannot
 * work fails the start at once instead of after kafkajs's retries (~10 s, measured on the local
 * broker: kafkajs treats an untrusted certificate like a broker that is down).
 *
 * Fails only on what retrying cannot fix: the broker's certificate is not trusted, expired, or does
 * not name the host (Node's verification codes), or the listener does not speak TLS at all. A
 * broker that refuses the connection, resets it or does not answer is left to kafkajs (it may be
 * starting): the next broker in the list is tried, and without any answer the preflight passes.
 * Client-certificate refusals (mutual TLS) arrive after the handshake and are also kafkajs's to report.
 */
import { connect, type ConnectionOptions } from 'node:tls';

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
  'HOSTNAME_MISMATCH',
]);

/** OpenSSL's words for "the peer answered, but not in TLS" (a PLAINTEXT listener). */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request/i;

export class TlsPreflightError extends Error {
  override readonly name = 'TlsPreflightError';
}

type Outcome = { ok: true } | { ok: false; final: boolean; error: Error };

function handshake(host: string, port: number, options: ConnectionOptions, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ ...options, host, port, ...(options.servername === undefined && !/^[\d.]+$|:/.test(host) ? { servername: host } : {}) });
    const done = (o: Outcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined); // late errors of a socket being torn down
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, final: false, error: new Error(`no TLS handshake within ${timeoutMs} ms`) }), timeoutMs);
    socket.once('secureConnect', () => done({ ok: true }));
    socket.once('error', (err: Error & { code?: string }) => {
      const final = VERIFY_CODES.has(err.code ?? '') || NOT_TLS.test(err.message);
      done({ ok: false, final, error: err });
    });
  });
}

/** `host:port` → parts (IPv6 in brackets, as Kafka writes it). */
function hostPort(broker: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(broker.trim());
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/**
 * Handshakes with the brokers in order until one succeeds (then returns) or one fails in a way
 * retrying cannot fix (then throws a TlsPreflightError naming the broker and Node's reason and code,
 * which connection.ts `explainConnectionError` turns into the setting to change).
 */
export async function tlsPreflight(brokers: readonly string[], ssl: true | ConnectionOptions, timeoutMs = 5_000): Promise<void> {
  const options: ConnectionOptions = ssl === true ? {} : ssl;
  for (const broker of brokers) {
    const at = hostPort(broker);
    if (!at) continue; // malformed addresses are kafkajs's to report
    const outcome = await handshake(at.host, at.port, options, timeoutMs);
    if (outcome.ok) return;
    if (outcome.final) {
      const code = (outcome.error as { code?: string }).code;
      throw new TlsPreflightError(`TLS handshake with ${broker} failed${code ? ` (${code})` : ''}: ${outcome.error.message}`, { cause: outcome.error });
    }
  }
}
