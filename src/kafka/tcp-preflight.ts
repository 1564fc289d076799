/**
 * One TCP connection per bootstrap broker, for `check`: when every broker refuses it at once (no
 * listener on that port, a name that does not resolve, no route), say so at once. kafkajs treats a
 * refused connection as a broker that may be starting and retries — `check` took ~14 s to report a
 * mistyped port. `check` reports the cluster as it is now, so waiting for a broker to come up is
 * not its job; `run` keeps kafkajs's retries (a job and its brokers are often started together).
 *
 * Only final answers count: a broker that does not answer within `timeoutMs` (a firewall dropping
 * packets, a slow network) or answers at all is left to kafkajs, and one broker that accepts is
 * enough — as kafkajs moves on to the next bootstrap broker.
 */
import { connect } from 'node:net';

/** Connection errors that mean nothing listens there now (not "no answer yet"). */
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export class BrokersRefusedError extends Error {
  override readonly name = 'BrokersRefusedError';
  constructor(readonly refusals: readonly { broker: string; code: string }[]) {
    super(refusals.map((r) => `${r.broker}: ${describeCode(r.code)}`).join('; '));
  }
}

function describeCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED: nothing listens on that port)';
    case 'ENOTFOUND':
      return 'no such host (ENOTFOUND: the name does not resolve)';
    default:
      return `unreachable (${code})`;
  }
}

/** `host:port` → host and port ("[::1]:9092" as well); undefined when it has no port. */
function hostPort(broker: string): { host: string; port: number } | undefined {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(broker);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** The final refusal of `broker` (its code), or undefined when it accepted, did not answer in time, or failed otherwise. */
function refusalOf(broker: string, timeoutMs: number): Promise<string | undefined> {
  const hp = hostPort(broker);
  if (hp === undefined) return Promise.resolve(undefined); // not ours to judge: the config check names a bad address
  return new Promise((resolve) => {
    const socket = connect({ host: hp.host, port: hp.port });
    const done = (code: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== undefined && REFUSED_CODES.has(err.code) ? err.code : undefined));
  });
}

/**
 * Resolves when any broker accepts a connection or any does not answer finally; throws
 * `BrokersRefusedError` naming each broker and why when every one refused.
 */
export async function tcpPreflight(brokers: readonly string[], timeoutMs = 3_000): Promise<void> {
  if (brokers.length === 0) return;
  const codes = await Promise.all(brokers.map((b) => refusalOf(b, timeoutMs)));
  if (codes.every((c) => c !== undefined)) throw new BrokersRefusedError(brokers.map((broker, i) => ({ broker, code: codes[i]! })));
}
