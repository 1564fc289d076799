/**
 * src/kafka/bootstrap-reach.ts, `check`'s TCP probe of each bootstrap broker: every one refusing
 * is said at once (kafkajs retried it ~14 s, as for a starting broker), and one wrong entry among
 * good ones is named — kafkajs needs only one to answer, so it passed as "connected to a,b".
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeUnreachable, noneAccepts, unreachableBootstrapBrokers, unreachableBrokersLine } from '../../src/kafka/bootstrap-reach.js';
import { REFUSED_PORT } from '../support/ports.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});
async function listening(): Promise<string> {
  const s = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return `127.0.0.1:${(s.address() as { port: number }).port}`;
}
const REFUSED = 'connection refused (ECONNREFUSED: nothing listens on that port)';

describe('unreachableBootstrapBrokers', () => {
  it('names the brokers that refuse a connection, with the reason, and leaves out those that accept one', async () => {
    const up = await listening();
    const down = `127.0.0.1:${REFUSED_PORT}`;
    expect(await unreachableBootstrapBrokers([up, down])).toEqual([{ broker: down, reason: REFUSED, final: true }]);
    expect(await unreachableBootstrapBrokers([up])).toEqual([]);
  });

  it('names an entry that is not host:port without connecting', async () => {
    expect(await unreachableBootstrapBrokers(['kafka-1'])).toEqual([{ broker: 'kafka-1', reason: 'not host:port', final: true }]);
  });
});

describe('noneAccepts: check answers at once only when every broker refused finally', () => {
  const refused = (broker: string) => ({ broker, reason: REFUSED, final: true });
  it('every broker refused: yes', () => {
    expect(noneAccepts(['a:1', 'b:2'], [refused('a:1'), refused('b:2')])).toBe(true);
  });
  it('one accepted, or one did not answer in time (it may be slow, not gone): left to kafkajs', () => {
    expect(noneAccepts(['a:1', 'b:2'], [refused('a:1')])).toBe(false);
    expect(noneAccepts(['a:1', 'b:2'], [refused('a:1'), { broker: 'b:2', reason: 'no answer within 3000 ms', final: false }])).toBe(false);
    expect(noneAccepts([], [])).toBe(false);
  });
});

describe('unreachableBrokersLine', () => {
  it('names each broker and its reason, and the setting to fix', () => {
    const notFound = { broker: 'b:9092', reason: 'no such host (ENOTFOUND: the name does not resolve)', final: true };
    expect(unreachableBrokersLine([notFound])).toBe(
      'source.kafka.brokers: b:9092: no such host (ENOTFOUND: the name does not resolve) — the cluster was reached through the other bootstrap broker(s), but run\'s clients pick one at random and retry past this one ("Failed to connect to seed broker" warnings, a slower start): fix or remove it in source.kafka.brokers',
    );
    const two = [notFound, { broker: 'c:9092', reason: REFUSED, final: true }];
    expect(describeUnreachable(two)).toBe(`b:9092: no such host (ENOTFOUND: the name does not resolve); c:9092: ${REFUSED}`);
    expect(unreachableBrokersLine(two)).toMatch(/ — the cluster was reached .* retry past these .*: fix or remove them in source\.kafka\.brokers$/);
  });
});
