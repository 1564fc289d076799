/**
 * `check`'s TCP preflight: every bootstrap broker refusing at once is said at once (kafkajs retried
 * it ~14 s, as for a starting broker); a broker that accepts, or one that does not answer, is left
 * to kafkajs.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokersRefusedError, tcpPreflight } from '../../src/kafka/tcp-preflight.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: one a server had, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('tcpPreflight', () => {
  it('throws naming each broker and why when every one refuses', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const err = await tcpPreflight([`127.0.0.1:${a}`, `127.0.0.1:${b}`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokersRefusedError);
    expect((err as BrokersRefusedError).refusals).toEqual([{ broker: `127.0.0.1:${a}`, code: 'ECONNREFUSED' }, { broker: `127.0.0.1:${b}`, code: 'ECONNREFUSED' }]);
    expect((err as Error).message).toBe(`127.0.0.1:${a}: connection refused (ECONNREFUSED: nothing listens on that port); 127.0.0.1:${b}: connection refused (ECONNREFUSED: nothing listens on that port)`);
  });

  it('passes when any broker accepts a connection, as kafkajs moves on to the next', async () => {
    await expect(tcpPreflight([`127.0.0.1:${await closedPort()}`, `127.0.0.1:${await listening()}`])).resolves.toBeUndefined();
  });
});
