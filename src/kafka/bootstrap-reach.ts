/**
 * Which bootstrap brokers of `source.kafka.brokers` accept a TCP connection, for `agent-credit
 * check` (one connection per broker, closed at once; no Kafka request is sent — the TLS preflight,
 * tls-preflight.ts, checks handshakes). Two uses:
 * - every broker refusing at once (nothing listens on the port, the name does not resolve, no
 *   route) is check's answer at once: kafkajs retries a refused connection as a broker that may be
 *   starting, and check took ~14 s to report a mistyped port. `run` keeps kafkajs's retries (a job
 *   and its brokers are often started together); a broker that does not answer in time is no final
 *   answer and is left to kafkajs.
 * - kafkajs needs one bootstrap broker to answer and takes the rest of the cluster from its
 *   metadata, so a list with a typo in one entry passed check as "connected to a,b,c" — while run's
 *   clients, which pick a bootstrap broker at random, start with "Failed to connect to seed broker"
 *   warnings whenever they pick that one, and the day the good entries' brokers are away the job
 *   cannot start at all (found in a platform trial). check names it.
 */
import { connect } from 'node:net';

/** A bootstrap broker that did not accept a connection, with why in words, and whether that is final now. */
export interface UnreachableBroker {
  broker: string;
  reason: string;
  /** Refused, unresolvable or unroutable: nothing will answer there now (not "no answer yet"). */
  final: boolean;
}

/** Connection errors that mean nothing listens there now. */
const FINAL_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function describeCode(code: string): string {
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED: nothing listens on that port)';
  if (code === 'ENOTFOUND') return 'no such host (ENOTFOUND: the name does not resolve)';
  return `unreachable (${code})`;
}

/** `host:port` → parts (IPv6 in brackets, as Kafka writes it); undefined when it is not one. */
function hostPort(broker: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(broker.trim());
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

function reach(broker: string, timeoutMs: number): Promise<UnreachableBroker | undefined> {
  const at = hostPort(broker);
  if (!at) return Promise.resolve({ broker, reason: 'not host:port', final: true });
  return new Promise((resolve) => {
    const socket = connect({ host: at.host, port: at.port });
    const done = (r: UnreachableBroker | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ broker, reason: `no answer within ${timeoutMs} ms`, final: false }), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code;
      done(code !== undefined ? { broker, reason: describeCode(code), final: FINAL_CODES.has(code) } : { broker, reason: err.message, final: false });
    });
  });
}

/** The bootstrap brokers that refused, failed or did not answer a TCP connection within `timeoutMs` (all tried at once), in the list's order. */
export async function unreachableBootstrapBrokers(brokers: readonly string[], timeoutMs = 3_000): Promise<UnreachableBroker[]> {
  const results = await Promise.all(brokers.map((b) => reach(b, timeoutMs)));
  return results.filter((r): r is UnreachableBroker => r !== undefined);
}

/** Each broker with why, for check's lines: `a:1: connection refused (…); b:2: …`. */
export function describeUnreachable(unreachable: readonly UnreachableBroker[]): string {
  return unreachable.map((u) => `${u.broker}: ${u.reason}`).join('; ');
}

/** Every one of `brokers` refused finally: check's answer without asking kafkajs. */
export function noneAccepts(brokers: readonly string[], unreachable: readonly UnreachableBroker[]): boolean {
  return brokers.length > 0 && brokers.every((b) => unreachable.some((u) => u.broker === b && u.final));
}

/**
 * The check line for bootstrap brokers that did not answer while the cluster was reached through
 * the others (when none answered, the connection itself fails and says so); `run` says the same of
 * those that accept no connection while the others do (`reached`: what was found of the others).
 */
export function unreachableBrokersLine(unreachable: readonly UnreachableBroker[], reached = 'the cluster was reached through the other bootstrap broker(s)'): string {
  const one = unreachable.length === 1;
  return `source.kafka.brokers: ${describeUnreachable(unreachable)} — ${reached}, but run's clients pick one at random and retry past ${one ? 'this one' : 'these'} ("Failed to connect to seed broker" warnings, a slower start): fix or remove ${one ? 'it' : 'them'} in source.kafka.brokers`;
}
